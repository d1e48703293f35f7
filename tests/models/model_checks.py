"""Checks shared by the model builder tests."""

import inspect

import keras
import numpy as np
from keras import ops

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


def save_and_reload(model, tmp_path):
    """`model` saved to `.keras` and loaded back without `custom_objects`."""
    path = tmp_path / "model.keras"
    model.save(path)
    return keras.models.load_model(path)


def assert_config_complete_and_round_trips(model):
    """Every constructor argument is in `get_config()`, and `from_config`
    rebuilds a model with the same config."""
    config = model.get_config()
    signature = inspect.signature(type(model).__init__)
    missing = [
        name
        for name, parameter in signature.parameters.items()
        if name != "self" and parameter.kind is not parameter.VAR_KEYWORD
        and name not in config
    ]
    assert not missing, f"get_config() lacks constructor args {missing}"
    restored = type(model).from_config(config)
    assert type(restored) is type(model)
    assert restored.get_config() == config
    return restored


def decode_step_by_step(model, source, target):
    """Logits `(batch, T, V)` of `model.decode_step` fed `target` one token
    at a time, from `model.start_decoding(source, T)`."""
    steps = target.shape[1]
    context, state = model.start_decoding(source, max_length=steps)
    for tensor in keras.tree.flatten((context, state)):
        assert tensor.shape[0] == source.shape[0]
    logits = []
    for t in range(steps):
        # A tensor index, as in the compiled search loops.
        index = ops.convert_to_tensor(t, "int32")
        step_logits, state = model.decode_step(
            context, target[:, t : t + 1], index, state
        )
        assert ops.dtype(step_logits) == "float32"
        logits.append(to_numpy(step_logits))
    return np.stack(logits, axis=1)


def assert_cross_attention_weights(model, source, target, layers, heads):
    """`cross_attention_weights` has shape `(batch, layers, heads, T, S)`,
    rows summing to 1 at real target steps and zero at padded sources."""
    weights = model.cross_attention_weights(source, target)
    assert ops.dtype(weights) == "float32"
    weights = to_numpy(weights)
    assert weights.shape == (
        source.shape[0], layers, heads, target.shape[1], source.shape[1]
    )
    padded_source = (source == 0)[:, None, None, None, :]
    padded_source = np.broadcast_to(padded_source, weights.shape)
    assert padded_source.any()
    np.testing.assert_array_equal(weights[padded_source], 0.0)
    real_rows = np.broadcast_to(
        (target != 0)[:, None, None, :], weights.shape[:-1]
    )
    np.testing.assert_allclose(weights.sum(-1)[real_rows], 1.0, atol=1e-5)
    return weights
