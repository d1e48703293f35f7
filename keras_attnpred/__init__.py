"""Attention layers and models for Keras 3: translation, classification, sentiment.

`import keras_attnpred` registers every serializable class (the layers, the
models, the losses, metrics and learning-rate schedule), so
`keras.models.load_model` reads any `.keras` file of the package. It imports
Keras, but not TensorFlow on another backend; the other subpackages load on
first attribute access, e.g. `keras_attnpred.export`.
"""

import importlib

# Keras finds a registered class only once the module defining it has run.
from keras_attnpred import layers
from keras_attnpred import models
from keras_attnpred.training import transformer_schedule  # noqa: F401
from keras_attnpred.version import __version__

_SUBPACKAGES = (
    "data",
    "decoding",
    "explain",
    "export",
    "inference",
    "layers",
    "models",
    "ops",
    "text",
    "training",
)

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
