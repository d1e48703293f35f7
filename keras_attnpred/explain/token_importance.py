import numpy as np

from keras_attnpred.explain._ids import as_ids
from keras_attnpred.explain.attention_rollout import attention_rollout
from keras_attnpred.explain.self_attention_weights import self_attention_weights
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import upgrade_legacy_model
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.validation import check_choice

METHODS = ("auto", "pooling", "rollout")


def token_importance(model, token_ids, method="auto"):
    """How much each token counts for a classifier's decision.

    Methods:

    - `"pooling"`: the weights of the attention pooling over the last
      layer's states (Yang et al. 2016), `model.pooling_weights`. Both
      `build_rnn_classifier` and `build_transformer_classifier` (with its
      default `pooling="attention"`) pool with attention.
    - `"rollout"`: for a classifier on a `TransformerEncoderBackbone`
      (`build_transformer_classifier`), the attention rollout (Abnar &
      Zuidema 2020, see `attention_rollout`) traces the pooled states back
      to the input tokens: with attention pooling the pooling weights times
      the rollout, with first-token pooling the rollout's first row, with
      mean pooling the mean of its real rows.
    - `"auto"`: `"pooling"` where the model pools with attention, else
      `"rollout"`.

    Either way the weights of each sequence sum to 1 over its real tokens,
    and padding (id 0) gets exactly zero. A sequence of padding only gets
    zeros. A model saved by an earlier version of the builders goes through
    `upgrade_legacy_model` first.

    Args:
        model: a `TextClassifier` from `keras_attnpred.models`.
        token_ids: int array `(batch, T)`, padded with 0.
        method: `"auto"`, `"pooling"` or `"rollout"`.

    Returns:
        A float32 NumPy array `(batch, T)`.

    Example:

    >>> run = TrainingRun.load(sentiment_run)  # a trained classifier
    >>> ids = run.tokenizer.tokenize(["a wonderful film"]).to_tensor().numpy()
    >>> weights = token_importance(run.model, ids)  # (1, T), sums to 1
    >>> weights.shape, round(float(weights.sum()), 5)
    ((1, 3), 1.0)
    >>> run.tokenizer.id_to_token(int(ids[0, weights[0].argmax()]))
    'wonderful'

    References:
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
        - [Abnar & Zuidema, 2020. Quantifying Attention Flow in
          Transformers](https://arxiv.org/abs/2005.00928)
    """
    model = upgrade_legacy_model(model)
    ids = as_ids("token_ids", token_ids)
    check_choice("method", method, METHODS)
    if not isinstance(model, TextClassifier):
        raise ValueError(
            "`model` must be a `TextClassifier` (`build_transformer_classifier`"
            " or `build_rnn_classifier`). Received: model of type "
            f"{type(model).__name__}"
        )
    attention_pooling = model.pooling == "attention"
    if method == "auto":
        method = "pooling" if attention_pooling else "rollout"
    if method == "pooling":
        if not attention_pooling:
            raise ValueError(
                "`method='pooling'` needs attention pooling; this classifier "
                f"has pooling={model.pooling!r}. Use method='rollout'. "
                "Received: method='pooling'"
            )
        return _pooling_weights(model, ids)
    mask = ids != PAD_ID
    rollout = attention_rollout(self_attention_weights(model, ids), mask)
    if attention_pooling:
        weights = np.einsum("bt,bts->bs", _pooling_weights(model, ids), rollout)
    elif model.pooling == "first":
        weights = rollout[:, 0]
    elif model.pooling == "mean":
        real = mask.sum(axis=1, keepdims=True)
        weights = rollout.sum(axis=1) / np.maximum(real, 1)
    else:
        raise ValueError(
            "`method='rollout'` knows attention, first-token and mean "
            f"pooling. Received: a model with pooling={model.pooling!r}"
        )
    return weights.astype("float32")


def _pooling_weights(model, ids):
    return np.asarray(model.pooling_weights(ids), dtype="float32")
