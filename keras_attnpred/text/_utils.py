"""Small helpers shared by the text pipelines."""

import json
import os

import numpy as np

# The settings file of every tokenizer directory; its "kind" names the class.
CONFIG_FILENAME = "tokenizer.json"


def check_tokenizer(name, tokenizer):
    """Raises a `ValueError` unless `tokenizer` has `tokenize` and `PAD_ID`."""
    if not callable(getattr(tokenizer, "tokenize", None)):
        raise ValueError(
            f"`{name}` must be a `SubwordTokenizer` (or have `tokenize`). "
            f"Received: {name} of type {type(tokenizer).__name__}"
        )


def at_least_one_id(ids):
    """`ids`, or a single `[PAD]` (0) when a text gave no ids at all.

    A batch of texts without tokens would have zero time steps, which an
    RNN cannot run on; one padding step is the same empty, fully masked
    input.
    """
    import tensorflow as tf

    return tf.pad(ids, [[0, tf.maximum(0, 1 - tf.shape(ids)[0])]])


def resolve_bucket_boundaries(bucket_boundaries, lengths, max_length):
    """Checks explicit boundaries, or computes them from length quantiles.

    Args:
        bucket_boundaries: None, `"auto"`, or strictly increasing ints > 1.
        lengths: callable returning a 1-D NumPy array of the (truncated)
            sequence lengths; only called for `"auto"`, which needs a pass
            over the data.
        max_length: the longest sequence a batch can hold.

    Returns:
        None (no bucketing) or a list of strictly increasing ints.
    """
    if bucket_boundaries is None:
        return None
    if isinstance(bucket_boundaries, str):
        if bucket_boundaries != "auto":
            raise ValueError(
                "`bucket_boundaries` must be None, 'auto' or a strictly "
                "increasing list of integers > 1. "
                f"Received: bucket_boundaries={bucket_boundaries!r}"
            )
        return _auto_boundaries(lengths(), max_length)
    boundaries = list(bucket_boundaries)
    valid = bool(boundaries) and all(
        isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b > 1
        for b in boundaries
    )
    valid = valid and all(a < b for a, b in zip(boundaries, boundaries[1:]))
    if not valid:
        raise ValueError(
            "`bucket_boundaries` must be None, 'auto' or a strictly "
            "increasing list of integers > 1. "
            f"Received: bucket_boundaries={bucket_boundaries!r}"
        )
    return [int(b) for b in boundaries]


def _auto_boundaries(lengths, max_length, num_buckets=8):
    # Equal-population buckets: each holds about the same number of
    # sequences, so every bucket fills batches at a similar rate and the
    # lengths inside a batch stay close. A boundary `b` holds lengths < b.
    quantiles = np.linspace(0.0, 1.0, num_buckets + 1)[1:-1]
    cuts = np.ceil(np.quantile(np.asarray(lengths), quantiles)).astype(int) + 1
    boundaries = sorted({int(c) for c in cuts if 1 < c <= max_length})
    return boundaries or None


def read_tokenizer_config(directory, cls=None):
    """`(path, settings)` of the `tokenizer.json` in `directory`.

    With `cls`, the file must be that class's: its `"class_name"`, and its
    `"kind"` when the file has one (files written before there were two
    kinds have none).

    Raises:
        ValueError: naming the file, when it is missing, not JSON, not a
            JSON object or another class's.
    """
    config_path = os.path.join(directory, CONFIG_FILENAME)
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        raise ValueError(
            f"Missing tokenizer settings file: {config_path}"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"Corrupt tokenizer settings file {config_path}: {error}"
        ) from None
    if cls is None:
        if not isinstance(config, dict):
            raise ValueError(
                f"Corrupt tokenizer settings file {config_path}: expected a "
                "JSON object"
            )
        return config_path, config
    if (
        not isinstance(config, dict)
        or config.get("class_name") != cls.__name__
        or config.get("kind", cls.KIND) != cls.KIND
    ):
        raise ValueError(
            f"Corrupt tokenizer settings file {config_path}: expected a "
            f"JSON object with class_name={cls.__name__!r} and "
            f"kind={cls.KIND!r}"
        )
    return config_path, config
