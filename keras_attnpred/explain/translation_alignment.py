import keras
import numpy as np
from keras import ops

from keras_attnpred.explain import _model_parts as parts


def translation_alignment(model, source_ids, target_ids):
    """Cross-attention weights of a translator, per layer and head.

    The model is run once, teacher-forced, on `source_ids` and `target_ids`
    (no dropout). Row `t` of a map is the attention of decoder step `t`,
    whose input is `target_ids[:, t]` and whose output predicts the next
    token, over the source tokens. Padded source tokens get exactly zero
    weight and padded target steps give rows of zeros; every other row sums
    to 1.

    Supported models:

    - `build_transformer_translator`: the cross-attention of each decoder
      block (`"decoder_0"`, ...), each head separately: shape
      `(batch, num_layers, num_heads, T, S)`.
    - `build_rnn_translator`: the Bahdanau or Luong `"attention"` layer, one
      map: `num_layers = num_heads = 1`.

    Args:
        model: a translator from `keras_attnpred.models`.
        source_ids: int array `(batch, S)`, padded with 0.
        target_ids: int array `(batch, T)`, the decoder inputs (`[START]`
            then the tokens so far), padded with 0.

    Returns:
        A float32 NumPy array `(batch, num_layers, num_heads, T, S)`.

    Example:

    >>> ids = greedy_search(model, source_ids)          # (batch, steps)
    >>> inputs = np.concatenate([np.full((len(ids), 1), 2), ids[:, :-1]], 1)
    >>> weights = translation_alignment(model, source_ids, inputs)
    >>> weights.mean(axis=(1, 2))   # averaged over layers and heads

    References:
        - [Bahdanau et al., 2015. Neural Machine Translation by Jointly
          Learning to Align and Translate](https://arxiv.org/abs/1409.0473)
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
    """
    parts.check_model(model)
    source = parts.as_ids("source_ids", source_ids)
    target = parts.as_ids("target_ids", target_ids)
    if len(source) != len(target):
        raise ValueError(
            "`source_ids` and `target_ids` must have the same batch size. "
            f"Received: source_ids.shape={source.shape}, "
            f"target_ids.shape={target.shape}"
        )
    transformer = parts.transformer_translator_parts(model)
    if transformer is not None:
        weights = _transformer_alignment(transformer, source, target)
    elif parts.rnn_attention(model) is not None:
        weights = _rnn_alignment(model, source, target)
    else:
        raise ValueError(
            "`model` must be a translator from `build_transformer_translator` "
            "(decoder blocks named 'decoder_0', ...) or `build_rnn_translator` "
            f"(an 'attention' layer). Received: model named {model.name!r}"
        )
    return np.asarray(ops.convert_to_numpy(weights), dtype="float32")


def _transformer_alignment(transformer, source, target):
    memory, source_mask = parts.encode(
        transformer["source_embedding"], transformer["encoders"], source
    )
    if transformer["encoder_final_norm"] is not None:
        memory = transformer["encoder_final_norm"](memory)
    target = ops.convert_to_tensor(target, dtype="int32")
    embedding = transformer["target_embedding"]
    target_mask = embedding.compute_mask(target)
    y = embedding(target)
    maps = []
    for decoder in transformer["decoders"]:
        y, _, cross_attention = decoder(
            y,
            memory,
            decoder_padding_mask=target_mask,
            encoder_padding_mask=source_mask,
            return_attention_scores=True,
            training=False,
        )
        maps.append(cross_attention)
    return ops.stack(maps, axis=1)


def _rnn_alignment(model, source, target):
    def make():
        # The attention's query (decoder states) and value (encoder memory).
        return keras.Model(
            model.input,
            [
                model.get_layer("decoder_rnn").output,
                model.get_layer("encoder_projection").output,
            ],
        )

    submodel = parts.cached_submodel(model, "rnn_attention_inputs", make)
    decoded, memory = submodel(
        {"source": source, "target": target}, training=False
    )
    _, weights = parts.rnn_attention(model)(
        decoded,
        memory,
        query_mask=parts.padding_mask(target),
        value_mask=parts.padding_mask(source),
        return_attention_scores=True,
        training=False,
    )
    return weights[:, None, None]
