import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers import MultiHeadAttention
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy


class TestCrossAttention(LayerChecks):
    layer_cls = MultiHeadAttention
    init_kwargs = {"num_heads": 2, "key_dim": 4}

    def make_inputs(self):
        return {"query": random_floats((2, 5, 8)), "value": random_floats((2, 7, 6))}

    def make_padded_inputs(self):
        return {
            "query": (padded_ids([5, 2], 5), 8),
            "value": (padded_ids([3, 7], 7), 6),
        }


class TestCausalSelfAttention(TestCrossAttention):
    call_kwargs = {"use_causal_mask": True}

    def make_inputs(self):
        x = random_floats((2, 6, 8))
        return {"query": x, "value": x}

    def make_padded_inputs(self):
        ids = padded_ids([6, 4], 6)
        return {"query": (ids, 8), "value": (ids, 8)}


class TestGroupedQueryAttention(TestCrossAttention):
    init_kwargs = {
        "num_heads": 4,
        "key_dim": 4,
        "num_key_value_heads": 2,
        "value_dim": 3,
        "output_dim": 5,
    }


def numpy_multi_head_attention(layer, query, value, mask=None):
    """Plain NumPy multi-head attention with the layer's weights."""
    w = {v.path.split("/")[-2] + "/" + v.name: to_numpy(v) for v in layer.weights}

    def heads(x, name, num_heads):
        flat = x @ w[f"{name}/kernel"] + w[f"{name}/bias"]
        return flat.reshape(flat.shape[:-1] + (num_heads, -1))

    key_value_heads = layer.num_key_value_heads or layer.num_heads
    q = heads(query, "query", layer.num_heads)
    k = heads(value, "key", key_value_heads)
    v = heads(value, "value", key_value_heads)
    repeats = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, repeats, axis=2), np.repeat(v, repeats, axis=2)
    scores = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None], scores, -np.inf)
    with np.errstate(invalid="ignore"):  # fully hidden rows: never compared
        scores = scores - scores.max(-1, keepdims=True)
        weights = np.exp(scores)
        weights = weights / weights.sum(-1, keepdims=True)
    heads = np.einsum("bnts,bsnh->btnh", weights, v)
    out = (
        np.einsum("btnh,nhd->btd", heads, w["attention_output/kernel"])
        + w["attention_output/bias"]
    )
    return out, weights


def padding_and_causal_mask(query_lengths, key_lengths, t, s, causal):
    q = np.arange(t)[None, :] < np.array(query_lengths)[:, None]
    k = np.arange(s)[None, :] < np.array(key_lengths)[:, None]
    mask = q[:, :, None] & k[:, None, :]
    if causal:
        mask &= np.tril(np.ones((t, s), bool))[None]
    return mask


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("num_key_value_heads", [None, 1, 2])
def test_matches_numpy_reference(fused, num_key_value_heads):
    query, value = random_floats((2, 5, 8)), random_floats((2, 5, 6))
    layer = MultiHeadAttention(
        num_heads=4,
        key_dim=3,
        num_key_value_heads=num_key_value_heads,
        use_fused_attention=fused,
        bias_initializer="random_normal",
    )
    query_mask = np.arange(5)[None] < np.array([[5], [3]])
    value_mask = np.arange(5)[None] < np.array([[4], [5]])
    output = layer(
        query,
        value,
        query_mask=query_mask,
        value_mask=value_mask,
        use_causal_mask=True,
    )
    mask = padding_and_causal_mask([5, 3], [4, 5], 5, 5, causal=True)
    want, _ = numpy_multi_head_attention(layer, query, value, mask)
    real = query_mask
    np.testing.assert_allclose(to_numpy(output)[real], want[real], atol=1e-5)


def test_attention_scores_have_cross_attention_shape_and_hide_padding():
    query, value = random_floats((2, 3, 8)), random_floats((2, 7, 8))
    value_mask = np.arange(7)[None] < np.array([[7], [4]])
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    _, scores = layer(
        query, value, value_mask=value_mask, return_attention_scores=True
    )
    scores = to_numpy(scores)
    assert scores.shape == (2, 2, 3, 7)
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-6)
    assert (scores[1, :, :, 4:] == 0).all()


def test_equals_keras_multi_head_attention_with_same_weights():
    query, value = random_floats((2, 6, 8)), random_floats((2, 6, 8))
    mask = np.arange(6)[None] < np.array([[6], [3]])
    ours = MultiHeadAttention(num_heads=2, key_dim=4)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    ours(query, value)
    theirs(query, value)
    ours.set_weights(theirs.get_weights())  # Keras's heads-axis layout
    for causal in (False, True):
        want = theirs(
            query,
            value,
            query_mask=mask,
            value_mask=mask,
            use_causal_mask=causal,
        )
        got = ours(
            query, value, query_mask=mask, value_mask=mask, use_causal_mask=causal
        )
        np.testing.assert_allclose(
            to_numpy(got)[mask], to_numpy(want)[mask], atol=1e-5
        )


def test_grouped_query_equals_standard_attention_with_shared_heads():
    """Two key/value heads for four query heads is standard attention whose
    key and value heads come in identical pairs."""
    query = random_floats((2, 5, 8))
    grouped = MultiHeadAttention(
        num_heads=4, key_dim=2, num_key_value_heads=2,
        bias_initializer="random_normal",
    )
    standard = MultiHeadAttention(num_heads=4, key_dim=2)
    got = grouped(query, query, use_causal_mask=True)
    standard(query, query)
    for name in ("query", "key", "value", "attention_output"):
        theirs = getattr(standard, f"_{name}_dense" if name != "attention_output" else "_output_dense")
        ours = getattr(grouped, f"_{name}_dense" if name != "attention_output" else "_output_dense")
        for target, source in zip(theirs.weights, ours.weights):
            value = to_numpy(source)
            if name in ("key", "value"):
                # Repeat each of the two heads of the merged last axis.
                split = value.reshape(value.shape[:-1] + (2, -1))
                value = np.repeat(split, 2, axis=-2).reshape(target.shape)
            target.assign(value)
    want = standard(query, query, use_causal_mask=True)
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)


def test_grouped_query_attention_shares_key_value_heads():
    layer = MultiHeadAttention(num_heads=6, key_dim=4, num_key_value_heads=2)
    layer(random_floats((1, 3, 8)), random_floats((1, 3, 8)))
    assert tuple(layer._key_dense.kernel.shape) == (8, 2 * 4)
    assert tuple(layer._query_dense.kernel.shape) == (8, 6 * 4)


@pytest.mark.parametrize("num_key_value_heads", [None, 2])
def test_cached_step_by_step_decoding_equals_full_causal_pass(num_key_value_heads):
    batch, length, heads = 2, 6, 4
    x = random_floats((batch, length, 8))
    layer = MultiHeadAttention(
        num_heads=heads, key_dim=4, num_key_value_heads=num_key_value_heads
    )
    full = to_numpy(layer(x, x, use_causal_mask=True))
    kv_heads = num_key_value_heads or heads
    cache = ops.zeros((batch, 2, length, kv_heads, 4))
    steps = []
    for t in range(length):
        step = x[:, t : t + 1]
        output, cache = layer(
            step, step, use_causal_mask=True, cache=cache, cache_update_index=t
        )
        steps.append(to_numpy(output))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_cache_update_ignores_unwritten_slots_even_without_causal_mask():
    x = random_floats((1, 4, 8))
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    want = to_numpy(layer(x[:, :2], x[:, :2]))  # two steps, both visible
    cache = ops.ones((1, 2, 4, 2, 4)) * 100.0  # garbage in the unwritten slots
    got, _ = layer(x[:, :2], x[:, :2], cache=cache, cache_update_index=0)
    np.testing.assert_allclose(to_numpy(got), want, atol=1e-5)


def test_precomputed_cross_attention_cache_equals_plain_call():
    query, memory = random_floats((2, 3, 8)), random_floats((2, 5, 8))
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    want = to_numpy(layer(query, memory))
    cache = ops.stack([layer._key_dense(memory), layer._value_dense(memory)], 1)
    got, returned_cache = layer(query, memory, cache=cache)
    np.testing.assert_allclose(to_numpy(got), want, atol=1e-5)
    np.testing.assert_array_equal(to_numpy(returned_cache), to_numpy(cache))


def test_causal_padding_and_explicit_masks_are_all_applied():
    x = random_floats((1, 4, 8))
    explicit = np.ones((1, 4, 4), bool)
    explicit[0, 3, 0] = False
    query_mask = np.array([[True, True, True, True]])
    value_mask = np.array([[True, True, True, False]])
    layer = MultiHeadAttention(num_heads=1, key_dim=4)
    _, scores = layer(
        x,
        x,
        query_mask=query_mask,
        value_mask=value_mask,
        attention_mask=explicit,
        use_causal_mask=True,
        return_attention_scores=True,
    )
    scores = to_numpy(scores)[0, 0]
    allowed = np.tril(np.ones((4, 4), bool)) & explicit[0] & value_mask[0][None]
    assert (scores[~allowed] == 0).all()
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-6)


def test_fused_path_is_used_and_switch_really_turns_it_off(monkeypatch):
    calls = []
    real = ops.dot_product_attention

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ops, "dot_product_attention", spy)
    x = random_floats((2, 4, 8))
    fused = MultiHeadAttention(num_heads=2, key_dim=4)
    want = fused(x, x, use_causal_mask=True)
    assert len(calls) == 1
    # A plain causal mask goes to the kernel as `is_causal`, not as a tensor,
    # so that cuDNN can choose flash attention.
    assert calls[0]["is_causal"] is True and calls[0]["mask"] is None
    unfused = MultiHeadAttention(num_heads=2, key_dim=4, use_fused_attention=False)
    unfused(x, x)
    unfused.set_weights(fused.get_weights())
    got = unfused(x, x, use_causal_mask=True)
    assert len(calls) == 1
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=1e-5)


def test_dropout_in_training_changes_output_only_in_training():
    x = random_floats((2, 5, 8))
    layer = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    inference = [to_numpy(layer(x, x, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    trained = to_numpy(layer(x, x, training=True))
    assert not np.allclose(trained, inference[0])


def test_float16_logits_beyond_half_range_do_not_overflow(dtype_policy):
    dtype_policy("mixed_float16")
    x = np.full((1, 3, 4), 60.0, "float32")
    layer = MultiHeadAttention(
        num_heads=1, key_dim=4, kernel_initializer="ones", use_bias=False
    )
    # Each projected feature is 4 * 60 = 240, so q·k = 4 * 240**2 = 230400,
    # far above 65504, the float16 maximum.
    output, scores = layer(x, x, return_attention_scores=True)
    assert np.isfinite(to_numpy(ops.cast(output, "float32"))).all()
    np.testing.assert_allclose(to_numpy(scores), 1.0 / 3.0, atol=1e-6)
    fused_output = layer(x, x)
    assert np.isfinite(to_numpy(ops.cast(fused_output, "float32"))).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0, "key_dim": 4}, "Received: num_heads=0"),
        ({"num_heads": 2, "key_dim": -1}, "Received: key_dim=-1"),
        ({"num_heads": 2, "key_dim": 2.5}, "Received: key_dim=2.5"),
        ({"num_heads": 2, "key_dim": 4, "dropout": 1.0}, "Received: dropout=1.0"),
        (
            {"num_heads": 2, "key_dim": 4, "tie_query_key_init": "yes"},
            "Received: tie_query_key_init='yes'",
        ),
        (
            {"num_heads": 4, "key_dim": 4, "num_key_value_heads": 3},
            "num_heads=4, num_key_value_heads=3",
        ),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiHeadAttention(**kwargs)


def test_bad_input_ranks_and_lengths_are_named():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match=r"query.shape=\(2, 8\)"):
        layer(random_floats((2, 8)), random_floats((2, 3, 8)))
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match=r"key.shape\[1\]=4, value.shape\[1\]=3"):
        layer(
            random_floats((2, 5, 8)),
            random_floats((2, 3, 8)),
            key=random_floats((2, 4, 8)),
        )


def test_cache_with_different_value_dim_is_refused():
    layer = MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3)
    x = random_floats((1, 1, 8))
    with pytest.raises(ValueError, match="key_dim=4, value_dim=3"):
        layer(x, x, cache=ops.zeros((1, 2, 3, 2, 4)), cache_update_index=0)


def test_cache_arguments_that_do_not_fit_are_refused():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = random_floats((1, 1, 8))
    with pytest.raises(ValueError, match="cache=None, cache_update_index=0"):
        layer(x, x, cache_update_index=0)
    cache = ops.zeros((1, 2, 3, 2, 4))
    with pytest.raises(ValueError, match="cache_update_index=5"):
        layer(x, x, cache=cache, cache_update_index=5)


def _split_heads_in_weights_file(path, num_heads):
    """Rewrites a weights file to the heads-axis layout of earlier versions."""
    import h5py

    projections = ("_query_dense", "_key_dense", "_value_dense")
    with h5py.File(path, "r+") as f:
        names = []
        f.visititems(
            lambda name, node: names.append(name)
            if isinstance(node, h5py.Dataset)
            and name.split("/")[-3] in projections
            else None
        )
        for name in names:
            value = f[name][()]
            del f[name]
            f[name] = value.reshape(value.shape[:-1] + (num_heads, -1))
    rewritten = names
    return rewritten


def test_loads_weights_saved_with_a_heads_axis(tmp_path):
    """Weights saved before the projections were flattened still load."""
    inputs = keras.Input((5, 8))
    outputs = MultiHeadAttention(
        num_heads=2, key_dim=4, bias_initializer="random_normal"
    )(inputs, inputs)
    saved = keras.Model(inputs, outputs)
    path = str(tmp_path / "heads_axis.weights.h5")
    saved.save_weights(path)
    rewritten = _split_heads_in_weights_file(path, num_heads=2)
    assert len(rewritten) == 6, rewritten  # kernel and bias of q, k, v

    loaded = keras.models.clone_model(saved)
    loaded.load_weights(path)
    x = random_floats((2, 5, 8))
    np.testing.assert_allclose(
        to_numpy(loaded(x)), to_numpy(saved(x)), atol=1e-6
    )


def test_set_weights_still_rejects_a_wrong_size():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    layer(random_floats((1, 3, 8)), random_floats((1, 3, 8)))
    weights = layer.get_weights()
    weights[0] = np.zeros((8, 3, 4), "float32")  # three heads, not two
    with pytest.raises(ValueError, match="shape"):
        layer.set_weights(weights)


def test_head_projection_config_round_trip():
    from keras_attnpred.layers._head_projection import HeadProjection

    projection = HeadProjection(3, 4, use_bias=False, name="query")
    restored = HeadProjection.from_config(projection.get_config())
    assert restored.get_config() == projection.get_config()
    outputs = restored(random_floats((2, 5, 8)))
    assert tuple(outputs.shape) == (2, 5, 3, 4)
    assert [tuple(w.shape) for w in restored.weights] == [(8, 12)]


def _kernels(layer):
    return {
        name: to_numpy(getattr(layer, f"_{name}_dense").kernel)
        for name in ("query", "key", "value")
    }


@pytest.mark.parametrize(
    "init_kwargs, query_shape, key_shape, tied",
    [
        ({"tie_query_key_init": True}, (2, 5, 16), (2, 7, 16), True),
        ({}, (2, 5, 16), (2, 7, 16), False),
        # Kernels of different shapes cannot be one draw.
        ({"tie_query_key_init": True}, (2, 5, 16), (2, 7, 12), False),
        (
            {"tie_query_key_init": True, "num_key_value_heads": 2},
            (2, 5, 16),
            (2, 7, 16),
            False,
        ),
    ],
)
def test_tie_query_key_init(init_kwargs, query_shape, key_shape, tied):
    layer = MultiHeadAttention(num_heads=4, key_dim=8, **init_kwargs)
    layer(random_floats(query_shape), random_floats(key_shape))
    kernels = _kernels(layer)
    assert np.array_equal(kernels["query"], kernels["key"]) == tied
    assert not np.array_equal(kernels["query"], kernels["value"])
    if tied:
        # Initial logits favour similar tokens: Wq Wk^T is near-diagonal.
        product = kernels["query"] @ kernels["key"].T
        diagonal = np.abs(np.diag(product)).mean()
        off_diagonal = np.abs(product - np.diag(np.diag(product))).mean()
        assert diagonal > 3 * off_diagonal
        # Training moves them apart: the gradients differ.
        query = random_floats(query_shape)
        with_grads = _one_step_kernels(layer, query, random_floats(key_shape))
        assert not np.allclose(with_grads["query"], with_grads["key"])


def _one_step_kernels(layer, query, value):
    model_input = [keras.Input(query.shape[1:]), keras.Input(value.shape[1:])]
    model = keras.Model(model_input, layer(*model_input))
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.train_on_batch([query, value], np.ones(query.shape, "float32"))
    return _kernels(layer)
