import re

import numpy as np

from keras_attnpred.data import _tfds
from keras_attnpred.data import text_file

_CLASS_ID = re.compile(r"[0-9]+")


class LabeledTexts:
    """Texts with one class label each, read strictly from CSV or TSV files.

    An immutable container for classification and sentiment data. Reading
    never misaligns texts and labels in silence: a malformed row either
    raises a `ValueError` naming the file and the 1-based line, or, with
    `on_error="skip"`, is left out, counted in `skipped` and logged.

    Args:
        texts: sequence of str.
        labels: sequence of int class ids, one per text, each in
            `[0, len(label_names))`.
        label_names: sequence of str, the name of each class id.
        skipped: int, how many bad rows were left out when reading.

    Attributes:
        texts: tuple of str.
        labels: read-only `np.int32` array of the same length.
        label_names: tuple of str.
        skipped: int.

    Example:

    >>> with open("reviews.csv", "w", encoding="utf-8") as f:
    ...     _ = f.write("text,label\\n"
    ...                 "A wonderful film.,pos\\n"
    ...                 '"Dull, and too long.",neg\\n'
    ...                 "Great acting!,pos\\n")
    >>> data = LabeledTexts.from_csv("reviews.csv", "text", "label")
    >>> data.label_names, data.labels.tolist()
    (('neg', 'pos'), [1, 0, 1])
    >>> data.texts[1]
    'Dull, and too long.'
    >>> train, validation = data.split((2 / 3, 1 / 3), seed=0)
    >>> len(train), len(validation)
    (2, 1)
    """

    __slots__ = ("_texts", "_labels", "_label_names", "_skipped")

    def __init__(self, texts, labels, label_names, skipped=0):
        texts = tuple(texts)
        if not all(isinstance(text, str) for text in texts):
            raise ValueError("`texts` must all be strings.")
        labels = np.asarray(labels)
        if labels.ndim != 1 or (
            labels.size and not np.issubdtype(labels.dtype, np.integer)
        ):
            raise ValueError(
                "`labels` must be a 1-D sequence of integer class ids. "
                f"Received: labels with dtype {labels.dtype} and shape "
                f"{labels.shape}"
            )
        label_names = tuple(str(name) for name in label_names)
        if len(labels) != len(texts):
            raise ValueError(
                f"Got {len(texts)} texts but {len(labels)} labels: they must "
                "be aligned one to one."
            )
        if labels.size and (
            labels.min() < 0 or labels.max() >= len(label_names)
        ):
            raise ValueError(
                f"`labels` must lie in [0, {len(label_names)}) for "
                f"{len(label_names)} label names. Received: labels from "
                f"{labels.min()} to {labels.max()}"
            )
        if isinstance(skipped, bool) or not isinstance(skipped, int) or (
            skipped < 0
        ):
            raise ValueError(
                "`skipped` must be a non-negative integer. "
                f"Received: skipped={skipped!r}"
            )
        labels = labels.astype(np.int32)  # A copy: the caller's stays apart.
        labels.flags.writeable = False
        self._texts = texts
        self._labels = labels
        self._label_names = label_names
        self._skipped = skipped

    @property
    def texts(self):
        return self._texts

    @property
    def labels(self):
        return self._labels

    @property
    def label_names(self):
        return self._label_names

    @property
    def skipped(self):
        return self._skipped

    def __len__(self):
        return len(self._texts)

    def __repr__(self):
        return (
            f"LabeledTexts({len(self)} texts, "
            f"{len(self._label_names)} classes, skipped={self._skipped})"
        )

    @classmethod
    def from_csv(
        cls,
        path_or_url,
        text_column,
        label_column,
        delimiter=None,
        header=True,
        label_names=None,
        on_error="raise",
        file_hash=None,
        cache_dir=None,
        quoted=None,
    ):
        """Reads texts and labels from a CSV or TSV file, local or URL.

        The file may be plain or gzip (recognised by its bytes, not its
        name) and must be UTF-8; a leading byte-order mark is ignored, blank
        lines are ignored. Every row must have as many fields as the header
        (without a header: as the first row).

        Labels: with `label_names`, a label is either one of those names or,
        when most labels are whole numbers, an index into them; any other
        label is an error. Without `label_names`, labels that are mostly
        whole numbers are class ids, which must run from 0 without gaps
        (`label_names` becomes `("0", "1", ...)`); otherwise the distinct
        labels become the classes in sorted order. A label of the other
        kind than most (a `neutral` among 0/1, a `7` among names) is an
        error naming its line. Surrounding whitespace in labels is ignored.

        Args:
            path_or_url: local path, or an `http(s)://` URL downloaded once
                into the Keras cache with `keras.utils.get_file`.
            text_column: column name (needs `header=True`) or 0-based index.
            label_column: column name or 0-based index.
            delimiter: one character. Default: a tab when the name ends in
                `.tsv` or `.tsv.gz`, else `,`, `;` or a tab, whichever the
                header line holds most of (a comma when it holds none).
            header: bool, whether the first row names the columns.
            label_names: optional sequence of str fixing the classes and
                their order.
            on_error: `"raise"` (default) or `"skip"`: what to do with a bad
                row (wrong number of fields, empty text, empty or unknown
                label). Skipped rows are counted in `skipped` and logged
                with a warning. Errors in the file as a whole (bad UTF-8,
                malformed quoting, missing column, wrong hash) always raise.
            file_hash: optional SHA-256 or MD5 hex digest to verify the file
                against, for a URL or a local path.
            cache_dir: where downloads are kept; default `~/.keras`.
            quoted: whether `"` quotes fields. Default: yes for commas, no
                for tabs (TSV files hold bare quotes in their text).

        Returns:
            A `LabeledTexts`.

        Raises:
            ValueError: naming the file, and the 1-based line where a row is
                at fault.
        """
        text_file.check_on_error(on_error)
        if label_names is not None:
            label_names = _checked_label_names(label_names)
        name, rows = text_file.delimited_rows(
            path_or_url,
            delimiter=delimiter,
            quoted=quoted,
            file_hash=file_hash,
            cache_dir=cache_dir,
        )
        rows, width, (text_index, label_index) = text_file.split_header(
            name,
            rows,
            header,
            {"text_column": text_column, "label_column": label_column},
        )

        errors = text_file.RowErrors(name, on_error)
        kept = []  # (line, text, label)
        for line, fields in rows:
            if len(fields) != width:
                errors(line, f"expected {width} fields, found {len(fields)}.")
                continue
            text, label = fields[text_index], fields[label_index].strip()
            if not text.strip():
                errors(line, "empty text.")
                continue
            if not label:
                errors(line, "empty label.")
                continue
            kept.append((line, text, label))

        return cls._from_kept(kept, label_names, errors)

    @classmethod
    def from_tfds(
        cls,
        name,
        split="train",
        text_key="text",
        label_key="label",
        label_names=None,
        data_dir=None,
        on_error="raise",
    ):
        """Reads texts and labels from a TensorFlow Datasets split.

        Needs the `tensorflow-datasets` package (imported only here), which
        downloads and prepares the dataset the first time. With a
        `ClassLabel` label feature (e.g. `imdb_reviews`: `"neg"`, `"pos"`)
        its names are the classes, in its order; other labels are read as
        by `from_csv` (whole numbers as class ids, else the distinct
        labels, sorted).

        Args:
            name: str, the dataset name, e.g. `"imdb_reviews"` (with a
                config or version if needed: `"ag_news_subset:1.0.0"`).
            split: str, a TFDS split, e.g. `"train"` or `"test[:10%]"`.
            text_key: str, the text feature.
            label_key: str, the label feature.
            label_names: optional sequence of str fixing the classes and
                their order (with a `ClassLabel`: its names, in any order).
            data_dir: optional str, where TFDS keeps its data (default
                `~/tensorflow_datasets` or `$TFDS_DATA_DIR`).
            on_error: `"raise"` (default) or `"skip"`: what to do with an
                example whose text is empty or not UTF-8, or whose label is
                not one of the classes.

        Returns:
            A `LabeledTexts`.

        Raises:
            ModuleNotFoundError: `tensorflow-datasets` is not installed.
            ValueError: an unknown dataset, split or feature, or a bad
                example (named by its 1-based position in the split).

        Example:

        >>> reviews = LabeledTexts.from_tfds("imdb_reviews", "train")
        >>> reviews.label_names
        ('neg', 'pos')
        """
        text_file.check_on_error(on_error)
        if label_names is not None:
            label_names = _checked_label_names(label_names)
        source, examples, info = _tfds.load_split(name, split, data_dir)
        _tfds.check_keys(
            source, info, {"text_key": text_key, "label_key": label_key}
        )
        class_names = getattr(info.features[label_key], "names", None)
        errors = text_file.RowErrors(source, on_error, unit="example")
        kept = []  # (example, text, label)
        for index, example in enumerate(examples, 1):
            text = _tfds.as_text(example[text_key])
            if text is None:
                errors(index, "the text is not valid UTF-8 text.")
                continue
            if not text.strip():
                errors(index, "empty text.")
                continue
            label = example[label_key]
            if class_names is not None:
                # A ClassLabel holds ids: read them as its names.
                label = int(label)
                if not 0 <= label < len(class_names):
                    errors(
                        index,
                        f"label {label} is not a class id of the "
                        f"{len(class_names)} classes {list(class_names)}.",
                    )
                    continue
                label = class_names[label]
            elif isinstance(label, bytes):
                label = _tfds.as_text(label) or ""
            label = str(label).strip()
            if not label:
                errors(index, "empty label.")
                continue
            kept.append((index, text, label))
        if class_names is not None and label_names is None:
            label_names = tuple(class_names)
        return cls._from_kept(kept, label_names, errors)

    @classmethod
    def _from_kept(cls, kept, label_names, errors):
        """The texts of `kept` `(place, text, label)` rows, labels as ids;
        reports the rows `errors` skipped."""
        labels, label_names, kept = _label_ids(kept, label_names, errors)
        errors.log()
        return cls(
            [text for _, text, _ in kept],
            labels,
            label_names,
            skipped=errors.count,
        )

    def shuffled(self, seed=0):
        """Returns the same texts and labels in a random order.

        Args:
            seed: int, the same seed gives the same order.
        """
        order = np.random.default_rng(seed).permutation(len(self))
        return self._take(order, self._skipped)

    def split(self, fractions=(0.9, 0.1), seed=0):
        """Splits at random into disjoint parts that cover every item.

        Args:
            fractions: positive numbers summing to 1, one per part.
            seed: int, the same seed gives the same parts.

        Returns:
            A tuple of `LabeledTexts`, one per fraction, each in shuffled
            order, with `skipped=0`. Not stratified.

        Raises:
            ValueError: bad fractions, or a part would be empty.
        """
        sizes = text_file.split_sizes(fractions, len(self))
        order = np.random.default_rng(seed).permutation(len(self))
        bounds = np.cumsum([0] + sizes)
        return tuple(
            self._take(order[start:stop], 0)
            for start, stop in zip(bounds[:-1], bounds[1:])
        )

    def _take(self, indices, skipped):
        return LabeledTexts(
            [self._texts[i] for i in indices],
            self._labels[indices],
            self._label_names,
            skipped=skipped,
        )


def _checked_label_names(label_names):
    label_names = tuple(str(name) for name in label_names)
    if not label_names or len(set(label_names)) != len(label_names):
        raise ValueError(
            "`label_names` must be non-empty and without repeats. "
            f"Received: label_names={label_names!r}"
        )
    return label_names


def _label_ids(kept, label_names, errors):
    """Maps label strings to class ids; returns ids, names and kept rows.

    A file's labels are either class names or class ids (whole numbers),
    whichever most of its labels are: a label of the other kind is the one
    at fault (a `neutral` among 0/1 labels is named, not the `0`s). Class
    ids without `label_names` must run from 0 without gaps: a stray
    `100000` among 0/1 labels would otherwise make 100,001 classes.
    """
    values = [label for _, _, label in kept]
    given = label_names
    names = set(given or ())
    styles = [
        "name" if value in names
        else "id" if _CLASS_ID.fullmatch(value)
        else "name" if given is None
        else None  # neither one of the given names nor an id
        for value in values
    ]
    counts = {style: styles.count(style) for style in ("name", "id")}
    if counts["name"] != counts["id"]:
        style = max(counts, key=counts.get)
    else:  # A tie: the first label decides.
        style = next((s for s in styles if s is not None), "name")
    if given is None:
        if style == "id":
            present = {int(v) for v, s in zip(values, styles) if s == "id"}
            first_gap = next(i for i in range(len(present) + 1)
                             if i not in present)
            label_names = tuple(str(i) for i in range(first_gap))
        else:
            label_names = tuple(
                sorted({v for v, s in zip(values, styles) if s == "name"})
            )
    ids, good = [], []
    index = {label: i for i, label in enumerate(label_names)}
    for row, row_style in zip(kept, styles):
        line, _, value = row
        problem = None
        if row_style is None:
            problem = (
                f"unknown label {value!r}; expected one of "
                f"{list(label_names)}."
                if style == "name"
                else f"unknown label {value!r}; expected a class id in "
                f"[0, {len(label_names)}) or one of {list(label_names)}."
            )
        elif row_style == "name" and style == "id" and given is None:
            problem = (
                f"label {value!r} is not a class id, but the other labels "
                "are (whole numbers from 0). Fix the label, or give "
                "label_names (--label-names) to name the classes."
            )
        elif row_style == "id" and style == "name":
            problem = (
                f"unknown label {value!r}; expected one of "
                f"{list(label_names)} (the other labels are names, not "
                "class ids)."
            )
        elif row_style == "id" and int(value) >= len(label_names):
            problem = (
                f"unknown label {value!r}: class ids must lie in "
                f"[0, {len(label_names)}) for label_names "
                f"{list(label_names)}."
                if given is not None
                else f"label {value!r} leaves a gap in the class ids: "
                "integer labels must run from 0 without gaps, and no row "
                f"has label {len(label_names)}. Fix the label, or give "
                "label_names (--label-names) to name every class."
            )
        if problem is not None:
            errors(line, problem)
            continue
        ids.append(index[value] if row_style == "name" else int(value))
        good.append(row)
    return np.asarray(ids, dtype=np.int32), label_names, good
