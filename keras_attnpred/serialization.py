"""Registration of the package's objects with Keras serialization."""

import importlib

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
    """
    for module in _REGISTERING_MODULES:
        importlib.import_module(module)
    return keras.models.load_model(path, compile=compile)
