import numpy as np
from keras import ops

from keras_attnpred.explain._ids import as_ids
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import TransformerEncoderBackbone
from keras_attnpred.models import TransformerTranslator
from keras_attnpred.models import upgrade_legacy_model


def self_attention_weights(model, token_ids):
    """Self-attention weights of every encoder block of a Transformer.

    Calls `model.encode(token_ids, return_attention_scores=True)` (without
    dropout) on a `TextClassifier` whose backbone is a
    `TransformerEncoderBackbone` (`build_transformer_classifier`), or on the
    source side of a `TransformerTranslator`
    (`build_transformer_translator`). Padded tokens get exactly zero weight
    and give rows of zeros. A model saved by an earlier version of the
    builders goes through `upgrade_legacy_model` first.

    Args:
        model: a Transformer classifier or translator from
            `keras_attnpred.models`.
        token_ids: int array `(batch, T)`, padded with 0 (for a translator:
            the source ids).

    Returns:
        A float32 NumPy array `(batch, num_layers, num_heads, T, T)`; row `i`
        of a map is the attention of token `i` over the tokens.

    Example:

    >>> classifier = build_transformer_classifier(
    ...     100, 2, max_length=16, preset="tiny", num_layers=2)
    >>> ids = np.array([[5, 6, 7, 0]])
    >>> weights = self_attention_weights(classifier, ids)
    >>> weights.shape  # (batch, layers, heads, T, T)
    (1, 2, 2, 4, 4)
    >>> float(weights[0, :, :, :, 3].max())  # nothing attends to padding
    0.0
    >>> rollout = attention_rollout(weights, padding_mask=ids != 0)
    """
    model = upgrade_legacy_model(model)
    ids = as_ids("token_ids", token_ids)
    if isinstance(model, TextClassifier):
        transformer = isinstance(model.backbone, TransformerEncoderBackbone)
        received = f"a TextClassifier on a {type(model.backbone).__name__}"
    else:
        transformer = isinstance(model, TransformerTranslator)
        received = f"a {type(model).__name__}"
    if not transformer:
        raise ValueError(
            "`model` must be a Transformer from `keras_attnpred.models`: a "
            "`TextClassifier` with a `TransformerEncoderBackbone` or a "
            f"`TransformerTranslator`. Received: model, {received}"
        )
    _, _, scores = model.encode(ids, return_attention_scores=True)
    return np.asarray(
        ops.convert_to_numpy(ops.stack(scores, axis=1)), dtype="float32"
    )
