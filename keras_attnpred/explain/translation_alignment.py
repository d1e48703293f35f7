import numpy as np
from keras import ops

from keras_attnpred.explain._ids import as_ids
from keras_attnpred.models import RNNTranslator
from keras_attnpred.models import TransformerTranslator
from keras_attnpred.models import upgrade_legacy_model


def translation_alignment(model, source_ids, target_ids):
    """Cross-attention weights of a translator, per layer and head.

    The model is run once, teacher-forced, on `source_ids` and `target_ids`
    (no dropout) through its `cross_attention_weights`. Row `t` of a map is
    the attention of decoder step `t`, whose input is `target_ids[:, t]` and
    whose output predicts the next token, over the source tokens. Padded
    source tokens get exactly zero weight and padded target steps give rows
    of zeros; every other row sums to 1.

    Supported models (a model saved by an earlier version of the builders
    goes through `upgrade_legacy_model` first):

    - `TransformerTranslator` (`build_transformer_translator`): the
      cross-attention of each decoder block, each head separately: shape
      `(batch, num_layers, num_heads, T, S)`.
    - `RNNTranslator` (`build_rnn_translator`): the Bahdanau or Luong
      attention, one map: `num_layers = num_heads = 1`.

    Args:
        model: a translator from `keras_attnpred.models`.
        source_ids: int array `(batch, S)`, padded with 0.
        target_ids: int array `(batch, T)`, the decoder inputs (`[START]`
            then the tokens so far), padded with 0.

    Returns:
        A float32 NumPy array `(batch, num_layers, num_heads, T, S)`.

    Example:

    >>> model = build_transformer_translator(50, 60, max_length=16,
    ...                                      preset="tiny")
    >>> source = np.array([[5, 6, 7, 0]])  # padded with 0
    >>> target = np.array([[2, 9, 10]])    # [START], then the tokens so far
    >>> weights = translation_alignment(model, source, target)
    >>> weights.shape  # (batch, layers, heads, T, S)
    (1, 1, 2, 3, 4)
    >>> float(weights[0, :, :, :, 3].max()), np.allclose(weights.sum(-1), 1)
    (0.0, True)
    >>> average = weights.mean(axis=(1, 2))  # over layers and heads
    >>> # Alignments of translations: `target` = [START] + greedy_search(...)

    References:
        - [Bahdanau et al., 2015. Neural Machine Translation by Jointly
          Learning to Align and Translate](https://arxiv.org/abs/1409.0473)
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
    """
    model = upgrade_legacy_model(model)
    source = as_ids("source_ids", source_ids)
    target = as_ids("target_ids", target_ids)
    if len(source) != len(target):
        raise ValueError(
            "`source_ids` and `target_ids` must have the same batch size. "
            f"Received: source_ids.shape={source.shape}, "
            f"target_ids.shape={target.shape}"
        )
    if not isinstance(model, (TransformerTranslator, RNNTranslator)):
        raise ValueError(
            "`model` must be a translator: a `TransformerTranslator` "
            "(`build_transformer_translator`) or an `RNNTranslator` "
            "(`build_rnn_translator`). Received: model of type "
            f"{type(model).__name__}"
        )
    weights = model.cross_attention_weights(source, target)
    return np.asarray(ops.convert_to_numpy(weights), dtype="float32")
