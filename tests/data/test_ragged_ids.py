import os

import numpy as np
import pytest

from keras_attnpred.data import RaggedIds


def _random_rows(n, seed, longest=30, top=5000):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, longest + 1, n)
    lengths[:3] = 0  # Empty rows first, among the others too.
    rng.shuffle(lengths)
    return [rng.integers(0, top, length).tolist() for length in lengths]


def _padded_reference(rows, length, head_tokens=None):
    """Plain Python: cut (or keep head and tail), then pad with 0."""
    out = []
    for row in rows:
        if len(row) > length:
            if head_tokens is None:
                row = row[:length]
            else:
                row = row[:head_tokens] + row[len(row) - (length - head_tokens):]
        out.append(row + [0] * (length - len(row)))
    return out


def _is_mapped(array):
    # A view of a memmap reads from the file, not from a copy.
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_from_rows_keeps_rows_lengths_and_order():
    rows = _random_rows(50, 0)
    ragged = RaggedIds.from_rows(rows)
    assert len(ragged) == 50
    np.testing.assert_array_equal(ragged.lengths, [len(r) for r in rows])
    assert ragged.lengths.dtype == np.int64
    np.testing.assert_array_equal(
        ragged.offsets, np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    )
    np.testing.assert_array_equal(
        ragged.values, [i for row in rows for i in row]
    )
    for index, row in enumerate(rows):
        got = ragged.row(index)
        assert got.dtype == np.int32
        assert got.tolist() == row
    # Arrays are rows as well as lists.
    again = RaggedIds.from_rows([np.array(r) for r in rows])
    np.testing.assert_array_equal(again.values, ragged.values)


@pytest.mark.parametrize(
    "largest, dtype",
    [(0, np.uint16), (65535, np.uint16), (65536, np.int32), (10**6, np.int32)],
)
def test_ids_are_uint16_below_65536_else_int32(largest, dtype):
    rows = [[4, 5], [], [largest]]
    from_rows = RaggedIds.from_rows(rows)
    from_flat = RaggedIds.from_flat([4, 5, largest], [0, 2, 2, 3])
    for ragged in (from_rows, from_flat):
        assert ragged.values.dtype == dtype
        assert ragged.offsets.dtype == np.int64
        assert ragged.row(2).tolist() == [largest]
        assert ragged.row(1).tolist() == []


def test_no_rows_and_only_empty_rows():
    none = RaggedIds.from_rows([])
    assert len(none) == 0 and none.values.dtype == np.uint16
    assert none.padded([], 4).shape == (0, 4)
    empty = RaggedIds.from_rows([[], [], []])
    assert len(empty) == 3 and len(empty.values) == 0
    assert empty.lengths.tolist() == [0, 0, 0]
    np.testing.assert_array_equal(empty.padded([2, 0], 3), np.zeros((2, 3)))


def test_subset_takes_rows_in_the_given_order():
    rows = _random_rows(20, 1)
    ragged = RaggedIds.from_rows(rows)
    indices = [7, 3, 3, 19, 0]
    subset = ragged.subset(indices)
    assert len(subset) == len(indices)
    assert [subset.row(i).tolist() for i in range(len(indices))] == [
        rows[i] for i in indices
    ]
    assert len(ragged.subset([])) == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_padded_matches_a_plain_python_reference(seed):
    rows = _random_rows(300, seed)
    ragged = RaggedIds.from_rows(rows)
    rng = np.random.default_rng(100 + seed)
    for _ in range(20):
        length = int(rng.integers(1, 35))
        head = rng.choice([None, 0, int(rng.integers(0, length))])
        indices = rng.integers(0, len(rows), int(rng.integers(0, 40)))
        got = ragged.padded(indices, length, head_tokens=head)
        assert got.dtype == np.int32
        assert got.shape == (len(indices), length)
        expected = _padded_reference([rows[i] for i in indices], length, head)
        np.testing.assert_array_equal(got.reshape(len(indices), length),
                                      np.array(expected).reshape(-1, length))


def test_padded_head_tokens_keeps_the_opening_and_the_end():
    ragged = RaggedIds.from_rows([list(range(10, 20)), [7, 8]])
    np.testing.assert_array_equal(
        ragged.padded([0, 1], 4, head_tokens=1),
        [[10, 17, 18, 19], [7, 8, 0, 0]],
    )
    np.testing.assert_array_equal(
        ragged.padded([0], 4, head_tokens=0), [[16, 17, 18, 19]]
    )
    np.testing.assert_array_equal(
        ragged.padded([0], 4, head_tokens=3), [[10, 11, 12, 19]]
    )
    # A row that fits is not touched, whatever head_tokens says.
    np.testing.assert_array_equal(
        ragged.padded([0], 10, head_tokens=2), [list(range(10, 20))]
    )


@pytest.mark.parametrize("mmap", [True, False])
def test_save_and_load_round_trip(tmp_path, mmap):
    rows = _random_rows(100, 3, top=70000)  # int32 ids
    ragged = RaggedIds.from_rows(rows)
    ragged.save(tmp_path, "train")
    assert sorted(os.listdir(tmp_path)) == [
        "train.ids.npy", "train.offsets.npy"
    ]
    # Plain NumPy files, no pickles.
    np.testing.assert_array_equal(
        np.load(tmp_path / "train.ids.npy", allow_pickle=False), ragged.values
    )
    loaded = RaggedIds.load(tmp_path, "train", mmap=mmap)
    assert _is_mapped(loaded.values) == mmap
    assert loaded.values.dtype == np.int32
    assert loaded.offsets.dtype == np.int64
    assert len(loaded) == 100
    np.testing.assert_array_equal(loaded.values, ragged.values)
    np.testing.assert_array_equal(loaded.offsets, ragged.offsets)
    indices = np.arange(100)
    np.testing.assert_array_equal(
        loaded.padded(indices, 12, head_tokens=5),
        ragged.padded(indices, 12, head_tokens=5),
    )
    small = RaggedIds.from_rows([[1, 2], []])
    small.save(tmp_path, "small")
    assert RaggedIds.load(tmp_path, "small").values.dtype == np.uint16


def test_repr():
    assert repr(RaggedIds.from_rows([[1, 2], [3]])) == "RaggedIds(rows=2, ids=3)"


@pytest.mark.parametrize(
    "values",
    [np.zeros((2, 2), np.int64), np.array([1.0, 2.0])],
)
def test_values_must_be_1d_integers(values):
    with pytest.raises(ValueError, match="`values` must be a 1-D array of "
                                         "integer ids. Received: values of "
                                         "shape"):
        RaggedIds(values, [0, values.size])


@pytest.mark.parametrize(
    "offsets",
    [
        [],  # No row boundary at all.
        [1, 3],  # Not from 0.
        [0, 2],  # Not up to len(values).
        [0, 3, 1, 3],  # Decreasing.
        [0.0, 3.0],  # Not integers.
        [[0, 3]],  # Not 1-D.
    ],
)
def test_offsets_must_run_from_0_to_the_number_of_ids(offsets):
    with pytest.raises(
        ValueError,
        match=r"`offsets` must be a 1-D array of non-decreasing integers "
              r"from 0 to len\(values\)=3. Received: offsets",
    ):
        RaggedIds(np.array([4, 5, 6]), offsets)


def test_ids_must_be_integers_from_rows_and_from_flat():
    # Ids are never rounded: a float id is a mistake upstream.
    with pytest.raises(ValueError, match="`values` must be a 1-D array of "
                                         "integer ids"):
        RaggedIds.from_flat([1.5, 2.0], [0, 2])
    with pytest.raises(ValueError, match="integer ids"):
        RaggedIds.from_rows([[1, 2], [3.5]])
    # Empty rows (float64 to NumPy) are fine next to int rows.
    assert RaggedIds.from_rows([[], [3]]).values.tolist() == [3]


def test_negative_ids_are_refused():
    with pytest.raises(ValueError, match="Token ids must be >= 0. Received: "
                                         "an id of -3"):
        RaggedIds.from_rows([[1, 2], [-3, 4]])
    with pytest.raises(ValueError, match="an id of -1"):
        RaggedIds.from_flat([5, -1], [0, 2])


def test_padded_argument_errors():
    ragged = RaggedIds.from_rows([[5, 6, 7]])
    with pytest.raises(ValueError, match="`head_tokens` must be less than "
                                         "`length`. Received: head_tokens=3 "
                                         "and length=3"):
        ragged.padded([0], 3, head_tokens=3)
    with pytest.raises(ValueError, match="head_tokens=4 and length=3"):
        ragged.padded([0], 3, head_tokens=4)
    with pytest.raises(ValueError, match=r"`head_tokens` must be an integer "
                                         r">= 0. Received: head_tokens=-1"):
        ragged.padded([0], 3, head_tokens=-1)
    with pytest.raises(ValueError, match="`length` must be a positive "
                                         "integer. Received: length=0"):
        ragged.padded([0], 0)



def test_padded_starts_keeps_a_window_of_the_longer_rows():
    rows = [list(range(10, 20)), [7, 8], list(range(30, 36))]
    ragged = RaggedIds.from_rows(rows)
    np.testing.assert_array_equal(
        ragged.padded([0, 1, 2], 4, starts=[3, 5, 1]),
        # A row that fits keeps all its ids, whatever its start says.
        [[13, 14, 15, 16], [7, 8, 0, 0], [31, 32, 33, 34]],
    )
    # Clipped so the window stays inside the row.
    np.testing.assert_array_equal(
        ragged.padded([0, 2, 0], 4, starts=np.array([-2, 9, 6])),
        [[10, 11, 12, 13], [32, 33, 34, 35], [16, 17, 18, 19]],
    )
    # Every start of a long row against a plain slice.
    for start in range(7):
        np.testing.assert_array_equal(
            ragged.padded([0], 4, starts=[start])[0], rows[0][start:start + 4]
        )
    # Starts of 0 are the plain cut.
    rows = _random_rows(100, 3)
    ragged = RaggedIds.from_rows(rows)
    indices = np.arange(100)
    np.testing.assert_array_equal(
        ragged.padded(indices, 12, starts=np.zeros(100, int)),
        _padded_reference(rows, 12),
    )


def test_padded_starts_errors():
    ragged = RaggedIds.from_rows([[5, 6, 7], [8]])
    with pytest.raises(ValueError, match="Give at most one of `head_tokens` "
                                         "and `starts`. Received: "
                                         "head_tokens=1"):
        ragged.padded([0], 2, head_tokens=1, starts=[0])
    with pytest.raises(ValueError, match=r"`starts` must hold one int per "
                                         r"index. Received: starts of shape "
                                         r"\(1,\) for 2 indices"):
        ragged.padded([0, 1], 2, starts=[0])
    with pytest.raises(ValueError, match=r"shape \(1, 2\)"):
        ragged.padded([0, 1], 2, starts=[[0, 0]])

@pytest.mark.parametrize("kind", ["ids", "offsets"])
def test_a_missing_file_is_named(tmp_path, kind):
    RaggedIds.from_rows([[1, 2], [3]]).save(tmp_path, "train")
    path = os.path.join(tmp_path, f"train.{kind}.npy")
    os.remove(path)
    with pytest.raises(ValueError, match="Missing prepared data file: "
                                         + path.replace("\\", "\\\\")):
        RaggedIds.load(tmp_path, "train")


@pytest.mark.parametrize(
    "content",
    [
        b"",  # Left empty by an interrupted write.
        b"not a NumPy file at all",
        "truncated",
        "pickled",
    ],
)
@pytest.mark.parametrize("mmap", [True, False])
def test_a_corrupt_file_is_named(tmp_path, content, mmap):
    RaggedIds.from_rows([list(range(50)), [3]]).save(tmp_path, "train")
    path = os.path.join(tmp_path, "train.ids.npy")
    if content == "truncated":
        with open(path, "rb") as f:
            content = f.read()[:-20]
    if content == "pickled":
        np.save(path, np.array([1, None], dtype=object), allow_pickle=True)
    else:
        with open(path, "wb") as f:
            f.write(content)
    with pytest.raises(ValueError, match="Corrupt prepared data file "
                                         + path.replace("\\", "\\\\")):
        RaggedIds.load(tmp_path, "train", mmap=mmap)


def test_files_that_do_not_fit_together_are_named(tmp_path):
    RaggedIds.from_rows([[1, 2], [3]]).save(tmp_path, "train")
    np.save(tmp_path / "train.offsets.npy", np.array([0, 2, 5]))
    with pytest.raises(
        ValueError,
        match=f"Corrupt prepared data files train.\\*.npy in {tmp_path}: "
              "`offsets` must be",
    ):
        RaggedIds.load(tmp_path, "train")
    np.save(tmp_path / "train.ids.npy", np.zeros((5, 1), np.int32))
    with pytest.raises(ValueError, match="train.*npy in .*`values` must be"):
        RaggedIds.load(tmp_path, "train")
