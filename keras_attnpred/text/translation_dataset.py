import numpy as np
import tensorflow as tf

from keras_attnpred.bucket_boundaries import resolve_bucket_boundaries
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.reserved_ids import START_ID
from keras_attnpred.text._utils import at_least_one_id
from keras_attnpred.text.check_tokenizer import check_tokenizer
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_texts


def translation_dataset(
    sources,
    targets,
    source_tokenizer,
    target_tokenizer,
    batch_size=64,
    max_length=64,
    shuffle=True,
    seed=0,
    bucket_boundaries=None,
):
    """A batched `tf.data` pipeline for encoder-decoder translation.

    Each pair becomes `({"source": s, "target": [START] + t}, t + [END])`,
    where `s` and `t` are the token ids of the source and target sentences.
    The decoder input is the label shifted right by one step (teacher
    forcing): at step `i` the decoder sees the label's tokens before `i` and
    predicts token `i`. The target is cut to `max_length - 1` ids first, so
    that `[START]` and `[END]` always fit and both target tensors have
    `T <= max_length` steps; the source is cut to `max_length` ids (the rest
    of a longer sentence is dropped; a source without tokens becomes a
    single `[PAD]`). All tensors are padded with 0 (`[PAD]`) per batch: a
    loss should ignore label 0.

    Without `bucket_boundaries` batches take consecutive (shuffled) pairs
    (`padded_batch`). With them, pairs are grouped by the longer of their
    source and decoder sequences with
    `tf.data.Dataset.bucket_by_sequence_length`.

    Args:
        sources: list of str, the sentences to translate.
        targets: list of str, their translations.
        source_tokenizer: the `SubwordTokenizer` of the source language.
        target_tokenizer: the `SubwordTokenizer` of the target language; its
            `START_ID` and `END_ID` frame the target.
        batch_size: int, pairs per batch.
        max_length: int >= 2, the most steps of any sequence.
        shuffle: bool, whether to shuffle the pairs (each epoch anew).
        seed: int, the shuffle seed: the same seed gives the same batches in
            the same order.
        bucket_boundaries: None, `"auto"` or a strictly increasing list of
            ints. `"auto"` tokenizes the pairs once and puts boundaries at
            length quantiles.

    Returns:
        A `tf.data.Dataset` of `({"source": (batch, S), "target": (batch, T)},
        (batch, T))`, all int32.

    Example:

    >>> english_sentences = ["the cat eats", "a dog sees the cat"]
    >>> spanish_sentences = ["el gato come", "un perro ve el gato"]
    >>> # Words seen often enough become tokens: the toy corpus repeats.
    >>> english = SubwordTokenizer.train(english_sentences * 20, 40)
    >>> spanish = SubwordTokenizer.train(spanish_sentences * 20, 40)
    >>> train = translation_dataset(
    ...     english_sentences, spanish_sentences, english, spanish,
    ...     batch_size=2, shuffle=False)
    >>> inputs, labels = next(iter(train))
    >>> tokens = spanish.get_vocabulary()
    >>> [tokens[i] for i in inputs["target"][0].numpy()]
    ['[START]', 'el', 'gato', 'come', '[PAD]', '[PAD]']
    >>> [tokens[i] for i in labels[0].numpy()]  # one step ahead
    ['el', 'gato', 'come', '[END]', '[PAD]', '[PAD]']
    >>> # translator.fit(train, epochs=10)
    """
    sources = check_texts("sources", sources)
    targets = check_texts("targets", targets)
    if len(sources) != len(targets):
        raise ValueError(
            "`sources` and `targets` must have the same length. "
            f"Received: {len(sources)} sources and {len(targets)} targets"
        )
    check_tokenizer("source_tokenizer", source_tokenizer)
    check_tokenizer("target_tokenizer", target_tokenizer)
    check_positive_int("batch_size", batch_size)
    check_positive_int("max_length", max_length, minimum=2)
    check_bool("shuffle", shuffle)
    check_positive_int("seed", seed, minimum=0)

    def lengths():
        source_lengths = source_tokenizer.tokenize(sources).row_lengths()
        target_lengths = target_tokenizer.tokenize(targets).row_lengths()
        return np.maximum(
            np.minimum(source_lengths.numpy(), max_length),
            np.minimum(target_lengths.numpy() + 1, max_length),
        )

    boundaries = resolve_bucket_boundaries(
        bucket_boundaries, lengths, max_length
    )

    dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle:
        dataset = dataset.shuffle(
            len(sources), seed=seed, reshuffle_each_iteration=True
        )

    def encode(source, target):
        source_ids = at_least_one_id(
            source_tokenizer.tokenize(source)[:max_length]
        )
        target_ids = target_tokenizer.tokenize(target)[: max_length - 1]
        decoder_input = tf.concat([[START_ID], target_ids], axis=0)
        label = tf.concat([target_ids, [END_ID]], axis=0)
        return {"source": source_ids, "target": decoder_input}, label

    dataset = dataset.map(
        encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    padded_shapes = (
        {"source": tf.TensorShape([None]), "target": tf.TensorShape([None])},
        tf.TensorShape([None]),
    )
    if boundaries is None:
        dataset = dataset.padded_batch(batch_size, padded_shapes=padded_shapes)
    else:
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda inputs, label: tf.maximum(
                tf.shape(inputs["source"])[0], tf.shape(label)[0]
            ),
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padded_shapes=padded_shapes,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
