import numpy as np
import pytest

from keras_attnpred.data import PreparedBatches
from keras_attnpred.data import PreparedDataset
from keras_attnpred.data import RaggedIds
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.reserved_ids import START_ID

# Example i opens with the id FIRST + i, so a batch row says whose it is.
FIRST = 1000
LABELS = ["a", "b", "c"]


def _classification(n=300, seed=0, longest=60, empty=0):
    """Texts of 1 to `longest` ids (plus `empty` empty texts at the end)
    with random labels."""
    rng = np.random.default_rng(seed)
    rows = [
        [FIRST + i] + rng.integers(4, FIRST, int(length) - 1).tolist()
        for i, length in enumerate(rng.integers(1, longest + 1, n))
    ] + [[]] * empty
    return PreparedDataset(
        "classification",
        {"train": {"ids": RaggedIds.from_rows(rows),
                   "labels": rng.integers(0, len(LABELS), n + empty)}},
        label_names=LABELS,
        vocabulary_sizes={"tokenizer": FIRST + n},
    )


def _translation(n=200, seed=0, longest=30, empty_sources=0):
    rng = np.random.default_rng(seed)
    sources = [
        [FIRST + i] + rng.integers(4, FIRST, int(length) - 1).tolist()
        for i, length in enumerate(rng.integers(1, longest + 1, n))
    ] + [[]] * empty_sources
    # Targets of 0 ids too: the label is then [END] alone.
    targets = [
        rng.integers(4, FIRST, int(length)).tolist()
        for length in rng.integers(0, longest + 1, n + empty_sources)
    ]
    return PreparedDataset(
        "translation",
        {"train": {"source": RaggedIds.from_rows(sources),
                   "target": RaggedIds.from_rows(targets)}},
        vocabulary_sizes={"source_tokenizer": FIRST + n,
                          "target_tokenizer": FIRST},
    )


def _rows(dataset, key="ids"):
    ragged = dataset.part("train")[key]
    return [ragged.row(i).tolist() for i in range(len(ragged))]


def _examples(ids):
    """The example of each batch row, from its first id."""
    return ids[:, 0] - FIRST


def _all(batches):
    return [batches[i] for i in range(len(batches))]


def _inputs(batch):
    inputs = batch[0]
    return inputs["source"] if isinstance(inputs, dict) else inputs


def _cut(row, max_length, head_tokens=None):
    if len(row) <= max_length:
        return row
    if head_tokens is None:
        return row[:max_length]
    return row[:head_tokens] + row[len(row) - (max_length - head_tokens):]


def _pad(row, length):
    assert len(row) <= length, "a batch too short for its rows"
    return row + [0] * (length - len(row))


SETTINGS = [
    dict(batch_size=16),
    dict(batch_size=16, shuffle=True, seed=4),
    dict(batch_size=7, bucket_boundaries=[9, 17, 33]),
    dict(batch_size=7, bucket_boundaries=[9, 17, 33], shuffle=True),
    dict(batch_size=10, bucket_boundaries="auto", shuffle=True, seed=1),
    dict(max_tokens=120, bucket_boundaries=[5, 11, 21], shuffle=True),
    dict(max_tokens=100),
]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("task", ["classification", "translation"])
def test_every_example_exactly_once_per_epoch(settings, task):
    data = _classification() if task == "classification" else _translation()
    batches = PreparedBatches(data, "train", max_length=40, **settings)
    for epoch in (0, 1, 2):
        batches.set_epoch(epoch)
        seen = np.concatenate([_examples(_inputs(b)) for b in _all(batches)])
        np.testing.assert_array_equal(np.sort(seen), np.arange(len(seen)))
        assert len(seen) == (300 if task == "classification" else 200)


@pytest.mark.parametrize("shuffle", [False, True])
def test_bucketed_batches_have_the_bucket_length_and_batch_size(shuffle):
    data = _classification(n=500, seed=1)
    lengths = np.minimum(data.lengths("train"), 48)
    # 100 is beyond max_length: no bucket of its own.
    batches = PreparedBatches(data, "train", max_length=48, batch_size=9,
                              bucket_boundaries=[9, 17, 33, 100],
                              shuffle=shuffle)
    assert batches.bucket_lengths == [8, 16, 32, 48]
    shapes = []
    for ids, _ in _all(batches):
        rows, length = ids.shape
        assert length in (8, 16, 32, 48)
        assert lengths[_examples(ids)].max() <= length
        shapes.append((rows, length))
    partial = [s for s in shapes if s[0] != 9]
    assert len(partial) <= 1
    assert all(rows < 9 and length == 48 for rows, length in partial)
    assert len(shapes) == -(-500 // 9)
    if not shuffle:
        # By bucket, shortest first: the leftovers of a bucket move up.
        assert [s[1] for s in shapes] == sorted(s[1] for s in shapes)
    # Most examples are in the shortest bucket that holds them.
    shortest = np.array([8, 16, 32, 48])[np.searchsorted([8, 16, 32, 48],
                                                         lengths)]
    padded_to = np.empty(500, int)
    for ids, _ in _all(batches):
        padded_to[_examples(ids)] = ids.shape[1]
    assert (padded_to >= shortest).all()
    assert (padded_to > shortest).sum() <= 3 * (9 - 1)


@pytest.mark.parametrize("shuffle", [False, True])
def test_without_boundaries_a_batch_is_padded_to_its_longest_row(shuffle):
    data = _classification(seed=2, longest=30)
    lengths = np.minimum(data.lengths("train"), 40)
    batches = PreparedBatches(data, "train", max_length=40, batch_size=16,
                              shuffle=shuffle, seed=3)
    assert len(batches) == -(-300 // 16)
    widths = set()
    for number, (ids, _) in enumerate(_all(batches)):
        examples = _examples(ids)
        assert ids.shape[1] == lengths[examples].max()
        widths.add(ids.shape[1])
        if not shuffle:
            # Consecutive examples, in order, as `padded_batch` takes them.
            np.testing.assert_array_equal(
                examples, np.arange(16 * number, min(16 * number + 16, 300))
            )
    assert len(widths) > 1 and max(widths) < 40


@pytest.mark.parametrize(
    "boundaries, bucket_lengths",
    [([5, 11, 21], [4, 10, 20, 40]), (None, [40])],
)
def test_max_tokens_gives_max_tokens_over_length_rows(
    boundaries, bucket_lengths
):
    data = _classification(n=600, seed=3)
    batches = PreparedBatches(data, "train", max_length=40, max_tokens=120,
                              bucket_boundaries=boundaries, shuffle=True)
    assert batches.bucket_lengths == bucket_lengths
    shapes = [ids.shape for ids, _ in _all(batches)]
    full = [s for s in shapes if s[0] == 120 // s[1]]
    assert len(shapes) - len(full) <= 1
    for rows, length in shapes:
        assert length in bucket_lengths
        assert rows * length <= 120
    assert {s[1] for s in full} == set(bucket_lengths)


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("head_tokens", [None, 1, 12, 39])
def test_classification_ids_and_labels_follow_their_texts(settings,
                                                          head_tokens):
    data = _classification(seed=5)
    rows = _rows(data)
    labels = data.part("train")["labels"]
    batches = data.batches("train", max_length=40, head_tokens=head_tokens,
                           **settings)
    for ids, batch_labels in _all(batches):
        assert ids.dtype == np.int32 and batch_labels.dtype == np.int32
        examples = _examples(ids)
        expected = [_pad(_cut(rows[i], 40, head_tokens), ids.shape[1])
                    for i in examples]
        # Padding is 0, real ids are the text's, in place.
        np.testing.assert_array_equal(ids, expected)
        np.testing.assert_array_equal(batch_labels, labels[examples])


def test_head_tokens_in_short_batches():
    # Batches of short texts are narrower than head_tokens: nothing to cut.
    data = _classification(n=40, seed=6, longest=50)
    rows = _rows(data)
    for boundaries in (None, [5, 9]):
        batches = PreparedBatches(data, "train", max_length=32, batch_size=4,
                                  head_tokens=20,
                                  bucket_boundaries=boundaries)
        widths = []
        for ids, _ in _all(batches):
            widths.append(ids.shape[1])
            for i, row in zip(_examples(ids), ids):
                assert row.tolist() == _pad(_cut(rows[i], 32, 20), len(row))
        assert min(widths) < 20


def test_head_tokens_zero_keeps_the_end():
    ids = RaggedIds.from_rows([list(range(10, 20)), [5, 6]])
    data = PreparedDataset(
        "classification", {"train": {"ids": ids, "labels": np.array([1, 0])}},
        label_names=LABELS, vocabulary_sizes={"tokenizer": 20},
    )
    got, labels = PreparedBatches(data, "train", max_length=4, batch_size=2,
                                  head_tokens=0)[0]
    np.testing.assert_array_equal(got, [[16, 17, 18, 19], [5, 6, 0, 0]])
    np.testing.assert_array_equal(labels, [1, 0])


def test_empty_texts_are_a_single_pad():
    data = PreparedDataset(
        "classification",
        {"train": {"ids": RaggedIds.from_rows([[], [], [7, 8, 9], []]),
                   "labels": np.array([0, 1, 2, 0])}},
        label_names=LABELS, vocabulary_sizes={"tokenizer": 10},
    )
    batches = PreparedBatches(data, "train", max_length=8, batch_size=2)
    first, labels = batches[0]
    np.testing.assert_array_equal(first, [[0], [0]])
    np.testing.assert_array_equal(labels, [0, 1])
    np.testing.assert_array_equal(batches[1][0], [[7, 8, 9], [0, 0, 0]])


@pytest.mark.parametrize("task", ["classification", "translation"])
def test_set_epoch_reorders_the_same_batches(task):
    data = _classification() if task == "classification" else _translation()

    def order(batches):
        return [_examples(_inputs(b)).tolist() for b in _all(batches)]

    batches = PreparedBatches(data, "train", max_length=40, batch_size=8,
                              bucket_boundaries=[9, 17], shuffle=True,
                              seed=3)
    first = order(batches)
    batches.set_epoch(1)
    second = order(batches)
    assert len(second) == len(first) == len(batches)
    assert second != first
    assert sorted(sum(first, [])) == sorted(sum(second, []))
    batches.set_epoch(0)
    assert order(batches) == first
    # Epoch e is shuffled with seed + e; a fresh object agrees.
    other = PreparedBatches(data, "train", max_length=40, batch_size=8,
                            bucket_boundaries=[9, 17], shuffle=True, seed=4)
    assert order(other) == second
    for mine, theirs in zip(_all(batches), _all(
        PreparedBatches(data, "train", max_length=40, batch_size=8,
                        bucket_boundaries=[9, 17], shuffle=True, seed=3)
    )):
        for a, b in zip(mine, theirs):
            if isinstance(a, dict):
                for key in a:
                    np.testing.assert_array_equal(a[key], b[key])
            else:
                np.testing.assert_array_equal(a, b)
    # Without shuffling, every epoch is the same.
    plain = PreparedBatches(data, "train", max_length=40, batch_size=8,
                            bucket_boundaries=[9, 17])
    before = order(plain)
    plain.set_epoch(5)
    assert order(plain) == before
    with pytest.raises(ValueError, match="`epoch` must be an integer >= 0. "
                                         "Received: epoch=-1"):
        plain.set_epoch(-1)


@pytest.mark.parametrize("divisor", [2, 3, 4])
def test_batch_divisor_keeps_every_bucket_and_all_but_the_last_rows(divisor):
    data = _classification(n=301, seed=7)
    with pytest.raises(ValueError, match="`batch_size` must divide by "
                       f"`batch_divisor`.*batch_size=5 and batch_divisor="
                       f"{divisor}"):
        PreparedBatches(data, "train", max_length=48, batch_size=5,
                        batch_divisor=divisor)
    for settings in (dict(batch_size=12, bucket_boundaries="auto"),
                     dict(batch_size=12),
                     # 12, 6, 3 and 2 rows before rounding to the divisor.
                     dict(max_tokens=96, bucket_boundaries=[9, 17, 33])):
        every = PreparedBatches(data, "train", max_length=48, shuffle=True,
                                **settings)
        kept = PreparedBatches(data, "train", max_length=48, shuffle=True,
                               batch_divisor=divisor, **settings)
        sizes = [len(ids) for ids, _ in _all(kept)]
        assert all(size % divisor == 0 for size in sizes), sizes
        # Only the last, leftover batch can be left out.
        assert sum(sizes) > 301 - max(sizes)
        lengths = {ids.shape[1] for ids, _ in _all(kept)}
        if "max_tokens" in settings:
            # Every bucket still gives batches.
            assert lengths == {8, 16, 32, 48}
        else:
            assert lengths <= {ids.shape[1] for ids, _ in _all(every)}
    with pytest.raises(ValueError, match="`batch_divisor` must be a positive "
                                         "integer. Received: batch_divisor=0"):
        PreparedBatches(data, "train", max_length=48, batch_size=4,
                        batch_divisor=0)


def test_translation_batches_against_a_reference():
    data = _translation(seed=8)
    sources, targets = _rows(data, "source"), _rows(data, "target")
    max_length = 20
    for settings in SETTINGS:
        batches = PreparedBatches(data, "train", max_length, **settings)
        for inputs, labels in _all(batches):
            source, decoder = inputs["source"], inputs["target"]
            assert source.shape == decoder.shape == labels.shape
            assert source.dtype == decoder.dtype == labels.dtype == np.int32
            length = source.shape[1]
            assert length <= max_length
            for row, i in enumerate(_examples(source)):
                # Cut to max_length - 1 before [END]: both fit in max_length.
                target = targets[i][: max_length - 1]
                assert source[row].tolist() == _pad(
                    sources[i][:max_length], length
                )
                assert decoder[row].tolist() == _pad([START_ID] + target,
                                                     length)
                assert labels[row].tolist() == _pad(target + [END_ID], length)


def test_translation_cut_and_empty_pairs():
    data = PreparedDataset(
        "translation",
        {"train": {"source": RaggedIds.from_rows([[5, 6, 7, 8, 9], [], [5]]),
                   "target": RaggedIds.from_rows([[10, 11, 12, 13, 14, 15],
                                                  [10], []])}},
        vocabulary_sizes={"source_tokenizer": 20, "target_tokenizer": 20},
    )
    inputs, labels = PreparedBatches(data, "train", max_length=4,
                                     batch_size=3)[0]
    np.testing.assert_array_equal(
        inputs["source"], [[5, 6, 7, 8], [0, 0, 0, 0], [5, 0, 0, 0]]
    )
    np.testing.assert_array_equal(
        inputs["target"], [[2, 10, 11, 12], [2, 10, 0, 0], [2, 0, 0, 0]]
    )
    np.testing.assert_array_equal(
        labels, [[10, 11, 12, 3], [10, 3, 0, 0], [3, 0, 0, 0]]
    )


def _count_padding(batches):
    padding, total = 0, 0
    for inputs, _ in _all(batches):
        for array in (inputs.values() if isinstance(inputs, dict)
                      else [inputs]):
            padding += int((array == 0).sum())
            total += array.size
    return padding / total


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("task", ["classification", "translation"])
def test_padding_fraction_counts_the_padding_of_the_batches(settings, task):
    # Empty texts too: their one [PAD] is padding, as in
    # `keras_attnpred.text.padding_fraction`.
    if task == "classification":
        data = _classification(n=150, seed=9, empty=5)
    else:
        data = _translation(n=150, seed=9, empty_sources=5)
    batches = PreparedBatches(data, "train", max_length=24, **settings)
    for epoch in (0, 1):
        batches.set_epoch(epoch)
        assert batches.padding_fraction() == pytest.approx(
            _count_padding(batches)
        )


def test_padding_fraction_falls_with_buckets():
    data = _classification(n=600, seed=10)
    plain = PreparedBatches(data, "train", max_length=48, batch_size=16)
    bucketed = PreparedBatches(data, "train", max_length=48, batch_size=16,
                               bucket_boundaries="auto")
    assert 0 < bucketed.padding_fraction() < plain.padding_fraction() < 1


def test_argument_errors():
    data = _classification(n=20)
    translation = _translation(n=20)
    with pytest.raises(ValueError, match="Give one of `batch_size` and "
                                         "`max_tokens`. Received: "
                                         "batch_size=None and "
                                         "max_tokens=None"):
        PreparedBatches(data, "train", max_length=8)
    with pytest.raises(ValueError, match="batch_size=4 and max_tokens=64"):
        PreparedBatches(data, "train", max_length=8, batch_size=4,
                        max_tokens=64)
    with pytest.raises(ValueError, match="`max_tokens` must be at least "
                                         "`max_length`.*max_tokens=7 and "
                                         "max_length=8"):
        PreparedBatches(data, "train", max_length=8, max_tokens=7)
    with pytest.raises(ValueError, match="`max_length` must be an integer "
                                         ">= 2. Received: max_length=1"):
        PreparedBatches(data, "train", max_length=1, batch_size=4)
    with pytest.raises(ValueError, match="`batch_size` must be a positive "
                                         "integer. Received: batch_size=0"):
        PreparedBatches(data, "train", max_length=8, batch_size=0)
    with pytest.raises(ValueError, match="`head_tokens` is for "
                                         "classification.*head_tokens=2"):
        PreparedBatches(translation, "train", max_length=8, batch_size=4,
                        head_tokens=2)
    with pytest.raises(ValueError, match="`head_tokens` must be less than "
                                         "`max_length`. Received: "
                                         "head_tokens=8 and max_length=8"):
        PreparedBatches(data, "train", max_length=8, batch_size=4,
                        head_tokens=8)
    with pytest.raises(ValueError, match="`head_tokens` must be an integer "
                                         ">= 0"):
        PreparedBatches(data, "train", max_length=8, batch_size=4,
                        head_tokens=-1)
    with pytest.raises(ValueError, match="`shuffle` must be a bool"):
        PreparedBatches(data, "train", max_length=8, batch_size=4, shuffle=1)
    with pytest.raises(ValueError, match="`bucket_boundaries` must be None, "
                                         "'auto' or"):
        PreparedBatches(data, "train", max_length=8, batch_size=4,
                        bucket_boundaries=[6, 3])
    with pytest.raises(ValueError, match="No part 'test'"):
        PreparedBatches(data, "test", max_length=8, batch_size=4)
    batches = PreparedBatches(data, "train", max_length=8, batch_size=8)
    assert len(batches) == 3
    for index in (3, -1):
        with pytest.raises(IndexError, match=f"index={index} for 3 batches"):
            batches[index]



# Pretraining: the id 4 + STRIDE * i + j is the j-th id of text i, so a
# batch row, once its masked pieces are put back, says whose window it is.
STRIDE = 128


def _pretraining(n=150, seed=0, longest=90, word_starts=True):
    rng = np.random.default_rng(seed)
    rows = [
        (4 + STRIDE * i + np.arange(int(length))).tolist()
        for i, length in enumerate(rng.integers(1, longest + 1, n))
    ]
    vocabulary = 4 + STRIDE * n
    return PreparedDataset(
        "pretraining",
        {"train": {"ids": RaggedIds.from_rows(rows)}},
        vocabulary_sizes={"tokenizer": vocabulary},
        word_starts=rng.random(vocabulary) < 0.6 if word_starts else None,
    )


def _restored(batch):
    """The batch's token ids with the picked pieces put back."""
    inputs, labels = batch
    ids = inputs["token_ids"].copy()
    rows, slots = np.nonzero(labels)
    ids[rows, inputs["mask_positions"][rows, slots]] = labels[rows, slots]
    return ids


def _windows(batches, rows):
    """`{example: (window start, picked positions within the text)}` of
    this epoch, checking each row against the text it comes from."""
    seen = {}
    for batch in _all(batches):
        inputs, labels = batch
        length = inputs["token_ids"].shape[1]
        for ids, positions, row_labels in zip(
            _restored(batch), inputs["mask_positions"], labels
        ):
            example, start = divmod(int(ids[0]) - 4, STRIDE)
            text = rows[example]
            assert start <= max(len(text) - length, 0)
            window = text[start:start + length]
            np.testing.assert_array_equal(
                ids, window + [0] * (length - len(window))
            )
            picked = tuple(start + positions[row_labels > 0])
            assert example not in seen
            seen[example] = (start, picked)
    return seen


@pytest.mark.parametrize("settings", SETTINGS)
def test_pretraining_batches_hold_masked_windows_of_every_text(settings):
    data = _pretraining()
    rows = _rows(data)
    batches = PreparedBatches(data, "train", max_length=40, mask_rate=0.2,
                              **settings)
    for epoch in (0, 1):
        batches.set_epoch(epoch)
        assert sorted(_windows(batches, rows)) == list(range(150))
        picked = changed = real = 0
        for batch in _all(batches):
            inputs, labels = batch
            token_ids, positions = inputs["token_ids"], inputs["mask_positions"]
            rows_in, length = token_ids.shape
            if settings.get("bucket_boundaries") not in (None, "auto"):
                assert length in batches.bucket_lengths
            assert token_ids.dtype == positions.dtype == labels.dtype == (
                np.int32
            )
            width = batches.max_predictions(length)
            assert width == max(1, int(np.ceil(length * 0.2 * 1.25)))
            assert positions.shape == labels.shape == (rows_in, width)
            assert positions.max() < length
            picked += int((labels > 0).sum())
            changed += int((token_ids != _restored(batch)).sum())
            real += int((token_ids > 0).sum())
        # A few picks fall beyond a row's room for predictions.
        assert 0.15 < picked / real <= 0.2 * 1.25
        assert 0.7 * picked < changed < 0.95 * picked


def test_pretraining_masks_change_by_epoch_only_with_shuffle():
    data = _pretraining(seed=1)
    rows = _rows(data)
    shuffled = PreparedBatches(data, "train", max_length=40, batch_size=8,
                               bucket_boundaries=[9, 17], shuffle=True,
                               seed=3)
    plain = PreparedBatches(data, "train", max_length=40, batch_size=8,
                            bucket_boundaries=[9, 17], seed=3)
    first = _windows(shuffled, rows)
    shuffled.set_epoch(1)
    second = _windows(shuffled, rows)
    same = sum(first[i][1] == second[i][1] for i in range(150))
    # Only a text of a few pieces can draw the same masks twice.
    assert same < 30
    shuffled.set_epoch(0)
    assert _windows(shuffled, rows) == first
    # Without shuffle (validation): the same batches, masks included, at
    # every epoch.
    before = _all(plain)
    plain.set_epoch(4)
    for (inputs, labels), (other, other_labels) in zip(before, _all(plain)):
        for key in ("token_ids", "mask_positions"):
            np.testing.assert_array_equal(inputs[key], other[key])
        np.testing.assert_array_equal(labels, other_labels)


def test_pretraining_windows_of_long_texts_move_by_epoch():
    data = _pretraining(seed=2)
    rows = _rows(data)
    long = [i for i, row in enumerate(rows) if len(row) > 40]
    assert len(long) > 50
    shuffled = PreparedBatches(data, "train", max_length=40, batch_size=16,
                               shuffle=True)
    plain = PreparedBatches(data, "train", max_length=40, batch_size=16)
    starts, fixed = [], []
    for epoch in range(12):
        shuffled.set_epoch(epoch)
        plain.set_epoch(epoch)
        windows = _windows(shuffled, rows)
        starts.append([windows[i][0] for i in long])
        plain_windows = _windows(plain, rows)
        fixed.append([plain_windows[i][0] for i in long])
        # Texts that fit start at 0.
        assert all(start == 0 for i, (start, _) in windows.items()
                   if len(rows[i]) <= 40)
    starts, fixed = np.array(starts), np.array(fixed)
    rooms = np.array([len(rows[i]) - 40 for i in long])
    assert (starts <= rooms).all() and (starts >= 0).all()
    # Every long text moves its window, across all the room it has.
    assert (np.ptp(starts, axis=0) > 0).all()
    assert (starts == 0).any(axis=0).mean() > 0.2
    assert (starts == rooms).any(axis=0).mean() > 0.2
    assert starts.mean() == pytest.approx(rooms.mean() / 2, rel=0.15)
    # Without shuffle each text keeps one window, not always its opening.
    assert (np.ptp(fixed, axis=0) == 0).all()
    assert (fixed[0] > 0).mean() > 0.5


def test_pretraining_batches_do_not_depend_on_the_order_of_reading():
    data = _pretraining(seed=3)

    def make(shuffle):
        batches = PreparedBatches(data, "train", max_length=40, batch_size=8,
                                  shuffle=shuffle, seed=5)
        batches.set_epoch(2)
        return batches

    for shuffle in (False, True):
        forward = _all(make(shuffle))
        backward = make(shuffle)
        backward = [backward[i] for i in reversed(range(len(backward)))][::-1]
        twice = make(shuffle)
        _ = twice[3], twice[3], twice[0]
        twice = _all(twice)
        for batch, other, third in zip(forward, backward, twice):
            for key in ("token_ids", "mask_positions"):
                np.testing.assert_array_equal(batch[0][key], other[0][key])
                np.testing.assert_array_equal(batch[0][key], third[0][key])
            np.testing.assert_array_equal(batch[1], other[1])
            np.testing.assert_array_equal(batch[1], third[1])


def test_pretraining_masks_whole_words_with_the_word_starts():
    data = _pretraining(seed=4)
    starts = data.word_starts
    batches = PreparedBatches(data, "train", max_length=40, batch_size=16,
                              shuffle=True, mask_rate=0.3)
    for batch in _all(batches):
        inputs, labels = batch
        ids = _restored(batch)
        width = labels.shape[1]
        picked = np.zeros(ids.shape, bool)
        rows, slots = np.nonzero(labels)
        picked[rows, inputs["mask_positions"][rows, slots]] = True
        for row in range(len(ids)):
            if picked[row].sum() == width:
                continue  # A full row may cut its last word.
            # A piece that continues a word is picked with the piece before.
            for j in range(1, ids.shape[1]):
                if ids[row, j] > 0 and not starts[ids[row, j]]:
                    assert picked[row, j] == picked[row, j - 1]


def test_pretraining_padding_fraction_and_argument_errors():
    data = _pretraining(n=60, seed=5)
    batches = PreparedBatches(data, "train", max_length=24, batch_size=8,
                              bucket_boundaries=[9, 17])
    padding = sum(int((b[0]["token_ids"] == 0).sum()) for b in _all(batches))
    total = sum(b[0]["token_ids"].size for b in _all(batches))
    assert batches.padding_fraction() == pytest.approx(padding / total)
    for rate in (0, 0.0, 1, 1.0, -0.1, "0.15", True):
        with pytest.raises(ValueError, match=f"Received: "
                                             f"mask_rate={rate!r}"):
            PreparedBatches(data, "train", max_length=8, batch_size=4,
                            mask_rate=rate)
    with pytest.raises(ValueError, match="`head_tokens` is for "
                                         "classification.*head_tokens=2"):
        PreparedBatches(data, "train", max_length=8, batch_size=4,
                        head_tokens=2)

def test_packed_pretraining_rows_are_the_joined_texts_cut_at_an_offset():
    data = _pretraining(n=60, seed=6)
    rows = _rows(data)
    stream = np.concatenate([row + [END_ID] for row in rows])
    count = (len(stream) - 32 + 1) // 32
    shuffled = PreparedBatches(data, "train", max_length=32, batch_size=8,
                               shuffle=True, pack_texts=True, seed=1)
    plain = PreparedBatches(data, "train", max_length=32, batch_size=8,
                            pack_texts=True)
    assert len(shuffled) == len(plain) == count // 8
    assert shuffled.padding_fraction() == 0.0
    offsets = set()
    for epoch in range(6):
        shuffled.set_epoch(epoch)
        starts = []
        for batch in _all(shuffled):
            ids = _restored(batch)
            assert ids.shape == (8, 32) and (ids > 0).all()
            assert batch[1].shape[1] == shuffled.max_predictions(32)
            for row in ids:
                # Every id but [END] occurs once in the stream.
                j = int(np.flatnonzero(row != END_ID)[0])
                start = int(np.flatnonzero(stream == row[j])[0]) - j
                np.testing.assert_array_equal(row, stream[start:start + 32])
                starts.append(start)
        # Rows of the stream on one grid of 32 from the epoch's offset.
        starts = np.array(starts)
        offset = int(starts.min() % 32)
        assert ((starts - offset) % 32 == 0).all()
        assert len(set(starts)) == len(starts) == len(shuffled) * 8
        offsets.add(offset)
        # [END] between texts is never picked.
        inputs, labels = _all(shuffled)[0]
        assert not (labels == END_ID).any()
    assert len(offsets) > 2
    # Without shuffle: the stream's first rows, the same at every epoch.
    first = [_restored(b) for b in _all(plain)]
    np.testing.assert_array_equal(first[0][0], stream[:32])
    plain.set_epoch(3)
    for ids, batch in zip(first, _all(plain)):
        np.testing.assert_array_equal(ids, _restored(batch))


def test_packing_a_part_shorter_than_a_row_pads_it_and_argument_errors():
    data = _pretraining(n=2, seed=7, longest=5)
    batches = PreparedBatches(data, "train", max_length=64, batch_size=8,
                              pack_texts=True)
    (inputs, _), = _all(batches)
    ids = _restored((inputs, _))
    assert ids.shape == (1, 64)
    assert (ids[0, :3] > 0).all() and ids[0, -1] == 0
    with pytest.raises(ValueError, match="give no `bucket_boundaries`.*"
                                         r"bucket_boundaries=\[9\]"):
        PreparedBatches(data, "train", max_length=24, batch_size=8,
                        pack_texts=True, bucket_boundaries=[9])
    with pytest.raises(ValueError, match="pack_texts=1"):
        PreparedBatches(data, "train", max_length=24, batch_size=8,
                        pack_texts=1)


# The `tf.data` pipelines of `keras_attnpred.text` are the reference: the
# NumPy batches must hold the same rows.

ENGLISH = "the cat dog bird sat on a mat sees sings and they play in garden"
SPANISH = "el gato perro pajaro se sento en una estera ve canta y juegan jardin"


def _sentences(words, n, seed, longest=14):
    rng = np.random.default_rng(seed)
    words = words.split()
    sentences = [
        " ".join(rng.choice(words, int(length)))
        for length in rng.integers(0, longest, n)
    ]
    sentences[3] = ""  # A text without tokens.
    return sentences


@pytest.fixture(scope="module")
def toy_translation():
    from keras_attnpred.text import SubwordTokenizer
    from keras_attnpred.training.prepare import token_ids

    english = _sentences(ENGLISH, 45, 0)
    spanish = _sentences(SPANISH, 45, 1)
    spanish[7] = ""
    english_tokenizer = SubwordTokenizer.train(english, 60)
    spanish_tokenizer = SubwordTokenizer.train(spanish, 60)
    data = PreparedDataset(
        "translation",
        {"train": {"source": token_ids(english_tokenizer, english),
                   "target": token_ids(spanish_tokenizer, spanish)}},
        vocabulary_sizes={
            "source_tokenizer": english_tokenizer.vocabulary_size,
            "target_tokenizer": spanish_tokenizer.vocabulary_size,
        },
    )
    return english, spanish, english_tokenizer, spanish_tokenizer, data


def _stripped(array):
    """Each row without its trailing padding (ids are never 0)."""
    rows = []
    for row in np.asarray(array).tolist():
        while row and row[-1] == 0:
            row.pop()
        rows.append(tuple(row))
    return rows


def _translation_rows(batches):
    rows = []
    for inputs, labels in batches:
        rows.append(list(zip(_stripped(inputs["source"]),
                             _stripped(inputs["target"]),
                             _stripped(labels))))
    return rows


@pytest.mark.parametrize("boundaries", [None, [3, 6], "auto"])
def test_translation_batches_match_translation_dataset(toy_translation,
                                                       boundaries):
    from keras_attnpred.text import translation_dataset

    english, spanish, source_tokenizer, target_tokenizer, data = (
        toy_translation
    )
    max_length = 8
    reference = translation_dataset(
        english, spanish, source_tokenizer, target_tokenizer, batch_size=5,
        max_length=max_length, shuffle=False, bucket_boundaries=boundaries,
    )
    reference = [
        ({key: value.numpy() for key, value in inputs.items()},
         labels.numpy())
        for inputs, labels in reference
    ]
    batches = _all(PreparedBatches(data, "train", max_length, batch_size=5,
                                   bucket_boundaries=boundaries))
    expected = _translation_rows(reference)
    got = _translation_rows(batches)
    assert sorted(sum(got, [])) == sorted(sum(expected, []))
    assert len(sum(got, [])) == 45
    # Cut sentences and the empty ones are in it.
    assert any(len(label) == max_length for _, _, label in sum(got, []))
    assert any(source == () for source, _, _ in sum(got, []))
    assert any(label == (END_ID,) for _, _, label in sum(got, []))
    if boundaries is None:
        # Unshuffled and unbucketed, the very same batches, in order, each
        # as wide as the wider of the two `padded_batch` tensors.
        assert got == expected
        for (inputs, _), (tf_inputs, tf_labels) in zip(batches, reference):
            assert inputs["source"].shape[1] == max(
                tf_inputs["source"].shape[1], tf_labels.shape[1]
            )


@pytest.mark.parametrize("boundaries", [None, [3, 5]])
def test_classification_batches_match_classification_dataset(
    toy_translation, boundaries
):
    from keras_attnpred.text import classification_dataset
    from keras_attnpred.training.prepare import token_ids

    texts, _, tokenizer, _, _ = toy_translation
    labels = np.random.default_rng(0).integers(0, 3, len(texts))
    data = PreparedDataset(
        "classification",
        {"train": {"ids": token_ids(tokenizer, texts), "labels": labels}},
        label_names=LABELS,
        vocabulary_sizes={"tokenizer": tokenizer.vocabulary_size},
    )
    reference = [
        (ids.numpy(), batch_labels.numpy())
        for ids, batch_labels in classification_dataset(
            texts, labels, tokenizer, batch_size=4, max_length=6,
            shuffle=False, bucket_boundaries=boundaries,
        )
    ]
    batches = _all(PreparedBatches(data, "train", max_length=6, batch_size=4,
                                   bucket_boundaries=boundaries))

    def rows(batches):
        return sorted(
            (row, int(label))
            for ids, batch_labels in batches
            for row, label in zip(_stripped(ids), batch_labels)
        )

    assert rows(batches) == rows(reference)
    assert any(len(row) == 6 for row, _ in rows(batches))
    if boundaries is None:
        # The same arrays: one shape per batch, the longest row's.
        assert len(batches) == len(reference)
        for (ids, batch_labels), (tf_ids, tf_labels) in zip(batches,
                                                            reference):
            np.testing.assert_array_equal(ids, tf_ids)
            np.testing.assert_array_equal(batch_labels, tf_labels)
