import numpy as np

from keras_attnpred.data import RaggedIds
from keras_attnpred.decoding import beam_search
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.validation import check_positive_int

# Sources are padded to a multiple of this: few shapes, few compilations.
_LENGTH_MULTIPLE = 8


def sequence_level_targets(
    teacher,
    source_ids,
    max_length,
    beam_width=4,
    batch_size=64,
    length_penalty=0.0,
):
    """The teacher's best beam-search translation of every source: the
    targets of sequence-level knowledge distillation (Kim & Rush 2016).

    Sources are decoded in batches of similar length, each padded to a
    multiple of 8 ids and filled up to `batch_size` rows (by repeating its
    first source), so the cached search compiles once per length; a source
    longer than `max_length` is cut, as training batches cut it.

    Args:
        teacher: a translator (`TransformerTranslator`, `RNNTranslator`).
        source_ids: `RaggedIds`, the source ids, unpadded.
        max_length: int >= 2, the run's `max_length`: the teacher writes at
            most `max_length - 1` ids, [END] included (a translation cut
            there keeps them all), what a training target holds.
        beam_width: int > 0.
        batch_size: int > 0, sources per search.
        length_penalty: float >= 0, the GNMT length penalty of
            `beam_search`.

    Returns:
        `RaggedIds`, one target per source in their order, without [START]
        and [END] (as a `PreparedDataset` stores targets).

    Example:

    >>> sources = RaggedIds.from_rows([[5, 6, 7], [8, 9]])
    >>> targets = sequence_level_targets(translator.model, sources,
    ...                                  max_length=16, batch_size=2)
    >>> len(targets), int(targets.lengths.max()) <= 15  # max_length - 1
    (2, True)

    References:
        - [Kim & Rush, 2016. Sequence-Level Knowledge
          Distillation](https://arxiv.org/abs/1606.07947)
    """
    if not isinstance(source_ids, RaggedIds):
        raise ValueError(
            "`source_ids` must be a `RaggedIds`. Received: source_ids of "
            f"type {type(source_ids).__name__}"
        )
    max_length = check_positive_int("max_length", max_length, minimum=2)
    batch_size = check_positive_int("batch_size", batch_size)
    lengths = np.minimum(source_ids.lengths, max_length)
    order = np.argsort(lengths, kind="stable")
    targets = [None] * len(source_ids)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = int(min(
            max_length,
            -(-max(int(lengths[rows].max()), 1) // _LENGTH_MULTIPLE)
            * _LENGTH_MULTIPLE,
        ))
        filled = np.concatenate(
            [rows, np.full(batch_size - len(rows), rows[0])]
        )
        ids, _ = beam_search(
            teacher,
            source_ids.padded(filled, width),
            beam_width=beam_width,
            length_penalty=length_penalty,
            max_length=max_length - 1,
        )
        for position, row in enumerate(rows):
            targets[row] = strip_end(ids[position, 0])
    return RaggedIds.from_rows(targets)


def strip_end(ids):
    """A generated hypothesis up to its [END], padding dropped."""
    ids = np.asarray(ids)
    ends = np.flatnonzero(ids == END_ID)
    if len(ends):
        ids = ids[: ends[0]]
    return ids[ids != 0]
