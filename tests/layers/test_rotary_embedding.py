import keras
import numpy as np
import pytest

from keras_attnpred.layers import RotaryEmbedding
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.layer_checks import xla_compile


class TestRotaryEmbedding(LayerChecks):
    layer_cls = RotaryEmbedding
    init_kwargs = {"max_wavelength": 100, "scaling_factor": 2.0}
    has_trainable_weights = False

    def make_inputs(self):
        return {"inputs": random_floats((2, 5, 6))}

    def make_padded_inputs(self):
        return {"inputs": (padded_ids([5, 3, 1], 5), 6)}


class TestRotaryEmbeddingWithHeads(LayerChecks):
    layer_cls = RotaryEmbedding
    init_kwargs = {}
    has_trainable_weights = False

    def make_inputs(self):
        return {"inputs": random_floats((2, 5, 3, 4))}



def numpy_rope(x, max_wavelength=10000, scaling_factor=1.0, start=0):
    """Rotate-half RoPE on `(batch, time, ..., features)`, pair by pair."""
    x = np.asarray(x, "float64")
    out = np.empty_like(x)
    features = x.shape[-1]
    half = features // 2
    for t in range(x.shape[1]):
        pos = (start + t) / scaling_factor
        for i in range(half):
            theta = pos * max_wavelength ** (-2 * i / features)
            a, b = x[:, t, ..., i], x[:, t, ..., i + half]
            out[:, t, ..., i] = a * np.cos(theta) - b * np.sin(theta)
            out[:, t, ..., i + half] = a * np.sin(theta) + b * np.cos(theta)
    return out


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 7, 8), {}),
        ((2, 7, 3, 6), {}),
        ((2, 7, 8), {"max_wavelength": 50, "scaling_factor": 4.0}),
    ],
)
def test_matches_numpy_reference(shape, kwargs):
    x = random_floats(shape)
    out = to_numpy(RotaryEmbedding(**kwargs)(x))
    np.testing.assert_allclose(out, numpy_rope(x, **kwargs), atol=1e-5)


def test_other_axes_match_default_layout():
    x = random_floats((2, 3, 7, 4))  # (batch, heads, time, head_dim)
    out = RotaryEmbedding(sequence_axis=2, feature_axis=3)(x)
    want = numpy_rope(np.transpose(x, (0, 2, 1, 3)))
    np.testing.assert_allclose(
        to_numpy(out), np.transpose(want, (0, 2, 1, 3)), atol=1e-5
    )


def test_feature_axis_before_sequence_axis():
    x = random_floats((2, 4, 7))  # (batch, features, time)
    out = RotaryEmbedding(sequence_axis=2, feature_axis=1)(x)
    want = numpy_rope(np.transpose(x, (0, 2, 1)))
    np.testing.assert_allclose(
        to_numpy(out), np.transpose(want, (0, 2, 1)), atol=1e-5
    )


def test_dot_product_depends_only_on_relative_position():
    rope = RotaryEmbedding(max_wavelength=100)
    q = random_floats((1, 1, 8), seed=1)
    k = random_floats((1, 1, 8), seed=2)

    def score(m, n):
        rq = to_numpy(rope(q, start_index=m))
        rk = to_numpy(rope(k, start_index=n))
        return float((rq * rk).sum())

    for offset in (0, 1, 3):
        scores = [score(n + offset, n) for n in (0, 2, 5, 11)]
        np.testing.assert_allclose(scores, scores[0], rtol=1e-4, atol=1e-5)
    # ... and does depend on it, so the check above has teeth.
    assert not np.isclose(score(3, 0), score(0, 0), atol=1e-3)


def test_preserves_norm():
    x = random_floats((2, 9, 3, 6))
    out = to_numpy(RotaryEmbedding()(x, start_index=17))
    np.testing.assert_allclose(
        np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-5
    )


def test_position_zero_is_identity():
    x = random_floats((2, 1, 6))
    np.testing.assert_allclose(to_numpy(RotaryEmbedding()(x)), x, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 6, 4), (2, 6, 2, 4)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_step_by_step_matches_full_sequence(shape, as_tensor):
    x = random_floats(shape)
    layer = RotaryEmbedding()
    full = to_numpy(layer(x))
    for t in range(shape[1]):
        start = keras.ops.convert_to_tensor(t, "int32") if as_tensor else t
        step = to_numpy(layer(x[:, t : t + 1], start_index=start))
        np.testing.assert_allclose(step, full[:, t : t + 1], atol=1e-6)


def test_xla_with_traced_start_index():
    x = random_floats((2, 1, 2, 4))
    layer = RotaryEmbedding()
    compiled = xla_compile(lambda x, t: layer(x, start_index=t))
    out = to_numpy(compiled(x, keras.ops.convert_to_tensor(5, "int32")))
    np.testing.assert_allclose(out, numpy_rope(x, start=5), atol=1e-5)


def test_large_positions_accurate_in_float16(dtype_policy):
    dtype_policy("mixed_float16")
    x = random_floats((1, 2, 8))
    out = RotaryEmbedding()(x, start_index=3000)
    assert keras.ops.dtype(out) == "float16"
    want = numpy_rope(x.astype("float16"), start=3000)
    np.testing.assert_allclose(
        to_numpy(out).astype("float32"), want, atol=1e-2, rtol=1e-2
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_wavelength": 0}, "Received: max_wavelength=0"),
        ({"max_wavelength": "big"}, "Received: max_wavelength='big'"),
        ({"scaling_factor": 0.0}, "Received: scaling_factor=0.0"),
        ({"scaling_factor": -1}, "Received: scaling_factor=-1"),
        ({"sequence_axis": 1.5}, "Received: sequence_axis=1.5"),
        ({"feature_axis": None}, "Received: feature_axis=None"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RotaryEmbedding(**kwargs)


def test_odd_feature_size_raises():
    with pytest.raises(ValueError, match=r"Received: inputs.shape\[-1\]=5"):
        RotaryEmbedding()(random_floats((2, 3, 5)))


def test_out_of_range_axis_raises():
    with pytest.raises(ValueError, match="Received: sequence_axis=3"):
        RotaryEmbedding(sequence_axis=3)(random_floats((2, 3, 4)))


def test_same_axes_raise():
    with pytest.raises(
        ValueError, match="Received: sequence_axis=2, feature_axis=-1"
    ):
        RotaryEmbedding(sequence_axis=2)(random_floats((2, 3, 4)))


def test_rejects_inputs_without_time_axis():
    with pytest.raises(ValueError, match=r"inputs.shape=\(2, 4\)"):
        RotaryEmbedding()(random_floats((2, 4)))
