"""Reading TensorFlow Datasets by name (private): `tfds:NAME[:SPLIT]`
strings, the lazy import and the examples of one split."""

import re

TFDS_PREFIX = "tfds:"
# The split: after the last colon outside brackets ("train[:10%]+test").
_TFDS_PATH = re.compile(
    r"tfds:(?P<name>[^:\[\]](?:[^\[\]]*?[^:\[\]])?)"
    r"(?::(?P<split>(?:[^:\[\]]|\[[^\]]*\])+))?"
)


def is_tfds_path(value):
    """Whether `value` names a TensorFlow Datasets split (`tfds:...`)."""
    return isinstance(value, str) and value.startswith(TFDS_PREFIX)


def parse_tfds_path(value, default_split):
    """`(name, split)` of `"tfds:NAME"` or `"tfds:NAME:SPLIT"`.

    The split follows the last colon outside brackets
    (`tfds:imdb_reviews:train[:10%]`); a versioned name
    (`imdb_reviews:1.0.0`) therefore needs its split too
    (`tfds:imdb_reviews:1.0.0:train`).
    """
    match = _TFDS_PATH.fullmatch(value)
    if match is None:
        raise ValueError(
            "A TensorFlow Datasets source must read `tfds:NAME` or "
            f"`tfds:NAME:SPLIT`. Received: {value!r}"
        )
    return match["name"], match["split"] or default_split


def import_tfds():
    try:
        import tensorflow_datasets
    except ImportError:
        raise ModuleNotFoundError(
            "Reading a TensorFlow Datasets name needs the "
            "`tensorflow-datasets` package: pip install tensorflow-datasets "
            '(or "keras-attnpred[tfds]")'
        ) from None
    return tensorflow_datasets


def load_split(name, split, data_dir):
    """The examples of one split, as dicts of NumPy values, and its info.

    Args:
        name: str, the dataset name (with config and version if any).
        split: str, a TFDS split such as `"train"` or `"test[:10%]"`.
        data_dir: optional str, where TFDS keeps its data.

    Returns:
        `(source, examples, info)`: `"tfds:NAME:SPLIT"` for messages, an
        iterator of dicts, and the `DatasetInfo`.
    """
    tfds = import_tfds()
    source = f"{TFDS_PREFIX}{name}:{split}"
    for argument, key in (("name", name), ("split", split)):
        if not isinstance(key, str) or not key:
            raise ValueError(
                f"`{argument}` must be a non-empty str. Received: "
                f"{argument}={key!r}"
            )
    try:
        dataset, info = tfds.load(
            name, split=split, data_dir=data_dir, with_info=True
        )
    except (ValueError, KeyError, AssertionError) as error:
        # Unknown names and splits; TFDS names what it knows.
        raise ValueError(f"{source}: {error}") from None
    return source, dataset.as_numpy_iterator(), info


def check_keys(source, info, keys):
    """Raises unless each value of `keys` (argument name to feature key) is
    a feature of the dataset."""
    features = list(info.features.keys())
    for argument, key in keys.items():
        if key not in features:
            raise ValueError(
                f"{source}: `{argument}` must be a feature of the dataset, "
                f"one of {features}. Received: {argument}={key!r}"
            )


def as_text(value):
    """A text feature's value as str; None when it is not valid UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, str):
        return value
    return None
