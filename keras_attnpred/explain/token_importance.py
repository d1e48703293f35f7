import keras
import numpy as np
from keras import ops

from keras_attnpred.models._model_utils import pooling_features_model
from keras_attnpred.explain import _model_parts as parts
from keras_attnpred.explain.attention_rollout import attention_rollout
from keras_attnpred.explain.self_attention_weights import (
    self_attention_weights,
)
from keras_attnpred.layers import AttentionPooling
from keras_attnpred.models import FirstTokenPooling
from keras_attnpred.validation import check_choice

METHODS = ("auto", "pooling", "rollout")


def token_importance(model, token_ids, method="auto"):
    """How much each token counts for a classifier's decision.

    Methods:

    - `"pooling"`: the weights of the `AttentionPooling` layer (named
      `"pooling"`) over the last layer's states (Yang et al. 2016). Both
      `build_rnn_classifier` and `build_transformer_classifier` (with its
      default `pooling="attention"`) have one.
    - `"rollout"`: for a `build_transformer_classifier` model, the attention
      rollout (Abnar & Zuidema 2020, see `attention_rollout`) traces the
      pooled states back to the input tokens: with attention pooling the
      pooling weights times the rollout, with first-token pooling the
      rollout's first row, with mean pooling the mean of its real rows.
    - `"auto"`: `"pooling"` where the model has attention pooling, else
      `"rollout"`.

    Either way the weights of each sequence sum to 1 over its real tokens,
    and padding (id 0) gets exactly zero. A sequence of padding only gets
    zeros.

    Args:
        model: a classifier from `keras_attnpred.models`.
        token_ids: int array `(batch, T)`, padded with 0.
        method: `"auto"`, `"pooling"` or `"rollout"`.

    Returns:
        A float32 NumPy array `(batch, T)`.

    Example:

    >>> ids = tokenizer.tokenize(["a wonderful film"]).to_tensor()
    >>> token_importance(classifier, ids)      # (1, T), sums to 1

    References:
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
        - [Abnar & Zuidema, 2020. Quantifying Attention Flow in
          Transformers](https://arxiv.org/abs/2005.00928)
    """
    parts.check_model(model)
    ids = parts.as_ids("token_ids", token_ids)
    check_choice("method", method, METHODS)
    pooling = parts.layer_or_none(model, "pooling")
    if pooling is None:
        raise ValueError(
            "`model` must be a classifier from `keras_attnpred.models`, with "
            f"a layer named 'pooling'. Received: model named {model.name!r}"
        )
    attention_pooling = isinstance(pooling, AttentionPooling)
    if method == "auto":
        method = "pooling" if attention_pooling else "rollout"
    if method == "pooling":
        if not attention_pooling:
            raise ValueError(
                "`method='pooling'` needs an `AttentionPooling` layer; this "
                f"model pools with {type(pooling).__name__}. Use "
                "method='rollout'. Received: method='pooling'"
            )
        return _pooling_weights(model, pooling, ids)
    mask = parts.padding_mask(ids)
    rollout = attention_rollout(self_attention_weights(model, ids), mask)
    if attention_pooling:
        weights = np.einsum(
            "bt,bts->bs", _pooling_weights(model, pooling, ids), rollout
        )
    elif isinstance(pooling, FirstTokenPooling):
        weights = rollout[:, 0]
    elif isinstance(pooling, keras.layers.GlobalAveragePooling1D):
        real = mask.sum(axis=1, keepdims=True)
        weights = rollout.sum(axis=1) / np.maximum(real, 1)
    else:
        raise ValueError(
            "`method='rollout'` knows attention, first-token and mean "
            f"pooling. Received: a model pooling with "
            f"{type(pooling).__name__}"
        )
    return weights.astype("float32")


def _pooling_weights(model, pooling, ids):
    submodel = parts.cached_submodel(
        model, "pooling_inputs", lambda: pooling_features_model(model, pooling)
    )
    states = submodel(ids, training=False)
    _, weights = pooling(
        states,
        mask=parts.padding_mask(ids),
        return_attention_scores=True,
        training=False,
    )
    return np.asarray(ops.convert_to_numpy(weights), dtype="float32")
