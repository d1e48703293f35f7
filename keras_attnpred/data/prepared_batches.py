import math

import numpy as np

from keras_attnpred.bucket_boundaries import resolve_bucket_boundaries
from keras_attnpred.data._length_batches import length_batches
from keras_attnpred.data.mask_token_ids import mask_token_ids
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.reserved_ids import START_ID
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate

# Pretraining batches have room for this many times the expected
# predictions: whole-word masking picks a varying number of pieces.
_PREDICTION_ROOM = 1.25


class PreparedBatches:
    """The batches of one part of a `PreparedDataset`, as NumPy arrays.

    A sequence of batches (`len`, indexing), ready for `model.fit` through a
    `keras.utils.PyDataset` or a `tf.data` generator (what
    `keras_attnpred.training` does). Classification batches are
    `(ids, labels)`; translation batches are
    `({"source": ids, "target": [START] + t}, t + [END])`, the target cut to
    `max_length - 1` ids first so that `[START]` and `[END]` fit, as in
    `keras_attnpred.text.translation_dataset`. Pretraining batches are
    `({"token_ids": masked, "mask_positions": positions}, labels)` of
    `mask_token_ids` (with the dataset's `word_starts`), the masks drawn
    anew every epoch; a text longer than `max_length` gives a window of it
    that starts at a random place every epoch. Without `shuffle`, masks and
    windows are the same at every epoch (a fixed validation set). Ids are int32, padded with 0;
    a text without ids becomes a single `[PAD]`.

    Batches group sequences of similar length (the lengths after cutting
    to `max_length`). With `bucket_boundaries`, every batch is padded to
    the length of its bucket, so a jit-compiled step sees one shape per
    bucket; without them, batches take consecutive (shuffled) sequences and
    are padded to their longest. With `max_tokens` instead of
    `batch_size`, batches hold `max_tokens // L` sequences of bucket length
    `L` (`token_budget_batches`). Leftovers of a bucket move up to the next,
    so every batch but the very last is full, and the number of batches is
    the same in every epoch.

    Args:
        dataset: the `PreparedDataset`.
        part: str, the part to batch, e.g. `"train"`.
        max_length: int >= 2, the most ids of a sequence.
        batch_size: int > 0, sequences per batch; or None with
            `max_tokens`.
        max_tokens: optional int, the token budget of a batch instead.
        bucket_boundaries: None, `"auto"` (equal-population buckets from
            the lengths) or strictly increasing ints > 1; a boundary `b`
            holds lengths < `b`, as in `tf.data`'s
            `bucket_by_sequence_length`.
        head_tokens: optional int < `max_length`, classification only:
            texts longer than `max_length` keep their first `head_tokens`
            ids and their last `max_length - head_tokens`.
        shuffle: bool, a new order every epoch (see `set_epoch`).
        seed: int >= 0; epoch `e` is shuffled with seed `seed + e`.
        batch_divisor: int > 0, the devices that share each batch (JAX
            data parallelism splits every batch evenly): `batch_size` must
            divide by it, token-budget batches are rounded down to a
            multiple of it, and a last batch that does not divide is left
            out.
        mask_rate: float in (0, 1), pretraining: the share of words to
            predict.
        labels_in_inputs: bool, pretraining: the inputs also hold the
            labels as `"mask_labels"` (`ElectraPretrainer` needs the
            original pieces).
        pack_texts: bool, pretraining: instead of one text a row, every
            row is `max_length` consecutive ids of the part's texts joined
            into one stream, each text followed by `[END]` (RoBERTa's
            full-sentence packing): no padding and a single batch shape.
            The rows start at a random offset every epoch (with `shuffle`)
            and the ids left over at the end are left out, as is a last
            batch that is not full when there are full ones.

    Example:

    >>> data = PreparedDataset(
    ...     "classification",
    ...     {"train": {"ids": RaggedIds.from_rows([[5, 6], [7], [8, 9, 10]]),
    ...                "labels": np.array([0, 1, 0])}},
    ...     label_names=["a", "b"], vocabulary_sizes={"tokenizer": 11})
    >>> batches = PreparedBatches(data, "train", max_length=2, batch_size=2)
    >>> len(batches)
    2
    >>> ids, labels = batches[0]
    >>> ids, labels
    (array([[5, 6],
           [7, 0]], dtype=int32), array([0, 1], dtype=int32))
    """

    def __init__(
        self,
        dataset,
        part,
        max_length,
        batch_size=None,
        max_tokens=None,
        bucket_boundaries=None,
        head_tokens=None,
        shuffle=False,
        seed=0,
        batch_divisor=1,
        mask_rate=0.15,
        labels_in_inputs=False,
        pack_texts=False,
    ):
        self.dataset = dataset
        self.part = dataset.part(part)
        self.part_name = part
        self.max_length = check_positive_int("max_length", max_length, minimum=2)
        if (batch_size is None) == (max_tokens is None):
            raise ValueError(
                "Give one of `batch_size` and `max_tokens`. Received: "
                f"batch_size={batch_size!r} and max_tokens={max_tokens!r}"
            )
        self.batch_size = check_positive_int(
            "batch_size", batch_size, allow_none=True
        )
        self.max_tokens = check_positive_int(
            "max_tokens", max_tokens, allow_none=True
        )
        if self.max_tokens is not None and self.max_tokens < self.max_length:
            raise ValueError(
                "`max_tokens` must be at least `max_length`, so that a batch "
                f"holds one sequence. Received: max_tokens={max_tokens} and "
                f"max_length={max_length}"
            )
        if head_tokens is not None:
            if not dataset.is_classification:
                raise ValueError(
                    "`head_tokens` is for classification (a translation "
                    f"keeps its opening). Received: head_tokens={head_tokens}"
                )
            check_positive_int("head_tokens", head_tokens, minimum=0)
            if head_tokens >= self.max_length:
                raise ValueError(
                    "`head_tokens` must be less than `max_length`. Received: "
                    f"head_tokens={head_tokens} and max_length={max_length}"
                )
        self.head_tokens = head_tokens
        check_bool("shuffle", shuffle)
        self.shuffle = shuffle
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.batch_divisor = check_positive_int("batch_divisor", batch_divisor)
        check_rate("mask_rate", mask_rate)
        if not 0 < mask_rate < 1:
            raise ValueError(
                "`mask_rate` must be in (0, 1). Received: "
                f"mask_rate={mask_rate}"
            )
        self.mask_rate = mask_rate
        check_bool("labels_in_inputs", labels_in_inputs)
        self.labels_in_inputs = labels_in_inputs
        check_bool("pack_texts", pack_texts)
        if pack_texts and dataset.task != "pretraining":
            raise ValueError(
                "`pack_texts` is for pretraining (a labelled text must stay "
                f"one row). Received: pack_texts={pack_texts} for a "
                f"{dataset.task} dataset"
            )
        if pack_texts and bucket_boundaries is not None:
            raise ValueError(
                "Packed rows are all `max_length` long: give no "
                "`bucket_boundaries` with `pack_texts`. Received: "
                f"bucket_boundaries={bucket_boundaries!r}"
            )
        self.pack_texts = pack_texts
        self.lengths = np.maximum(
            np.minimum(dataset.lengths(part), self.max_length), 1
        )
        if not len(self.lengths):
            raise ValueError(
                f"Part {part!r} has no rows to batch. Received: part={part!r}"
            )
        if pack_texts:
            self._stream = _joined_stream(self.part["ids"], self.max_length)
        boundaries = resolve_bucket_boundaries(
            bucket_boundaries, lambda: self.lengths, self.max_length
        )
        self._pad_to_longest = boundaries is None and self.max_tokens is None
        self.bucket_lengths = sorted(
            {b - 1 for b in boundaries or () if b - 1 < self.max_length}
            | {self.max_length}
        )
        if self.batch_size is not None and self.batch_size % self.batch_divisor:
            raise ValueError(
                f"`batch_size` must divide by `batch_divisor` (the devices "
                "that share each batch). Received: "
                f"batch_size={batch_size} and batch_divisor={batch_divisor}"
            )
        self.epoch = 0
        self._plans = {}
        self._length = len(self._plan())
        if not self._length:
            raise ValueError(
                f"Part {part!r} gives no batch: {len(self.lengths)} rows, "
                f"batch_size={batch_size}, max_tokens={max_tokens}, "
                f"batch_divisor={batch_divisor} (a batch that does not "
                "divide by it is left out)."
            )

    def __len__(self):
        return self._length

    def set_epoch(self, epoch):
        """Orders the batches for epoch `epoch` (seed `seed + epoch`)."""
        self.epoch = check_positive_int("epoch", epoch, minimum=0)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(
                f"batch index out of range. Received: index={index} for "
                f"{len(self)} batches"
            )
        indices, length = self._plan()[index]
        if self.pack_texts:
            return self._masked(index, indices, length)
        length = self._batch_length(indices, length)
        if self.dataset.task == "pretraining":
            return self._masked(index, indices, length)
        if self.dataset.is_classification:
            # Only a batch of max_length can hold texts to cut; a narrower
            # one may be narrower than head_tokens too.
            head_tokens = (
                self.head_tokens if length == self.max_length else None
            )
            ids = self.part["ids"].padded(indices, length, head_tokens)
            labels = np.asarray(self.part["labels"][indices], dtype=np.int32)
            return ids, labels
        source = self.part["source"].padded(indices, length)
        # Cut to max_length - 1 (not length - 1): the label's [END] must
        # come only after the whole target, or where the cut falls.
        target = self.part["target"].padded(indices, self.max_length - 1)
        target_lengths = np.minimum(
            self.part["target"].lengths[indices], self.max_length - 1
        )
        decoder = np.zeros((len(indices), length), np.int32)
        labels = np.zeros((len(indices), length), np.int32)
        decoder[:, 0] = START_ID
        decoder[:, 1:] = target[:, : length - 1]
        labels[:, : length - 1] = target[:, : length - 1]
        labels[np.arange(len(indices)), target_lengths] = END_ID
        return {"source": source, "target": decoder}, labels

    def max_predictions(self, length):
        """Pretraining: the predictions a batch of `length` has room for."""
        return max(1, math.ceil(length * self.mask_rate * _PREDICTION_ROOM))

    def _masked(self, index, indices, length):
        key = self.epoch if self.shuffle else 0
        # Seeded by the batch, so any order of reading gives the same batch.
        rng = np.random.default_rng([self.seed, key, index])
        if self.pack_texts:
            # `indices` are the rows' first positions in the stream.
            rows = self._stream[indices[:, None] + np.arange(length)]
        else:
            ids = self.part["ids"]
            room = np.maximum(ids.lengths[indices] - length, 0)
            starts = (rng.random(len(indices)) * (room + 1)).astype(np.int64)
            rows = ids.padded(indices, length, starts=starts)
        masked, positions, labels = mask_token_ids(
            rows,
            rng,
            self.dataset.vocabulary_sizes["tokenizer"],
            self.max_predictions(length),
            self.mask_rate,
            self.dataset.word_starts,
        )
        inputs = {"token_ids": masked, "mask_positions": positions}
        if self.labels_in_inputs:
            inputs["mask_labels"] = labels
        return inputs, labels

    def padding_fraction(self):
        """The share of padding among the input positions of this epoch's
        batches (for translation, source and decoder input together)."""
        if self.pack_texts:
            return 0.0
        real, total = 0, 0
        inputs = 2 if self.dataset.is_translation else 1
        for indices, length in self._plan():
            length = self._batch_length(indices, length)
            # An empty text's single [PAD] is padding, as
            # `keras_attnpred.text.padding_fraction` counts it.
            if not self.dataset.is_translation:
                real += int(
                    np.minimum(self.part["ids"].lengths[indices], length).sum()
                )
            else:
                real += int(
                    np.minimum(self.part["source"].lengths[indices],
                               length).sum()
                    + (np.minimum(self.part["target"].lengths[indices],
                                  self.max_length - 1) + 1).sum()
                )
            total += inputs * len(indices) * length
        return 1.0 - real / total if total else 0.0

    def _batch_length(self, indices, length):
        if self._pad_to_longest:
            return int(self.lengths[indices].max())
        return length

    def _plan(self):
        key = self.epoch if self.shuffle else 0
        if key not in self._plans and self.pack_texts:
            self._plans = {key: self._packed_plan(key)}
        if key not in self._plans:
            divisor = self.batch_divisor
            sizes = [
                self.batch_size
                if self.max_tokens is None
                # A token budget's batches shrink to whole multiples of the
                # divisor, or whole buckets would be left out below.
                else max(divisor, self.max_tokens // length // divisor * divisor)
                for length in self.bucket_lengths
            ]
            plan = length_batches(
                self.lengths,
                self.bucket_lengths,
                sizes,
                self.shuffle,
                self.seed + key,
            )
            self._plans = {
                key: [b for b in plan if len(b[0]) % divisor == 0]
            }
        return self._plans[key]

    def _packed_plan(self, key):
        length, divisor = self.max_length, self.batch_divisor
        size = self.batch_size or max(
            divisor, self.max_tokens // length // divisor * divisor
        )
        # Every epoch has the same number of rows, whatever its offset.
        count = max(1, (len(self._stream) - length + 1) // length)
        offset = 0
        if self.shuffle:
            rng = np.random.default_rng([self.seed, key])
            offset = int(rng.integers(0, length)) if count > 1 else 0
        starts = offset + length * np.arange(count, dtype=np.int64)
        if self.shuffle:
            starts = rng.permutation(starts)
        full = count // size * size
        batches = [starts[i:i + size] for i in range(0, full, size)]
        if not batches:
            batches = [starts[: len(starts) // divisor * divisor]]
        return [(b, length) for b in batches if len(b)]


def _joined_stream(ids, length):
    """The ids of every text, each followed by `[END]`, in one array padded
    with 0 to at least `length`."""
    ends = ids.offsets[1:] + np.arange(1, len(ids) + 1)
    stream = np.zeros(max(int(ends[-1]), length), dtype=np.int32)
    stream[ends - 1] = END_ID
    keep = np.ones(int(ends[-1]), dtype=bool)
    keep[ends - 1] = False
    stream[: len(keep)][keep] = ids.values
    return stream
