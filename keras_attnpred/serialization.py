"""Registration of the package's objects with Keras serialization."""

import keras

PACKAGE = "keras_attnpred"


def register(cls):
    """Registers `cls` as `keras_attnpred>ClassName`.

    Models that use a registered class reload with plain
    `keras.models.load_model(path)`, no `custom_objects` needed.
    """
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)
