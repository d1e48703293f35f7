"""Checks before a run resumes from the backup of `BackupAndRestore`."""

import json
import os

from keras_attnpred.training import _run_files as files
from keras_attnpred.training._run_directory import save_json
from keras_attnpred.training.training_config import TrainingConfig

# Settings a resumed run may change: they do not alter what was trained.
_RESUMABLE_CHANGES = ("epochs", "early_stopping_patience", "attention_maps")


def resumed_epoch(backup_dir):
    """The epoch `BackupAndRestore` will resume at: 0 without a backup.

    Read from the callback's own `training_metadata.json`, because the
    training data of a resumed run must start at that epoch's batches.
    """
    path = os.path.join(backup_dir, "training_metadata.json")
    weights = os.path.join(backup_dir, "latest.weights.h5")
    if not os.path.exists(path):
        return 0
    try:
        with open(path, encoding="utf-8") as f:
            epoch = json.load(f)["epoch"]
    except (ValueError, KeyError, TypeError) as error:
        raise _corrupt_backup(path, f"unreadable ({error!r})") from None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise _corrupt_backup(path, f"bad epoch {epoch!r}")
    import h5py

    if not os.path.exists(weights) or not h5py.is_hdf5(weights):
        raise _corrupt_backup(weights, "missing or not an HDF5 file")
    return epoch


def check_same_run(backup_dir, config):
    """Refuses to resume a backup made with other settings; records ours.

    `BackupAndRestore` would restore the weights and optimizer state of the
    other run in silence, and the result would belong to neither.
    """
    path = os.path.join(backup_dir, files.CONFIG)
    ours = config.to_dict()
    resuming = os.path.exists(os.path.join(backup_dir,
                                           "training_metadata.json"))
    if resuming and os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                theirs = json.load(f)
        except ValueError as error:
            raise _corrupt_backup(path, f"unreadable ({error!r})") from None
        # A backup from before a setting existed ran with its default.
        if isinstance(theirs, dict):
            theirs = {**TrainingConfig.defaults(), **theirs}
        changed = sorted(
            key
            for key in set(ours) | set(theirs)
            if key not in _RESUMABLE_CHANGES
            and ours.get(key) != theirs.get(key)
        )
        if changed:
            differences = ", ".join(
                f"{key}={theirs.get(key)!r} -> {ours.get(key)!r}"
                for key in changed
            )
            raise ValueError(
                f"{os.path.dirname(backup_dir)} holds an interrupted run "
                f"with other settings ({differences}). Run the same "
                f"command to resume it, or delete {backup_dir} to start "
                "over."
            )
    save_json(backup_dir, files.CONFIG, ours)



def _corrupt_backup(path, problem):
    return ValueError(
        f"Corrupt training backup {path}: {problem}. Delete "
        f"{os.path.dirname(path)} to train from the start."
    )
