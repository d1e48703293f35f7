"""The history of a whole run, over the calls that resumed it."""

import time

import keras


class RunHistory(keras.callbacks.Callback):
    """The per-epoch logs and the training seconds of every epoch so far.

    Keras's `History` holds the epochs of one `fit`; this one is saved
    with each epoch's backup (`backup_state`) and restored with it, so a
    resumed run reports all its epochs and the seconds of every call.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.seconds_before = 0.0
        self.start = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    def seconds(self):
        """The training seconds of this call and of the calls before."""
        return self.seconds_before + time.perf_counter() - self.start

    def backup_state(self):
        # A copy: the backup of the epoch before keeps its own.
        history = {key: list(values) for key, values in self.history.items()}
        return {"history": history, "seconds": self.seconds()}, {}

    def restore_backup_state(self, facts, arrays):
        self.history = {key: list(values)
                        for key, values in facts["history"].items()}
        self.seconds_before = float(facts["seconds"])
