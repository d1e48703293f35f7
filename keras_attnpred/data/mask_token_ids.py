import numpy as np

from keras_attnpred.reserved_ids import MASK_ID
from keras_attnpred.reserved_ids import RESERVED_TOKENS
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate

# Ids below this are the reserved tokens: never masked, never drawn as a
# random replacement.
_FIRST_WORD_ID = len(RESERVED_TOKENS)


def mask_token_ids(
    ids,
    rng,
    vocabulary_size,
    max_predictions,
    mask_rate=0.15,
    word_starts=None,
):
    """BERT's masked-language-model corruption of a batch of token ids.

    Each word is picked with probability `mask_rate`; with `word_starts`,
    a word is a piece that starts one and the pieces that continue it, so
    all the pieces of a picked word are predicted together (whole-word
    masking); without it every piece is a word. Padding (id 0) and the
    other reserved ids are never picked. Of the picked pieces, 80% become
    `[MASK]` (`reserved_ids.MASK_ID`), 10% a random non-reserved id and 10%
    stay as they are (Devlin et al. 2019). A row keeps at most
    `max_predictions` picked pieces, its first ones.

    Args:
        ids: int array `(batch, length)`, 0-padded.
        rng: a `numpy.random.Generator`.
        vocabulary_size: int, the ids are below it.
        max_predictions: int > 0, the predictions per row (the width of
            the outputs).
        mask_rate: float in (0, 1), the share of words picked.
        word_starts: optional bool array `(vocabulary_size,)`: whether each
            id starts a word (WordPiece pieces without `##`).

    Returns:
        `(masked_ids, positions, labels)`: the corrupted int32 ids
        `(batch, length)`, and int32 `(batch, max_predictions)` arrays of
        the picked positions and their original ids, padded with position 0
        and label 0 (a label 0 is no prediction: the package's masked
        losses skip it).

    Example:

    >>> ids = np.array([[5, 6, 7, 8, 0, 0]])
    >>> masked, positions, labels = mask_token_ids(
    ...     ids, np.random.default_rng(0), vocabulary_size=10,
    ...     max_predictions=3, mask_rate=0.5)
    >>> bool(((labels == 0) | (ids[0, positions] == labels)).all())
    True

    References:
        - [Devlin et al., 2019. BERT](https://arxiv.org/abs/1810.04805)
    """
    ids = np.asarray(ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            "`ids` must be an int array (batch, length). Received: ids of "
            f"shape {ids.shape} and dtype {ids.dtype}"
        )
    vocabulary_size = check_positive_int(
        "vocabulary_size", vocabulary_size, minimum=_FIRST_WORD_ID + 1
    )
    max_predictions = check_positive_int("max_predictions", max_predictions)
    check_rate("mask_rate", mask_rate)
    if mask_rate == 0:
        raise ValueError(
            f"`mask_rate` must be above 0. Received: mask_rate={mask_rate}"
        )
    batch, length = ids.shape
    candidates = ids >= _FIRST_WORD_ID
    if word_starts is None:
        starts = candidates
    else:
        word_starts = np.asarray(word_starts, dtype=bool)
        if word_starts.shape != (vocabulary_size,):
            raise ValueError(
                "`word_starts` must hold one bool per id "
                f"({vocabulary_size}). Received: shape {word_starts.shape}"
            )
        starts = candidates & word_starts[np.clip(ids, 0, vocabulary_size - 1)]
    # Every piece takes the draw of the piece that starts its word; pieces
    # before the first start (a window opening inside a word) take column
    # 0's, so they form one word with it.
    columns = np.arange(length)
    word_start = np.maximum.accumulate(np.where(starts, columns, 0), axis=1)
    draws = rng.random((batch, length))
    picked = candidates & (
        np.take_along_axis(draws, word_start, axis=1) < mask_rate
    )
    # The first max_predictions picked positions of each row.
    order = np.argsort(~picked, axis=1, kind="stable")[:, :max_predictions]
    if order.shape[1] < max_predictions:
        order = np.pad(order, ((0, 0), (0, max_predictions - order.shape[1])))
    kept = np.take_along_axis(picked, order, axis=1)
    if length < max_predictions:
        kept[:, length:] = False
    positions = np.where(kept, order, 0).astype(np.int32)
    labels = np.where(kept, np.take_along_axis(ids, order, axis=1), 0)

    masked = ids.astype(np.int32, copy=True)
    rows = np.nonzero(kept)[0]
    targets = positions[kept]
    choice = rng.random(len(targets))
    replaced = rng.integers(_FIRST_WORD_ID, vocabulary_size, len(targets))
    masked[rows[choice < 0.8], targets[choice < 0.8]] = MASK_ID
    random = (choice >= 0.8) & (choice < 0.9)
    masked[rows[random], targets[random]] = replaced[random]
    return masked, positions, labels.astype(np.int32)
