"""Fine-tuning from a pretraining run (`TrainingConfig.init_from`)."""

import os

from keras_attnpred.training import _run_files as files
from keras_attnpred.training._tokenizer_files import other_tokenizer
from keras_attnpred.training.training_config import TrainingConfig

# Sizes a fine-tuned classifier takes from the pretraining run's encoder (its
# tokenizer is the run's, checked file by file, and so are the vocabulary
# settings of the data prepared with it).
_INHERITED = ("preset", "bigram_buckets")
_DEFAULTS = TrainingConfig.defaults()


def pretraining_config(run_dir):
    """The `TrainingConfig` of the pretraining run `run_dir`."""
    from keras_attnpred.training.training_run import read_run_config

    run_dir = os.fspath(run_dir)
    for name in (files.CONFIG, files.MODEL, files.TOKENIZER):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise ValueError(
                "`init_from` must be a pretraining run directory (`attnpred "
                f"pretrain`); it has no {name}. Received: "
                f"init_from={run_dir!r}"
            )
    config = read_run_config(run_dir)
    if config.task != "pretraining":
        raise ValueError(
            "`init_from` must be a pretraining run, not a "
            f"{config.task!r} run. Received: init_from={run_dir!r}"
        )
    return config


def with_pretrained_settings(config):
    """`config` with the sizes of its `init_from` run's encoder; a size
    given another value than the run's raises."""
    pretrained = pretraining_config(config.init_from)
    updates = {}
    for name in _INHERITED:
        theirs, ours = getattr(pretrained, name), getattr(config, name)
        if ours == theirs:
            continue
        if ours != _DEFAULTS[name]:
            raise ValueError(
                f"`{name}` must be the pretrained encoder's ({theirs!r}) "
                f"when fine-tuning from {config.init_from}, or be left out. "
                f"Received: {name}={ours!r}"
            )
        updates[name] = theirs
    if config.max_length is None:
        updates["max_length"] = pretrained.max_length
    elif config.max_length > pretrained.max_length:
        raise ValueError(
            "`max_length` must be at most the pretrained encoder's "
            f"{pretrained.max_length} (its position table). Received: "
            f"max_length={config.max_length}"
        )
    if not updates:
        return config
    return TrainingConfig.from_dict({**config.to_dict(), **updates})


def check_pretrained_tokenizer(config, dataset):
    """Raises unless the prepared `dataset` was made with the tokenizer of
    `config.init_from`."""
    if other_tokenizer(
        dataset.directory, config.init_from, [files.TOKENIZER]
    ):
        raise ValueError(
            f"The prepared data in {dataset.directory} was made with another "
            f"tokenizer than the pretrained run {config.init_from}: prepare "
            "it with `--tokenizers-from` that run. Received: "
            f"prepared={dataset.directory!r}"
        )


def pretrained_backbone(config):
    """The encoder of `config.init_from`, rebuilt with `config`'s dropout
    (when given) and the pretrained weights."""
    import keras

    from keras_attnpred import models

    model = keras.models.load_model(
        os.path.join(config.init_from, files.MODEL), compile=False
    )
    pretrained = model.backbone
    overrides = {
        name: getattr(config, name)
        for name in ("dropout", "activation_dropout")
        if getattr(config, name) is not None
    }
    if not overrides:
        return pretrained
    backbone = models.TransformerEncoderBackbone.from_config(
        {**pretrained.get_config(), **overrides}
    )
    backbone.set_weights(pretrained.get_weights())
    return backbone
