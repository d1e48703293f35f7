"""Checks shared by the model builder tests."""

import keras
import numpy as np

from keras_attnpred.models import MaskedSparseCategoricalAccuracy
from keras_attnpred.models import MaskedSparseCategoricalCrossentropy
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy


def translation_batch(source_vocabulary_size=30, target_vocabulary_size=40):
    """Padded source ids, target inputs (start id 1 first) and labels."""
    source = padded_ids([5, 3, 6], 6, source_vocabulary_size, seed=1)
    sequence = padded_ids([5, 2, 4], 6, target_vocabulary_size, seed=2)
    sequence[:, 0] = 1  # the start id
    inputs = {"source": source, "target": sequence[:, :-1]}
    return inputs, sequence[:, 1:]


def add_padding_columns(ids, extra=3):
    return np.concatenate([ids, np.zeros((ids.shape[0], extra), ids.dtype)], 1)


def assert_training_reduces_loss(model, inputs, labels, steps=4):
    model.compile(
        optimizer=keras.optimizers.Adam(0.03),
        loss=MaskedSparseCategoricalCrossentropy(),
        metrics=[MaskedSparseCategoricalAccuracy()],
        # TensorFlow spends seconds tracing a graph for these few steps; JAX
        # is the other way round (op-by-op dispatch is the slow part).
        run_eagerly=keras.backend.backend() == "tensorflow",
    )
    first = model.train_on_batch(inputs, labels, return_dict=True)["loss"]
    for _ in range(steps):
        last = model.train_on_batch(inputs, labels, return_dict=True)["loss"]
    assert np.isfinite(first) and np.isfinite(last)
    assert last < 0.9 * first, (first, last)


def assert_save_reload_equal(model, inputs, tmp_path, compile=False):
    if compile:
        model.compile(
            optimizer="adam",
            loss=MaskedSparseCategoricalCrossentropy(label_smoothing=0.1),
            metrics=[MaskedSparseCategoricalAccuracy()],
        )
    expected = to_numpy(model(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)  # no custom_objects
    np.testing.assert_allclose(
        to_numpy(reloaded(inputs)), expected, rtol=1e-5, atol=1e-5
    )
    return reloaded
