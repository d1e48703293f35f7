"""Distributed training, each case in fresh processes: device set-up must
happen before TensorFlow or JAX start."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.training.tiny_data import write_sentiment_csv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
TIMEOUT = 240  # seconds per process
# One device and two replicas sum the same numbers in another order.
LOSS_RTOL = 1e-4
WEIGHT_ATOL = 1e-4


def run_worker(mode, tmp_path, env=None, tag="result"):
    data = os.path.join(tmp_path, "data.csv")
    if not os.path.exists(data):
        # 192 training examples: 6 full global batches of 32, which split
        # evenly over 2 replicas.
        write_sentiment_csv(data, 256)
    result = os.path.join(tmp_path, f"{tag}.json")
    command = [sys.executable, "-m", "tests.training.distributed_worker",
               mode, data, os.path.join(tmp_path, "run"), result]
    environment = {**os.environ, "PYTHONPATH": ROOT,
                   "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.Popen(command, cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True), result


def finish(process):
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"worker timed out after {TIMEOUT}s:\n{output[-4000:]}")
    assert process.returncode == 0, output[-4000:]


def assert_same_training(results):
    one, mirrored = results["one-device"], results["mirrored"]
    assert one["num_replicas"] == 1 and mirrored["num_replicas"] == 2
    np.testing.assert_allclose(mirrored["loss"], one["loss"], rtol=LOSS_RTOL)
    for a, b in zip(one["weights"], mirrored["weights"]):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=WEIGHT_ATOL)


@pytest.fixture(scope="module")
def tf_mirrored(tmp_path_factory):
    """The `tf-mirrored` worker's results: the run on one device and the
    run on 2 CPU replicas (one process for both tests below)."""
    process, result = run_worker(
        "tf-mirrored", str(tmp_path_factory.mktemp("tf_mirrored")),
        env={"KERAS_BACKEND": "tensorflow"})
    finish(process)
    with open(result) as f:
        return json.load(f)


def test_mirrored_two_cpus_matches_one_device(tf_mirrored):
    assert_same_training(tf_mirrored)


@pytest.mark.slow  # about 80 s on 2 shared cores
def test_jax_data_parallel_matches_one_device(tmp_path):
    pytest.importorskip("jax")
    env = {"KERAS_BACKEND": "jax",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "JAX_PLATFORMS": "cpu"}
    process, result = run_worker("jax", str(tmp_path), env=env)
    finish(process)
    with open(result) as f:
        assert_same_training(json.load(f))


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_two_processes(tmp_path, tf_mirrored):
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker",
                                                  "index": index}}
        processes.append(run_worker(
            "multi-worker", str(tmp_path),
            env={"KERAS_BACKEND": "tensorflow",
                 "TF_CONFIG": json.dumps(tf_config)},
            tag=f"worker_{index}"))
    try:
        for process, _ in processes:
            finish(process)
    finally:
        for process, _ in processes:
            if process.poll() is None:
                process.kill()
    results = []
    for _, path in processes:
        with open(path) as f:
            results.append(json.load(f)["multi-worker"])
    chief, other = results
    assert chief["directory"] is not None and other["directory"] is None
    assert chief["num_replicas"] == other["num_replicas"] == 2
    assert len(chief["loss"]) == 2
    for a, b in zip(chief["weights"], other["weights"]):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    # Each worker takes half of each global batch: the same training as
    # one device on the whole batch (the same data and configuration, run
    # by the `tf-mirrored` worker).
    assert_same_training({"one-device": tf_mirrored["one-device"],
                          "mirrored": chief})
    run = tmp_path / "run"
    assert (run / "model.keras").exists() and (run / "metrics.json").exists()
    # Only the chief wrote: one set of TensorBoard files, no worker dirs.
    assert sorted(os.listdir(run)) == sorted([
        "backup", "checkpoints", "config.json", "labels.json", "logs",
        "metrics.json", "model.keras", "tokenizer"])
    assert len(os.listdir(run / "logs" / "train")) == 1
