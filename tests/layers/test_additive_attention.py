import keras
import numpy as np
import pytest

from keras_attnpred.layers import AdditiveAttention
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.layers.attention_reference import check_dropout_only_in_training
from tests.layers.attention_reference import numpy_mask
from tests.layers.attention_reference import numpy_weighted_sum


class TestAdditiveAttention(LayerChecks):
    layer_cls = AdditiveAttention
    init_kwargs = {"units": 6}

    def make_inputs(self):
        # Query and value sizes differ: the projections make that legal.
        return {"query": random_floats((2, 4, 3)), "value": random_floats((2, 5, 4))}

    def make_padded_inputs(self):
        return {
            "query": (padded_ids([4, 2, 1], 4), 3),
            "value": (padded_ids([5, 3, 2], 5, seed=1), 4),
        }


class TestAdditiveAttentionCausalWithDropout(TestAdditiveAttention):
    init_kwargs = {"units": 5, "use_bias": False, "dropout": 0.2}
    call_kwargs = {"use_causal_mask": True}


# --- NumPy reference ------------------------------------------------------------
def numpy_additive_scores(layer, query, key):
    w_q = to_numpy(layer._query_projection.kernel).astype("float64")
    w_k = to_numpy(layer._key_projection.kernel).astype("float64")
    v = to_numpy(layer._score_vector.kernel)[:, 0].astype("float64")
    b = 0.0
    if layer.use_bias:
        b = to_numpy(layer._query_projection.bias).astype("float64")
    hidden = np.tanh(
        (query @ w_q + b)[:, :, None, :] + (key @ w_k)[:, None, :, :]
    )
    return hidden @ v


def make_layer(**kwargs):
    # A non-zero bias so that the reference checks it too.
    kwargs.setdefault("bias_initializer", "random_normal")
    return AdditiveAttention(**kwargs)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("causal", [False, True])
def test_matches_numpy_reference_with_all_masks(use_bias, causal):
    query = random_floats((3, 4, 3), seed=1)
    value = random_floats((3, 5, 2), seed=2)
    key = random_floats((3, 5, 4), seed=3)
    query_mask = padded_ids([4, 3, 2], 4) != 0
    value_mask = padded_ids([5, 4, 0], 5) != 0  # last row: no visible key
    key_mask = np.array([[True, False, True, True, True]] * 3)
    attention_mask = np.random.default_rng(4).random((3, 4, 5)) > 0.2
    layer = make_layer(units=6, use_bias=use_bias)
    outputs, weights = layer(
        query, value, key=key, query_mask=query_mask, value_mask=value_mask,
        key_mask=key_mask, attention_mask=attention_mask,
        use_causal_mask=causal, return_attention_scores=True,
    )
    mask = numpy_mask(3, 4, 5, query_mask, value_mask, key_mask,
                      attention_mask, causal)
    scores = numpy_additive_scores(layer, query, key)
    want_outputs, want_weights = numpy_weighted_sum(scores, value, mask)
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


def test_default_units_is_key_size_and_query_may_differ():
    layer = AdditiveAttention()
    layer(random_floats((2, 3, 7)), random_floats((2, 4, 2)),
          key=random_floats((2, 4, 5)))
    assert tuple(layer._query_projection.kernel.shape) == (7, 5)
    assert tuple(layer._key_projection.kernel.shape) == (5, 5)
    assert tuple(layer._score_vector.kernel.shape) == (5, 1)


def test_two_dimensional_query_is_one_step():
    query = random_floats((3, 4), seed=5)
    value = random_floats((3, 5, 2), seed=6)
    value_mask = padded_ids([5, 2, 4], 5) != 0
    attention_mask = np.array([[True] * 5, [True] * 5, [False, True, True, True, True]])
    layer = make_layer(units=3)
    step, step_weights = layer(
        query, value, value_mask=value_mask, attention_mask=attention_mask,
        return_attention_scores=True,
    )
    full, full_weights = layer(
        query[:, None, :], value, value_mask=value_mask,
        attention_mask=attention_mask[:, None, :], return_attention_scores=True,
    )
    assert tuple(step.shape) == (3, 2) and tuple(step_weights.shape) == (3, 5)
    np.testing.assert_allclose(to_numpy(step), to_numpy(full)[:, 0], atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(step_weights), to_numpy(full_weights)[:, 0], atol=1e-7
    )
    assert to_numpy(step_weights)[2, 0] == 0.0
    # And a 2-D query mask hides a whole row.
    hidden = layer(query, value, query_mask=np.array([True, False, True]))
    assert (to_numpy(hidden)[1] == 0.0).all()


def test_scores_use_the_key_and_outputs_use_the_value():
    query = random_floats((2, 3, 4), seed=7)
    value = random_floats((2, 5, 3), seed=8)
    key = random_floats((2, 5, 4), seed=9)
    layer = make_layer(units=4)
    outputs, weights = layer(query, value, key=key, return_attention_scores=True)
    want_outputs, want_weights = numpy_weighted_sum(
        numpy_additive_scores(layer, query, key), value, np.ones((2, 3, 5), bool)
    )
    np.testing.assert_allclose(to_numpy(weights), want_weights, atol=1e-6)
    np.testing.assert_allclose(to_numpy(outputs), want_outputs, atol=1e-5)
    # A different value leaves the weights alone; a different key does not.
    _, same = layer(query, value * 3.0 + 1.0, key=key, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(same), to_numpy(weights), atol=1e-7)
    _, other = layer(query, value, key=key[:, ::-1], return_attention_scores=True)
    assert not np.allclose(to_numpy(other), to_numpy(weights))
    # Without a key, the value is the key.
    _, self_keyed = layer(query, key, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(self_keyed), to_numpy(weights), atol=1e-7)


def test_mixed_float16_large_inputs_stay_finite(dtype_policy):
    dtype_policy("mixed_float16")
    query = np.full((2, 3, 4), 300.0, "float32")
    value = random_floats((2, 5, 4), seed=10) * 300.0
    layer = make_layer(units=4)
    outputs, weights = layer(query, value, return_attention_scores=True)
    assert keras.ops.dtype(outputs) == "float16"
    assert to_numpy(weights).dtype == np.float32
    assert np.isfinite(to_numpy(keras.ops.cast(outputs, "float32"))).all()
    np.testing.assert_allclose(to_numpy(weights).sum(-1), 1.0, atol=1e-5)


def test_dropout_only_in_training():
    check_dropout_only_in_training(make_layer(units=4, dropout=0.5))

def test_keras_masks_are_picked_up_from_the_inputs():
    query_ids = padded_ids([3, 1], 3)
    value_ids = padded_ids([4, 2], 4, seed=3)
    query = keras.layers.Embedding(20, 3, mask_zero=True)(query_ids)
    value = keras.layers.Embedding(20, 2, mask_zero=True)(value_ids)
    layer = make_layer(units=3)
    outputs, weights = layer(query, value, return_attention_scores=True)
    weights = to_numpy(weights)
    mask = numpy_mask(2, 3, 4, query_ids != 0, value_ids != 0)
    assert (weights[~mask] == 0.0).all()
    np.testing.assert_array_equal(
        to_numpy(keras.ops.cast(outputs._keras_mask, "int32")), query_ids != 0
    )


# --- bad arguments --------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "Received: units=0"),
        ({"units": -2}, "Received: units=-2"),
        ({"units": 2.5}, "Received: units=2.5"),
        ({"dropout": 1.0}, "Received: dropout=1.0"),
        ({"dropout": -0.1}, "Received: dropout=-0.1"),
    ],
)
def test_bad_constructor_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AdditiveAttention(**kwargs)


@pytest.mark.parametrize(
    "shapes, message",
    [
        ({"query": (2, 3, 4, 1), "value": (2, 5, 4)},
         r"Received: query.shape=\(2, 3, 4, 1\)"),
        ({"query": (2, 3, 4), "value": (2, 4)},
         r"Received: value.shape=\(2, 4\)"),
        ({"query": (2, 3, 4), "value": (2, 5, 4), "key": (2, 4)},
         r"Received: key.shape=\(2, 4\)"),
        ({"query": (2, 3, 4), "value": (2, 5, 4), "key": (2, 6, 4)},
         r"Received: key.shape\[1\]=6, value.shape\[1\]=5"),
    ],
)
def test_bad_input_shapes_name_the_argument_and_shape(shapes, message):
    tensors = {name: random_floats(shape) for name, shape in shapes.items()}
    query = tensors.pop("query")
    with pytest.raises(ValueError, match=message):
        AdditiveAttention()(query, **tensors)


def test_causal_mask_needs_a_query_time_axis():
    message = r"Received: use_causal_mask=True, query.shape=\(2, 4\)"
    with pytest.raises(ValueError, match=message):
        AdditiveAttention()(
            random_floats((2, 4)), random_floats((2, 5, 4)), use_causal_mask=True
        )
    query = keras.Input(shape=(4,))
    value = keras.Input(shape=(5, 4))
    with pytest.raises(ValueError, match=r"use_causal_mask=True, query.shape=\(None, 4\)"):
        AdditiveAttention()(query, value, use_causal_mask=True)
