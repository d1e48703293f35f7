import numpy as np
import tensorflow as tf

from keras_attnpred.bucket_boundaries import resolve_bucket_boundaries
from keras_attnpred.text._utils import at_least_one_id
from keras_attnpred.text.check_tokenizer import check_tokenizer
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_texts


def classification_dataset(
    texts,
    labels,
    tokenizer,
    batch_size=32,
    max_length=256,
    shuffle=True,
    seed=0,
    bucket_boundaries=None,
):
    """A batched `tf.data` pipeline of `(token ids, labels)` for classifiers.

    Texts are tokenized inside `tf.data` (a parallel `map`), truncated to
    `max_length` ids (the rest of a longer text is dropped) and padded with
    0 (`[PAD]`) to the longest sequence of each batch, which is what
    `Embedding(mask_zero=True)` expects. A text without tokens (`""`, only
    spaces) becomes a single `[PAD]`: a fully masked input.

    Without `bucket_boundaries` batches take consecutive (shuffled) examples
    (`padded_batch`). With them, examples are grouped by length with
    `tf.data.Dataset.bucket_by_sequence_length`, so a batch holds sequences
    of similar length and little compute goes to padding. The last batch of
    each bucket may be smaller than `batch_size`.

    Args:
        texts: list of str (or a 1-D array of strings).
        labels: array-like of numbers with one label (scalar or
            fixed-shape array) per text, kept in its dtype.
        tokenizer: a `SubwordTokenizer` (anything with `tokenize`).
        batch_size: int, examples per batch.
        max_length: int, longer token sequences are cut to this length.
        shuffle: bool, whether to shuffle the examples (each epoch anew).
        seed: int, the shuffle seed: the same seed gives the same batches in
            the same order.
        bucket_boundaries: None, `"auto"` or a strictly increasing list of
            ints. A boundary `b` separates sequences shorter than `b` from
            the rest. `"auto"` tokenizes the texts once and puts boundaries
            at length quantiles, so buckets receive similar numbers of
            examples.

    Returns:
        A `tf.data.Dataset` of `(ids, labels)`, `ids` int32 of shape
        `(batch, T)` with `T <= max_length`.

    Example:

    >>> reviews = ["a wonderful film", "dull", "the plot was dull", "great"]
    >>> train = classification_dataset(
    ...     reviews, [1, 0, 0, 1], tokenizer, batch_size=2, shuffle=False)
    >>> ids, labels = next(iter(train))
    >>> tokens = tokenizer.get_vocabulary()
    >>> [[tokens[i] for i in row] for row in ids.numpy()], labels.numpy()
    ([['a', 'wonderful', 'film'], ['dull', '[PAD]', '[PAD]']], array([1, 0]))
    >>> # model.fit(train, epochs=3)
    """
    texts = check_texts("texts", texts)
    labels = np.asarray(labels)
    if labels.ndim == 0 or len(labels) != len(texts):
        raise ValueError(
            "`labels` must hold one label per text. "
            f"Received: {len(texts)} texts and labels.shape={labels.shape}"
        )
    if not (
        np.issubdtype(labels.dtype, np.number)
        or np.issubdtype(labels.dtype, np.bool_)
    ):
        # String class names must become ids first (`LabeledTexts` does it).
        raise ValueError(
            "`labels` must be numbers (class ids or targets). Received: "
            f"labels of dtype {labels.dtype}, e.g. {labels.flat[0]!r}"
        )
    check_tokenizer("tokenizer", tokenizer)
    check_positive_int("batch_size", batch_size)
    check_positive_int("max_length", max_length)
    check_bool("shuffle", shuffle)
    check_positive_int("seed", seed, minimum=0)

    boundaries = resolve_bucket_boundaries(
        bucket_boundaries,
        lambda: np.minimum(
            tokenizer.tokenize(texts).row_lengths().numpy(), max_length
        ),
        max_length,
    )

    dataset = tf.data.Dataset.from_tensor_slices((texts, labels))
    if shuffle:
        # Shuffling strings before tokenizing keeps the buffer small.
        dataset = dataset.shuffle(
            len(texts), seed=seed, reshuffle_each_iteration=True
        )

    def encode(text, label):
        return at_least_one_id(tokenizer.tokenize(text)[:max_length]), label

    # `deterministic=True` keeps the order reproducible whatever the
    # dataset options say.
    dataset = dataset.map(
        encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    padded_shapes = (tf.TensorShape([None]), dataset.element_spec[1].shape)
    if boundaries is None:
        dataset = dataset.padded_batch(batch_size, padded_shapes=padded_shapes)
    else:
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda ids, label: tf.shape(ids)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padded_shapes=padded_shapes,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
