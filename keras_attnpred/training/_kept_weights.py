"""Which weights a run keeps: the validation-best epoch's as the run's model,
the last epoch's beside it."""

import math
import os

import keras

from keras_attnpred.training import _run_files as files


def monitor_mode(monitor):
    """`"min"` for a loss, else `"max"` (an accuracy): which end of the
    `monitor` is the best, for this module and for Keras's callbacks."""
    return "min" if monitor.endswith("loss") else "max"


class EpochCopies(keras.callbacks.Callback):
    """A host copy of the weights of the best epoch by `monitor` (lowest
    `val_loss`, highest `val_accuracy`; the earliest of equal ones, as
    `ModelCheckpoint` picks them). Epochs count from 1.

    The copy, its epoch and value are saved with each epoch's backup and
    restored with it: a resumed run picks among all its epochs.
    """

    def __init__(self, monitor):
        super().__init__()
        self.monitor = monitor
        self.lower_is_better = monitor_mode(monitor) == "min"
        self.best = self.best_epoch = self.best_value = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        value = None if value is None else float(value)
        improved = value is not None and math.isfinite(value) and (
            self.best_value is None
            or (value < self.best_value if self.lower_is_better
                else value > self.best_value)
        )
        if improved:
            self.best, self.best_epoch, self.best_value = (
                self.model.get_weights(), epoch + 1, value
            )

    def backup_state(self):
        if self.best is None:
            return {}, {}
        return (
            {"epoch": self.best_epoch, "value": self.best_value},
            {f"best-epoch-{self.best_epoch}.state.npz": self.best},
        )

    def restore_backup_state(self, facts, arrays):
        if facts:
            [self.best] = arrays.values()
            self.best_epoch, self.best_value = facts["epoch"], facts["value"]


def keep_best_weights(model, copies, out_dir, epochs_done, saved_model=None):
    """Saves the last epoch's model as `checkpoints/last.keras` and puts
    the best epoch's weights into `model`.

    Args:
        model: the model after `fit`, holding the last epoch's weights.
        copies: the run's `EpochCopies`.
        out_dir: the run directory.
        epochs_done: int, the epochs completed in all (a call that resumed
            after the last epoch trains none: its model is kept as is).
        saved_model: what `last.keras` holds (a part of `model`, e.g. the
            student of a `Distiller`); default `model`.

    Returns:
        The `"weights"` record of `metrics.json`: `{"kept": "best",
        "epoch": N, "monitor": ..., "value": ..., "last_epoch": M}`.
    """
    saved = model if saved_model is None else saved_model
    saved.save(os.path.join(out_dir, files.LAST))
    record = {"kept": "best", "epoch": epochs_done, "monitor": copies.monitor,
              "value": None, "last_epoch": epochs_done}
    if copies.best is not None:
        model.set_weights(copies.best)
        record.update(epoch=copies.best_epoch, value=copies.best_value)
    return record
