"""Checks before a run resumes from its backup (`_backup`): the same
settings, the same data, the same tokenizer(s)."""

import hashlib
import json
import os
import tempfile

import numpy as np

from keras_attnpred import _atomic_files
from keras_attnpred.training import _backup
from keras_attnpred.training import _run_files as files
from keras_attnpred.training.training_config import TrainingConfig

# Settings a resumed run may change: they do not alter what was trained.
_RESUMABLE_CHANGES = (
    "epochs", "early_stopping_patience", "attention_maps", "time_limit",
    "flash_attention",
)
DATA = "data.json"


def check_same_run(backup_dir, config, fingerprint=None, resuming=False):
    """Refuses to resume a backup made with other settings or other data;
    records ours.

    The weights and optimizer state of the other run would be restored in
    silence, and the result would belong to neither. `fingerprint` is
    `data_fingerprint` of the data about to be trained on; a backup
    without one (made before it was recorded) is compared on settings only.
    """
    ours = config.to_dict()
    if resuming:
        theirs = _read(os.path.join(backup_dir, files.CONFIG))
        if theirs is not None:
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
        recorded = _read(os.path.join(backup_dir, DATA))
        if isinstance(recorded, dict) and fingerprint is not None:
            changes = _data_changes(recorded, fingerprint)
            if changes:
                source = config.prepared or config.train_path
                raise ValueError(
                    f"{os.path.dirname(backup_dir)} holds an interrupted run "
                    f"on other data than {source!r}: "
                    + "; ".join(changes)
                    + ". Resuming would train its weights on the new data "
                    "through a vocabulary learned on the old. Run it on the "
                    f"data it started with, or delete {backup_dir} to start "
                    "over."
                )
    _atomic_files.write_json(os.path.join(backup_dir, files.CONFIG), ours)
    if fingerprint is not None:
        _atomic_files.write_json(os.path.join(backup_dir, DATA), fingerprint)


def _read(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, RecursionError) as error:
        raise _backup.corrupt_backup(
            path, f"unreadable ({error!r})"
        ) from None


def data_fingerprint(dataset, tokenizers=None):
    """What a run trains on, in a few numbers: per part its rows and a
    SHA-256 of its token ids and labels, the label names, and per
    tokenizer its vocabulary size and a SHA-256 of its files.

    Args:
        dataset: the `PreparedDataset` of the run.
        tokenizers: `{folder name: tokenizer}` learned in memory, or None
            for those of the prepared folder.
    """
    parts = {}
    for name, arrays in sorted(dataset.parts.items()):
        digest = hashlib.sha256()
        rows = 0
        for key, value in sorted(arrays.items()):
            digest.update(key.encode())
            # Ids in memory are int32, in a folder uint16: the same data.
            for array in (
                (value.values, value.offsets)
                if hasattr(value, "offsets") else (value,)
            ):
                digest.update(np.asarray(array, dtype=np.int64).tobytes())
            rows = len(value)
        parts[name] = {"rows": int(rows), "sha256": digest.hexdigest()}
    result = {
        "parts": parts,
        "label_names": (
            None if dataset.label_names is None
            else list(dataset.label_names)
        ),
        "tokenizers": {},
    }
    for name in dataset.tokenizer_names:
        if tokenizers is not None:
            with tempfile.TemporaryDirectory() as folder:
                tokenizers[name].save(folder)
                digest = _folder_sha256(folder)
            size = tokenizers[name].vocabulary_size
        else:
            digest = _folder_sha256(os.path.join(dataset.directory, name))
            size = dataset.vocabulary_sizes.get(name)
        result["tokenizers"][name] = {
            "vocabulary_size": size, "sha256": digest
        }
    return result


def _folder_sha256(folder):
    digest = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            digest.update(name.encode() + b"\0")
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()


def _data_changes(theirs, ours):
    """What differs between two fingerprints, in words."""
    changes = []
    their_parts = theirs.get("parts") or {}
    for name in sorted(set(their_parts) | set(ours["parts"])):
        before, after = their_parts.get(name), ours["parts"].get(name)
        if before == after:
            continue
        if before is None or after is None:
            changes.append(
                f"the {name} part {'appeared' if before is None else 'is gone'}"
            )
            continue
        changes.append(
            f"the {name} part changed ({before.get('rows')} rows, sha256 "
            f"{str(before.get('sha256'))[:12]} -> {after['rows']} rows, "
            f"sha256 {after['sha256'][:12]})"
        )
    if theirs.get("label_names") != ours["label_names"]:
        changes.append(
            f"the label names changed ({theirs.get('label_names')} -> "
            f"{ours['label_names']})"
        )
    their_tokenizers = theirs.get("tokenizers") or {}
    for name, after in sorted(ours["tokenizers"].items()):
        before = their_tokenizers.get(name)
        if before is not None and before != after:
            changes.append(
                f"the {name} changed ({before.get('vocabulary_size')} -> "
                f"{after['vocabulary_size']} tokens, sha256 "
                f"{str(before.get('sha256'))[:12]} -> {after['sha256'][:12]})"
            )
    return changes
