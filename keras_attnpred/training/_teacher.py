"""Knowledge distillation from a finished run (`TrainingConfig.teacher`)."""

import os

from keras_attnpred.training import _run_files as files
from keras_attnpred.training._tokenizer_files import other_tokenizer
from keras_attnpred.training.training_config import TrainingConfig


def teacher_config(config):
    """The `TrainingConfig` of `config.teacher`, a finished run of the same
    kind of task."""
    from keras_attnpred.training.training_run import read_run_config

    run_dir = os.fspath(config.teacher)
    needed = (files.CONFIG, files.MODEL) + (
        (files.SOURCE_TOKENIZER, files.TARGET_TOKENIZER)
        if config.is_translation
        else (files.TOKENIZER, files.LABELS)
    )
    for name in needed:
        if not os.path.exists(os.path.join(run_dir, name)):
            raise ValueError(
                "`teacher` must be a finished run directory (`attnpred "
                f"train`); it has no {name}. Received: teacher={run_dir!r}"
            )
    theirs = read_run_config(run_dir)
    if theirs.is_translation != config.is_translation or (
        theirs.task == "pretraining"
    ):
        raise ValueError(
            f"`teacher` must be a {'translation' if config.is_translation else 'classification'} "
            f"run like this one, not a {theirs.task!r} run. Received: "
            f"teacher={run_dir!r}"
        )
    return theirs


def with_teacher_settings(config):
    """`config` with the teacher's `max_length` when left out; a longer one
    raises (the teacher sees the student's batches)."""
    theirs = teacher_config(config)
    if config.max_length is None:
        return TrainingConfig.from_dict(
            {**config.to_dict(), "max_length": theirs.max_length}
        )
    if config.max_length > theirs.max_length:
        raise ValueError(
            "`max_length` must be at most the teacher's "
            f"{theirs.max_length}: the teacher reads the same batches. "
            f"Received: max_length={config.max_length}"
        )
    return config


def check_teacher_data(config, dataset):
    """Raises unless `dataset` was made with the teacher's tokenizer(s) and,
    for classification, has its classes in its order."""
    from keras_attnpred.training.training_run import TrainingRun
    name = dataset.directory and other_tokenizer(
        dataset.directory, config.teacher, dataset.tokenizer_names
    )
    if name:
        raise ValueError(
            f"The prepared data in {dataset.directory} was made with "
            f"another {name} than the teacher {config.teacher}: "
            "prepare it with `--tokenizers-from` the teacher. "
            f"Received: prepared={dataset.directory!r}"
        )
    if config.is_classification:
        theirs = TrainingRun.load(config.teacher).label_names
        if tuple(theirs) != tuple(dataset.label_names):
            raise ValueError(
                f"The student's classes must be the teacher's {list(theirs)}"
                f", in that order. Received: label_names "
                f"{list(dataset.label_names)}"
            )


def load_teacher(config):
    """The teacher's model (its run's `model.keras`), not compiled: it
    only predicts."""
    import keras

    return keras.models.load_model(
        os.path.join(config.teacher, files.MODEL), compile=False
    )


def teacher_translations(config, dataset, teacher, batch_size=None):
    """The teacher's beam-search translations of the training sources of
    `dataset` (`RaggedIds`, in their order)."""
    from keras_attnpred.training.sequence_level_targets import (
        sequence_level_targets,
    )

    return sequence_level_targets(
        teacher,
        dataset.part("train")["source"],
        max_length=config.max_length,
        beam_width=config.distillation_beam_width,
        batch_size=batch_size or config.batch_size,
    )


def with_teacher_translations(config, dataset, targets):
    """`dataset` whose training targets are `targets`, the teacher's
    translations of the training sources (`teacher_translations`:
    sequence-level distillation, Kim & Rush 2016), after the references
    with `config.distillation_keep_references`."""
    train = dataset.part("train")
    if config.distillation_keep_references:
        part = {
            "source": train["source"].concatenate(train["source"]),
            "target": train["target"].concatenate(targets),
        }
    else:
        part = {"source": train["source"], "target": targets}
    return dataset.with_parts({**dataset.parts, "train": part})
