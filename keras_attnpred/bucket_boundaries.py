"""Length buckets, shared by the `tf.data` pipelines of
`keras_attnpred.text` and the NumPy batches of `keras_attnpred.data`:
plain NumPy, so both can use them."""

import numpy as np


def resolve_bucket_boundaries(bucket_boundaries, lengths, max_length):
    """Checks explicit boundaries, or computes them from length quantiles.

    `"auto"` makes equal-population buckets: each holds about the same
    number of sequences, so every bucket fills batches at a similar rate and
    the lengths inside a batch stay close. A boundary `b` holds lengths
    < `b`.

    Args:
        bucket_boundaries: None, `"auto"`, or strictly increasing ints > 1.
        lengths: callable returning a 1-D NumPy array of the (truncated)
            sequence lengths; only called for `"auto"`, which needs a pass
            over the data.
        max_length: the longest sequence a batch can hold.

    Returns:
        None (no bucketing) or a list of strictly increasing ints.

    Raises:
        ValueError: `bucket_boundaries` is none of the above.

    Example:

    >>> resolve_bucket_boundaries([8, 16], lambda: None, max_length=32)
    [8, 16]
    >>> lengths = lambda: np.arange(1, 101)  # 100 texts of 1 to 100 tokens
    >>> resolve_bucket_boundaries("auto", lengths, max_length=64)
    [15, 27, 40, 52, 64]
    >>> resolve_bucket_boundaries([16, 8], lambda: None, max_length=32)
    Traceback (most recent call last):
    ...
    ValueError: `bucket_boundaries` must be None, 'auto' or a strictly increasing list of integers > 1. Received: bucket_boundaries=[16, 8]
    """
    if bucket_boundaries is None:
        return None
    if isinstance(bucket_boundaries, str):
        if bucket_boundaries != "auto":
            raise ValueError(
                "`bucket_boundaries` must be None, 'auto' or a strictly "
                "increasing list of integers > 1. "
                f"Received: bucket_boundaries={bucket_boundaries!r}"
            )
        return _auto_boundaries(lengths(), max_length)
    boundaries = list(bucket_boundaries)
    valid = bool(boundaries) and all(
        isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b > 1
        for b in boundaries
    )
    valid = valid and all(a < b for a, b in zip(boundaries, boundaries[1:]))
    if not valid:
        raise ValueError(
            "`bucket_boundaries` must be None, 'auto' or a strictly "
            "increasing list of integers > 1. "
            f"Received: bucket_boundaries={bucket_boundaries!r}"
        )
    return [int(b) for b in boundaries]


def _auto_boundaries(lengths, max_length, num_buckets=8):
    quantiles = np.linspace(0.0, 1.0, num_buckets + 1)[1:-1]
    cuts = np.ceil(np.quantile(np.asarray(lengths), quantiles)).astype(int) + 1
    boundaries = sorted({int(c) for c in cuts if 1 < c <= max_length})
    return boundaries or None
