from keras_attnpred.data import _tfds
from keras_attnpred.data.parallel_texts import ParallelTexts


def read_parallel_texts(path, default_split="train"):
    """`ParallelTexts` from any path a run's data settings accept.

    One entry for the CLI, `train` and the exports: one TSV of pairs
    (`ParallelTexts.from_tsv`), a list of two aligned files
    (`ParallelTexts.from_files`), or a TensorFlow Datasets name
    `tfds:NAME[:SPLIT]` (`ParallelTexts.from_tfds`: its `supervised_keys`
    as source and target).

    Args:
        path: str, or a list or tuple of two str.
        default_split: the split of a `tfds:NAME` path without one.

    Returns:
        A `ParallelTexts`.

    Raises:
        ValueError: as the reader of that kind of path, or a TensorFlow
            Datasets name inside a pair of files.

    Example:

    >>> with open("pairs.tsv", "w", encoding="utf-8") as f:
    ...     _ = f.write("A dog runs.\\tUn perro corre.\\n")
    >>> read_parallel_texts("pairs.tsv").targets
    ('Un perro corre.',)
    >>> with open("val.en", "w", encoding="utf-8") as f:
    ...     _ = f.write("Two cats sleep.\\n")
    >>> with open("val.es", "w", encoding="utf-8") as f:
    ...     _ = f.write("Dos gatos duermen.\\n")
    >>> read_parallel_texts(["val.en", "val.es"]).sources
    ('Two cats sleep.',)
    """
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
