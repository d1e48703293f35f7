"""What `train` may do to a run directory: never replace a finished run
unless told to, and leave nothing behind when a start fails."""

import os
import shutil

import keras

from keras_attnpred.training import _backup
from keras_attnpred.training import _run_files as files

# What the backup holds of a run to resume: an epoch's state, or the
# trained weights of a run not saved yet.
_BACKUP_STATE = (_backup.METADATA, _backup.TRAINED)
# Everything `train` writes into a run directory.
_RUN_ENTRIES = (
    files.CONFIG,
    files.MODEL,
    os.path.dirname(files.BEST),
    files.BACKUP,
    files.LOGS,
    files.METRICS,
    files.TOKENIZER,
    files.LABELS,
    files.SOURCE_TOKENIZER,
    files.TARGET_TOKENIZER,
    files.TRANSLATOR,
)


def is_finished_run(out_dir):
    """Whether `out_dir` holds a finished run: a final model and no backup
    to resume from."""
    return os.path.isfile(os.path.join(out_dir, files.MODEL)) and not any(
        os.path.isfile(os.path.join(out_dir, files.BACKUP, name))
        for name in _BACKUP_STATE
    )


def check_may_train_into(out_dir, overwrite):
    """Refuses a finished run's directory unless `overwrite`; returns
    whether the run there is to be replaced."""
    if not isinstance(overwrite, bool):
        raise ValueError(
            f"`overwrite` must be a bool. Received: overwrite={overwrite!r}"
        )
    finished = is_finished_run(out_dir)
    if finished and not overwrite:
        raise ValueError(
            f"{out_dir} holds a finished run ({files.MODEL}, nothing to "
            "resume): train into another `out_dir`, or pass overwrite=True "
            "(`attnpred train --overwrite`) to replace it. Received: "
            f"out_dir={out_dir!r}"
        )
    return finished


def remove_run(out_dir):
    """Deletes what `train` wrote into `out_dir`; other files stay."""
    for name in _RUN_ENTRIES:
        path = os.path.join(out_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)


class FailedStartCleanup(keras.callbacks.Callback):
    """Notes the end of the first epoch; `clean_up()` after a failure
    before it removes what the call wrote (the whole directory if it made
    it), so that a bad configuration or bad data leaves nothing behind.
    After an epoch the backup is worth keeping: the same call resumes."""

    def __init__(self, out_dir):
        super().__init__()
        self.out_dir = out_dir
        self.existed = os.path.exists(out_dir)
        self.before = _paths(out_dir)
        self.epoch_done = False

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_done = True

    def clean_up(self):
        if self.epoch_done:
            return
        if not self.existed:
            shutil.rmtree(self.out_dir, ignore_errors=True)
            return
        # Deepest first, so that a new folder is empty when it goes.
        for path in sorted(_paths(self.out_dir) - self.before, reverse=True):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.remove(path)


def _paths(directory):
    found = set()
    for root, folders, names in os.walk(directory):
        found.update(os.path.join(root, name) for name in folders + names)
    return found
