"""The backup a stopped `train` resumes from, written so it survives kills.

`backup/` holds:

```
training_metadata.json  {"epoch": N, "batch": 0, "weights": FILE,
                         "previous": {"epoch": N - 1, "weights": FILE}}
epoch-N.weights.h5      weights and optimizer state after N epochs
epoch-M.weights.h5      the one before, kept until N's is complete
config.json, data.json  what the run was made with (`_resume_checks`)
trained.weights.h5      once `fit` is over: the final weights (after
trained.json              averaging) and the facts of `fit`, plus the
                          parts evaluated so far
```

Every file is written under a temporary name and renamed into place once
complete (`_atomic_files`), and the metadata only names weights that are
complete: a kill at any moment leaves a backup to resume from.
`keras.callbacks.BackupAndRestore` rewrote `latest.weights.h5` in place (a
SIGKILL then left 96 bytes) and deleted the folder when `fit` returned,
before the run was saved. Its backups (`latest.weights.h5`, metadata
without `"weights"`) still resume.
"""

import collections
import glob
import json
import logging
import os
import shutil

import keras

from keras_attnpred import _atomic_files

METADATA = "training_metadata.json"
LEGACY_WEIGHTS = "latest.weights.h5"
TRAINED_WEIGHTS = "trained.weights.h5"
TRAINED = "trained.json"

ResumePoint = collections.namedtuple("ResumePoint", "epoch weights")

logger = logging.getLogger("keras_attnpred.training")


def resume_point(backup_dir):
    """The `ResumePoint(epoch, weights path)` to resume from, or None.

    Raises:
        ValueError: naming the unreadable file, with the ways out: resume
            from the epoch before (when its backup is intact) or start over.
    """
    path = os.path.join(backup_dir, METADATA)
    if not os.path.exists(path):
        return None
    metadata = _read_json(path)
    if not isinstance(metadata, dict):
        raise corrupt_backup(path, "unreadable (not a JSON object)")
    latest = _entry(path, metadata, LEGACY_WEIGHTS)
    previous = metadata.get("previous")
    previous = (
        _entry(path, previous, None) if isinstance(previous, dict) else None
    )
    if previous is not None and previous.weights is None:
        previous = None
    weights = os.path.join(backup_dir, latest.weights)
    problem = weights_problem(weights)
    if problem is None:
        return ResumePoint(latest.epoch, weights)
    earlier = None
    if previous is not None:
        earlier = os.path.join(backup_dir, previous.weights)
        if weights_problem(earlier) is not None:
            earlier = None
    if earlier is not None and not os.path.exists(weights):
        # Deleted as the error below says: resume from the epoch before.
        logger.warning(
            "%s is missing: resuming from the backup of epoch %d, %s.",
            weights, previous.epoch, earlier,
        )
        return ResumePoint(previous.epoch, earlier)
    if earlier is not None:
        raise ValueError(
            f"Corrupt training backup {weights}: {problem}. The backup of "
            f"epoch {previous.epoch} is intact ({earlier}): delete {weights} "
            f"to resume from epoch {previous.epoch}, or delete {backup_dir} "
            "to train from the start."
        )
    raise corrupt_backup(weights, problem)


def _entry(path, metadata, default_weights):
    epoch = metadata.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise corrupt_backup(path, f"bad epoch {epoch!r}")
    weights = metadata.get("weights", default_weights)
    if weights is not None and (
        not isinstance(weights, str) or os.path.basename(weights) != weights
    ):
        raise corrupt_backup(path, f"bad weights file name {weights!r}")
    return ResumePoint(epoch, weights)


def weights_problem(path):
    """What is wrong with the `.weights.h5` file `path`, or None.

    Raises:
        ValueError: the file is locked by another process.
    """
    import h5py

    if not os.path.exists(path) or not h5py.is_hdf5(path):
        return "missing or not an HDF5 file"
    try:
        with h5py.File(path, "r"):
            pass
    except OSError as error:
        raise_if_locked(path, error)
        return f"unreadable ({_first_line(error)})"
    return None


def raise_if_locked(path, error):
    """HDF5's lock error (errno 11) names no file: this one does."""
    text = str(error)
    if "unable to lock file" in text or "errno = 11," in text:
        raise ValueError(
            f"{path} is in use by another process (HDF5 could not lock it, "
            "errno 11): is another `train` writing to the same out_dir? "
            "Wait for it to end, or train into another out_dir."
        ) from None


def corrupt_backup(path, problem):
    return ValueError(
        f"Corrupt training backup {path}: {problem}. Delete "
        f"{os.path.dirname(path)} to train from the start."
    )


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, RecursionError) as error:
        raise corrupt_backup(path, f"unreadable ({error!r})") from None


def _first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else (
        type(error).__name__
    )


def load_weights(model, path):
    """Restores weights and optimizer state saved by `save_weights`."""
    if model.optimizer is not None and not model.optimizer.built:
        # The optimizer's variables must exist to be restored.
        model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(path)
    except OSError as error:
        raise_if_locked(path, error)
        raise corrupt_backup(
            path, f"unreadable ({_first_line(error)})"
        ) from None


class AtomicBackup(keras.callbacks.Callback):
    """Writes `backup/` at the end of every epoch; restores `resume` first.

    Args:
        backup_dir: the folder.
        resume: the `ResumePoint` of `resume_point`, or None.
    """

    def __init__(self, backup_dir, resume=None):
        super().__init__()
        self.backup_dir = backup_dir
        self.resume = resume
        self._latest = None
        if resume is not None:
            self._latest = {"epoch": resume.epoch,
                            "weights": os.path.basename(resume.weights)}

    def on_train_begin(self, logs=None):
        if self.resume is None:
            return
        load_weights(self.model, self.resume.weights)
        # What `BackupAndRestore` sets: `fit` starts at this epoch.
        self.model._initial_epoch = self.resume.epoch

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1)

    def save(self, epoch):
        name = f"epoch-{epoch}.weights.h5"
        path = os.path.join(self.backup_dir, name)
        os.makedirs(self.backup_dir, exist_ok=True)
        kept = (
            f"; the backup of epoch {self._latest['epoch']} is kept: free "
            "space and run the same command to resume"
            if self._latest else ""
        )
        _atomic_files.write_atomically(
            path, lambda temporary: self.model.save_weights(temporary),
            suffix=".weights.h5", note=kept,
        )
        previous = self._latest if self._latest and (
            self._latest["weights"] != name
        ) else None
        self._latest = {"epoch": epoch, "weights": name}
        # Only now does the metadata name the new weights.
        _atomic_files.write_json(
            os.path.join(self.backup_dir, METADATA),
            {**self._latest, "batch": 0, "previous": previous},
            note=kept,
        )
        keep = {name, previous and previous["weights"], TRAINED_WEIGHTS}
        # Older epochs, Keras's latest.weights.h5, and what a save killed
        # mid-write left under its temporary name.
        for pattern in ("*.weights.h5", ".*.tmp.weights.h5"):
            for old in glob.glob(os.path.join(self.backup_dir, pattern)):
                if os.path.basename(old) not in keep:
                    os.remove(old)


def save_trained(backup_dir, model, facts):
    """Records the end of `fit`: the final weights, then `facts` (a
    JSON-ready dict); a rerun evaluates and saves these without training."""
    _atomic_files.write_atomically(
        os.path.join(backup_dir, TRAINED_WEIGHTS),
        lambda temporary: model.save_weights(temporary),
        suffix=".weights.h5",
    )
    save_trained_facts(backup_dir, facts)


def save_trained_facts(backup_dir, facts):
    _atomic_files.write_json(os.path.join(backup_dir, TRAINED), facts)


def read_trained(backup_dir):
    """The facts `save_trained` recorded, or None (training not over)."""
    path = os.path.join(backup_dir, TRAINED)
    if not os.path.exists(path):
        return None
    facts = _read_json(path)
    if not isinstance(facts, dict) or not isinstance(
        facts.get("evaluation"), dict
    ):
        raise corrupt_backup(path, "not the facts of a finished `fit`")
    weights = os.path.join(backup_dir, TRAINED_WEIGHTS)
    problem = weights_problem(weights)
    if problem is not None:
        raise ValueError(
            f"Corrupt training backup {weights}: {problem}. Delete "
            f"{path} to train the last epochs again from the backup, or "
            f"{backup_dir} to train from the start."
        )
    return facts


def clear(backup_dir):
    """Empties `backup_dir` (the run is saved): the folder stays."""
    for name in os.listdir(backup_dir):
        path = os.path.join(backup_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
