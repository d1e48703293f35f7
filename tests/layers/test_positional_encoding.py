import keras
import numpy as np
import pytest

from keras_attnpred.layers import PositionalEncoding
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.layer_checks import xla_compile


class TestPositionalEncoding(LayerChecks):
    layer_cls = PositionalEncoding
    init_kwargs = {"max_wavelength": 100}
    has_trainable_weights = False

    def make_inputs(self):
        return {"inputs": random_floats((2, 5, 6))}

    def make_padded_inputs(self):
        return {"inputs": (padded_ids([5, 3, 1], 5), 6)}



def numpy_positional_encoding(time, features, max_wavelength, start=0):
    encoding = np.zeros((time, features))
    for pos in range(start, start + time):
        for i in range(0, features, 2):
            angle = pos / max_wavelength ** (i / features)
            encoding[pos - start, i] = np.sin(angle)
            if i + 1 < features:
                encoding[pos - start, i + 1] = np.cos(angle)
    return encoding


@pytest.mark.parametrize("features", [6, 7])
@pytest.mark.parametrize("max_wavelength", [10000, 50.0])
def test_matches_numpy_reference(features, max_wavelength):
    x = random_floats((2, 9, features))
    out = to_numpy(PositionalEncoding(max_wavelength=max_wavelength)(x))
    want = numpy_positional_encoding(9, features, max_wavelength)
    assert out.shape == x.shape
    np.testing.assert_allclose(out[0], want, atol=1e-5)
    np.testing.assert_allclose(out[1], want, atol=1e-5)


def test_output_does_not_depend_on_input_values():
    layer = PositionalEncoding()
    a = to_numpy(layer(random_floats((2, 4, 6), seed=1)))
    b = to_numpy(layer(random_floats((2, 4, 6), seed=2, scale=100.0)))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_step_by_step_matches_full_sequence(as_tensor):
    x = random_floats((2, 6, 8))
    layer = PositionalEncoding()
    full = to_numpy(layer(x))
    for t in range(6):
        start = keras.ops.convert_to_tensor(t, "int32") if as_tensor else t
        step = to_numpy(layer(x[:, t : t + 1], start_index=start))
        np.testing.assert_allclose(step, full[:, t : t + 1], atol=1e-6)


def test_xla_with_traced_start_index():
    x = random_floats((2, 1, 8))
    layer = PositionalEncoding()
    compiled = xla_compile(lambda x, t: layer(x, start_index=t))
    out = to_numpy(compiled(x, keras.ops.convert_to_tensor(4, "int32")))
    want = numpy_positional_encoding(1, 8, 10000, start=4)
    np.testing.assert_allclose(out[0], want, atol=1e-5)


def test_large_positions_accurate_in_float16(dtype_policy):
    dtype_policy("mixed_float16")
    x = random_floats((1, 3, 8))
    out = PositionalEncoding()(x, start_index=3000)
    assert keras.ops.dtype(out) == "float16"
    want = numpy_positional_encoding(3, 8, 10000, start=3000)
    # float16 rounding of values in [-1, 1] only, not of the angles.
    np.testing.assert_allclose(
        to_numpy(out)[0].astype("float32"), want, atol=1e-3
    )


def test_usable_as_additive_encoding_in_a_model():
    inputs = keras.Input(shape=(None, 4))
    outputs = keras.layers.Add()([inputs, PositionalEncoding()(inputs)])
    model = keras.Model(inputs, outputs)
    x = random_floats((2, 3, 4))
    np.testing.assert_allclose(
        to_numpy(model(x)),
        x + numpy_positional_encoding(3, 4, 10000),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_wavelength": 0}, "Received: max_wavelength=0"),
        ({"max_wavelength": -5.0}, "Received: max_wavelength=-5.0"),
        ({"max_wavelength": "big"}, "Received: max_wavelength='big'"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PositionalEncoding(**kwargs)


def test_rejects_inputs_without_time_axis():
    with pytest.raises(ValueError, match=r"inputs.shape=\(2, 3\)"):
        PositionalEncoding()(random_floats((2, 3)))
