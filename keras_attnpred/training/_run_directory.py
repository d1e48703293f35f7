"""Writing a run directory (the names are in `_run_files`).

`TrainingRun.load` reads what `save_run` writes.
"""

import hashlib
import os
import shutil
import tempfile

from keras_attnpred import _atomic_files
from keras_attnpred.training import _run_files as files
from keras_attnpred.training._distribution import chief_and_worker_name


def directory_to_write(out_dir, strategy):
    """`(chief, directory)`: where this process writes its run directory.

    The chief writes `out_dir`. Every other worker trains too, and writes
    the same files into a temporary directory of its own, named after
    `out_dir` and the worker so that a resumed worker finds its backup.
    """
    chief, worker_name = chief_and_worker_name(strategy)
    if chief:
        return True, out_dir
    key = hashlib.sha1(os.path.abspath(out_dir).encode()).hexdigest()
    return False, os.path.join(
        tempfile.gettempdir(), f"keras_attnpred_{key[:12]}_{worker_name}"
    )


def make_run_directory(out_dir):
    """Creates `out_dir` with its backup and checkpoint folders; returns the
    backup folder."""
    backup_dir = os.path.join(out_dir, files.BACKUP)
    os.makedirs(backup_dir, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.join(out_dir, files.BEST)),
                exist_ok=True)
    return backup_dir


def save_run(out_dir, config, model, metrics, dataset, tokenizers=None):
    """Writes the final model, settings, metrics and tokenizer(s).

    `tokenizers` maps tokenizer folder names to tokenizers learned in this
    call; without it the folders of the `PreparedDataset` are copied (which
    needs no TensorFlow). Each file is written whole or not at all, and
    `metrics.json` last: a run directory with it is complete.
    """
    _atomic_files.write_atomically(
        os.path.join(out_dir, files.MODEL), model.save, suffix=".keras"
    )
    save_json(out_dir, files.CONFIG, config.to_dict())
    for name in dataset.tokenizer_names:
        target = os.path.join(out_dir, name)
        if tokenizers is not None:
            tokenizers[name].save(target)
        else:
            shutil.copytree(
                os.path.join(dataset.directory, name), target,
                dirs_exist_ok=True,
            )
    if config.is_classification:
        save_json(out_dir, files.LABELS,
                  {"label_names": list(dataset.label_names)})
    elif config.is_translation:
        save_json(out_dir, files.TRANSLATOR,
                  {"max_length": config.max_length})
    save_json(out_dir, files.METRICS, metrics)


def save_json(out_dir, name, value):
    _atomic_files.write_json(os.path.join(out_dir, name), value)
