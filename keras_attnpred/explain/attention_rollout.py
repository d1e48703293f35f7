import numpy as np


def attention_rollout(attention, padding_mask=None):
    """Attention rollout: how much each token draws on each input token.

    Abnar & Zuidema (2020) follow the attention down through the layers. Each
    layer's weights are averaged over the heads, the residual connection is
    accounted for by adding the identity, `A = 0.5 W + 0.5 I`, and the rows
    are renormalised to sum to 1. The rollout is the product of the layers,
    the last one first: `R = A_L ... A_2 A_1`.

    Padded tokens take no part: their rows and columns are zeroed before the
    identity is added (only real tokens get it), so every real row of `R`
    sums to 1 over the real tokens and padding gets exactly zero, and padded
    rows are all zero.

    Args:
        attention: float array `(batch, num_layers, num_heads, T, T)`, e.g.
            from `self_attention_weights`, the first layer first.
        padding_mask: optional bool array `(batch, T)`, `True` at the real
            tokens (e.g. `ids != 0`). Defaults to every token being real.

    Returns:
        A float32 NumPy array `(batch, T, T)`; row `i` holds how much the
        top-layer state of token `i` draws on each input token.

    Example:

    >>> classifier = build_transformer_classifier(
    ...     100, 2, max_length=16, preset="tiny", pooling="first")
    >>> ids = np.array([[5, 6, 7, 0]])
    >>> weights = self_attention_weights(classifier, ids)
    >>> rollout = attention_rollout(weights, padding_mask=ids != 0)
    >>> rollout.shape, rollout[0].sum(axis=-1).round(5).tolist()
    ((1, 4, 4), [1.0, 1.0, 1.0, 0.0])
    >>> first = rollout[:, 0]  # what the first-token pooling looks at

    References:
        - [Abnar & Zuidema, 2020. Quantifying Attention Flow in
          Transformers](https://arxiv.org/abs/2005.00928)
    """
    weights = np.asarray(attention, dtype="float64")
    if weights.ndim != 5 or weights.shape[-1] != weights.shape[-2]:
        raise ValueError(
            "`attention` must have the shape (batch, num_layers, num_heads, "
            f"T, T). Received: attention.shape={weights.shape}"
        )
    batch, _, _, length, _ = weights.shape
    if padding_mask is None:
        mask = np.ones((batch, length), bool)
    else:
        mask = np.asarray(padding_mask, dtype=bool)
        if mask.shape != (batch, length):
            raise ValueError(
                f"`padding_mask` must have the shape {(batch, length)} of "
                "the attention's batch and tokens. Received: "
                f"padding_mask.shape={mask.shape}"
            )
    pair_mask = (mask[:, :, None] & mask[:, None, :])[:, None]
    identity = np.eye(length) * mask[:, None, :]  # (batch, T, T)
    layers = 0.5 * weights.mean(axis=2) * pair_mask + 0.5 * identity[:, None]
    totals = layers.sum(axis=-1, keepdims=True)
    layers = np.divide(
        layers, totals, out=np.zeros_like(layers), where=totals > 0
    )
    rollout = layers[:, 0]
    for layer in range(1, layers.shape[1]):
        rollout = layers[:, layer] @ rollout
    return rollout.astype("float32")
