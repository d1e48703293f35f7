"""Small helpers shared by the text pipelines."""

import numpy as np


def as_string_list(name, texts):
    """`texts` as a list of Python strings; a `ValueError` for anything else."""
    if isinstance(texts, (str, bytes)):
        raise ValueError(
            f"`{name}` must be a sequence of strings, not a single string. "
            f"Received: {name}={texts[:50]!r}"
        )
    try:
        texts = list(texts)
    except TypeError:
        raise ValueError(
            f"`{name}` must be a sequence of strings. "
            f"Received: {name} of type {type(texts).__name__}"
        ) from None
    result = []
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if isinstance(text, np.str_):
            text = str(text)
        if not isinstance(text, str):
            raise ValueError(
                f"`{name}` must contain strings only. "
                f"Received: an element {text!r} of type {type(text).__name__}"
            )
        result.append(text)
    if not result:
        raise ValueError(f"`{name}` must not be empty. Received: {name}=[]")
    return result


def check_tokenizer(name, tokenizer):
    """Raises a `ValueError` unless `tokenizer` has `tokenize` and `PAD_ID`."""
    if not callable(getattr(tokenizer, "tokenize", None)):
        raise ValueError(
            f"`{name}` must be a `SubwordTokenizer` (or have `tokenize`). "
            f"Received: {name} of type {type(tokenizer).__name__}"
        )


def resolve_bucket_boundaries(bucket_boundaries, lengths, max_length):
    """Checks explicit boundaries, or computes them from length quantiles.

    Args:
        bucket_boundaries: None, `"auto"`, or strictly increasing ints > 1.
        lengths: callable returning a 1-D NumPy array of the (truncated)
            sequence lengths; only called for `"auto"`, which needs a pass
            over the data.
        max_length: the longest sequence a batch can hold.

    Returns:
        None (no bucketing) or a list of strictly increasing ints.
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
    # Equal-population buckets: each holds about the same number of
    # sequences, so every bucket fills batches at a similar rate and the
    # lengths inside a batch stay close. A boundary `b` holds lengths < b.
    quantiles = np.linspace(0.0, 1.0, num_buckets + 1)[1:-1]
    cuts = np.ceil(np.quantile(np.asarray(lengths), quantiles)).astype(int) + 1
    boundaries = sorted({int(c) for c in cuts if 1 < c <= max_length})
    return boundaries or None
