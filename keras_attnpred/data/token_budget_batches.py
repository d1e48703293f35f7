import numpy as np

from keras_attnpred.data._length_batches import length_batches
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int


def token_budget_batches(
    lengths, max_tokens, bucket_lengths, shuffle=True, seed=0
):
    """Batches of sequences of similar length, within a token budget.

    Token-based bucketing, as in tensor2tensor and fairseq, for NumPy input
    to jit-compiled training steps. Each sequence goes to the shortest
    bucket length that holds it, and a batch of bucket length `L` holds
    `max_tokens // L` sequences: short sequences come in larger batches, so
    every batch costs about the same and little compute goes to padding.

    fairseq's batches vary in size; here each bucket has one batch shape, so
    jit compiles one program per bucket and no more. The sequences left over
    once a bucket's batches are full (fewer than a batch) move up to the
    next bucket length. Only the last batch of the longest bucket can be
    smaller than the others. Every batch shape is thus `(max_tokens // L, L)`
    for an `L` in `bucket_lengths`, plus at most that one last batch.

    Args:
        lengths: 1-D array-like of ints >= 0, the length of each sequence
            (e.g. the count of non-padding ids of each row).
        max_tokens: int, the most token positions of a batch, padding
            included: batch size × bucket length.
        bucket_lengths: strictly increasing sequence of positive ints, the
            lengths batches are padded to. Each is at most `max_tokens`, and
            the last is at least the longest sequence.
        shuffle: bool, whether to shuffle the sequences within each bucket
            and the order of the batches. Without shuffling, the batches
            come by bucket, shortest first, the sequences in their order.
        seed: int, the shuffle seed: the same seed gives the same batches in
            the same order.

    Returns:
        A list of `(indices, length)` pairs, one per batch: `indices` an
        int64 array of positions in `lengths`, `length` the int bucket
        length to pad the batch to. Each sequence is in exactly one batch.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> lengths = rng.integers(1, 65, size=100)  # 100 texts of 1 to 64 ids
    >>> ids = np.where(np.arange(64) < lengths[:, None], 7, 0)  # 0: padding
    >>> batches = token_budget_batches(
    ...     lengths, max_tokens=256, bucket_lengths=[16, 32, 64])
    >>> sorted({(len(indices), length) for indices, length in batches})
    [(4, 64), (8, 32), (16, 16)]
    >>> indices, length = batches[0]
    >>> batch = ids[indices, :length]  # e.g. model.train_on_batch(batch, ...)
    >>> bool((lengths[indices] <= length).all())
    True

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762) (batches of about 25,000
          source tokens, sentences of similar length together)
        - [Ott et al., 2019. fairseq](https://arxiv.org/abs/1904.01038)
    """
    lengths = _check_lengths(lengths)
    max_tokens = check_positive_int("max_tokens", max_tokens)
    bucket_lengths = _check_bucket_lengths(bucket_lengths, max_tokens)
    check_bool("shuffle", shuffle)
    seed = check_positive_int("seed", seed, minimum=0)
    if len(lengths) and lengths.max() > bucket_lengths[-1]:
        index = int(lengths.argmax())
        raise ValueError(
            "`lengths` holds a sequence longer than the longest bucket "
            f"length {bucket_lengths[-1]}; truncate it first or add a bucket. "
            f"Received: lengths[{index}]={int(lengths[index])}"
        )
    return length_batches(
        lengths,
        bucket_lengths,
        [max_tokens // length for length in bucket_lengths],
        shuffle,
        seed,
    )


def _check_lengths(lengths):
    array = np.asarray(lengths)
    message = "`lengths` must be a 1-D array of integers >= 0. Received: "
    if array.ndim == 1 and array.size == 0:
        return array.astype("int64")
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{message}lengths of shape {array.shape} and dtype {array.dtype}"
        )
    if (array < 0).any():
        index = int(np.argmax(array < 0))
        raise ValueError(f"{message}lengths[{index}]={int(array[index])}")
    return array.astype("int64")


def _check_bucket_lengths(bucket_lengths, max_tokens):
    values = list(bucket_lengths)
    valid = bool(values) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
        for v in values
    )
    valid = valid and all(a < b for a, b in zip(values, values[1:]))
    if not valid:
        raise ValueError(
            "`bucket_lengths` must be a strictly increasing sequence of "
            f"positive integers. Received: bucket_lengths={values!r}"
        )
    if values[-1] > max_tokens:
        raise ValueError(
            "Every bucket length must be at most `max_tokens`, so that a "
            "batch holds at least one sequence. Received: "
            f"bucket_lengths={values!r} and max_tokens={max_tokens}"
        )
    return [int(v) for v in values]
