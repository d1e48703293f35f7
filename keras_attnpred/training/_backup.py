"""The backup a stopped `train` resumes from, written so it survives kills.

`backup/` holds:

```
training_metadata.json  {"epoch": N, "batch": 0, "weights": FILE,
                         "state": {...}, "files": {...},
                         "previous": {the same of epoch N - 1}}
epoch-N.weights.h5      weights and optimizer state after N epochs
epoch-M.weights.h5      the one before, kept until N's is complete
*.state.npz             weights the callbacks keep of earlier epochs (the
                          best one, those to average), named in "files"
config.json, data.json  what the run was made with (`_resume_checks`)
teacher_targets.npz     a translator teacher's translations of the
                          training sources (sequence-level distillation)
trained.weights.h5      once `fit` is over: the final weights (after
trained.json              averaging) and the facts of `fit`, plus the
                          parts evaluated so far
```

Every file is written under a temporary name and renamed into place once
complete (`_atomic_files`), and the metadata only names files that are
complete: a kill at any moment leaves a backup to resume from. Besides
the weights, each epoch's backup holds what the run's callbacks need to go
on as if never stopped (`AtomicBackup`'s `states`: the history so far, the
best epoch, the epochs to average), so a resumed run ends as an
uninterrupted one.

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
import zipfile

import keras
import numpy as np

from keras_attnpred import _atomic_files

METADATA = "training_metadata.json"
LEGACY_WEIGHTS = "latest.weights.h5"
TRAINED_WEIGHTS = "trained.weights.h5"
TRAINED = "trained.json"
TEACHER_TARGETS = "teacher_targets.npz"

# `state` and `files`: what `AtomicBackup` saved of its `states` (empty in a
# backup from before they were saved).
ResumePoint = collections.namedtuple(
    "ResumePoint", "epoch weights state files", defaults=(None, None)
)

logger = logging.getLogger("keras_attnpred.training")


def resume_point(backup_dir):
    """The `ResumePoint(epoch, weights path, state, files)` to resume
    from, or None.

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
        return latest._replace(weights=weights)
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
        return previous._replace(weights=earlier)
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
    if weights is not None and not _is_file_name(weights):
        raise corrupt_backup(path, f"bad weights file name {weights!r}")
    state, files = metadata.get("state", {}), metadata.get("files", {})
    if not (isinstance(state, dict) and isinstance(files, dict)) or any(
        not isinstance(names, list) or not all(map(_is_file_name, names))
        for names in files.values()
    ):
        raise corrupt_backup(path, "bad callback state")
    return ResumePoint(epoch, weights, state, files)


def _is_file_name(name):
    return isinstance(name, str) and os.path.basename(name) == name


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

    Put it after the callbacks of `states`: it saves what they hold once
    they have seen the epoch, and restores it after their
    `on_train_begin` (Keras's `EarlyStopping` resets itself there).

    Args:
        backup_dir: the folder.
        resume: the `ResumePoint` of `resume_point`, or None.
        states: `{name: callback}`, what each epoch's backup saves besides
            the model: each callback's `backup_state()` returns `(facts,
            arrays)`, JSON-ready facts and `{file name: list of arrays}`,
            and `restore_backup_state(facts, arrays)` takes them back. A
            file name must end with `.state.npz` and change when its arrays
            do (name it after an epoch): each is written once.
    """

    def __init__(self, backup_dir, resume=None, states=None):
        super().__init__()
        self.backup_dir = backup_dir
        self.resume = resume
        self.states = dict(states or {})
        self._latest = None
        # State files complete on disk, written by this call or resumed.
        self._written = set()
        if resume is not None:
            self._latest = {"epoch": resume.epoch,
                            "weights": os.path.basename(resume.weights),
                            "state": resume.state or {},
                            "files": resume.files or {}}
            self._written = set(_names(self._latest))

    def on_train_begin(self, logs=None):
        if self.resume is None:
            return
        load_weights(self.model, self.resume.weights)
        # What `BackupAndRestore` sets: `fit` starts at this epoch.
        self.model._initial_epoch = self.resume.epoch
        for key, callback in self.states.items():
            if key in self._latest["state"]:
                callback.restore_backup_state(
                    self._latest["state"][key],
                    {name: load_arrays(os.path.join(self.backup_dir, name))
                     for name in self._latest["files"].get(key, [])},
                )

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
        state, files = {}, {}
        for key, callback in self.states.items():
            state[key], arrays = callback.backup_state()
            files[key] = sorted(arrays)
            for file_name, values in arrays.items():
                if file_name not in self._written:
                    save_arrays(os.path.join(self.backup_dir, file_name),
                                values, note=kept)
                    self._written.add(file_name)
        previous = self._latest if self._latest and (
            self._latest["weights"] != name
        ) else None
        self._latest = {"epoch": epoch, "weights": name, "state": state,
                        "files": files}
        # Only now does the metadata name the new files.
        _atomic_files.write_json(
            os.path.join(self.backup_dir, METADATA),
            {**self._latest, "batch": 0, "previous": previous},
            note=kept,
        )
        keep = {name, previous and previous["weights"], TRAINED_WEIGHTS,
                *_names(self._latest), *_names(previous or {})}
        self._written &= keep
        # Older epochs, Keras's latest.weights.h5, state no epoch needs,
        # and what a save killed mid-write left under its temporary name.
        for pattern in ("*.weights.h5", "*.state.npz", ".*.tmp.weights.h5",
                        ".*.tmp.npz"):
            for old in glob.glob(os.path.join(self.backup_dir, pattern)):
                if os.path.basename(old) not in keep:
                    os.remove(old)


def _names(entry):
    """The state files a metadata entry names."""
    return [name for names in entry.get("files", {}).values()
            for name in names]


def save_arrays(path, arrays, note=""):
    """Writes a list of arrays to the `.npz` file `path`, atomically."""
    _atomic_files.write_atomically(
        path, lambda temporary: np.savez(temporary, *arrays), suffix=".npz",
        note=note,
    )


def load_arrays(path):
    """The list of arrays `save_arrays` wrote.

    Raises:
        ValueError: the file is missing or unreadable, with the way out.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            return [data[f"arr_{i}"] for i in range(len(data.files))]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise corrupt_backup(
            path, f"missing or unreadable ({_first_line(error)})"
        ) from None


def save_teacher_targets(backup_dir, targets):
    """Keeps the teacher's translations (`RaggedIds`) for a resumed run."""
    save_arrays(os.path.join(backup_dir, TEACHER_TARGETS),
                [targets.values, targets.offsets])


def read_teacher_targets(backup_dir, rows):
    """The translations `save_teacher_targets` kept, or None: none kept,
    or not `rows` of them (other data, which `check_same_run` names)."""
    from keras_attnpred.data import RaggedIds

    path = os.path.join(backup_dir, TEACHER_TARGETS)
    if not os.path.exists(path):
        return None
    arrays = load_arrays(path)
    try:
        targets = RaggedIds(*arrays)
    except (TypeError, ValueError) as error:
        raise corrupt_backup(path, _first_line(error)) from None
    return targets if len(targets) == rows else None


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
