"""Registration of the package's objects with Keras serialization."""

import importlib
import os
import zipfile

import keras

PACKAGE = "keras_attnpred"

# Every module that registers objects. Keras finds a registered class only
# once the module that defines it has been imported.
_REGISTERING_MODULES = (
    "keras_attnpred.layers",
    "keras_attnpred.models",
    "keras_attnpred.training.transformer_schedule",
)


def register(cls):
    """Registers `cls` as `keras_attnpred>ClassName`.

    Models that use a registered class reload with plain
    `keras.models.load_model(path)`, no `custom_objects` needed, once
    `keras_attnpred.layers` (or `load_model` below) has been imported.
    """
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def load_model(path, compile=True):
    """`keras.models.load_model` with every keras_attnpred class registered.

    A process that has not imported the layers yet (a script, a server, the
    command line) can load any model saved with this package.

    Raises:
        ValueError: naming the file, when it is missing or is not a
            readable `.keras` archive (truncated, overwritten, not a model).
    """
    for module in _REGISTERING_MODULES:
        importlib.import_module(module)
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
