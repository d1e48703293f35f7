import json
import math
import os

import numpy as np

from keras_attnpred.data.prepared_batches import PreparedBatches
from keras_attnpred.data.ragged_ids import RaggedIds
from keras_attnpred.validation import check_positive_int

FORMAT = "keras_attnpred.prepared_dataset"
FORMAT_VERSION = 1
SETTINGS_FILE = "prepared.json"
TASKS = ("classification", "sentiment", "translation", "pretraining")
WORD_STARTS_FILE = "word_starts.npy"
# Default max_length: a multiple of this, at most the cap of the task.
_LENGTH_MULTIPLE = 8
_LENGTH_CAP = {"classification": 512, "pretraining": 512, "translation": 256}
# Classification: the part of texts without labels (distillation's), whose
# labels are all this.
UNLABELED_PART = "unlabeled"
UNLABELED = -1


class PreparedDataset:
    """Token ids, labels and their statistics, ready to train on; NumPy only.

    What `keras_attnpred.training.prepare` (`attnpred prepare`) writes and
    `attnpred train --prepared` reads: the texts of each part (`"train"`,
    `"validation"`, optionally `"test"`) as token ids, whole (cutting to a
    `max_length` happens when batching), with their labels or their
    translations; for pretraining, texts alone. Reading one needs NumPy and nothing else, so a machine
    without TensorFlow can train from it, on any Keras backend.

    The folder:

    ```
    prepared.json             format, task, label names, vocabulary sizes,
                              the settings it was prepared with, and per
                              part the row count, label counts and length
                              statistics
    PART.ids.npy              classification and pretraining: the ids of
                                every text, one
    PART.offsets.npy            after the other, and where each starts
                                (`RaggedIds`)
    PART.labels.npy           classification: int32 class ids (-1
                                throughout the optional "unlabeled"
                                part: texts a teacher labels when
                                distilling)
    PART.source.ids.npy       translation: the source and target ids
    PART.source.offsets.npy     (`RaggedIds`); targets without [START]
    PART.target.ids.npy         and [END], which batching adds
    PART.target.offsets.npy
    word_starts.npy           pretraining: per id, whether the piece
                                starts a word (whole-word masking)
    tokenizer/                classification and pretraining: the
                                tokenizer
    source_tokenizer/         translation: the two tokenizers
    target_tokenizer/
    ```

    Ids are uint16 when the vocabulary has at most 65,536 entries, else
    int32; offsets int64. Every `.npy` file is a plain NumPy array
    (`np.load(path, mmap_mode="r")`, no pickles).

    Args:
        task: `"classification"`, `"sentiment"`, `"translation"` or
            `"pretraining"` (unlabelled texts).
        parts: dict from part name to a dict of arrays: `{"ids":
            RaggedIds, "labels": int array}` for classification,
            `{"source": RaggedIds, "target": RaggedIds}` for translation,
            `{"ids": RaggedIds}` for pretraining. It must hold `"train"`.
        label_names: list of str, the classes in id order
            (classification).
        vocabulary_sizes: dict from tokenizer folder name (`"tokenizer"`,
            or `"source_tokenizer"` and `"target_tokenizer"`) to its
            vocabulary size.
        settings: optional dict, how the data was prepared (kept in
            `prepared.json`, compared by `train`).
        directory: the folder it was read from, or None.
        word_starts: pretraining: optional bool array, one per id of the
            tokenizer, True where the piece starts a word.
        partly_labeled: names of classification parts whose label may also
            be `UNLABELED` (-1), as in `with_unlabeled_training_texts`.

    Example:

    >>> ids = RaggedIds.from_rows([[5, 6, 7], [8], [9, 10]])
    >>> data = PreparedDataset(
    ...     "sentiment", {"train": {"ids": ids, "labels": np.array([1, 0, 1])}},
    ...     label_names=["negative", "positive"],
    ...     vocabulary_sizes={"tokenizer": 11})
    >>> data.save("prepared/reviews")
    >>> again = PreparedDataset.load("prepared/reviews")
    >>> again.task, again.label_names, len(again.part("train")["ids"])
    ('sentiment', ('negative', 'positive'), 3)
    >>> again.statistics["train"]["label_counts"]
    {'negative': 1, 'positive': 2}
    """

    UNLABELED_PART = UNLABELED_PART
    UNLABELED = UNLABELED

    def __init__(
        self,
        task,
        parts,
        label_names=None,
        vocabulary_sizes=None,
        settings=None,
        directory=None,
        word_starts=None,
        partly_labeled=(),
    ):
        if task not in TASKS:
            raise ValueError(
                f"`task` must be one of {list(TASKS)}. Received: task={task!r}"
            )
        self.task = task
        if not isinstance(parts, dict) or "train" not in parts:
            raise ValueError(
                "`parts` must be a dict holding a 'train' part. Received: "
                f"parts with keys {sorted(parts) if isinstance(parts, dict) else type(parts).__name__}"
            )
        for name, part in parts.items():
            _check_part(name, part, self._keys)
        self.parts = dict(parts)
        if self.is_classification:
            if not label_names or not all(
                isinstance(n, str) for n in label_names
            ):
                raise ValueError(
                    "`label_names` must be a non-empty list of str for "
                    f"classification. Received: label_names={label_names!r}"
                )
            label_names = tuple(label_names)
            for name, part in self.parts.items():
                labels = part["labels"]
                if name in partly_labeled:
                    labels = labels[labels != UNLABELED]
                elif name == UNLABELED_PART:
                    if (labels != UNLABELED).any():
                        raise ValueError(
                            f"Part {name!r} holds texts without labels: its "
                            f"labels must all be {UNLABELED}. Received: "
                            f"labels from {int(labels.min())} to "
                            f"{int(labels.max())}"
                        )
                    continue
                if len(labels) and (
                    labels.min() < 0 or labels.max() >= len(label_names)
                ):
                    raise ValueError(
                        f"Part {name!r} has a label outside [0, "
                        f"{len(label_names)}). Received: labels from "
                        f"{int(labels.min())} to {int(labels.max())}"
                    )
        self.label_names = label_names
        expected = (
            {"source_tokenizer", "target_tokenizer"}
            if self.is_translation
            else {"tokenizer"}
        )
        if not isinstance(vocabulary_sizes, dict) or set(
            vocabulary_sizes
        ) != expected:
            raise ValueError(
                f"`vocabulary_sizes` must have the keys {sorted(expected)}. "
                f"Received: vocabulary_sizes={vocabulary_sizes!r}"
            )
        self.vocabulary_sizes = {
            key: check_positive_int(f"vocabulary_sizes[{key!r}]", value)
            for key, value in vocabulary_sizes.items()
        }
        if word_starts is not None:
            word_starts = np.asarray(word_starts)
            if task != "pretraining" or word_starts.shape != (
                self.vocabulary_sizes["tokenizer"],
            ):
                raise ValueError(
                    "`word_starts` must be None, or for pretraining one bool "
                    "per id of the tokenizer. Received: word_starts of shape "
                    f"{word_starts.shape} for task={task!r}"
                )
            word_starts = word_starts.astype(bool)
        self.word_starts = word_starts
        self.settings = dict(settings or {})
        self.directory = directory
        self.statistics = {
            name: self._part_statistics(part)
            for name, part in self.parts.items()
        }

    @property
    def is_classification(self):
        """True for `"classification"` and `"sentiment"`."""
        return self.task in ("classification", "sentiment")

    @property
    def is_translation(self):
        """True for `"translation"`."""
        return self.task == "translation"

    @property
    def _keys(self):
        if self.is_classification:
            return ("ids", "labels")
        return ("source", "target") if self.is_translation else ("ids",)

    @property
    def tokenizer_names(self):
        """The tokenizer folder names, in the order of `vocabulary_sizes`."""
        return tuple(self.vocabulary_sizes)

    def part(self, name):
        """The arrays of part `name` (see `parts`)."""
        if name not in self.parts:
            raise ValueError(
                f"No part {name!r} in this prepared dataset. Received: "
                f"part={name!r}; it has {sorted(self.parts)}"
            )
        return self.parts[name]

    def with_unlabeled_training_texts(self):
        """This dataset with the texts of its `"unlabeled"` part appended
        to `"train"`, labelled `UNLABELED` (-1), and no `"unlabeled"` part:
        what distillation trains on (`keras_attnpred.models.Distiller`
        takes -1 for "the teacher alone"). Itself without such a part."""
        if UNLABELED_PART not in self.parts:
            return self
        train, extra = self.part("train"), self.part(UNLABELED_PART)
        parts = {
            name: part for name, part in self.parts.items()
            if name != UNLABELED_PART
        }
        parts["train"] = {
            "ids": train["ids"].concatenate(extra["ids"]),
            "labels": np.concatenate([
                np.asarray(train["labels"], np.int32),
                np.asarray(extra["labels"], np.int32),
            ]),
        }
        return self.with_parts(parts, partly_labeled=("train",))

    def with_parts(self, parts, partly_labeled=()):
        """A dataset like this one (task, labels, tokenizers, settings,
        folder) holding `parts` instead."""
        return PreparedDataset(
            self.task,
            parts,
            label_names=self.label_names,
            vocabulary_sizes=self.vocabulary_sizes,
            settings=self.settings,
            directory=self.directory,
            word_starts=self.word_starts,
            partly_labeled=partly_labeled,
        )

    def lengths(self, name):
        """The length of each example of part `name`: its ids for
        classification; for translation the longer of the source and the
        target with [END] (what a batch must hold)."""
        part = self.part(name)
        if not self.is_translation:
            return part["ids"].lengths
        return np.maximum(part["source"].lengths, part["target"].lengths + 1)

    def default_max_length(self):
        """A `max_length` that fits the training part.

        Classification and pretraining: the 95th percentile of the training
        lengths (long texts are few and costly); translation: the longest
        training pair (a cut sentence is a wrong translation). Rounded up to
        a multiple of 8, at most 512 (classification, pretraining) or 256
        (translation).
        """
        lengths = self.lengths("train")
        if not self.is_translation:
            wanted = np.percentile(lengths, 95) if len(lengths) else 2
            cap = _LENGTH_CAP["classification"]
        else:
            wanted = lengths.max() if len(lengths) else 2
            cap = _LENGTH_CAP["translation"]
        rounded = math.ceil(max(wanted, 2) / _LENGTH_MULTIPLE) * _LENGTH_MULTIPLE
        return int(min(rounded, cap))

    def cut_fraction(self, name, max_length):
        """The share of part `name`'s examples longer than `max_length`."""
        lengths = self.lengths(name)
        return float((lengths > max_length).mean()) if len(lengths) else 0.0

    def batches(self, name, max_length, **kwargs):
        """`PreparedBatches(self, name, max_length, **kwargs)`."""
        return PreparedBatches(self, name, max_length, **kwargs)

    def save(self, directory):
        """Writes the arrays and `prepared.json` into `directory` (created
        if missing). Tokenizers are the caller's to save beside them, in
        the folders of `tokenizer_names`."""
        os.makedirs(directory, exist_ok=True)
        for name, part in self.parts.items():
            if self.is_translation:
                part["source"].save(directory, f"{name}.source")
                part["target"].save(directory, f"{name}.target")
                continue
            part["ids"].save(directory, name)
            if self.is_classification:
                np.save(
                    os.path.join(directory, f"{name}.labels.npy"),
                    np.asarray(part["labels"], np.int32),
                )
        if self.word_starts is not None:
            np.save(os.path.join(directory, WORD_STARTS_FILE),
                    self.word_starts)
        description = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "label_names": (
                None if self.label_names is None else list(self.label_names)
            ),
            "vocabulary_sizes": self.vocabulary_sizes,
            "settings": self.settings,
            "parts": self.statistics,
        }
        with open(
            os.path.join(directory, SETTINGS_FILE), "w", encoding="utf-8"
        ) as f:
            json.dump(description, f, indent=2, ensure_ascii=False)
            f.write("\n")
        self.directory = directory

    @classmethod
    def load(cls, directory, mmap=True):
        """Reads a folder written by `save` (or `attnpred prepare`).

        Args:
            directory: str, the folder.
            mmap: bool, map the ids from disk rather than read them.

        Raises:
            ValueError: naming the file, when the folder is not a prepared
                dataset, or a file is missing or corrupt.
        """
        description = read_description(directory)
        parts = {}
        task = description["task"]
        for name in description["parts"]:
            if task == "pretraining":
                parts[name] = {"ids": RaggedIds.load(directory, name, mmap)}
            elif task != "translation":
                labels_path = os.path.join(directory, f"{name}.labels.npy")
                try:
                    labels = np.load(labels_path, allow_pickle=False)
                except FileNotFoundError:
                    raise ValueError(
                        f"Missing prepared data file: {labels_path}"
                    ) from None
                except (ValueError, EOFError) as error:
                    # EOFError: an empty file (an interrupted write).
                    raise ValueError(
                        f"Corrupt prepared data file {labels_path}: {error}"
                    ) from None
                parts[name] = {
                    "ids": RaggedIds.load(directory, name, mmap),
                    "labels": labels,
                }
            else:
                parts[name] = {
                    "source": RaggedIds.load(directory, f"{name}.source", mmap),
                    "target": RaggedIds.load(directory, f"{name}.target", mmap),
                }
        word_starts = None
        path = os.path.join(directory, WORD_STARTS_FILE)
        if task == "pretraining" and os.path.exists(path):
            try:
                word_starts = np.load(path, allow_pickle=False)
            except (ValueError, EOFError) as error:
                raise ValueError(
                    f"Corrupt prepared data file {path}: {error}"
                ) from None
        try:
            return cls(
                task,
                parts,
                label_names=description.get("label_names"),
                vocabulary_sizes=description.get("vocabulary_sizes"),
                settings=description.get("settings"),
                directory=directory,
                word_starts=word_starts,
            )
        except ValueError as error:
            raise ValueError(
                f"Corrupt prepared dataset {directory}: {error}"
            ) from None

    def describe(self, max_length, head_tokens=None):
        """Lines telling what training will see: rows per part, the label
        distribution, the length distribution and the share of texts that
        `max_length` cuts."""
        lines = []
        for name, stats in self.statistics.items():
            lines.append(f"{name}: {stats['rows']:,} rows")
            if self.is_classification:
                counts = stats["label_counts"]
                total = max(sum(counts.values()), 1)
                lines.append(
                    "  labels: "
                    + ", ".join(
                        f"{label} {count:,} ({count / total:.1%})"
                        for label, count in counts.items()
                    )
                )
            for kind, lengths in stats["lengths"].items():
                lines.append(
                    f"  {kind} lengths (ids): " + ", ".join(
                        f"{key} {value:g}" for key, value in lengths.items()
                    )
                )
            cut = self.cut_fraction(name, max_length)
            how = (
                f" (keeping the first {head_tokens} and the last "
                f"{max_length - head_tokens} ids)"
                if head_tokens is not None
                else ""
            )
            lines.append(
                f"  cut at max_length={max_length}: {cut:.1%} of the "
                f"{'pairs' if self.is_translation else 'texts'}{how}"
            )
        return lines

    def _part_statistics(self, part):
        if self.is_classification:
            labels = np.asarray(part["labels"])
            stats = {
                "rows": len(labels),
                "label_counts": {
                    name: int((labels == index).sum())
                    for index, name in enumerate(self.label_names or ())
                },
                "lengths": {"text": _summary(part["ids"].lengths)},
            }
            return stats
        if not self.is_translation:
            return {
                "rows": len(part["ids"]),
                "lengths": {"text": _summary(part["ids"].lengths)},
            }
        return {
            "rows": len(part["source"]),
            "lengths": {
                "source": _summary(part["source"].lengths),
                "target": _summary(part["target"].lengths),
            },
        }

    def __repr__(self):
        rows = ", ".join(
            f"{name}={stats['rows']}" for name, stats in self.statistics.items()
        )
        return f"PreparedDataset(task={self.task!r}, {rows})"


def read_description(directory):
    """The checked content of `prepared.json` in `directory`."""
    path = os.path.join(os.fspath(directory), SETTINGS_FILE)
    if not os.path.isfile(path):
        raise ValueError(
            f"{directory!s} is not a prepared dataset (no {SETTINGS_FILE}); "
            "make one with `attnpred prepare`. Received: "
            f"directory={os.fspath(directory)!r}"
        )
    try:
        with open(path, encoding="utf-8") as f:
            description = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"Corrupt {path}: not valid JSON ({error})") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise ValueError(
            f"Corrupt {path}: expected a JSON object with "
            f"format={FORMAT!r}"
        )
    if description.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has format_version "
            f"{description.get('format_version')!r}; this version of "
            f"keras_attnpred reads {FORMAT_VERSION}. Prepare the data again."
        )
    if description.get("task") not in TASKS or not isinstance(
        description.get("parts"), dict
    ):
        raise ValueError(
            f"Corrupt {path}: expected a task in {list(TASKS)} and a dict "
            "of parts"
        )
    return description


def _check_part(name, part, keys):
    if not isinstance(part, dict) or set(part) != set(keys):
        raise ValueError(
            f"Part {name!r} must be a dict with the keys {sorted(keys)}. "
            f"Received: {sorted(part) if isinstance(part, dict) else part!r}"
        )
    if "ids" in keys:
        if not isinstance(part["ids"], RaggedIds):
            raise ValueError(
                f"Part {name!r}: 'ids' must be a `RaggedIds`. Received: "
                f"{type(part['ids']).__name__}"
            )
        if "labels" not in keys:
            return
        labels = np.asarray(part["labels"])
        if labels.shape != (len(part["ids"]),) or not np.issubdtype(
            labels.dtype, np.integer
        ):
            raise ValueError(
                f"Part {name!r}: 'labels' must be one int class id per "
                f"text ({len(part['ids'])}). Received: labels of shape "
                f"{labels.shape} and dtype {labels.dtype}"
            )
        part["labels"] = labels
        return
    for key in keys:
        if not isinstance(part[key], RaggedIds):
            raise ValueError(
                f"Part {name!r}: {key!r} must be a `RaggedIds`. Received: "
                f"{type(part[key]).__name__}"
            )
    if len(part["source"]) != len(part["target"]):
        raise ValueError(
            f"Part {name!r}: as many sources as targets are needed. "
            f"Received: {len(part['source'])} and {len(part['target'])}"
        )


def _summary(lengths):
    lengths = np.asarray(lengths)
    if not len(lengths):
        return {}
    return {
        "min": int(lengths.min()),
        "median": float(np.median(lengths)),
        "p95": float(np.percentile(lengths, 95)),
        "max": int(lengths.max()),
        "mean": round(float(lengths.mean()), 1),
    }
