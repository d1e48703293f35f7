import numpy as np
from keras import ops

from keras_attnpred.explain import _model_parts as parts


def self_attention_weights(model, token_ids):
    """Self-attention weights of every encoder block of a Transformer.

    Runs the token-and-position embedding and the `TransformerEncoder`
    blocks `"encoder_0"`, `"encoder_1"`, ... of `model` (a
    `build_transformer_classifier` model, or the source side of a
    `build_transformer_translator` model) without dropout. Padded tokens
    get exactly zero weight and give rows of zeros.

    Args:
        model: a Transformer classifier or translator from
            `keras_attnpred.models`.
        token_ids: int array `(batch, T)`, padded with 0 (for a translator:
            the source ids).

    Returns:
        A float32 NumPy array `(batch, num_layers, num_heads, T, T)`; row `i`
        of a map is the attention of token `i` over the tokens.

    Example:

    >>> weights = self_attention_weights(classifier, ids)
    >>> rollout = attention_rollout(weights, padding_mask=ids != 0)
    """
    parts.check_model(model)
    ids = parts.as_ids("token_ids", token_ids)
    encoder = parts.transformer_encoder_parts(model)
    if encoder is None:
        raise ValueError(
            "`model` must be a Transformer from `keras_attnpred.models`, with "
            "a 'embedding' (or 'source_embedding') layer and encoder blocks "
            f"'encoder_0', .... Received: model named {model.name!r}"
        )
    _, _, scores = parts.encode(*encoder, ids, return_attention_scores=True)
    return np.asarray(
        ops.convert_to_numpy(ops.stack(scores, axis=1)), dtype="float32"
    )
