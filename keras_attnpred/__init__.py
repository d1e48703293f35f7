"""Attention layers and models for Keras 3: translation, classification, sentiment.

`import keras_attnpred` makes every serializable class of the package (the
layers, the models, the losses, metrics and learning-rate schedule) known
to Keras, so `keras.models.load_model` reads any `.keras` file of the
package. The import itself is light: it loads neither Keras nor TensorFlow,
so that `attnpred --help` answers at once. The classes are registered as
soon as Keras is imported, before or after this package; the subpackages
load on first attribute access, e.g. `keras_attnpred.export`.
"""

import importlib
import importlib.abc
import sys

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
# Keras finds a registered class only once the module defining it has run.
_REGISTERING = (
    "keras_attnpred.layers",
    "keras_attnpred.models",
    "keras_attnpred.training.layerwise_decay_adamw",
    "keras_attnpred.training.transformer_schedule",
)

__all__ = ["__version__", *_SUBPACKAGES]


def _register_classes():
    for name in _REGISTERING:
        importlib.import_module(name)


class _RegisterWithKeras(importlib.abc.MetaPathFinder):
    """Registers the classes once `keras` has been imported.

    It watches the import of `keras` and of this package's modules, and
    imports the registering modules as soon as Keras is loaded and no module
    of this package is half-way through its own import (one of them may be
    what imported Keras, and the registering modules import it in turn).
    Then it takes itself off `sys.meta_path`.
    """

    def __init__(self):
        self.running = 0  # modules of this package being executed
        self.keras_loaded = False
        self.done = False

    def find_spec(self, fullname, path, target=None):
        if self.done or not (
            fullname == "keras" or fullname.startswith(__name__ + ".")
        ):
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module
        ours = fullname != "keras"

        def exec_module(module):
            self.running += ours
            try:
                run(module)
            finally:
                self.running -= ours
            self.keras_loaded |= not ours
            if self.keras_loaded and not self.running and not self.done:
                self.done = True
                if self in sys.meta_path:
                    sys.meta_path.remove(self)
                _register_classes()

        # The loader is this spec's own object: patching it touches no
        # other import.
        spec.loader.exec_module = exec_module
        return spec


if "keras" in sys.modules:
    _register_classes()
else:
    sys.meta_path.insert(0, _RegisterWithKeras())


def __getattr__(name):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
