"""Attention layers and models for Keras 3: translation, classification, sentiment.

Importing the top-level package is cheap: subpackages (and with them Keras and
TensorFlow) load on first attribute access, e.g. `keras_attnpred.layers`.
"""

import importlib

from keras_attnpred.version import __version__

_SUBPACKAGES = (
    "data",
    "decoding",
    "explain",
    "export",
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
