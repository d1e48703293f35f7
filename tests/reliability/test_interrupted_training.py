"""Training killed with SIGKILL in the middle of an epoch, then restarted.

Each run is a fresh process (`tests.reliability.train_worker`, which calls
`keras_attnpred.training.train` with deterministic TensorFlow ops). The run
to be killed pauses at a known batch of its second epoch, after the first
epoch's backup is written; the test kills it there with SIGKILL (nothing
can be cleaned up), starts the same command again and compares the final
weights with those of a run that was never interrupted.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.training.test_distribution import free_ports
from tests.training.tiny_data import write_sentiment_csv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
TIMEOUT = 300  # seconds per process


def tiny_config(tmp_path, **overrides):
    data = str(tmp_path / "reviews.csv")
    if not os.path.exists(data):
        write_sentiment_csv(data, 240)
    config = {
        "task": "sentiment", "train_path": data, "preset": "tiny",
        "epochs": 3, "vocabulary_size": 120, "max_length": 16,
        "batch_size": 16, "learning_rate": 0.01, "seed": 3, **overrides,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def start(config, out_dir, pause=None, env=None, log=None):
    environment = {**os.environ, "PYTHONPATH": ROOT,
                   "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow",
                   **(env or {})}
    environment.pop("ATTNPRED_TEST_PAUSE", None)
    if pause:
        environment["ATTNPRED_TEST_PAUSE"] = pause
    log = open(log or f"{out_dir}.log", "a")  # a file: a full pipe blocks
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.train_worker", config,
         str(out_dir)], cwd=ROOT, env=environment, stdout=log,
        stderr=subprocess.STDOUT)
    process.log = log.name
    return process


def output(process):
    with open(process.log) as f:
        return f.read()[-4000:]


def finish(process, timeout=TIMEOUT):
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"timed out after {timeout}s:\n{output(process)}")
    assert process.returncode == 0, output(process)


def wait_for(path, process, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before {path}:\n"
                        f"{output(process)}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {path} after {timeout}s:\n{output(process)}")
        time.sleep(0.05)


def sigkill(process):
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def final_weights(out_dir):
    from keras_attnpred.serialization import load_model

    return load_model(os.path.join(out_dir, "model.keras"),
                      compile=False).get_weights()


def read_json(path):
    with open(path) as f:
        return json.load(f)


def kill_mid_epoch_and_resume(config, run_dir, epoch, batch):
    """SIGKILLs a run after `batch` batches of epoch index `epoch`, checks
    what it left, and runs the same command again to the end."""
    marker = f"{run_dir}.paused"
    killed = start(config, run_dir, pause=f"{epoch}:{batch}:{marker}")
    wait_for(marker, killed)
    sigkill(killed)
    # The backup of the last completed epoch, and no final model.
    assert read_json(run_dir / "backup" / "training_metadata.json")[
        "epoch"] == epoch
    assert not (run_dir / "model.keras").exists()
    finish(start(config, run_dir))
    return read_json(run_dir / "metrics.json")


def test_sigkill_mid_epoch_then_same_command_resumes(tmp_path):
    config = tiny_config(tmp_path, model="rnn", epochs=2)
    metrics = kill_mid_epoch_and_resume(config, tmp_path / "run", 1, 2)
    assert metrics["epochs_completed"] == 2
    assert len(metrics["history"]["loss"]) == 2  # the first one's kept


@pytest.mark.slow  # three fresh TensorFlow processes: 20-60 s
def test_sigkill_mid_epoch_resumes_to_the_same_weights(tmp_path):
    # The tiny Transformer has dropout: its seeds must resume too.
    config = tiny_config(tmp_path)
    whole_dir, run_dir = tmp_path / "whole", tmp_path / "run"
    whole = start(config, whole_dir)
    # Killed in epoch index 1 after 3 of its 14 batches.
    metrics = kill_mid_epoch_and_resume(config, run_dir, 1, 3)
    finish(whole)
    assert metrics["epochs_completed"] == 3
    # Same process layout, same ops, deterministic kernels: the same bits.
    for a, b in zip(final_weights(whole_dir), final_weights(run_dir)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        metrics["history"]["loss"],
        read_json(whole_dir / "metrics.json")["history"]["loss"])


@pytest.mark.slow
def test_multi_worker_run_survives_a_killed_worker(tmp_path):
    # No dropout: the replicas' masks could not be compared.
    config = tiny_config(tmp_path, model="rnn", strategy="multi-worker",
                         batch_size=32)
    run_dir = tmp_path / "run"
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}

    def worker(index, pause=None):
        tf_config = {"cluster": cluster,
                     "task": {"type": "worker", "index": index}}
        return start(config, run_dir, pause=pause,
                     env={"TF_CONFIG": json.dumps(tf_config)},
                     log=str(tmp_path / f"worker_{index}.log"))

    marker = tmp_path / "paused"
    chief, other = worker(0), worker(1, pause=f"1:2:{marker}")
    try:
        wait_for(marker, other)
        sigkill(other)
        # The chief's collectives fail without its peer; a cluster manager
        # restarts the whole job, each worker with its own command.
        try:
            chief.wait(timeout=60)
        except subprocess.TimeoutExpired:
            sigkill(chief)
        assert (run_dir / "backup" / "training_metadata.json").exists()
        chief, other = worker(0), worker(1)
        finish(chief)
        finish(other)
    finally:
        for process in (chief, other):
            if process.poll() is None:
                process.kill()
    metrics = read_json(run_dir / "metrics.json")
    assert metrics["epochs_completed"] == 3 and metrics["num_replicas"] == 2
    assert (run_dir / "model.keras").exists()
