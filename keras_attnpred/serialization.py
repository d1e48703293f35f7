"""Registration of the package's objects with Keras serialization."""

import os
import zipfile

import keras

PACKAGE = "keras_attnpred"



def register(cls):
    """Registers `cls` as `keras_attnpred>ClassName`.

    Models that use a registered class reload with plain
    `keras.models.load_model(path)`, no `custom_objects` needed, once
    `keras_attnpred` has been imported.
    """
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def load_model(path, compile=True):
    """`keras.models.load_model`, with the file checked first.

    Importing `keras_attnpred` has registered every class of the package,
    so any model saved with it loads.

    Raises:
        ValueError: naming the file, when it is missing or is not a
            readable `.keras` archive (truncated, overwritten, not a model).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"Missing model file: {path}")
    if path.endswith(".keras") and not zipfile.is_zipfile(path):
        # Keras would call this "File not found".
        raise ValueError(
            f"Corrupt model file {path}: not a `.keras` zip archive "
            "(truncated or overwritten?)"
        )
    try:
        return keras.models.load_model(path, compile=compile)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as error:
        raise ValueError(f"Corrupt model file {path}: {error!r}") from None
