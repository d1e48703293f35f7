"""Runs `keras_attnpred.training.train` in its own process, to be killed.

Usage: python -m tests.reliability.train_worker CONFIG_JSON OUT_DIR

Deterministic: the seed comes from the configuration and TensorFlow's ops
are made deterministic (`tf.config.experimental.enable_op_determinism`).

With `ATTNPRED_TEST_PAUSE=EPOCH:BATCH:MARKER` in the environment the run
writes the file MARKER after batch BATCH (1-based) of epoch EPOCH (0-based)
and then sleeps until it is killed, so a test can SIGKILL it at a known
point in the middle of an epoch. The command line stays the same, so the
restart is "the same command".
"""

import json
import os
import sys
import time


def main(config_path, out_dir):
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    import keras

    from keras_attnpred.training import train

    class PauseAt(keras.callbacks.Callback):
        def __init__(self, epoch, batch, marker):
            super().__init__()
            self.target = (epoch, batch)
            self.marker = marker
            self.epoch = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch + 1) == self.target:
                with open(self.marker, "w") as f:
                    f.write(f"{self.epoch}:{batch + 1}\n")
                while True:  # until SIGKILL
                    time.sleep(1)

    callbacks = []
    pause = os.environ.get("ATTNPRED_TEST_PAUSE")
    if pause:
        epoch, batch, marker = pause.split(":", 2)
        callbacks.append(PauseAt(int(epoch), int(batch), marker))
    with open(config_path) as f:
        config = json.load(f)
    train(config, out_dir, callbacks=callbacks, verbose=0)


if __name__ == "__main__":
    main(*sys.argv[1:])
