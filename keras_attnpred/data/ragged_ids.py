import os

import numpy as np

from keras_attnpred.validation import check_positive_int


class RaggedIds:
    """Token id sequences of different lengths, stored flat, NumPy only.

    The ids of all rows are one 1-D array (`values`); row `i` is
    `values[offsets[i]:offsets[i + 1]]`. This is how `PreparedDataset`
    keeps whole texts on disk, so that truncation (`max_length`,
    `head_tokens`) is a training setting rather than a preparation one, and
    how it memory-maps them: reading a prepared dataset loads no row until a
    batch needs it.

    Args:
        values: 1-D array of ints >= 0, the ids of every row, row after row.
        offsets: 1-D array of `len(rows) + 1` non-decreasing ints, starting
            at 0 and ending at `len(values)`.

    Example:

    >>> rows = RaggedIds.from_rows([[5, 6, 7], [8], [], [9, 10, 11, 12]])
    >>> len(rows), rows.lengths.tolist()
    (4, [3, 1, 0, 4])
    >>> rows.padded([0, 3], length=3)  # cut to 3, padded with 0
    array([[ 5,  6,  7],
           [ 9, 10, 11]], dtype=int32)
    >>> rows.padded([3], length=3, head_tokens=1)  # the opening and the end
    array([[ 9, 11, 12]], dtype=int32)
    """

    def __init__(self, values, offsets):
        values = np.asarray(values)
        offsets = np.asarray(offsets)
        if values.ndim != 1 or not (
            values.size == 0 or np.issubdtype(values.dtype, np.integer)
        ):
            raise ValueError(
                "`values` must be a 1-D array of integer ids. Received: "
                f"values of shape {values.shape} and dtype {values.dtype}"
            )
        if (
            offsets.ndim != 1
            or len(offsets) == 0
            or not np.issubdtype(offsets.dtype, np.integer)
            or offsets[0] != 0
            or offsets[-1] != len(values)
            or (np.diff(offsets) < 0).any()
        ):
            raise ValueError(
                "`offsets` must be a 1-D array of non-decreasing integers "
                f"from 0 to len(values)={len(values)}. Received: offsets "
                f"of shape {offsets.shape}, "
                f"first {offsets[:1].tolist()}, last {offsets[-1:].tolist()}"
            )
        self.values = values
        self.offsets = offsets

    @classmethod
    def from_rows(cls, rows):
        """Stores a list of id sequences (lists or 1-D arrays).

        The ids are kept as uint16 when every id is below 65,536 (a
        vocabulary of that size or less), else as int32.
        """
        rows = [
            _check_integer_ids(np.asarray(row).reshape(-1)).astype(np.int64)
            for row in rows
        ]
        lengths = np.array([len(row) for row in rows], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        values = (
            np.concatenate(rows) if rows else np.zeros((0,), np.int64)
        )
        return cls.from_flat(values, offsets)

    @classmethod
    def from_flat(cls, values, offsets):
        """Like the constructor, with the ids stored as uint16 when every
        id is below 65,536 (else int32), as `from_rows` does."""
        values = _check_integer_ids(np.asarray(values))
        if values.size and values.min() < 0:
            raise ValueError(
                "Token ids must be >= 0. Received: an id of "
                f"{int(values.min())}"
            )
        small = not values.size or values.max() < 2**16
        return cls(
            values.astype(np.uint16 if small else np.int32),
            np.asarray(offsets, dtype=np.int64),
        )

    def __len__(self):
        return len(self.offsets) - 1

    def __repr__(self):
        return f"RaggedIds(rows={len(self)}, ids={len(self.values)})"

    @property
    def lengths(self):
        """int64 array, the number of ids of each row."""
        return np.diff(self.offsets)

    def row(self, index):
        """The ids of row `index` as an int32 array."""
        return np.asarray(
            self.values[self.offsets[index]:self.offsets[index + 1]],
            dtype=np.int32,
        )

    def subset(self, indices):
        """A new `RaggedIds` of the rows at `indices`, in that order."""
        return RaggedIds.from_rows([self.row(i) for i in indices])

    def concatenate(self, other):
        """A new `RaggedIds` of these rows, then those of `other`."""
        values = np.concatenate([
            np.asarray(self.values, np.int64),
            np.asarray(other.values, np.int64),
        ])
        offsets = np.concatenate([
            np.asarray(self.offsets, np.int64),
            np.asarray(other.offsets[1:], np.int64) + int(self.offsets[-1]),
        ])
        return RaggedIds.from_flat(values, offsets)

    def padded(self, indices, length, head_tokens=None, starts=None):
        """The rows at `indices` as one int32 array of shape
        `(len(indices), length)`, cut and padded with 0.

        Args:
            indices: 1-D sequence of row positions.
            length: int > 0, the columns of the result.
            head_tokens: optional int in `[0, length)`: a row longer than
                `length` keeps its first `head_tokens` ids and its last
                `length - head_tokens` (reviews often give their verdict at
                the end). Default: its first `length` ids.
            starts: optional ints, one per index: a row longer than
                `length` keeps the `length` ids from its `starts[i]`-th
                (clipped so the window stays inside the row); for
                pretraining on random windows of long texts. Not with
                `head_tokens`.
        """
        length = check_positive_int("length", length)
        if starts is not None:
            if head_tokens is not None:
                raise ValueError(
                    "Give at most one of `head_tokens` and `starts`. "
                    f"Received: head_tokens={head_tokens} and starts"
                )
            starts = np.asarray(starts)
            if starts.shape != (len(indices),):
                raise ValueError(
                    "`starts` must hold one int per index. Received: starts "
                    f"of shape {starts.shape} for {len(indices)} indices"
                )
        if head_tokens is not None:
            head_tokens = check_positive_int(
                "head_tokens", head_tokens, minimum=0
            )
            if head_tokens >= length:
                raise ValueError(
                    "`head_tokens` must be less than `length`. Received: "
                    f"head_tokens={head_tokens} and length={length}"
                )
        out = np.zeros((len(indices), length), dtype=np.int32)
        for position, index in enumerate(indices):
            row = self.row(index)
            if len(row) > length:
                if starts is not None:
                    start = min(max(int(starts[position]), 0),
                                len(row) - length)
                    row = row[start:start + length]
                elif head_tokens is None:
                    row = row[:length]
                else:
                    tail = length - head_tokens
                    row = np.concatenate([row[:head_tokens], row[-tail:]])
            out[position, : len(row)] = row
        return out

    def save(self, directory, name):
        """Writes `NAME.ids.npy` and `NAME.offsets.npy` into `directory`."""
        np.save(os.path.join(directory, f"{name}.ids.npy"), self.values)
        np.save(os.path.join(directory, f"{name}.offsets.npy"), self.offsets)

    @classmethod
    def load(cls, directory, name, mmap=True):
        """Reads what `save` wrote; `mmap` maps the ids rather than read
        them.

        Raises:
            ValueError: naming the file, when one is missing or does not
                hold what `save` writes.
        """
        arrays = []
        for kind in ("ids", "offsets"):
            path = os.path.join(directory, f"{name}.{kind}.npy")
            try:
                arrays.append(
                    np.load(path, mmap_mode="r" if mmap else None,
                            allow_pickle=False)
                )
            except FileNotFoundError:
                raise ValueError(f"Missing prepared data file: {path}") from None
            except (ValueError, EOFError) as error:
                # EOFError: an empty file (an interrupted write).
                raise ValueError(
                    f"Corrupt prepared data file {path}: {error}"
                ) from None
        try:
            return cls(*arrays)
        except ValueError as error:
            raise ValueError(
                f"Corrupt prepared data files {name}.*.npy in "
                f"{directory}: {error}"
            ) from None


def _check_integer_ids(values):
    """`values`, unless it holds non-integer ids: those are refused rather
    than rounded (an empty array of any dtype is fine: `np.asarray([])` is
    float)."""
    if values.size and not np.issubdtype(values.dtype, np.integer):
        raise ValueError(
            "`values` must be a 1-D array of integer ids. Received: "
            f"values of shape {values.shape} and dtype {values.dtype}"
        )
    return values
