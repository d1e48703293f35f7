"""TensorFlow graph pieces shared by the exporters (private)."""

import keras
import tensorflow as tf

from keras_attnpred.layers import AttentionPooling
from keras_attnpred.text.join_punctuation import JOIN_PUNCTUATION_RULES


def texts_to_ids(tokenizer, texts, max_length):
    """Token ids `(batch, T)` of `texts`, `1 <= T <= max_length`, 0-padded.

    The tokenizer's own `tokenize` (normalisation included) runs in the
    graph, so the ids are those of training, cut to `max_length` like
    `classification_dataset` and `translation_dataset` do.
    """
    ids = tokenizer.tokenize(texts)[:, :max_length].to_tensor()
    # All-empty batches give width 0; one padding column keeps the model's
    # shapes non-empty (a fully padded row, as Keras would see it).
    return tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])


def attention_head(model):
    """`(features_model, pooling, logits_layer)` of a classifier with
    `AttentionPooling` named `"pooling"` and a `"logits"` layer, else None.

    `features_model` maps the token ids to the pooling layer's input, so the
    pooling can be called again with `return_attention_scores=True`; the
    dropout between pooling and logits is the identity at inference.
    """
    names = {layer.name: layer for layer in model.layers}
    pooling, logits = names.get("pooling"), names.get("logits")
    if not isinstance(pooling, AttentionPooling) or logits is None:
        return None
    features = pooling.input
    if isinstance(features, (list, tuple)):
        # The node's tensors hold the Keras mask after the features.
        features = features[0]
    features = keras.Model(model.inputs, features)
    return features, pooling, logits


def attention_outputs(head, ids):
    """Logits and pooling weights `(batch, T)` through `attention_head`."""
    features_model, pooling, logits_layer = head
    features = features_model(ids, training=False)
    pooled, weights = pooling(
        features,
        mask=tf.not_equal(ids, 0),
        return_attention_scores=True,
        training=False,
    )
    return logits_layer(pooled), weights


def join_punctuation(texts):
    """`keras_attnpred.text.join_punctuation` on a string tensor (RE2)."""
    for pattern, rewrite in JOIN_PUNCTUATION_RULES:
        # RE2's \\w is ASCII only; Python's is Unicode.
        pattern = pattern.replace(r"\w", r"[\pL\pN_]").replace(r"\s", " ")
        texts = tf.strings.regex_replace(texts, pattern, rewrite)
    return texts
