"""Training runs from a configuration: data, tokenizers, distribution,
checkpoints, TensorBoard and a run directory that reloads.

`prepare` reads and tokenizes a dataset once (TensorFlow Text); `train`
on the folder it writes needs no TensorFlow on another backend, where
distribution goes through `keras.distribution`. Training on raw data
prepares it in memory first, then takes the same path.

The names load on first use, so that reading a `TrainingConfig` (the
command line's `--help`) imports neither Keras nor TensorFlow.
"""

import importlib

_NAMES = {
    "get_strategy": "get_strategy",
    "prepare": "prepare",
    "train": "train",
    "TrainingConfig": "training_config",
    "TrainingDivergedError": "training_diverged_error",
    "TrainingRun": "training_run",
    "TransformerSchedule": "transformer_schedule",
}

__all__ = sorted(_NAMES)


def __getattr__(name):
    if name in _NAMES:
        module = importlib.import_module(f"{__name__}.{_NAMES[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(__all__) | set(globals()))
