"""Training runs from a configuration: data, tokenizers, distribution,
checkpoints, TensorBoard and a run directory that reloads.

`prepare` reads and tokenizes a dataset once (TensorFlow Text); `train`
on the folder it writes needs no TensorFlow on another backend, where
distribution goes through `keras.distribution`. Training on raw data
prepares it in memory first, then takes the same path. `task:
"pretraining"` (`attnpred pretrain`) pretrains a Transformer encoder, and
`init_from` fine-tunes it (`lora_rank` for LoRA, `layer_decay` with
`LayerwiseDecayAdamW`); `teacher` distils a finished run into a smaller
model (`attnpred distill`; `sequence_level_targets` for translators).
`tune` searches the settings of a `SearchSpace` with KerasTuner
(`attnpred tune`), each trial a `train` run.

The names load on first use, so that reading a `TrainingConfig` (the
command line's `--help`) imports neither Keras nor TensorFlow.
"""

import importlib
import sys
import types

_NAMES = {
    "get_strategy": "get_strategy",
    "LayerwiseDecayAdamW": "layerwise_decay_adamw",
    "prepare": "prepare",
    "SearchSpace": "search_space",
    "sequence_level_targets": "sequence_level_targets",
    "train": "train",
    "TrainingConfig": "training_config",
    "TrainingDivergedError": "training_diverged_error",
    "TrainingRun": "training_run",
    "TransformerSchedule": "transformer_schedule",
    "tune": "tune",
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


class _Package(types.ModuleType):
    """Keeps `train`, `prepare`, `tune` and `get_strategy` the functions: importing
    the submodule of the same name would otherwise bind the module over
    the name."""

    def __setattr__(self, name, value):
        if _NAMES.get(name) == name and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
