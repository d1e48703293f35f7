import numpy as np
import pytest

from keras_attnpred.data import mask_token_ids
from keras_attnpred.reserved_ids import MASK_ID

VOCABULARY = 1000
# Ids of this toy vocabulary that start a word: a third of them.
WORD_STARTS = np.arange(VOCABULARY) % 3 == 0
WORD_STARTS[:4] = True  # Reserved ids are words of their own.


def _random_ids(rows, length, seed, reserved=0.05):
    """Ids in [4, VOCABULARY) with some reserved ids (1-3) among them and
    0-padding after a random length per row."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, VOCABULARY, (rows, length))
    special = rng.random((rows, length)) < reserved
    ids[special] = rng.integers(1, 4, special.sum())
    lengths = rng.integers(0, length + 1, rows)
    ids[np.arange(length) >= lengths[:, None]] = 0
    return ids


def _piece(rng, start):
    """An id that starts a word (or continues one), not reserved."""
    ids = np.arange(4, VOCABULARY)
    return int(rng.choice(ids[WORD_STARTS[4:] == start]))


def _words(rows, length, seed, open_inside=False):
    """`(ids, word)`: rows of whole words of 1-4 pieces, 0-padded, and the
    word number of each position (-1 for padding). With `open_inside`, each
    row opens with 1-3 continuation pieces (a window cut inside a word)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((rows, length), np.int64)
    word = np.full((rows, length), -1)
    for row in range(rows):
        pieces, numbers = [], []
        if open_inside:
            lead = int(rng.integers(1, 4))
            pieces += [_piece(rng, False) for _ in range(lead)]
            numbers += [0] * lead
        end = int(rng.integers(length // 2, length + 1))
        while len(pieces) < end:
            size = int(rng.integers(1, 5))
            number = len(set(numbers))
            pieces += [_piece(rng, True)]
            pieces += [_piece(rng, False) for _ in range(size - 1)]
            numbers += [number] * size
        pieces, numbers = pieces[:end], numbers[:end]
        ids[row, :end] = pieces
        word[row, :end] = numbers
    return ids, word


def _picked(positions, labels, shape):
    """A bool `(batch, length)` array of the positions that carry a label."""
    picked = np.zeros(shape, bool)
    rows, slots = np.nonzero(labels)
    picked[rows, positions[rows, slots]] = True
    return picked


def test_never_picks_padding_or_reserved_ids():
    ids = _random_ids(400, 40, seed=0, reserved=0.2)
    assert (ids == 0).any() and np.isin(ids, [1, 2, 3]).any()
    masked, positions, labels = mask_token_ids(
        ids, np.random.default_rng(1), VOCABULARY, max_predictions=40,
        mask_rate=0.5,
    )
    picked = _picked(positions, labels, ids.shape)
    assert picked.sum() > 1000
    assert (ids[picked] >= 4).all()
    assert (labels[labels > 0] >= 4).all()
    # What is not picked is left alone: padding and reserved ids included.
    np.testing.assert_array_equal(masked[~picked], ids[~picked])
    # A row of padding and reserved ids alone has nothing to predict.
    _, positions, labels = mask_token_ids(
        np.array([[1, 2, 3, 0], [0, 0, 0, 0]]), np.random.default_rng(0),
        VOCABULARY, max_predictions=4, mask_rate=0.99,
    )
    np.testing.assert_array_equal(labels, 0)
    np.testing.assert_array_equal(positions, 0)


def test_labels_are_the_original_ids_at_the_positions():
    ids = _random_ids(200, 30, seed=2).astype(np.uint16)
    masked, positions, labels = mask_token_ids(
        ids, np.random.default_rng(3), VOCABULARY, max_predictions=12,
        mask_rate=0.3, word_starts=WORD_STARTS,
    )
    assert masked.dtype == positions.dtype == labels.dtype == np.int32
    assert masked.shape == ids.shape
    assert positions.shape == labels.shape == (200, 12)
    real = labels > 0
    assert real.sum() > 500
    rows = np.nonzero(real)[0]
    np.testing.assert_array_equal(labels[real], ids[rows, positions[real]])
    # A row predicts each position once, in increasing order.
    for row in range(200):
        kept = positions[row][real[row]]
        assert (np.diff(kept) > 0).all()


def test_the_80_10_10_split_and_the_picked_share():
    ids = _random_ids(3000, 64, seed=4, reserved=0.0)
    masked, positions, labels = mask_token_ids(
        ids, np.random.default_rng(5), VOCABULARY, max_predictions=64,
        mask_rate=0.15,
    )
    picked = _picked(positions, labels, ids.shape)
    candidates = ids >= 4
    # About 90,000 candidates: the share is within a few parts in 1000.
    assert picked.sum() / candidates.sum() == pytest.approx(0.15, abs=0.005)
    now, before = masked[picked], ids[picked]
    as_mask = np.mean(now == MASK_ID)
    unchanged = np.mean(now == before)
    replaced = (now != MASK_ID) & (now != before)
    assert as_mask == pytest.approx(0.8, abs=0.01)
    # A random replacement is the original id 1 time in 996.
    assert unchanged == pytest.approx(0.1 + 0.1 / 996, abs=0.008)
    assert np.mean(replaced) == pytest.approx(0.1 - 0.1 / 996, abs=0.008)
    # Random replacements are words, never reserved ids, spread over the
    # whole vocabulary.
    assert now[replaced].min() >= 4 and now[replaced].max() < VOCABULARY
    assert len(np.unique(now[replaced])) > 500


@pytest.mark.parametrize("mask_rate", [0.05, 0.4])
def test_the_picked_share_follows_mask_rate(mask_rate):
    ids = _random_ids(1000, 32, seed=6)
    _, positions, labels = mask_token_ids(
        ids, np.random.default_rng(7), VOCABULARY, max_predictions=32,
        mask_rate=mask_rate,
    )
    picked = _picked(positions, labels, ids.shape)
    share = picked.sum() / (ids >= 4).sum()
    assert share == pytest.approx(mask_rate, rel=0.08)


@pytest.mark.parametrize("open_inside", [False, True])
def test_whole_word_masking_picks_all_pieces_of_a_word_or_none(open_inside):
    ids, word = _words(600, 24, seed=8, open_inside=open_inside)
    _, positions, labels = mask_token_ids(
        ids, np.random.default_rng(9), VOCABULARY, max_predictions=24,
        mask_rate=0.2, word_starts=WORD_STARTS,
    )
    picked = _picked(positions, labels, ids.shape)
    words_seen = words_picked = pieces_apart = 0
    for row in range(len(ids)):
        for number in np.unique(word[row][word[row] >= 0]):
            pieces = picked[row][word[row] == number]
            assert pieces.all() or not pieces.any(), (row, number)
            words_seen += 1
            words_picked += bool(pieces.all())
            pieces_apart += len(pieces) > 1
    assert pieces_apart > 1000  # Words of several pieces are common.
    # Words are picked at mask_rate, whatever their number of pieces.
    assert words_picked / words_seen == pytest.approx(0.2, abs=0.02)
    if open_inside:
        # The opening pieces make a word of their own (checked whole
        # above), picked as often as any word: not never, as continuations
        # of nothing.
        assert np.mean(picked[:, 0]) == pytest.approx(0.2, abs=0.05)


def test_without_word_starts_every_piece_is_a_word():
    ids, word = _words(600, 24, seed=10)
    _, positions, labels = mask_token_ids(
        ids, np.random.default_rng(11), VOCABULARY, max_predictions=24,
        mask_rate=0.3,
    )
    picked = _picked(positions, labels, ids.shape)
    split = sum(
        0 < picked[row][word[row] == number].sum()
        < (word[row] == number).sum()
        for row in range(len(ids))
        for number in np.unique(word[row][word[row] >= 0])
    )
    assert split > 500


def test_max_predictions_keeps_the_first_picked_positions():
    ids = _random_ids(300, 40, seed=12)
    whole = mask_token_ids(ids, np.random.default_rng(13), VOCABULARY,
                           max_predictions=40, mask_rate=0.4)
    capped = mask_token_ids(ids, np.random.default_rng(13), VOCABULARY,
                            max_predictions=5, mask_rate=0.4)
    _, all_positions, all_labels = whole
    masked, positions, labels = capped
    assert positions.shape == labels.shape == (300, 5)
    counts = (all_labels > 0).sum(1)
    assert (counts > 5).sum() > 100 and (counts < 5).sum() > 10
    # The same draws pick the same pieces: the capped rows keep the first.
    np.testing.assert_array_equal(positions, all_positions[:, :5])
    np.testing.assert_array_equal(labels, all_labels[:, :5])
    # A row with fewer picks is padded with position 0 and label 0.
    short = counts < 5
    for row in np.nonzero(short)[0]:
        np.testing.assert_array_equal(positions[row, counts[row]:], 0)
        np.testing.assert_array_equal(labels[row, counts[row]:], 0)
    # Picked pieces beyond the cap are left as they were.
    kept = _picked(positions, labels, ids.shape)
    np.testing.assert_array_equal(masked[~kept], ids[~kept])


def test_max_predictions_wider_than_the_rows():
    ids = np.array([[5, 6, 7], [8, 0, 0], [1, 9, 0]])
    for seed in range(20):
        masked, positions, labels = mask_token_ids(
            ids, np.random.default_rng(seed), VOCABULARY, max_predictions=8,
            mask_rate=0.9,
        )
        assert positions.shape == labels.shape == (3, 8)
        picked = _picked(positions, labels, ids.shape)
        # Each picked position once, padding after: no second position 0
        # with a label.
        np.testing.assert_array_equal((labels > 0).sum(1), picked.sum(1))
        np.testing.assert_array_equal(labels[:, 3:], 0)
        assert not picked[2, 0] and not picked[1, 1:].any()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ids": np.array([5, 6, 7])},
         r"`ids` must be an int array \(batch, length\). Received: ids of "
         r"shape \(3,\)"),
        ({"ids": np.ones((2, 3, 1), int)}, r"Received: ids of shape "
                                           r"\(2, 3, 1\)"),
        ({"ids": np.array([[5.0, 6.0]])}, "Received: ids of shape .* dtype "
                                          "float64"),
        ({"mask_rate": 0}, "`mask_rate` must be above 0. Received: "
                           "mask_rate=0"),
        ({"mask_rate": 0.0}, r"Received: mask_rate=0\.0"),
        ({"mask_rate": 1}, "`mask_rate` must be .*Received: mask_rate=1"),
        ({"mask_rate": 1.5}, r"Received: mask_rate=1\.5"),
        ({"word_starts": np.ones(VOCABULARY - 1, bool)},
         r"`word_starts` must hold one bool per id \(1000\). Received: "
         r"shape \(999,\)"),
        ({"word_starts": np.ones((VOCABULARY, 1), bool)},
         r"`word_starts` .*Received: shape \(1000, 1\)"),
        ({"max_predictions": 0}, "`max_predictions` must be a positive "
                                 "integer. Received: max_predictions=0"),
        ({"vocabulary_size": 4}, "Received: vocabulary_size=4"),
    ],
)
def test_argument_errors(kwargs, message):
    arguments = dict(ids=np.array([[5, 6, 7]]), rng=np.random.default_rng(0),
                     vocabulary_size=VOCABULARY, max_predictions=2,
                     mask_rate=0.15)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        mask_token_ids(**arguments)
