from keras_attnpred.data import _tfds
from keras_attnpred.data.labeled_texts import LabeledTexts


def read_labeled_texts(
    path,
    text_column,
    label_column,
    label_names=None,
    default_split="train",
    delimiter=None,
):
    """`LabeledTexts` from any path a run's data settings accept.

    One entry for the CLI, `train` and the exports: a CSV/TSV path or URL
    (`LabeledTexts.from_csv`), or a TensorFlow Datasets name
    `tfds:NAME[:SPLIT]` (`LabeledTexts.from_tfds`) whose features are named
    by `text_column` and `label_column`.

    Args:
        path: str, a file, a URL or `tfds:NAME[:SPLIT]`.
        text_column: the text column (name or index) or feature (name).
        label_column: the label column (name or index) or feature (name).
        label_names: optional class names, as in `LabeledTexts.from_csv`.
        default_split: the split of a `tfds:NAME` path without one.
        delimiter: optional one character, a CSV/TSV file's delimiter
            (default: detected, see `LabeledTexts.from_csv`).

    Returns:
        A `LabeledTexts`.

    Raises:
        ValueError: as the reader of that kind of path, or a column index
            given for a TensorFlow Datasets feature.

    Example:

    >>> with open("reviews.csv", "w", encoding="utf-8") as f:
    ...     _ = f.write("review,label\\nA wonderful film.,pos\\nDull.,neg\\n")
    >>> data = read_labeled_texts("reviews.csv", "review", "label")
    >>> data.label_names, data.labels.tolist()
    (('neg', 'pos'), [1, 0])
    >>> read_labeled_texts("tfds:imdb_reviews", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: `text_column` must name a feature of tfds:imdb_reviews, not a column index. Received: text_column=0
    """
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
        path,
        text_column,
        label_column,
        label_names=label_names,
        delimiter=delimiter,
    )
