import numpy as np
import pytest

from keras_attnpred.explain import attention_rollout


def reference_rollout(attention, mask):
    """Abnar & Zuidema rollout, one example and one layer at a time."""
    batch, layers, _, length, _ = attention.shape
    result = np.zeros((batch, length, length))
    for b in range(batch):
        real = np.flatnonzero(mask[b])
        rollout = np.eye(len(real))
        for layer in range(layers):
            weights = attention[b, layer].mean(axis=0)[np.ix_(real, real)]
            a = 0.5 * weights + 0.5 * np.eye(len(real))
            a = a / a.sum(axis=1, keepdims=True)
            rollout = a @ rollout
        result[b][np.ix_(real, real)] = rollout
    return result


def random_attention(rng, batch, layers, heads, length, mask):
    logits = rng.normal(size=(batch, layers, heads, length, length))
    logits = np.where(mask[:, None, None, None, :], logits, -np.inf)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights = weights / weights.sum(-1, keepdims=True)
    # Like the layers: padded queries attend to nothing.
    return weights * mask[:, None, None, :, None]


def test_matches_numpy_reference_and_hides_padding():
    rng = np.random.default_rng(0)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    attention = random_attention(rng, 2, 3, 2, 5, mask)
    rollout = attention_rollout(attention, padding_mask=mask)
    np.testing.assert_allclose(
        rollout, reference_rollout(attention, mask), atol=1e-6
    )
    np.testing.assert_allclose(rollout[0].sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(rollout[1, :3].sum(-1), 1.0, atol=1e-6)
    assert (rollout[1, :, 3:] == 0).all() and (rollout[1, 3:] == 0).all()


def test_layer_order_matters():
    # The rollout is A_2 A_1, not A_1 A_2.
    rng = np.random.default_rng(1)
    mask = np.ones((1, 4), bool)
    attention = random_attention(rng, 1, 2, 1, 4, mask)
    swapped = attention[:, ::-1]
    assert not np.allclose(
        attention_rollout(attention), attention_rollout(swapped)
    )
    np.testing.assert_allclose(
        attention_rollout(attention), reference_rollout(attention, mask),
        atol=1e-6,
    )


def test_one_layer_is_half_attention_half_identity():
    rng = np.random.default_rng(2)
    mask = np.ones((1, 3), bool)
    attention = random_attention(rng, 1, 1, 4, 3, mask)
    expected = 0.5 * attention[0, 0].mean(0) + 0.5 * np.eye(3)
    np.testing.assert_allclose(attention_rollout(attention)[0], expected,
                               atol=1e-6)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="attention.shape"):
        attention_rollout(np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="padding_mask.shape"):
        attention_rollout(np.ones((1, 1, 1, 3, 3)), np.ones((1, 4), bool))
