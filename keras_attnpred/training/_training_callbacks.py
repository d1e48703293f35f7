"""The callbacks of `train`, and its TensorBoard record of the settings."""

import json
import os
import time

import keras
import numpy as np

from keras_attnpred._atomic_files import disk_full_error
from keras_attnpred._atomic_files import is_disk_full
from keras_attnpred.ops import can_fuse_dropout
from keras_attnpred.training import _run_files as files
from keras_attnpred.training._backup import AtomicBackup
from keras_attnpred.training._checkpoint_averaging import EpochWeights
from keras_attnpred.training._kept_weights import EpochCopies
from keras_attnpred.training._kept_weights import monitor_mode
from keras_attnpred.training._run_history import RunHistory
from keras_attnpred.training.training_diverged_error import (
    TrainingDivergedError,
)


def training_callbacks(model, config, out_dir, train_batches, resume=None,
                       saved_model=None):
    """The callbacks of `fit`, in the order they must run.

    Create them inside the strategy's scope, after the model. TensorBoard
    logs need TensorFlow (its summary writer): without it they are left
    out. `resume`: the `_backup.ResumePoint` to restore first, or None.
    `saved_model`: what `best.keras` holds (the student of a `Distiller`);
    default the model `fit` trains. The list holds a `RunHistory`, an
    `EpochCopies` and, with `average_last_epochs`, an `EpochWeights`: what
    `metrics.json` reports and the weights the run keeps.
    """
    backup_dir = os.path.join(out_dir, files.BACKUP)
    history = RunHistory()
    copies = EpochCopies(config.monitor)
    checkpoint = _BestCheckpoint(
        os.path.join(out_dir, files.BEST),
        monitor=config.monitor,
        # Given, not inferred: Keras infers it from the compiled metrics of
        # the model it saves, and a Distiller's student has none.
        mode=monitor_mode(config.monitor),
        save_best_only=True,
        saved_model=saved_model,
    )
    # What a resumed run needs to go on as if never stopped.
    states = {"history": history, "best": copies, "best_checkpoint": checkpoint}
    callbacks = [
        _EpochOrder(train_batches),
        _EpochSeeds(model, config.seed),
        # Before the backup and the checkpoint: a NaN epoch is never saved.
        _StopOnNonFiniteLoss(out_dir),
        history,
        copies,
    ]
    if config.average_last_epochs is not None:
        # After `copies`: it keeps the epochs up to the best so far.
        states["averaged"] = EpochWeights(config.average_last_epochs, copies)
        callbacks.append(states["averaged"])
    callbacks.append(checkpoint)
    if tensorflow_available():
        callbacks.append(
            keras.callbacks.TensorBoard(os.path.join(out_dir, files.LOGS))
        )
    if config.early_stopping_patience is not None:
        states["early_stopping"] = _EarlyStopping(
            monitor=config.monitor,
            mode=monitor_mode(config.monitor),
            patience=config.early_stopping_patience,
        )
        callbacks.append(states["early_stopping"])
    if config.time_limit is not None:
        callbacks.append(TimeLimit(config.time_limit))
    # Last: it saves what the callbacks above hold after each epoch.
    callbacks.append(AtomicBackup(backup_dir, resume, states))
    return callbacks


class TimeLimit(keras.callbacks.Callback):
    """Stops `fit` at the end of the first epoch after which another as
    long as it would end past `seconds` from the start of `fit`."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.stopped = False

    def on_train_begin(self, logs=None):
        self.start = self.epoch_start = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        last = epoch + 1 >= self.params.get("epochs", float("inf"))
        if not last and 2 * now - self.epoch_start > self.start + self.seconds:
            self.stopped = True
            self.model.stop_training = True


def tensorflow_available():
    """Whether TensorFlow can be imported (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def write_hparams(config, log_dir):
    """The configuration for TensorBoard's HParams dashboard (needs
    TensorFlow: does nothing without it)."""
    if not tensorflow_available():
        return
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api

    values = {}
    for key, value in config.to_dict().items():
        # HParams takes bool, int, float and str only.
        if value is None or isinstance(value, (list, dict)):
            value = json.dumps(value)
        values[key] = value
    writer = tf.summary.create_file_writer(os.path.join(log_dir, "hparams"))
    with writer.as_default():
        hparams_api.hparams(values)
        tf.summary.text(
            "config", json.dumps(config.to_dict(), indent=2), step=0
        )
    writer.close()


class _BestCheckpoint(keras.callbacks.ModelCheckpoint):
    """`ModelCheckpoint` whose full-disk error names `best.keras` (h5py's
    and zipfile's name no file), and that may save a part of the model
    `fit` trains (`saved_model`)."""

    def __init__(self, *args, saved_model=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved_model = saved_model

    def set_model(self, model):
        super().set_model(model if self.saved_model is None else self.saved_model)

    def on_epoch_end(self, epoch, logs=None):
        try:
            super().on_epoch_end(epoch, logs)
        except OSError as error:
            if is_disk_full(error):
                raise disk_full_error(
                    self.filepath, "; backup/ keeps the last epoch: free "
                    "space and run the same command to resume"
                ) from error
            raise

    # Saved with the backup: a resumed run replaces `best.keras` only with
    # a better epoch than all the epochs before.
    def backup_state(self):
        return {"best": _float_or_none(self.best)}, {}

    def restore_backup_state(self, facts, arrays):
        self.best = facts["best"]


class _EarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` whose patience counts the epochs before a resume.

    It leaves the weights as they are: the run keeps its best epoch's
    (`EpochCopies`) and the last one's.
    """

    def backup_state(self):
        return {"wait": self.wait, "best": _float_or_none(self.best),
                "best_epoch": self.best_epoch}, {}

    def restore_backup_state(self, facts, arrays):
        self.wait = facts["wait"]
        self.best = facts["best"]
        self.best_epoch = facts["best_epoch"]


def _float_or_none(value):
    return None if value is None else float(value)


class _EpochOrder(keras.callbacks.Callback):
    """Puts the training batches in the order of each epoch as it starts.

    The order of epoch `e` depends on `e` only, so a resumed run trains on
    the same batches as an uninterrupted one.
    """

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)


class _EpochSeeds(keras.callbacks.Callback):
    """Resets every dropout seed at the start of each epoch.

    The seeds of epoch `e` are a function of `e` only, so a run resumed from
    a backup draws the same dropout masks as one that never stopped.
    """

    def __init__(self, model, seed):
        super().__init__()
        # `_seed_generators` is the layers' own list; Keras has no public
        # accessor for them.
        self._generators = [
            generator
            for layer in model._flatten_layers()
            for generator in getattr(layer, "_seed_generators", [])
        ]
        self._initial = [
            keras.ops.convert_to_numpy(generator.state.value).copy()
            for generator in self._generators
        ]

    def on_epoch_begin(self, epoch, logs=None):
        for generator, initial in zip(self._generators, self._initial):
            state = initial.copy()
            state[-1] = (int(state[-1]) + epoch * 2**20) % 2**32
            generator.state.assign(state)


def _fused_dropout_hint():
    # An SST-2 fine-tuning on an H200 became NaN in its second batch only
    # with this kernel (benchmarks/RESULTS.md, "Pretraining and fine-tuning");
    # the cause is not known, so the way around it is named.
    if not can_fuse_dropout("bfloat16", 64):
        return ""
    return (
        " Attention dropout ran inside cuDNN's fused kernel; to train "
        "without it, set flash_attention: false (--no-flash-attention)."
    )


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises `TrainingDivergedError` as soon as a loss is NaN or infinite.

    `keras.callbacks.TerminateOnNaN` only stops `fit`, after which the NaN
    model would be evaluated and saved as the result, and the backup
    deleted. Raising leaves the run directory as it was after the last
    good epoch.
    """

    def __init__(self, out_dir):
        super().__init__()
        self.out_dir = out_dir
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check((logs or {}).get("loss"), batch, "loss")

    def on_epoch_end(self, epoch, logs=None):
        self._check((logs or {}).get("val_loss"), None, "validation loss")

    def _check(self, value, batch, what):
        if value is None:
            return
        value = float(value)
        if np.isfinite(value):
            return
        where = f"epoch {self.epoch + 1}" + (
            "" if batch is None else f", batch {batch + 1}"
        )
        kept = (
            f"{os.path.join(self.out_dir, files.BACKUP)} holds the weights "
            f"of epoch {self.epoch}, {os.path.join(self.out_dir, files.BEST)}"
            " the best model so far"
            if self.epoch
            else "no epoch was completed"
        )
        raise TrainingDivergedError(
            f"Training diverged: the {what} became {value} in {where}. "
            f"Nothing of this epoch was saved; {kept}. Try a lower "
            "learning_rate, a clipnorm, or mixed_precision float32 / "
            "mixed_bfloat16, in a new out_dir (or delete "
            f"{os.path.join(self.out_dir, files.BACKUP)} first)."
            + _fused_dropout_hint(),
            epoch=self.epoch,
            batch=batch,
            value=value,
        )
