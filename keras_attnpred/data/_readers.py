"""One entry for the data settings of a run (private): a file, two aligned
files, a URL or a TensorFlow Datasets name (`tfds:NAME[:SPLIT]`)."""

from keras_attnpred.data import _tfds
from keras_attnpred.data.labeled_texts import LabeledTexts
from keras_attnpred.data.parallel_texts import ParallelTexts


def read_labeled_texts(
    path, text_column, label_column, label_names=None, default_split="train"
):
    """`LabeledTexts` from a CSV/TSV path or URL, or from `tfds:NAME[:SPLIT]`
    (`default_split` when no split is given), whose features are named by
    `text_column` and `label_column`."""
    if _tfds.is_tfds_path(path):
        name, split = _tfds.parse_tfds_path(path, default_split)
        for argument, key in (
            ("text_column", text_column),
            ("label_column", label_column),
        ):
            if not isinstance(key, str):
                raise ValueError(
                    f"`{argument}` must name a feature of {path}, not a "
                    f"column index. Received: {argument}={key!r}"
                )
        return LabeledTexts.from_tfds(
            name,
            split,
            text_key=text_column,
            label_key=label_column,
            label_names=label_names,
        )
    return LabeledTexts.from_csv(
        path, text_column, label_column, label_names=label_names
    )


def read_parallel_texts(path, default_split="train"):
    """`ParallelTexts` from one TSV of pairs, a list of two aligned files,
    or `tfds:NAME[:SPLIT]` (its `supervised_keys` as source and target)."""
    if isinstance(path, (list, tuple)):
        if any(_tfds.is_tfds_path(p) for p in path):
            raise ValueError(
                "A TensorFlow Datasets name comes alone, not in a pair of "
                f"files. Received: {list(path)!r}"
            )
        return ParallelTexts.from_files(*path)
    if _tfds.is_tfds_path(path):
        name, split = _tfds.parse_tfds_path(path, default_split)
        return ParallelTexts.from_tfds(name, split)
    return ParallelTexts.from_tsv(path)
