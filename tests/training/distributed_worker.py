"""Runs `train` in a fresh process, for the distribution tests.

Usage: python -m tests.training.distributed_worker MODE DATA_CSV OUT_DIR
RESULT_JSON, with MODE one of:

- `tf-mirrored`: 2 logical CPU devices; trains with "one-device" and then
  "mirrored" (under OUT_DIR/one and OUT_DIR/mirrored).
- `jax`: KERAS_BACKEND=jax and 2 host devices (set by the caller); trains
  with "one-device" and "mirrored" (`DataParallel`).
- `multi-worker`: TF_CONFIG set by the caller; trains once into OUT_DIR.
- `one-device`: trains once on one device into OUT_DIR (a reference for
  `multi-worker`; the tests take `tf-mirrored`'s one-device run, the same
  training).

RESULT_JSON gets, per run, the per-epoch losses and the final weights.
"""

import json
import sys


def main(mode, data, out_dir, result_path):
    if mode == "tf-mirrored":
        # Must happen before TensorFlow creates its devices.
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    import keras

    from keras_attnpred.training import train

    config = {
        "task": "classification",
        "train_path": data,
        "model": "rnn",  # no dropout: replicas cannot differ in masks
        "preset": "tiny",
        "validation_fraction": 0.25,
        "vocabulary_size": 120,
        "max_length": 16,
        "epochs": 2,
        "batch_size": 32,
        "learning_rate": 0.01,
    }
    single_runs = ("multi-worker", "one-device")
    strategies = [mode] if mode in single_runs else ["one-device", "mirrored"]
    results = {}
    for strategy in strategies:
        keras.backend.clear_session()
        directory = out_dir if mode in single_runs else f"{out_dir}/{strategy}"
        run = train({**config, "strategy": strategy}, directory, verbose=0)
        results[strategy] = {
            "loss": run.metrics["history"]["loss"],
            "num_replicas": run.metrics["num_replicas"],
            "weights": [w.tolist() for w in run.model.get_weights()],
            "directory": run.directory,
        }
    with open(result_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
