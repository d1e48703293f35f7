import keras
import numpy as np
import pytest

from keras_attnpred.layers import DotProductAttention
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.layers.attention_reference import check_dropout_only_in_training
from tests.layers.attention_reference import numpy_mask
from tests.layers.attention_reference import numpy_weighted_sum


class TestDotScore(LayerChecks):
    layer_cls = DotProductAttention
    init_kwargs = {"score": "dot"}
    has_trainable_weights = False
    query_size = 4

    def make_inputs(self):
        return {
            "query": random_floats((2, 4, self.query_size)),
            "value": random_floats((2, 5, 4)),
        }

    def make_padded_inputs(self):
        return {
            "query": (padded_ids([4, 2, 1], 4), self.query_size),
            "value": (padded_ids([5, 3, 2], 5, seed=1), 4),
        }


class TestScaledDotScoreCausal(TestDotScore):
    init_kwargs = {"score": "scaled_dot", "dropout": 0.2}
    call_kwargs = {"use_causal_mask": True}


class TestGeneralScore(TestDotScore):
    init_kwargs = {"score": "general"}
    has_trainable_weights = True
    query_size = 3  # `W` is (Dq, Dk): the sizes may differ.


class TestConcatScore(TestDotScore):
    init_kwargs = {"score": "concat", "units": 6, "use_bias": True}
    has_trainable_weights = True
    query_size = 3


# --- NumPy reference ------------------------------------------------------------
def _weight(variable):
    return to_numpy(variable).astype("float64")


def numpy_scores(layer, query, key):
    query, key = query.astype("float64"), key.astype("float64")
    if layer.score == "dot":
        return np.einsum("btd,bsd->bts", query, key)
    if layer.score == "scaled_dot":
        return np.einsum("btd,bsd->bts", query, key) / np.sqrt(key.shape[-1])
    if layer.score == "general":
        w = _weight(layer._general_projection.kernel)  # (Dq, Dk)
        scores = np.einsum("btq,qk,bsk->bts", query, w, key)
        if layer.use_bias:
            scores += np.einsum("k,bsk->bs", _weight(layer._general_projection.bias), key)[:, None]
        return scores
    # concat: v · tanh(W [q; k] + b), with the concatenation written out.
    w = np.concatenate(
        [_weight(layer._query_projection.kernel), _weight(layer._key_projection.kernel)]
    )
    b = _weight(layer._query_projection.bias) if layer.use_bias else 0.0
    t, s = query.shape[1], key.shape[1]
    pairs = np.concatenate(
        [
            np.broadcast_to(query[:, :, None], query.shape[:2] + (s, query.shape[-1])),
            np.broadcast_to(key[:, None], key.shape[:1] + (t,) + key.shape[1:]),
        ],
        axis=-1,
    )
    return np.tanh(pairs @ w + b) @ _weight(layer._score_vector.kernel)[:, 0]


SCORE_KWARGS = [
    {"score": "dot"},
    {"score": "scaled_dot"},
    {"score": "general"},
    {"score": "general", "use_bias": True},
    {"score": "concat"},
    {"score": "concat", "units": 7, "use_bias": True},
]


def make_layer(**kwargs):
    # A non-zero bias so that the reference checks it too.
    kwargs.setdefault("bias_initializer", "random_normal")
    return DotProductAttention(**kwargs)


def query_size(kwargs):
    return 4 if kwargs["score"] in ("dot", "scaled_dot") else 3


@pytest.mark.parametrize("kwargs", SCORE_KWARGS)
@pytest.mark.parametrize("causal", [False, True])
def test_matches_numpy_reference_with_all_masks(kwargs, causal):
    query = random_floats((3, 4, query_size(kwargs)), seed=1)
    value = random_floats((3, 5, 2), seed=2)
    key = random_floats((3, 5, 4), seed=3)
    query_mask = padded_ids([4, 3, 2], 4) != 0
    value_mask = padded_ids([5, 4, 0], 5) != 0  # last row: no visible key
    key_mask = np.array([[True, False, True, True, True]] * 3)
    attention_mask = np.random.default_rng(4).random((3, 4, 5)) > 0.2
    layer = make_layer(**kwargs)
    outputs, weights = layer(
        query, value, key=key, query_mask=query_mask, value_mask=value_mask,
        key_mask=key_mask, attention_mask=attention_mask,
        use_causal_mask=causal, return_attention_scores=True,
    )
    mask = numpy_mask(3, 4, 5, query_mask, value_mask, key_mask,
                      attention_mask, causal)
    want_outputs, want_weights = numpy_weighted_sum(
        numpy_scores(layer, query, key), value, mask
    )
    weights = to_numpy(weights)
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights, want_weights, atol=1e-6)
    np.testing.assert_allclose(to_numpy(outputs), want_outputs, atol=1e-5)
    # Hidden pairs get exactly 0; rows with a visible key sum to 1; others 0.
    assert (weights[~mask] == 0.0).all()
    has_key = mask.any(-1)
    assert has_key.any() and (~has_key).any()
    np.testing.assert_allclose(weights.sum(-1)[has_key], 1.0, atol=1e-6)
    assert (weights[~has_key] == 0.0).all()
    assert (to_numpy(outputs)[~has_key] == 0.0).all()


def test_weight_shapes_and_defaults():
    query, value = random_floats((2, 3, 7)), random_floats((2, 4, 2))
    key = random_floats((2, 4, 5))
    general = DotProductAttention("general")
    general(query, value, key=key)
    assert [tuple(w.shape) for w in general.weights] == [(7, 5)]  # no bias
    concat = DotProductAttention("concat")
    concat(query, value, key=key)
    assert tuple(concat._query_projection.kernel.shape) == (7, 5)  # units = Dk
    assert tuple(concat._key_projection.kernel.shape) == (5, 5)
    assert len(concat.weights) == 3  # no bias
    dot = DotProductAttention("dot")
    dot(query[..., :5], value, key=key)
    assert dot.weights == []


@pytest.mark.parametrize("kwargs", SCORE_KWARGS)
def test_two_dimensional_query_is_one_step(kwargs):
    query = random_floats((3, query_size(kwargs)), seed=5)
    value = random_floats((3, 5, 4), seed=6)
    value_mask = padded_ids([5, 2, 4], 5) != 0
    attention_mask = np.array([[True] * 5, [True] * 5, [False, True, True, True, True]])
    layer = make_layer(**kwargs)
    step, step_weights = layer(
        query, value, value_mask=value_mask, attention_mask=attention_mask,
        return_attention_scores=True,
    )
    full, full_weights = layer(
        query[:, None, :], value, value_mask=value_mask,
        attention_mask=attention_mask[:, None, :], return_attention_scores=True,
    )
    assert tuple(step.shape) == (3, 4) and tuple(step_weights.shape) == (3, 5)
    np.testing.assert_allclose(to_numpy(step), to_numpy(full)[:, 0], atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(step_weights), to_numpy(full_weights)[:, 0], atol=1e-7
    )
    assert to_numpy(step_weights)[2, 0] == 0.0


@pytest.mark.parametrize("kwargs", SCORE_KWARGS)
def test_scores_use_the_key_and_outputs_use_the_value(kwargs):
    query = random_floats((2, 3, query_size(kwargs)), seed=7)
    value = random_floats((2, 5, 3), seed=8)
    key = random_floats((2, 5, 4), seed=9)
    layer = make_layer(**kwargs)
    outputs, weights = layer(query, value, key=key, return_attention_scores=True)
    want_outputs, want_weights = numpy_weighted_sum(
        numpy_scores(layer, query, key), value, np.ones((2, 3, 5), bool)
    )
    np.testing.assert_allclose(to_numpy(weights), want_weights, atol=1e-6)
    np.testing.assert_allclose(to_numpy(outputs), want_outputs, atol=1e-5)
    _, same = layer(query, value * 3.0 + 1.0, key=key, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(same), to_numpy(weights), atol=1e-7)
    _, other = layer(query, value, key=key[:, ::-1], return_attention_scores=True)
    assert not np.allclose(to_numpy(other), to_numpy(weights))


@pytest.mark.parametrize("score", ["dot", "scaled_dot"])
def test_mixed_float16_scores_do_not_overflow(score, dtype_policy):
    dtype_policy("mixed_float16")
    # q · k_j = 3 * 300 * 300 + x_j = 270000 + x_j > 65504, yet exact in
    # float32 (and every entry is exact in float16).
    offsets = np.array([0.0, 1.0, 2.0, -1.0, 0.5], "float32")
    query = np.tile(np.array([300.0, 300.0, 300.0, 1.0], "float32"), (2, 3, 1))
    key = np.tile(np.full((5, 4), 300.0, "float32"), (2, 1, 1))
    key[:, :, 3] = offsets
    value = random_floats((2, 5, 3), seed=13)
    layer = DotProductAttention(score)
    outputs, weights = layer(query, value, key=key, return_attention_scores=True)
    assert keras.ops.dtype(outputs) == "float16"
    weights = to_numpy(weights)
    assert weights.dtype == np.float32
    scores = np.einsum("btd,bsd->bts", query, key)  # float32 NumPy
    assert scores.min() > 65504
    if score == "scaled_dot":
        scores = scores / np.float32(2.0)
    want_outputs, want_weights = numpy_weighted_sum(
        scores, value, np.ones(scores.shape, bool)
    )
    np.testing.assert_allclose(weights, want_weights, atol=1e-6)
    outputs = to_numpy(keras.ops.cast(outputs, "float32"))
    assert np.isfinite(outputs).all()
    np.testing.assert_allclose(outputs, want_outputs, atol=1e-2)


@pytest.mark.parametrize("score", ["general", "concat"])
def test_mixed_float16_learned_scores_stay_finite(score, dtype_policy):
    dtype_policy("mixed_float16")
    query = np.full((2, 3, 4), 300.0, "float32")
    value = random_floats((2, 5, 4), seed=10) * 300.0
    layer = DotProductAttention(score, kernel_initializer="ones")
    outputs, weights = layer(query, value, return_attention_scores=True)
    assert np.isfinite(to_numpy(keras.ops.cast(outputs, "float32"))).all()
    np.testing.assert_allclose(to_numpy(weights).sum(-1), 1.0, atol=1e-5)


def test_dropout_only_in_training():
    check_dropout_only_in_training(DotProductAttention("dot", dropout=0.5))

# --- bad arguments --------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"score": "foo"}, "Received: score='foo'"),
        ({"score": None}, "Received: score=None"),
        ({"units": 0}, "Received: units=0"),
        ({"score": "concat", "units": -1}, "Received: units=-1"),
        ({"dropout": 1.0}, "Received: dropout=1.0"),
        ({"dropout": -0.5}, "Received: dropout=-0.5"),
    ],
)
def test_bad_constructor_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DotProductAttention(**kwargs)


@pytest.mark.parametrize(
    "score, shapes, message",
    [
        ("dot", {"query": (2, 3, 3), "value": (2, 5, 4)},
         r"Received: query.shape\[-1\]=3, key.shape\[-1\]=4"),
        ("scaled_dot", {"query": (2, 4), "value": (2, 5, 4), "key": (2, 5, 2)},
         r"Received: query.shape\[-1\]=4, key.shape\[-1\]=2"),
        ("general", {"query": (2, 3, 4, 1), "value": (2, 5, 4)},
         r"Received: query.shape=\(2, 3, 4, 1\)"),
        ("concat", {"query": (2, 3, 4), "value": (2, 4)},
         r"Received: value.shape=\(2, 4\)"),
        ("dot", {"query": (2, 3, 4), "value": (2, 5, 4), "key": (2, 5)},
         r"Received: key.shape=\(2, 5\)"),
        ("general", {"query": (2, 3, 4), "value": (2, 5, 4), "key": (2, 6, 4)},
         r"Received: key.shape\[1\]=6, value.shape\[1\]=5"),
    ],
)
def test_bad_input_shapes_name_the_argument_and_shape(score, shapes, message):
    tensors = {name: random_floats(shape) for name, shape in shapes.items()}
    query = tensors.pop("query")
    with pytest.raises(ValueError, match=message):
        DotProductAttention(score)(query, **tensors)


def test_feature_mismatch_is_caught_symbolically():
    query = keras.Input(shape=(None, 3))
    value = keras.Input(shape=(None, 4))
    with pytest.raises(ValueError, match=r"query.shape\[-1\]=3, key.shape\[-1\]=4"):
        DotProductAttention("dot")(query, value)


@pytest.mark.parametrize("score", ["dot", "concat"])
def test_causal_mask_needs_a_query_time_axis(score):
    message = r"Received: use_causal_mask=True, query.shape=\(2, 4\)"
    with pytest.raises(ValueError, match=message):
        DotProductAttention(score)(
            random_floats((2, 4)), random_floats((2, 5, 4)), use_causal_mask=True
        )
    query = keras.Input(shape=(4,))
    value = keras.Input(shape=(5, 4))
    with pytest.raises(ValueError, match=r"use_causal_mask=True, query.shape=\(None, 4\)"):
        DotProductAttention(score)(query, value, use_causal_mask=True)
