"""Mixed precision with loss scaling, a clean stop on NaN, and the same
result twice from the same seed (CPU)."""

import json
import os

import h5py
import keras
import numpy as np
import pytest

from keras_attnpred.serialization import load_model
from keras_attnpred.training import TrainingDivergedError
from keras_attnpred.training import train
from tests.training.tiny_data import write_sentiment_csv


def tiny_config(tmp_path, **overrides):
    data = str(tmp_path / "reviews.csv")
    if not os.path.exists(data):
        write_sentiment_csv(data, 120)
    return {"task": "sentiment", "train_path": data, "model": "rnn",
            "preset": "tiny", "epochs": 2, "vocabulary_size": 80,
            "max_length": 12, "batch_size": 16, "learning_rate": 0.01,
            **overrides}


class PoisonAt(keras.callbacks.Callback):
    """Writes NaN into the output layer before batch `batch` of epoch
    `epoch`, and notes the optimizer `fit` really uses."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.target, self.epoch, self.optimizer = (epoch, batch), None, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.optimizer = self.model.optimizer
        if (self.epoch, batch) == self.target:
            kernel = self.model.logits_layer.kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def all_finite(weights):
    return all(np.isfinite(w).all() for w in weights)


def test_mixed_float16_scales_the_loss_and_stops_cleanly_on_nan(tmp_path):
    out = tmp_path / "run"
    poison = PoisonAt(epoch=1, batch=2)
    with pytest.raises(TrainingDivergedError) as error:
        train(tiny_config(tmp_path, mixed_precision="mixed_float16"),
              str(out), callbacks=[poison], verbose=0)
    # Keras wraps the optimizer for float16: dynamic loss scaling.
    assert isinstance(poison.optimizer, keras.optimizers.LossScaleOptimizer)
    assert (error.value.epoch, error.value.batch) == (1, 2)
    assert np.isnan(error.value.value)
    message = str(error.value)
    assert "the loss became nan in epoch 2, batch 3" in message
    assert "backup holds the weights of epoch 1" in message
    # The run directory keeps the last good state, nothing of the NaN one.
    assert not (out / "model.keras").exists()
    assert not (out / "metrics.json").exists()
    metadata = json.loads(
        (out / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1
    with h5py.File(out / "backup" / metadata["weights"]) as backup:
        arrays = []
        backup.visititems(lambda name, item: arrays.append(item[()])
                          if isinstance(item, h5py.Dataset) else None)
    assert arrays and all_finite(arrays)
    assert all_finite(load_model(out / "checkpoints" / "best.keras",
                                 compile=False).get_weights())
    assert keras.config.dtype_policy().name == "float32"  # restored


def test_cli_exits_with_one_line_when_the_loss_becomes_nan(tmp_path, capsys):
    from keras_attnpred import cli

    config = tiny_config(tmp_path)
    # Adam's first step moves every weight by ~1e38: the next loss is NaN.
    code = cli.main([
        "train", "--task", "sentiment", "--model", "rnn", "--preset", "tiny",
        "--data", config["train_path"], "--out", str(tmp_path / "run"),
        "--learning-rate", "1e38", "--vocabulary-size", "80",
        "--max-length", "12", "--batch-size", "16"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0, err
    assert err.startswith("attnpred train: error: Training diverged: the "
                          "loss became nan in epoch 1"), err
    assert not (tmp_path / "run" / "model.keras").exists()


def test_the_same_seed_gives_the_same_run_twice(tmp_path):
    # The Transformer preset has dropout, which the seed must fix too.
    config = tiny_config(tmp_path, model="transformer", seed=7, epochs=1)
    first = train(config, str(tmp_path / "first"), verbose=0)
    keras.backend.clear_session(free_memory=False)
    second = train(config, str(tmp_path / "second"), verbose=0)
    assert first.metrics["history"] == second.metrics["history"]
    for part in ("train", "validation"):
        assert first.metrics[part] == second.metrics[part]
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_nan_under_the_fused_dropout_kernel_names_the_way_around_it(
    tmp_path, monkeypatch
):
    from keras_attnpred.training import _training_callbacks

    # The kernel needs JAX on a GPU: here its test answers yes instead.
    monkeypatch.setattr(
        _training_callbacks, "can_fuse_dropout", lambda *args: True
    )
    config = tiny_config(tmp_path, learning_rate=1e38)
    with pytest.raises(TrainingDivergedError) as error:
        train(config, str(tmp_path / "run"), verbose=0)
    message = str(error.value)
    assert "cuDNN's fused kernel" in message
    assert "flash_attention: false (--no-flash-attention)" in message


def test_a_nan_without_the_fused_kernel_does_not_mention_it(tmp_path):
    config = tiny_config(tmp_path, learning_rate=1e38)
    with pytest.raises(TrainingDivergedError) as error:
        train(config, str(tmp_path / "run"), verbose=0)
    assert "cuDNN" not in str(error.value)
