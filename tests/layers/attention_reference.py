"""NumPy references shared by the Bahdanau and Luong attention tests."""

import numpy as np


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
