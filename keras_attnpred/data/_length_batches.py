"""Grouping sequences into batches by length, shared by
`token_budget_batches` and `PreparedBatches`."""

import numpy as np


def length_batches(lengths, bucket_lengths, batch_sizes, shuffle, seed):
    """`(indices, length)` batches: each sequence goes to the shortest bucket
    length that holds it, and bucket `i` makes batches of `batch_sizes[i]`.

    The sequences left over once a bucket's batches are full move up to the
    next bucket, so only the last batch of the longest bucket can be
    smaller. The number of batches does not depend on `seed`. Arguments are
    checked by the callers.
    """
    rng = np.random.default_rng(seed)
    bucket_of = np.searchsorted(bucket_lengths, lengths)
    batches = []
    carried = np.zeros((0,), dtype="int64")
    for bucket, (length, rows) in enumerate(zip(bucket_lengths, batch_sizes)):
        members = np.concatenate([carried, np.flatnonzero(bucket_of == bucket)])
        members = rng.permutation(members) if shuffle else np.sort(members)
        full = len(members) // rows * rows
        batches += [(members[i:i + rows], length) for i in range(0, full, rows)]
        carried = members[full:]
    if len(carried):
        batches.append((carried, bucket_lengths[-1]))
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches
