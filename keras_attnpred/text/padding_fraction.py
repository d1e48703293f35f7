import tensorflow as tf


def padding_fraction(dataset, padding_id=0):
    """The share of padding among all token positions of a batched dataset.

    Only the inputs count: for `(inputs, labels)` elements the labels are
    left out. `inputs` may be one tensor or a dict/list of them (e.g. the
    `{"source", "target"}` inputs of `translation_dataset`); every integer
    tensor in it is counted. Iterates over the whole dataset once.

    Args:
        dataset: a finite, batched `tf.data.Dataset`.
        padding_id: int, the padding token id.

    Returns:
        A float in [0, 1]: padding positions / all positions.

    Example:

    >>> texts = ["a film", "the plot was really dull", "great",
    ...          "a wonderful story and wonderful music"] * 8
    >>> labels = [1, 0, 1, 1] * 8
    >>> plain = classification_dataset(texts, labels, tokenizer, batch_size=4)
    >>> bucketed = classification_dataset(
    ...     texts, labels, tokenizer, batch_size=4, bucket_boundaries="auto")
    >>> padding_fraction(bucketed) < padding_fraction(plain)
    True
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(
            "`dataset` must be a `tf.data.Dataset`. "
            f"Received: dataset of type {type(dataset).__name__}"
        )
    padding, total = 0, 0
    for element in dataset:
        inputs = element[0] if isinstance(element, tuple) else element
        for tensor in tf.nest.flatten(inputs):
            if not tensor.dtype.is_integer:
                continue
            padding += int(
                tf.reduce_sum(tf.cast(tensor == padding_id, tf.int64))
            )
            total += int(tf.size(tensor, out_type=tf.int64))
    if total == 0:
        raise ValueError("`dataset` holds no integer inputs to measure.")
    return padding / total
