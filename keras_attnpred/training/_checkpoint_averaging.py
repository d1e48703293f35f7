"""Checkpoint averaging (Vaswani et al., 2017): the mean of the weights of
the last epochs up to the best one, kept when it validates better."""

import collections

import keras
import numpy as np


class EpochWeights(keras.callbacks.Callback):
    """Keeps host copies of the trainable weights of the epochs that the
    average of `keep` epochs up to the best one may need, by epoch number
    (1-based): the last `keep` epochs (a later best's) and, given the
    run's `EpochCopies` as `copies`, the `keep` up to its best so far.

    The copies are saved with each epoch's backup (a file an epoch) and
    restored with it: a resumed run averages the epochs before too.
    """

    def __init__(self, keep, copies=None):
        super().__init__()
        self.keep = keep
        self.copies = copies
        self.kept = collections.OrderedDict()

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1
        self.kept[last] = [
            keras.ops.convert_to_numpy(v) for v in self.model.trainable_variables
        ]
        best = self.copies and self.copies.best_epoch
        for old in list(self.kept):
            if old <= last - self.keep and not (
                best and best - self.keep < old <= best
            ):
                del self.kept[old]

    def backup_state(self):
        return (
            {"epochs": list(self.kept)},
            {_file_name(e): weights for e, weights in self.kept.items()},
        )

    def restore_backup_state(self, facts, arrays):
        self.kept = collections.OrderedDict(
            (e, arrays[_file_name(e)]) for e in facts["epochs"]
        )


def _file_name(epoch):
    return f"averaged-epoch-{epoch}.state.npz"


def average_checkpoints(model, epoch_weights, best_epoch, count, evaluate,
                        monitor):
    """Puts the average of epochs `best_epoch - count + 1 .. best_epoch`
    into `model` when it scores better than the weights it holds.

    Args:
        model: the trained model, holding the best epoch's weights (or the
            last epoch's, without early stopping).
        epoch_weights: the `EpochWeights` of the run.
        best_epoch: int, 1-based.
        count: int, the most epochs to average.
        evaluate: callable returning the validation logs of `model`.
        monitor: `"val_loss"` (lower is better) or `"val_accuracy"`.

    Returns:
        A dict for `metrics.json`: the epochs averaged, both scores, and
        which weights were kept.
    """
    epochs = [
        e for e in epoch_weights.kept if best_epoch - count < e <= best_epoch
    ]
    key = monitor[len("val_"):]
    held = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    held_score = float(evaluate()[key])
    report = {"epochs": [min(epochs), max(epochs)] if epochs else [],
              f"held_{key}": held_score}
    if len(epochs) < 2:
        report["kept"] = "held weights (fewer than 2 epochs to average)"
        return report
    averaged = [
        np.mean(group, axis=0)
        for group in zip(*(epoch_weights.kept[e] for e in epochs))
    ]
    for variable, value in zip(model.trainable_variables, averaged):
        variable.assign(value)
    averaged_score = float(evaluate()[key])
    report[f"averaged_{key}"] = averaged_score
    better = (
        averaged_score < held_score
        if key == "loss"
        else averaged_score > held_score
    )
    if better:
        report["kept"] = f"average of epochs {min(epochs)}-{max(epochs)}"
    else:
        for variable, value in zip(model.trainable_variables, held):
            variable.assign(value)
        report["kept"] = "held weights"
    return report
