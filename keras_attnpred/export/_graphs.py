"""TensorFlow graph pieces shared by the exporters (private)."""

import tensorflow as tf

from keras_attnpred.text.join_punctuation import JOIN_PUNCTUATION_RULES


def checked_shapes(*tensors):
    """`tensors`, each checked at run time against its traced shape.

    A signature call does not check shapes: a scalar `text` crashed the
    tokenizer kernel (segfault) and a `(1, 2)` batch gave one answer for
    two texts. `EnsureShape` fails the request instead, with an
    `INVALID_ARGUMENT` error naming the input and both shapes.
    """
    checked = [tf.ensure_shape(t, t.shape) for t in tensors]
    return checked[0] if len(checked) == 1 else checked


def checked_token_ids(token_ids, vocabulary_size):
    """`token_ids` after a run-time check that they lie in the vocabulary.

    The embedding gather fails on large ids with a message naming only its
    node, and on CPU returns zeros for negative ones.
    """
    message = (
        f"`token_ids` must lie in [0, {vocabulary_size}) (the vocabulary "
        "size). Received"
    )
    checks = [
        tf.debugging.assert_non_negative(token_ids, message=message),
        tf.debugging.assert_less(token_ids, vocabulary_size, message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(token_ids)


def texts_to_ids(tokenizer, texts, max_length, head_tokens=None):
    """Token ids `(batch, T)` of `texts`, `1 <= T <= max_length`, 0-padded.

    The tokenizer's own `tokenize` (normalisation included) runs in the
    graph, so the ids are those of training, cut to `max_length` like
    `classification_dataset` and `translation_dataset` do (see `cut_ids`
    for `head_tokens`).
    """
    return at_least_one_step(
        cut_ids(tokenizer.tokenize(texts), max_length, head_tokens)
    )


def cut_ids(ids, max_length, head_tokens=None):
    """The ragged `ids` `(batch, None)` as a 0-padded `(batch, T)` tensor,
    `T <= max_length`: each row's opening, or with `head_tokens` its first
    `head_tokens` ids and its last `max_length - head_tokens` (as
    `RaggedIds.padded` in training). Dense gathers only: TFLite has them
    as built-ins, not the ragged masks."""
    if head_tokens is None:
        return ids[:, :max_length].to_tensor()
    lengths = ids.row_lengths()
    dense = ids.to_tensor()
    width = tf.minimum(tf.shape(dense, out_type=lengths.dtype)[1], max_length)
    positions = tf.expand_dims(tf.range(width), 0)
    skipped = tf.expand_dims(tf.maximum(lengths - max_length, 0), 1)
    source = tf.where(positions < head_tokens, positions, positions + skipped)
    return tf.gather(dense, source, batch_dims=1)


def at_least_one_step(ids):
    """`ids` `(batch, T)` with one padding column added when `T` is 0.

    All-empty batches give width 0, on which an RNN cannot run; one padding
    column is the same fully padded row, as Keras would see it (see
    `keras_attnpred.text._utils.at_least_one_id`).
    """
    return tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])


def join_punctuation(texts):
    """`keras_attnpred.text.join_punctuation` on a string tensor (RE2)."""
    for pattern, rewrite in JOIN_PUNCTUATION_RULES:
        # RE2's \\w is ASCII only; Python's is Unicode.
        pattern = pattern.replace(r"\w", r"[\pL\pN_]").replace(r"\s", " ")
        texts = tf.strings.regex_replace(texts, pattern, rewrite)
    return texts
