import os
import shutil

import keras
import numpy as np

from keras_attnpred import models
from keras_attnpred.data import PreparedDataset
from keras_attnpred.training import _backup
from keras_attnpred.training import _run_files as files
from keras_attnpred.training._batch_feeds import keras_data
from keras_attnpred.training._checkpoint_averaging import EpochWeights
from keras_attnpred.training._checkpoint_averaging import average_checkpoints
from keras_attnpred.training._data_settings import resolve_data_settings
from keras_attnpred.training._distribution import batch_divisor
from keras_attnpred.training._distribution import num_replicas
from keras_attnpred.training._kept_weights import EpochCopies
from keras_attnpred.training._kept_weights import keep_best_weights
from keras_attnpred.training._model_factory import build_loss
from keras_attnpred.training._model_factory import build_metrics
from keras_attnpred.training._model_factory import build_model
from keras_attnpred.training._model_factory import build_optimizer
from keras_attnpred.training._model_factory import pretraining_batch_settings
from keras_attnpred.training._pretrained_encoder import (
    check_pretrained_tokenizer,
)
from keras_attnpred.training._pretrained_encoder import with_pretrained_settings
from keras_attnpred.training._resume_checks import check_same_run
from keras_attnpred.training._resume_checks import data_fingerprint
from keras_attnpred.training._run_directory import directory_to_write
from keras_attnpred.training._run_directory import make_run_directory
from keras_attnpred.training._run_directory import save_run
from keras_attnpred.training._run_guard import FailedStartCleanup
from keras_attnpred.training._run_guard import check_may_train_into
from keras_attnpred.training._run_guard import remove_run
from keras_attnpred.training._run_history import RunHistory
from keras_attnpred.training._teacher import check_teacher_data
from keras_attnpred.training._teacher import load_teacher
from keras_attnpred.training._teacher import teacher_translations
from keras_attnpred.training._teacher import with_teacher_settings
from keras_attnpred.training._teacher import with_teacher_translations
from keras_attnpred.training._training_callbacks import TimeLimit
from keras_attnpred.training._training_callbacks import tensorflow_available
from keras_attnpred.training._training_callbacks import training_callbacks
from keras_attnpred.training._training_callbacks import write_hparams
from keras_attnpred.training.get_strategy import get_strategy
from keras_attnpred.training.prepare import prepare_in_memory
from keras_attnpred.training.training_config import TrainingConfig
from keras_attnpred.training.training_run import TrainingRun


def train(config, out_dir, callbacks=None, verbose="auto", overwrite=False):
    """Trains a translator or a text classifier and writes a run directory.

    With `config.prepared`, trains on the token ids of a folder written by
    `prepare` (`attnpred prepare`): this needs NumPy and Keras only, on any
    backend. Otherwise reads the data, learns the tokenizer(s) on the
    training part and prepares the ids in memory, then takes the same path.
    Batches are NumPy arrays grouped by length (`PreparedBatches`), fed to
    `model.fit` as a `tf.data.Dataset` on TensorFlow (for `tf.distribute`)
    and a `keras.utils.PyDataset` elsewhere; the model and optimizer are
    built inside the distribution strategy's scope. Before the first epoch
    (unless `verbose=0`) it prints the rows, labels and lengths of each
    part, the share of texts `max_length` cuts and the parameter count.

    A finished run is never replaced unless `overwrite=True`: training into
    a directory that holds `model.keras` and no backup to resume from
    raises a `ValueError` (with `overwrite`, its files are deleted once the
    new run has read its data and built its model). A call that fails
    before its first epoch ends (bad settings, bad data, an interruption)
    leaves nothing behind: what it wrote is removed, the directory too if
    it made it.

    An interrupted run resumes:
    call `train` again with the same configuration and `out_dir`, and it
    continues after the last completed epoch. The backup of each epoch is
    written to a temporary file and renamed into place, the one before kept
    until then, so a kill at any moment leaves one to resume from; an
    unreadable one is named with the ways out. A run stopped after its
    last epoch (in the final evaluation or while saving) is evaluated and
    saved by the rerun without training again. Only `epochs` and
    `early_stopping_patience` may change in between; other settings, other
    data or another tokenizer (compared by a SHA-256 of the token ids and
    of the tokenizer files) raise a `ValueError` rather than mix two runs.
    Resuming gives the same weights
    as an uninterrupted run on one CPU: the batches of epoch `e` are
    shuffled with seed `config.seed + e` and the dropout seeds are reset at
    every epoch from the epoch number, so neither depends on what ran
    before. Each epoch's backup also holds the history so far, the
    training seconds so far, the best epoch's weights and the weights of
    the epochs checkpoint averaging may need, and the state of early
    stopping: a resumed run reports, keeps and averages as if it had never
    stopped.

    The run directory:

    ```
    out_dir/config.json              TrainingConfig.to_dict()
    out_dir/model.keras              the run's model: the best epoch's
                                     weights by `monitor` (or their
                                     checkpoint average, when it validates
                                     better)
    out_dir/checkpoints/best.keras   the model of the best epoch (`monitor`)
    out_dir/checkpoints/last.keras   the model of the last epoch
    out_dir/backup/                  the last two epochs' weights and
                                     state (`_backup`), the settings and
                                     data fingerprint they were made
                                     with, a translator teacher's
                                     translations, after training the
                                     final weights (emptied once the run
                                     is saved)
    out_dir/logs/                    TensorBoard: train/, validation/
                                     (losses, metrics, learning rate) and
                                     hparams/ (the configuration); only
                                     where TensorFlow is installed
    out_dir/metrics.json             final metrics and run facts (written
                                     last: the run is complete with it)
    classification: out_dir/tokenizer/, out_dir/labels.json
    translation:    out_dir/source_tokenizer/, out_dir/target_tokenizer/,
                    out_dir/translator.json ({"max_length": N})
    ```

    `metrics.json` holds `"train"`, `"validation"` and (with a `test_path`)
    `"test"`, each `{"loss", "accuracy"}` of the run's model evaluated
    without dropout (for translation the token accuracy without padding),
    and `"training_seconds"` (of every call, for a resumed run),
    `"parameter_count"`,
    `"trainable_parameter_count"`, `"padding_fraction"` (of the training
    batches' inputs), `"epochs_completed"`, `"stopped_by_time_limit"`
    (see `time_limit`), `"history"`
    (per-epoch logs of every epoch), `"num_replicas"` and, with
    `average_last_epochs`, `"checkpoint_averaging"` (the epochs averaged,
    both validation scores and the weights kept), and `"weights"`: what
    `model.keras` holds, `{"kept": "best", "epoch": N, "monitor": ...,
    "value": ..., "last_epoch": M}` (`"kept": "average"` and `"epochs":
    [first, last]` when the checkpoint average was kept).

    A loss that becomes NaN or infinite stops training at once with a
    `TrainingDivergedError`; nothing of that epoch is saved, so `backup/`
    and `checkpoints/best.keras` keep the last good state. Under
    `"mixed_float16"` Keras wraps the optimizer in a
    `keras.optimizers.LossScaleOptimizer` (dynamic loss scaling), so
    gradients that overflow float16 skip a step rather than break the run.

    Under `"multi-worker"` every worker trains, but only the chief writes
    `out_dir`; the other workers write to a temporary directory of their
    own, which is removed once training ends without error (and kept after
    a failure, for resuming).

    Args:
        config: a `TrainingConfig` or a dict for `TrainingConfig.from_dict`.
        out_dir: str, the run directory; created if missing.
        callbacks: optional list of extra `keras.callbacks.Callback`s.
        verbose: passed to `fit` and `evaluate`: `"auto"`, 0, 1 (progress
            bars) or 2.
        overwrite: bool, replace a finished run in `out_dir`.

    Returns:
        A `TrainingRun` holding the trained model, tokenizer(s), label names
        and metrics.

    Example:

    >>> # A CSV `text,label`: 1 (positive) or 0 (negative), told by one word.
    >>> good, bad = ["wonderful", "great", "fine"], ["dull", "awful", "poor"]
    >>> with open("reviews.csv", "w") as f:
    ...     _ = f.write("text,label\\n")
    ...     for i in range(120):
    ...         word = (good if i % 2 else bad)[i // 2 % 3]
    ...         _ = f.write(f"the film was {word} really,{i % 2}\\n")
    >>> config = TrainingConfig.from_dict(
    ...     {"task": "sentiment", "train_path": "reviews.csv", "model": "rnn",
    ...      "preset": "tiny", "vocabulary_size": 100, "max_length": 16,
    ...      "batch_size": 16, "learning_rate": 0.01, "epochs": 3})
    >>> run = train(config, "runs/sentiment", verbose=0)
    >>> run.label_names  # labels 0 and 1 without names
    ('negative', 'positive')
    >>> [p["label_name"] for p in run.predict(["What a wonderful film!",
    ...                                        "Such a dull film."])]
    ['positive', 'negative']
    >>> TrainingRun.load("runs/sentiment").label_names
    ('negative', 'positive')
    """
    config = TrainingConfig.coerce(config)
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ValueError(
            f"`out_dir` must be a path. Received: out_dir={out_dir!r}"
        )
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(
            "`out_dir` must be a directory (new or a run directory). "
            f"Received: out_dir={out_dir!r}, an existing file"
        )
    # First: MultiWorkerMirroredStrategy must exist before any TF op runs.
    strategy = get_strategy(config.strategy)
    chief, write_dir = directory_to_write(out_dir, strategy)
    replace = check_may_train_into(write_dir, overwrite)
    cleanup = FailedStartCleanup(write_dir)
    previous_policy = keras.config.dtype_policy()
    flash_attention_was_off = keras.config.is_flash_attention_enabled() is False
    try:
        keras.config.set_dtype_policy(config.mixed_precision)
        if not config.flash_attention:
            keras.config.disable_flash_attention()
        run = _train(config, write_dir, strategy,
                     list(callbacks or []) + [cleanup], verbose, replace)
    except BaseException:
        cleanup.clean_up()
        raise
    finally:
        keras.config.set_dtype_policy(previous_policy)
        if not flash_attention_was_off:
            keras.config.enable_flash_attention()
    if not chief:
        shutil.rmtree(write_dir, ignore_errors=True)
        run.directory = None
    return run


def _train(config, out_dir, strategy, extra_callbacks, verbose, replace):
    if config.init_from is not None:
        config = with_pretrained_settings(config)
    if config.teacher is not None:
        config = with_teacher_settings(config)
    backup_dir = os.path.join(out_dir, files.BACKUP)
    dataset, tokenizers = _dataset(config)
    config = resolve_data_settings(config, dataset)
    # Training over, the run not yet saved: evaluate and save, no training.
    trained = _backup.read_trained(backup_dir)
    resume = None if trained is not None else _backup.resume_point(backup_dir)
    resuming = trained is not None or resume is not None
    if trained is not None and trained.get("epochs") != config.epochs:
        raise ValueError(
            f"{out_dir} holds a run that finished training with "
            f"epochs={trained.get('epochs')} and was stopped before it was "
            "saved. Run the same command to save it, or delete "
            f"{backup_dir} to start over. Received: epochs={config.epochs}"
        )
    teacher = None
    # A translator teacher's translations of the training sources, when
    # searched by this call (then kept in the backup).
    searched = None
    # What the model trains on; `dataset` is what the run is evaluated on.
    training_data = dataset
    if config.teacher is not None:
        check_teacher_data(config, dataset)
        teacher = load_teacher(config)
        if config.is_translation:
            # A resumed run trains on the translations it started with: a
            # new search takes time and, on a GPU, may not give the same.
            targets = None
            if resuming:
                targets = _backup.read_teacher_targets(
                    backup_dir, len(dataset.part("train")["source"])
                )
            if targets is None:
                targets = searched = teacher_translations(
                    config, dataset, teacher
                )
            training_data = with_teacher_translations(config, dataset, targets)
        else:
            training_data = dataset.with_unlabeled_training_texts()
    first_epoch = min(resume.epoch if resume else 0, config.epochs)
    fingerprint = data_fingerprint(dataset, tokenizers)
    keras.utils.set_random_seed(config.seed)
    divisor = batch_divisor(strategy)
    train_batches = _batches(config, training_data, "train", divisor,
                             shuffle=True)
    train_batches.set_epoch(first_epoch)
    padding = train_batches.padding_fraction()
    evaluation = {
        name: _batches(config, dataset, name, divisor, shuffle=False)
        for name in ("train", "validation", "test")
        if name in dataset.parts
    }
    validation_data = keras_data(evaluation["validation"])

    with strategy.scope():
        # The run's model; with a classifier teacher, `model` is the
        # `Distiller` that trains it.
        student = build_model(config, dataset)
        model = student
        if teacher is not None and config.is_classification:
            model = models.Distiller(
                teacher,
                student,
                temperature=config.distillation_temperature,
                alpha=config.distillation_alpha,
                attention_weight=config.distillation_attention_weight,
            )
        model.compile(
            optimizer=build_optimizer(
                config, config.epochs * len(train_batches), student
            ),
            loss=None if model is not student else build_loss(config),
            metrics=[] if model is not student else build_metrics(config),
        )
        if verbose != 0:
            _print_plan(config, training_data, student, train_batches, padding,
                        first_epoch, trained is not None)
        # Settings, data and model are good: only now is the run directory
        # written (and a finished run replaced).
        if replace:
            remove_run(out_dir)
        make_run_directory(out_dir)
        check_same_run(backup_dir, config, fingerprint, resuming=resuming)
        if searched is not None:
            _backup.save_teacher_targets(backup_dir, searched)
        if trained is None:
            images = []
            if config.attention_maps is not None:
                images = _image_callbacks(
                    config, dataset, tokenizers, evaluation["validation"],
                    out_dir, verbose,
                )
            trained = _fit(
                config, out_dir, model, train_batches, validation_data,
                resume, first_epoch, padding, images + extra_callbacks,
                verbose, student,
            )
            # The final weights outlive a kill from here on: a rerun
            # evaluates and saves them without training.
            _backup.save_trained(backup_dir, model, trained)
        else:
            _backup.load_weights(
                model, os.path.join(backup_dir, _backup.TRAINED_WEIGHTS)
            )
        if model is not student:
            # The run is the student's: evaluated as any classifier.
            # The optimizer is the one that trained the student's weights:
            # its state saves with the student as an ordinary run's does.
            student.compile(optimizer=model.optimizer,
                            loss=build_loss(config),
                            metrics=build_metrics(config))
            model = student
        for name, batches in evaluation.items():
            if name not in trained["evaluation"]:
                trained["evaluation"][name] = _evaluate(
                    model, keras_data(batches), verbose
                )
                _backup.save_trained_facts(backup_dir, trained)
    metrics = {name: trained["evaluation"][name] for name in evaluation}
    metrics.update(
        training_seconds=trained["training_seconds"],
        parameter_count=int(model.count_params()),
        trainable_parameter_count=int(
            sum(np.prod(v.shape) for v in model.trainable_weights)
        ),
        padding_fraction=trained["padding_fraction"],
        epochs_completed=trained["epochs_completed"],
        stopped_by_time_limit=trained.get("stopped_by_time_limit", False),
        # Absent from a backup written before it was recorded.
        weights=trained.get("weights"),
        num_replicas=num_replicas(strategy),
        history=trained["history"],
    )
    if trained.get("checkpoint_averaging") is not None:
        metrics["checkpoint_averaging"] = trained["checkpoint_averaging"]
    if teacher is not None:
        metrics["distillation"] = _distillation_facts(
            config, teacher, dataset, training_data
        )
    save_run(out_dir, config, model, metrics, dataset, tokenizers)
    # Only now, with metrics.json (written last) in place.
    _backup.clear(backup_dir)
    return TrainingRun(
        config=config,
        model=model,
        metrics=metrics,
        label_names=dataset.label_names,
        directory=out_dir,
        **(tokenizers or {}),
    )


def _fit(config, out_dir, model, train_batches, validation_data, resume,
         first_epoch, padding, extra_callbacks, verbose, saved_model):
    """Trains `model` (inside the strategy's scope); returns the facts of
    `fit` that `metrics.json` reports, JSON-ready. `saved_model` is what
    the checkpoints hold: `model`, or the student a `Distiller` trains."""
    callbacks = training_callbacks(
        model, config, out_dir, train_batches, resume,
        saved_model=saved_model,
    )
    record = _find(callbacks, RunHistory)
    copies = _find(callbacks, EpochCopies)
    epoch_weights = _find(callbacks, EpochWeights)
    write_hparams(config, os.path.join(out_dir, files.LOGS))

    history = model.fit(
        keras_data(train_batches),
        epochs=config.epochs,
        validation_data=validation_data,
        callbacks=callbacks + list(extra_callbacks),
        shuffle=False,  # the batches are shuffled by epoch already
        verbose=verbose,
    )
    seconds = record.seconds()
    epochs_done = int(first_epoch + len(history.epoch))
    time_limits = [c for c in callbacks if isinstance(c, TimeLimit)]
    # The run's model is the best epoch's; the last one's goes beside it.
    weights = keep_best_weights(model, copies, out_dir, epochs_done,
                                saved_model=saved_model)
    averaging = None
    if epoch_weights is not None and epoch_weights.kept:
        averaging = average_checkpoints(
            model,
            epoch_weights,
            weights["epoch"],
            config.average_last_epochs,
            lambda: _evaluate(model, validation_data, 0),
            config.monitor,
        )
        if averaging["kept"].startswith("average"):
            weights.update(kept="average", epochs=averaging["epochs"])
    return {
        "epochs": config.epochs,
        "training_seconds": seconds,
        "padding_fraction": float(padding),
        "epochs_completed": epochs_done,
        "stopped_by_time_limit": any(c.stopped for c in time_limits),
        "weights": weights,
        "history": record.history,
        "checkpoint_averaging": averaging,
        "evaluation": {},
    }


def _find(callbacks, kind):
    """The callback of type `kind` in `callbacks`, or None."""
    return next((c for c in callbacks if isinstance(c, kind)), None)


def _distillation_facts(config, teacher, dataset, training_data):
    """The `"distillation"` record of `metrics.json`."""
    facts = {
        "teacher": os.fspath(config.teacher),
        "teacher_parameter_count": int(teacher.count_params()),
        "training_examples": int(
            training_data.statistics["train"]["rows"]
        ),
    }
    if config.is_translation:
        facts.update(
            method="sequence-level",
            beam_width=config.distillation_beam_width,
            keep_references=config.distillation_keep_references,
        )
    else:
        facts.update(
            method="soft-targets",
            temperature=config.distillation_temperature,
            alpha=config.distillation_alpha,
            attention_weight=config.distillation_attention_weight,
            unlabeled_examples=int(
                training_data.statistics["train"]["rows"]
                - dataset.statistics["train"]["rows"]
            ),
        )
    return facts


def _dataset(config):
    """The `PreparedDataset` of the run, and its tokenizers when prepared
    here (None when read from a folder, whose tokenizers are copied)."""
    if config.prepared is not None:
        dataset = PreparedDataset.load(config.prepared)
        # Checked now: the run copies them only once training is over.
        for name in dataset.tokenizer_names:
            if not os.path.isdir(os.path.join(config.prepared, name)):
                raise ValueError(
                    f"The prepared data in {config.prepared} has no {name}/ "
                    "folder, which the run needs; write it with `prepare`. "
                    f"Received: prepared={config.prepared!r}"
                )
        if config.init_from is not None:
            check_pretrained_tokenizer(config, dataset)
        return dataset, None
    return prepare_in_memory(
        config, tokenizers_from=config.init_from or config.teacher
    )


def _batches(config, dataset, part, divisor, shuffle):
    masking = pretraining_batch_settings(config)
    return dataset.batches(
        part,
        config.max_length,
        batch_size=None if config.max_tokens else config.batch_size,
        max_tokens=config.max_tokens,
        bucket_boundaries=config.bucket_boundaries,
        head_tokens=config.head_tokens,
        shuffle=shuffle,
        seed=config.seed,
        batch_divisor=divisor,
        **masking,
    )


def _print_plan(config, dataset, model, train_batches, padding, first_epoch,
                trained=False):
    """What the run will train on, before the first epoch."""
    source = config.prepared or config.train_path
    print(f"Training a {config.model} {config.task} model on {source}")
    for line in dataset.describe(config.max_length, config.head_tokens):
        print(f"  {line}")
    print(
        f"  max_length={config.max_length}, {len(train_batches):,} batches "
        f"an epoch, {padding:.1%} of the input "
        "positions padding"
    )
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    print(
        f"  model: {model.count_params():,} parameters, "
        f"{trainable:,} of them trained"
    )
    if trained:
        print("  training is over: evaluating and saving the run")
    elif first_epoch:
        print(f"  resuming after epoch {first_epoch}")


def _image_callbacks(config, dataset, tokenizers, validation, out_dir,
                     verbose):
    """The TensorBoard pictures of `attention_maps`: none without
    TensorFlow, which writes them."""
    if not tensorflow_available():
        if verbose != 0:
            print("  attention_maps: left out, TensorBoard's images need "
                  "TensorFlow")
        return []
    from keras_attnpred.training._tensorboard_images import image_callbacks

    return image_callbacks(config, dataset, tokenizers, validation, out_dir)


def _evaluate(model, data, verbose):
    values = model.evaluate(data, return_dict=True, verbose=verbose)
    return {key: float(value) for key, value in values.items()}
