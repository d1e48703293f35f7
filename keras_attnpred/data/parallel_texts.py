import numpy as np

from keras_attnpred.data import _tfds
from keras_attnpred.data import text_file


class ParallelTexts:
    """Aligned source and target sentences for translation, read strictly.

    An immutable container of sentence pairs. Reading never misaligns the
    two sides in silence: two files of different lengths always raise, and
    an empty sentence or a malformed row either raises a `ValueError` naming
    the file and the 1-based line or, with `on_error="skip"`, drops the
    whole pair, counts it in `skipped` and logs a warning.

    Args:
        sources: sequence of str.
        targets: sequence of str, as many as `sources`.
        skipped: int, how many bad pairs were left out when reading.

    Attributes:
        sources: tuple of str.
        targets: tuple of str.
        skipped: int.

    Example:

    >>> with open("val.de", "w", encoding="utf-8") as f:
    ...     _ = f.write("Ein Hund läuft.\\nZwei Katzen schlafen.\\n")
    >>> with open("val.en", "w", encoding="utf-8") as f:
    ...     _ = f.write("A dog runs.\\nTwo cats sleep.\\n")
    >>> pairs = ParallelTexts.from_files("val.de", "val.en")  # de→en
    >>> pairs.sources[0], pairs.targets[0]
    ('Ein Hund läuft.', 'A dog runs.')
    >>> english_to_german = pairs.reversed()
    >>> english_to_german.sources[1]
    'Two cats sleep.'
    >>> train, validation = pairs.split((0.5, 0.5), seed=0)
    >>> len(train), len(validation)
    (1, 1)
    """

    __slots__ = ("_sources", "_targets", "_skipped")

    def __init__(self, sources, targets, skipped=0):
        sources, targets = tuple(sources), tuple(targets)
        if not all(isinstance(s, str) for s in sources + targets):
            raise ValueError("`sources` and `targets` must all be strings.")
        if len(sources) != len(targets):
            raise ValueError(
                f"Got {len(sources)} sources but {len(targets)} targets: "
                "they must be aligned one to one."
            )
        if isinstance(skipped, bool) or not isinstance(skipped, int) or (
            skipped < 0
        ):
            raise ValueError(
                "`skipped` must be a non-negative integer. "
                f"Received: skipped={skipped!r}"
            )
        self._sources = sources
        self._targets = targets
        self._skipped = skipped

    @property
    def sources(self):
        return self._sources

    @property
    def targets(self):
        return self._targets

    @property
    def skipped(self):
        return self._skipped

    def __len__(self):
        return len(self._sources)

    def __repr__(self):
        return f"ParallelTexts({len(self)} pairs, skipped={self._skipped})"

    @classmethod
    def from_tsv(
        cls,
        path_or_url,
        source_column=0,
        target_column=1,
        header=False,
        on_error="raise",
        file_hash=None,
        cache_dir=None,
    ):
        """Reads sentence pairs from a tab-separated file, local or URL.

        Fields are not quoted: a `"` is part of the text. Plain or gzip
        (recognised by its bytes), UTF-8, blank lines ignored. Every row
        must have as many fields as the header (without a header: as the
        first row), e.g. Tatoeba's `English<TAB>Spanish` or the Anki files'
        `English<TAB>Spanish<TAB>attribution`.

        Args:
            path_or_url: local path, or an `http(s)://` URL downloaded once
                into the Keras cache with `keras.utils.get_file`.
            source_column: column name (needs `header=True`) or 0-based
                index of the source sentence.
            target_column: column name or 0-based index of the target.
            header: bool, whether the first row names the columns.
            on_error: `"raise"` (default) or `"skip"`: what to do with a row
                with the wrong number of fields or an empty sentence.
            file_hash: optional SHA-256 or MD5 hex digest to verify.
            cache_dir: where downloads are kept; default `~/.keras`.

        Returns:
            A `ParallelTexts`.

        Raises:
            ValueError: naming the file, and the 1-based line where a row is
                at fault.
        """
        text_file.check_on_error(on_error)
        name, rows = text_file.delimited_rows(
            path_or_url,
            delimiter="\t",
            quoted=False,
            file_hash=file_hash,
            cache_dir=cache_dir,
        )
        rows, width, (source_index, target_index) = text_file.split_header(
            name,
            rows,
            header,
            {"source_column": source_column, "target_column": target_column},
        )

        errors = text_file.RowErrors(name, on_error, what="pairs")
        sources, targets = [], []
        for line, fields in rows:
            if len(fields) != width:
                errors(line, f"expected {width} fields, found {len(fields)}.")
                continue
            source, target = fields[source_index], fields[target_index]
            if not source.strip() or not target.strip():
                side = "source" if not source.strip() else "target"
                errors(line, f"empty {side} sentence.")
                continue
            sources.append(source)
            targets.append(target)
        errors.log()
        return cls(sources, targets, skipped=errors.count)

    @classmethod
    def from_tfds(
        cls,
        name,
        split="train",
        source_key=None,
        target_key=None,
        data_dir=None,
        on_error="raise",
    ):
        """Reads sentence pairs from a TensorFlow Datasets split.

        Needs the `tensorflow-datasets` package (imported only here), which
        downloads and prepares the dataset the first time.

        Args:
            name: str, the dataset name, e.g. `"ted_hrlr_translate/pt_to_en"`
                or `"wmt14_translate/de-en"`.
            split: str, a TFDS split, e.g. `"train"` or `"validation"`.
            source_key: str, the source feature (a language code for
                translation datasets); default the first of the dataset's
                `supervised_keys`.
            target_key: str, the target feature; default the second of its
                `supervised_keys`.
            data_dir: optional str, where TFDS keeps its data.
            on_error: `"raise"` (default) or `"skip"`: what to do with a
                pair where either sentence is empty or not UTF-8.

        Returns:
            A `ParallelTexts`.

        Raises:
            ModuleNotFoundError: `tensorflow-datasets` is not installed.
            ValueError: an unknown dataset, split or feature, no keys given
                for a dataset without `supervised_keys`, or a bad pair
                (named by its 1-based position in the split).

        Example:

        >>> pairs = ParallelTexts.from_tfds(
        ...     "ted_hrlr_translate/pt_to_en", "validation")  # pt -> en
        """
        text_file.check_on_error(on_error)
        source, examples, info = _tfds.load_split(name, split, data_dir)
        if source_key is None or target_key is None:
            supervised = getattr(info, "supervised_keys", None)
            if not (
                isinstance(supervised, (list, tuple)) and len(supervised) == 2
            ):
                raise ValueError(
                    f"{source}: the dataset has no (source, target) "
                    "`supervised_keys`: give `source_key` and `target_key`. "
                    f"Received: source_key={source_key!r}, "
                    f"target_key={target_key!r}"
                )
            source_key = supervised[0] if source_key is None else source_key
            target_key = supervised[1] if target_key is None else target_key
        _tfds.check_keys(
            source, info, {"source_key": source_key, "target_key": target_key}
        )
        errors = text_file.RowErrors(source, on_error, "pairs", "example")
        sources, targets = [], []
        for index, example in enumerate(examples, 1):
            pair = []
            for side, key in (("source", source_key), ("target", target_key)):
                text = _tfds.as_text(example[key])
                if text is None:
                    errors(index, f"the {side} is not valid UTF-8 text.")
                elif not text.strip():
                    errors(index, f"empty {side} sentence.")
                else:
                    pair.append(text)
                    continue
                break
            if len(pair) == 2:
                sources.append(pair[0])
                targets.append(pair[1])
        errors.log()
        return cls(sources, targets, skipped=errors.count)

    @classmethod
    def from_files(
        cls,
        source_path_or_url,
        target_path_or_url,
        on_error="raise",
        source_hash=None,
        target_hash=None,
        cache_dir=None,
    ):
        """Reads sentence pairs from two line-aligned files, local or URLs.

        Line `i` of one file translates line `i` of the other, as in
        Multi30k or WMT. Lines end at `\\n` only (a `\\r` before it is
        dropped); other Unicode line separators stay inside the sentence,
        so the alignment holds. Each file may be plain or gzip, and must be
        UTF-8.

        Args:
            source_path_or_url: the source-language file.
            target_path_or_url: the target-language file.
            on_error: `"raise"` (default) or `"skip"`: what to do with a
                pair where either line is empty (whitespace only). Files of
                different lengths always raise.
            source_hash: optional SHA-256 or MD5 hex digest of the source
                file.
            target_hash: the same for the target file.
            cache_dir: where downloads are kept; default `~/.keras`.

        Returns:
            A `ParallelTexts`.

        Raises:
            ValueError: the files have different numbers of lines (both
                named, with both counts), or an empty line (file and 1-based
                line named).
        """
        text_file.check_on_error(on_error)
        source_name, source_lines = text_file.numbered_lines(
            source_path_or_url, source_hash, cache_dir
        )
        target_name, target_lines = text_file.numbered_lines(
            target_path_or_url, target_hash, cache_dir
        )
        if len(source_lines) != len(target_lines):
            raise ValueError(
                "The two files of a parallel corpus must have the same "
                f"number of lines. Received: {len(source_lines)} lines in "
                f"{source_name} and {len(target_lines)} lines in "
                f"{target_name}."
            )
        source_errors = text_file.RowErrors(source_name, on_error, "lines")
        target_errors = text_file.RowErrors(target_name, on_error, "lines")
        sources, targets = [], []
        for (line, source), (_, target) in zip(source_lines, target_lines):
            bad = False
            if not source.strip():
                source_errors(line, "empty line (its pair is dropped).")
                bad = True
            if not target.strip():
                target_errors(line, "empty line (its pair is dropped).")
                bad = True
            if bad:
                continue
            sources.append(source)
            targets.append(target)
        skipped = len(source_lines) - len(sources)
        source_errors.log()
        target_errors.log()
        return cls(sources, targets, skipped=skipped)

    def reversed(self):
        """Returns the pairs with sources and targets swapped."""
        return ParallelTexts(self._targets, self._sources, self._skipped)

    def shuffled(self, seed=0):
        """Returns the same pairs in a random order.

        Args:
            seed: int, the same seed gives the same order.
        """
        order = np.random.default_rng(seed).permutation(len(self))
        return self._take(order, self._skipped)

    def split(self, fractions=(0.9, 0.1), seed=0):
        """Splits at random into disjoint parts that cover every pair.

        Args:
            fractions: positive numbers summing to 1, one per part.
            seed: int, the same seed gives the same parts.

        Returns:
            A tuple of `ParallelTexts`, one per fraction, each in shuffled
            order, with `skipped=0`.

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
        return ParallelTexts(
            [self._sources[i] for i in indices],
            [self._targets[i] for i in indices],
            skipped=skipped,
        )
