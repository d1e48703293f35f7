import numpy as np

from keras_attnpred.reserved_ids import PAD_ID


def translation_batches(source_rows, batch_size, max_length, fixed_width=False):
    """The batches in which translators decode tokenized sources.

    The one batching path of `Translator.translate`, its alignments and
    `TFLiteTranslator`. Rows are sorted longest first, so similar lengths
    share a batch and its padding; empty rows are left out (they translate
    to `""` without running a model). Each batch is filled up to
    `batch_size` rows by repeating its first row, which ends when that row
    does and so never holds up an early stop, and its width is rounded up
    to a power of two (at most `max_length`), so a few compiled decoding
    loops serve any number of texts.

    Args:
        source_rows: list of lists of source ids, each at most `max_length`.
        batch_size: int, rows per batch.
        max_length: int, the widest batch.
        fixed_width: bool, every batch `max_length` wide (for models
            exported with a fixed input shape).

    Yields:
        `(indices, batch)`: the positions in `source_rows` of the batch's
        first `len(indices)` rows, and the int32 batch
        `(batch_size, width)`, 0-padded.

    Example:

    >>> [(i, b.tolist()) for i, b in translation_batches([[5], [], [6, 7]], 2, 8)]
    [([2, 0], [[6, 7], [5, 0]])]
    """
    order = sorted(
        (i for i, row in enumerate(source_rows) if len(row)),
        key=lambda i: -len(source_rows[i]),
    )
    for begin in range(0, len(order), batch_size):
        indices = order[begin : begin + batch_size]
        rows = [source_rows[i] for i in indices]
        if fixed_width:
            width = max_length
        else:
            longest = max(len(row) for row in rows)
            width = min(1 << (longest - 1).bit_length(), max_length)
        rows += [rows[0]] * (batch_size - len(rows))
        batch = np.full((len(rows), width), PAD_ID, dtype="int32")
        for i, row in enumerate(rows):
            batch[i, : len(row)] = row
        yield indices, batch
