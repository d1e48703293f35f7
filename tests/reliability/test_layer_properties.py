"""Property-based tests of the attention layers (hypothesis), on any backend.

For random shapes, padding and contents:

- outputs at real positions do not depend on what padded positions hold;
- attention weights are a distribution over the real (visible) keys:
  non-negative, exactly 0 on hidden keys, summing to 1 (0 for a query that
  sees no key);
- a causal layer never looks ahead: changing steps after `t` leaves the
  outputs up to `t` as they were, and weights above the diagonal are 0.

Run on JAX with `KERAS_BACKEND=jax pytest tests/reliability`.
"""

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_attnpred import layers

# Keras warns about a softmax over one key; one real key is a case to try.
pytestmark = pytest.mark.filterwarnings(
    "ignore:You are using a softmax over axis -1")
FEATURES = 8
ATOL = 1e-5
PROPERTY = settings(max_examples=12, deadline=None, derandomize=True)


@st.composite
def padded_batch(draw, max_batch=3, max_length=6, min_real=0):
    """`(inputs, lengths, other)`: float32 `(batch, T, FEATURES)` inputs,
    the real steps of each row (padding at the end) and a copy whose padded
    steps hold other random numbers."""
    batch = draw(st.integers(1, max_batch))
    length = draw(st.integers(max(1, min_real), max_length))
    lengths = np.array(draw(st.lists(
        st.integers(min_real, length), min_size=batch, max_size=batch)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    inputs = rng.normal(size=(batch, length, FEATURES)).astype("float32")
    other = inputs.copy()
    padded = ~mask_of(lengths, length)
    other[padded] = 100 * rng.normal(size=(int(padded.sum()), FEATURES))
    return inputs, lengths, other


@st.composite
def sequence_and_step(draw, max_batch=3, max_length=6):
    """`(inputs, t, changed)`: `changed` differs from `inputs` only at steps
    after `t`."""
    batch = draw(st.integers(1, max_batch))
    length = draw(st.integers(2, max_length))
    t = draw(st.integers(0, length - 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    inputs = rng.normal(size=(batch, length, FEATURES)).astype("float32")
    changed = inputs.copy()
    changed[:, t + 1:] = 100 * rng.normal(
        size=(batch, length - t - 1, FEATURES))
    return inputs, t, changed


def mask_of(lengths, length):
    return np.arange(length)[None, :] < np.asarray(lengths)[:, None]


def numpy(x):
    from keras import ops

    return ops.convert_to_numpy(x)


def assert_distribution(weights, visible):
    """`weights` (..., keys) against the boolean visibility of each key."""
    weights = numpy(weights)
    assert np.all(weights >= 0)
    assert np.all(weights[~visible] == 0), "a hidden key got weight"
    sees_some = visible.any(-1)
    np.testing.assert_allclose(weights.sum(-1), sees_some.astype("float32"),
                               atol=ATOL)


# Layers are built once per module: hypothesis calls the test many times.
@functools.lru_cache(maxsize=None)
def layer(name):
    return {
        "mha": lambda: layers.MultiHeadAttention(num_heads=2, key_dim=4),
        "mha-unfused": lambda: layers.MultiHeadAttention(
            num_heads=2, key_dim=4, use_fused_attention=False),
        "additive": lambda: layers.AdditiveAttention(units=6),
        "dot": lambda: layers.DotProductAttention(score="dot"),
        "general": lambda: layers.DotProductAttention(score="general"),
        "concat": lambda: layers.DotProductAttention(score="concat",
                                                     units=6),
        "scaled_dot": lambda: layers.DotProductAttention(score="scaled_dot"),
        "encoder": lambda: layers.TransformerEncoder(16, num_heads=2),
        "encoder-pre": lambda: layers.TransformerEncoder(
            16, num_heads=2, normalize_first=True),
        "decoder": lambda: layers.TransformerDecoder(16, num_heads=2),
        "encoder-decoder": lambda: layers.TransformerDecoder(16, num_heads=2),
        "pooling": lambda: layers.AttentionPooling(units=6),
    }[name]()


CROSS = ["mha", "mha-unfused", "additive", "dot", "general", "concat",
         "scaled_dot"]


def cross(name, query, value, value_mask, **kwargs):
    """(output, weights (batch, [heads,] T, S)) of a cross-attention layer.

    The output comes from a call without weights, which is the fused path
    of `MultiHeadAttention`; the weights need the other path.
    """
    output = layer(name)(query, value, value_mask=value_mask, **kwargs)
    _, weights = layer(name)(
        query, value, value_mask=value_mask, return_attention_scores=True,
        **kwargs)
    return numpy(output), numpy(weights)


def with_heads(weights, visible):
    """Broadcasts a (batch, T, S) visibility over the heads of MHA."""
    return np.broadcast_to(
        visible[:, None] if weights.ndim == 4 else visible, weights.shape)


@pytest.mark.parametrize("name", CROSS)
@PROPERTY
@given(data=st.data())
def test_cross_attention_ignores_padded_keys(name, data):
    value, lengths, other = data.draw(padded_batch())
    query = data.draw(padded_batch(max_batch=1))[0]
    query = np.repeat(query[:1], len(value), axis=0)
    value_mask = mask_of(lengths, value.shape[1])
    output, weights = cross(name, query, value, value_mask)
    changed, _ = cross(name, query, other, value_mask)
    np.testing.assert_allclose(changed, output, atol=ATOL)
    assert np.all(np.isfinite(output))
    visible = np.broadcast_to(value_mask[:, None, :],
                              (len(value), query.shape[1], value.shape[1]))
    assert_distribution(weights, with_heads(weights, visible))


@pytest.mark.parametrize("name", CROSS)
@PROPERTY
@given(case=sequence_and_step())
def test_causal_attention_never_looks_ahead(name, case):
    inputs, t, changed = case
    output, weights = cross(name, inputs, inputs, None, use_causal_mask=True)
    other, _ = cross(name, changed, changed, None, use_causal_mask=True)
    np.testing.assert_allclose(other[:, : t + 1], output[:, : t + 1],
                               atol=ATOL)
    length = inputs.shape[1]
    visible = np.tril(np.ones((length, length), bool))[None]
    visible = np.broadcast_to(visible, (len(inputs), length, length))
    assert_distribution(weights, with_heads(weights, visible))


@pytest.mark.parametrize("name", ["encoder", "encoder-pre"])
@PROPERTY
@given(case=padded_batch(min_real=1))
def test_encoder_real_steps_ignore_padding(name, case):
    inputs, lengths, other = case
    mask = mask_of(lengths, inputs.shape[1])
    output, weights = layer(name)(inputs, padding_mask=mask,
                                  return_attention_scores=True)
    changed = layer(name)(other, padding_mask=mask)
    output, changed = numpy(output), numpy(changed)
    np.testing.assert_allclose(changed[mask], output[mask], atol=ATOL)
    assert np.all(np.isfinite(output))
    # A padded query step attends to nothing; a real one to the real keys.
    visible = mask[:, None, :, None] & mask[:, None, None, :]
    assert_distribution(weights, np.broadcast_to(visible, weights.shape))


@pytest.mark.parametrize("name", ["encoder", "decoder"])
@PROPERTY
@given(case=sequence_and_step())
def test_causal_block_never_looks_ahead(name, case):
    inputs, t, changed = case

    def run(x):
        if name == "encoder":
            return numpy(layer(name)(x, use_causal_mask=True))
        return numpy(layer(name)(x))  # decoder-only, causal by default

    np.testing.assert_allclose(run(changed)[:, : t + 1],
                               run(inputs)[:, : t + 1], atol=ATOL)


@PROPERTY
@given(target=sequence_and_step(), source=padded_batch(max_batch=1,
                                                         min_real=1))
def test_decoder_is_causal_and_ignores_encoder_padding(target, source):
    inputs, t, changed = target
    memory, lengths, other = source
    batch = len(inputs)
    memory, other = (np.repeat(m, batch, axis=0) for m in (memory, other))
    mask = np.repeat(mask_of(lengths, memory.shape[1]), batch, axis=0)
    decoder = layer("encoder-decoder")
    output, self_weights, cross_weights = decoder(
        inputs, memory, encoder_padding_mask=mask,
        return_attention_scores=True)
    ahead = decoder(changed, memory, encoder_padding_mask=mask)
    padded = decoder(inputs, other, encoder_padding_mask=mask)
    output = numpy(output)
    np.testing.assert_allclose(numpy(ahead)[:, : t + 1], output[:, : t + 1],
                               atol=ATOL)
    np.testing.assert_allclose(numpy(padded), output, atol=ATOL)
    length = inputs.shape[1]
    causal = np.tril(np.ones((length, length), bool))[None, None]
    assert_distribution(self_weights,
                        np.broadcast_to(causal, self_weights.shape))
    assert_distribution(cross_weights, np.broadcast_to(
        mask[:, None, None, :], cross_weights.shape))


@PROPERTY
@given(case=padded_batch())
def test_pooling_ignores_padding_and_weights_real_steps(case):
    inputs, lengths, other = case
    mask = mask_of(lengths, inputs.shape[1])
    pooled, weights = layer("pooling")(inputs, mask=mask,
                                       return_attention_scores=True)
    changed = layer("pooling")(other, mask=mask)
    np.testing.assert_allclose(numpy(changed), numpy(pooled), atol=ATOL)
    assert np.all(np.isfinite(numpy(pooled)))
    assert_distribution(weights, mask)
