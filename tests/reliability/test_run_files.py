"""A run survives kills at any moment and refuses to resume on other data.

Kills are simulated in this process: a `KeyboardInterrupt` raised where a
signal would stop the run (in the middle of writing the backup, after the
last epoch, in the final evaluation), and files cut short as a SIGKILL
leaves them. `test_interrupted_training.py` kills real processes.
"""

import errno
import fcntl
import json
import os

import h5py
import keras
import numpy as np
import pytest

from keras_attnpred.serialization import load_model
from keras_attnpred.training import prepare
from keras_attnpred.training import train
from tests.training.tiny_data import write_sentiment_csv

# The module, not the function `keras_attnpred.training.train`.
train_module = __import__("keras_attnpred.training.train",
                          fromlist=["_evaluate"])


def tiny_config(tmp_path, **overrides):
    data = str(tmp_path / "reviews.csv")
    if not os.path.exists(data):
        write_sentiment_csv(data, 120)
    return {"task": "sentiment", "train_path": data, "model": "rnn",
            "preset": "tiny", "epochs": 2, "vocabulary_size": 60,
            "max_length": 8, "batch_size": 16, "learning_rate": 0.01,
            "seed": 1, **overrides}


class StopAt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (a Ctrl-C) after batch `batch` (1-based) of
    epoch index `epoch`."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.target, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch + 1) == self.target:
            raise KeyboardInterrupt


def interrupted(config, out, epoch, batch):
    with pytest.raises(KeyboardInterrupt):
        train(config, out, callbacks=[StopAt(epoch, batch)], verbose=0)


def metadata(out):
    return json.loads((out / "backup" / "training_metadata.json").read_text())


def test_a_kill_while_the_backup_is_written_leaves_one_to_resume(
        tmp_path, monkeypatch):
    config, out = tiny_config(tmp_path), tmp_path / "run"
    save_weights = keras.Model.save_weights
    calls = []

    def killed_in_second_save(self, filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) == 2:
            # What SIGKILL mid-write left: Keras wrote the backup in place,
            # and the next run failed on "truncated file: eof = 96".
            save_weights(self, filepath, *args, **kwargs)
            with open(filepath, "r+b") as f:
                f.truncate(96)
            raise KeyboardInterrupt
        return save_weights(self, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", killed_in_second_save)
    with pytest.raises(KeyboardInterrupt):
        train(config, out, verbose=0)
    monkeypatch.setattr(keras.Model, "save_weights", save_weights)
    assert metadata(out)["epoch"] == 1  # the first epoch's backup holds
    assert not (out / "model.keras").exists()
    # Nothing half-written is left behind.
    assert sorted(os.listdir(out / "backup")) == [
        "best-epoch-1.state.npz", "config.json", "data.json",
        "epoch-1.weights.h5", "training_metadata.json"]
    run = train(config, out, verbose=0)
    assert run.metrics["epochs_completed"] == 2
    assert len(run.metrics["history"]["loss"]) == 2  # epoch 1's kept


def test_an_unreadable_backup_names_the_file_and_the_ways_out(tmp_path):
    config, out = tiny_config(tmp_path, epochs=3), tmp_path / "run"
    interrupted(config, out, epoch=2, batch=1)
    assert metadata(out)["epoch"] == 2
    previous = metadata(out)["previous"]
    assert (previous["epoch"], previous["weights"]) == (
        1, "epoch-1.weights.h5")
    latest = out / "backup" / "epoch-2.weights.h5"
    with open(latest, "r+b") as f:  # damaged after the fact
        f.truncate(96)
    with pytest.raises(ValueError, match=(
            r"Corrupt training backup .*epoch-2.weights.h5: unreadable "
            r"\(.*truncated file.*\). The backup of epoch 1 is intact "
            r"\(.*epoch-1.weights.h5\): delete .*epoch-2.weights.h5 to resume "
            r"from epoch 1, or delete .*backup to train from the start.")):
        train(config, out, verbose=0)
    os.remove(latest)  # as the message says
    run = train(config, out, verbose=0)
    assert run.metrics["epochs_completed"] == 3
    # From the backup of epoch 1, with its history.
    assert len(run.metrics["history"]["loss"]) == 3


def test_a_backup_locked_by_another_process_is_named(tmp_path):
    config, out = tiny_config(tmp_path), tmp_path / "run"
    interrupted(config, out, epoch=1, batch=1)
    weights = out / "backup" / metadata(out)["weights"]
    # As another `train` reading it would: HDF5 then fails with errno 11.
    with open(weights, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        with pytest.raises(ValueError, match=(
                r"epoch-1.weights.h5 is in use by another process \(HDF5 "
                r"could not lock it, errno 11\)")):
            train(config, out, verbose=0)
    assert train(config, out, verbose=0).metrics["epochs_completed"] == 2


def test_a_kill_after_the_last_epoch_keeps_the_run(tmp_path, monkeypatch):
    config, out = tiny_config(tmp_path), tmp_path / "run"
    evaluate = train_module._evaluate
    calls = []

    def killed_in_second_evaluation(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(train_module, "_evaluate",
                        killed_in_second_evaluation)
    with pytest.raises(KeyboardInterrupt):
        train(config, out, verbose=0)
    # Keras deleted backup/ when fit returned: the whole run was lost.
    facts = json.loads((out / "backup" / "trained.json").read_text())
    assert facts["epochs_completed"] == 2
    assert sorted(facts["evaluation"]) == ["train"]  # done before the kill
    assert not (out / "metrics.json").exists()
    with h5py.File(out / "backup" / "trained.weights.h5"):
        pass

    def no_training(*args, **kwargs):
        raise AssertionError("the rerun trained again")

    monkeypatch.setattr(keras.Model, "fit", no_training)
    count = []
    monkeypatch.setattr(train_module, "_evaluate",
                        lambda *a, **k: count.append(1) or evaluate(*a, **k))
    run = train(config, out, verbose=0)
    assert count == [1]  # only the validation part was left to evaluate
    assert run.metrics["epochs_completed"] == 2
    assert run.metrics["history"] == facts["history"]
    assert run.metrics["train"] == facts["evaluation"]["train"]
    assert os.listdir(out / "backup") == []  # cleared once saved
    saved = load_model(out / "model.keras", compile=False).get_weights()
    for a, b in zip(saved, run.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_finished_training_rerun_with_other_epochs_is_refused(
        tmp_path, monkeypatch):
    config, out = tiny_config(tmp_path), tmp_path / "run"

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_evaluate", killed)
    with pytest.raises(KeyboardInterrupt):
        train(config, out, verbose=0)
    monkeypatch.undo()
    with pytest.raises(ValueError, match=(
            r"holds a run that finished training with epochs=2 and was "
            r"stopped before it was saved. Run the same command to save it")):
        train({**config, "epochs": 3}, out, verbose=0)


def test_resuming_on_a_replaced_training_file_is_refused(tmp_path):
    config, out = tiny_config(tmp_path, epochs=3), tmp_path / "run"
    interrupted(config, out, epoch=1, batch=2)
    write_sentiment_csv(config["train_path"], 100, seed=5)  # replaced
    with pytest.raises(ValueError, match=(
            r"holds an interrupted run on other data than '.*reviews.csv': "
            r"the train part changed \(108 rows, sha256 \w{12} -> 90 rows, "
            r"sha256 \w{12}\); the validation part changed .*; the tokenizer "
            r"changed .* Run it on the data it started with, or delete "
            r".*backup to start over")):
        train(config, out, verbose=0)
    # The same data again resumes.
    write_sentiment_csv(config["train_path"], 120)
    run = train(config, out, verbose=0)
    assert len(run.metrics["history"]["loss"]) == 3


def test_resuming_on_a_prepared_folder_made_again_is_refused(tmp_path):
    config = tiny_config(tmp_path, epochs=3)
    folder = str(tmp_path / "prepared")
    prepare(config, folder)
    prepared = {**config, "prepared": folder}
    prepared.pop("train_path")
    out = tmp_path / "run"
    interrupted(prepared, out, epoch=1, batch=2)
    # Prepared again from the same path, which now holds other texts.
    write_sentiment_csv(config["train_path"], 120, seed=9)
    prepare(config, folder)
    with pytest.raises(ValueError, match=r"on other data than .*prepared.*: "
                       r"the train part changed .*tokenizer changed"):
        train(prepared, out, verbose=0)


def test_a_full_disk_while_backing_up_is_one_line_naming_the_file(
        tmp_path, monkeypatch, capsys):
    from keras_attnpred import cli

    config, out = tiny_config(tmp_path), tmp_path / "run"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    save_weights = keras.Model.save_weights
    calls = []

    def full_disk_in_second_save(self, filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) == 2:
            with open(filepath, "wb") as f:
                f.write(b"\x89HDF")
            raise OSError(errno.ENOSPC, "No space left on device")
        return save_weights(self, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", full_disk_in_second_save)
    assert cli.main(["train", "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(
        "attnpred train: error: [Errno 28] No space left on device while "
        f"writing {out}/backup/epoch-2.weights.h5; the backup of epoch 1 is "
        "kept: free space and run the same command to resume"), err
    monkeypatch.setattr(keras.Model, "save_weights", save_weights)
    assert sorted(os.listdir(out / "backup")) == [
        "best-epoch-1.state.npz", "config.json", "data.json",
        "epoch-1.weights.h5", "training_metadata.json"]
    assert cli.main(["train", "--config", str(path), "--out", str(out)]) == 0


def test_other_full_disks_in_training_are_one_line(tmp_path, monkeypatch,
                                                   capsys):
    import tensorflow as tf

    from keras_attnpred import cli

    config = tiny_config(tmp_path, epochs=1)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    first, second = tmp_path / "first", tmp_path / "second"

    def checkpoint_full(self, epoch, logs=None):
        raise OSError(errno.ENOSPC, "No space left on device")

    def logs_full(self, epoch, logs=None):
        # TensorFlow's summary writer: a traceback before.
        raise tf.errors.ResourceExhaustedError(
            None, None, "events.out.tfevents; No space left on device")

    for out, target, failure, expected in (
        (first, keras.callbacks.ModelCheckpoint, checkpoint_full,
         f"[Errno 28] No space left on device while writing {first}/"
         "checkpoints/best.keras; backup/ keeps the last epoch"),
        (second, keras.callbacks.TensorBoard, logs_full,
         f"No space left on device while writing into {second}: "
         "events.out.tfevents; No space left on device"),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(target, "on_epoch_end", failure)
            code = cli.main(["train", "--config", str(path), "--out",
                             str(out)])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert err[0].startswith(f"attnpred train: error: {expected}"), err
