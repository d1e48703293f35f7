"""Small helpers shared by the text pipelines."""

import json
import os

# The settings file of every tokenizer directory; its "kind" names the class.
CONFIG_FILENAME = "tokenizer.json"


def at_least_one_id(ids):
    """`ids`, or a single `[PAD]` (0) when a text gave no ids at all.

    A batch of texts without tokens would have zero time steps, which an
    RNN cannot run on; one padding step is the same empty, fully masked
    input.
    """
    import tensorflow as tf

    return tf.pad(ids, [[0, tf.maximum(0, 1 - tf.shape(ids)[0])]])


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
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
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
