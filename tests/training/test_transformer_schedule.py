import keras
import numpy as np
import pytest

from keras_attnpred.training import TransformerSchedule


def reference(step, model_dim, warmup_steps):
    n = step + 1
    return model_dim**-0.5 * min(n**-0.5, n * warmup_steps**-1.5)


@pytest.mark.parametrize("step", [0, 1, 99, 399, 400, 401, 1000, 123456])
def test_matches_formula(step):
    schedule = TransformerSchedule(model_dim=128, warmup_steps=400)
    value = float(keras.ops.convert_to_numpy(schedule(step)))
    np.testing.assert_allclose(value, reference(step, 128, 400), rtol=1e-6)


def test_peak_at_warmup_end_and_scale():
    schedule = TransformerSchedule(64, warmup_steps=10, scale=2.0)
    values = [float(schedule(step)) for step in range(30)]
    assert int(np.argmax(values)) == 9  # n = step + 1 = warmup_steps
    np.testing.assert_allclose(max(values), 2.0 * (64 * 10) ** -0.5, rtol=1e-6)


def test_serialization_and_optimizer_reload(tmp_path):
    schedule = TransformerSchedule(32, warmup_steps=50, scale=0.5)
    config = keras.saving.serialize_keras_object(schedule)
    again = keras.saving.deserialize_keras_object(config)
    assert isinstance(again, TransformerSchedule)
    assert again.get_config() == schedule.get_config()

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(schedule), "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    reloaded_schedule = reloaded.optimizer._learning_rate
    assert isinstance(reloaded_schedule, TransformerSchedule)
    assert reloaded_schedule.get_config() == schedule.get_config()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"model_dim": 0}, "model_dim"),
        ({"model_dim": 8, "warmup_steps": 1.5}, "warmup_steps"),
        ({"model_dim": 8, "scale": 0}, "scale"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"Received: {name}="):
        TransformerSchedule(**kwargs)
