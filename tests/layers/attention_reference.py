"""NumPy references shared by the Bahdanau and Luong attention tests."""

import numpy as np

from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy


def numpy_mask(batch, t, s, query_mask=None, value_mask=None, key_mask=None,
               attention_mask=None, causal=False):
    mask = np.ones((batch, t, s), bool)
    if query_mask is not None:
        mask &= query_mask[:, :, None]
    for key_side in (value_mask, key_mask):
        if key_side is not None:
            mask &= key_side[:, None, :]
    if attention_mask is not None:
        mask &= np.broadcast_to(attention_mask, mask.shape)
    if causal:
        mask &= np.tril(np.ones((t, s), bool))[None]
    return mask


def numpy_weighted_sum(scores, value, mask):
    """Softmax over the visible keys (zeros for empty rows), then the sum."""
    scores = np.where(mask, scores, -np.inf)
    top = scores.max(-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    exp = np.where(mask, np.exp(scores - top), 0.0)
    total = exp.sum(-1, keepdims=True)
    weights = np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)
    return np.einsum("bts,bsd->btd", weights, value), weights


def check_dropout_only_in_training(layer):
    """Dropout (rate 0.5) changes the applied weights only in training.

    With identity values the output is the weights actually applied; the
    returned weights are the ones before dropout.
    """
    steps = 6
    query = random_floats((2, 3, 4), seed=11)
    key = random_floats((2, steps, 4), seed=12)
    identity = np.tile(np.eye(steps, dtype="float32"), (2, 1, 1))
    inference, weights = layer(
        query, identity, key=key, training=False, return_attention_scores=True
    )
    np.testing.assert_allclose(to_numpy(inference), to_numpy(weights), atol=1e-7)
    trained, trained_weights = layer(
        query, identity, key=key, training=True, return_attention_scores=True
    )
    applied = to_numpy(trained)
    assert not np.allclose(applied, to_numpy(weights))
    # Each weight is dropped or scaled by 1 / (1 - rate).
    kept = applied != 0.0
    assert (~kept).any()
    np.testing.assert_allclose(
        applied[kept], 2.0 * to_numpy(weights)[kept], rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(trained_weights), to_numpy(weights), atol=1e-7
    )
