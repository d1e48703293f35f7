import keras
import numpy as np
import pytest

from keras_attnpred.layers import PositionEmbedding
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.layer_checks import xla_compile


class TestPositionEmbedding(LayerChecks):
    layer_cls = PositionEmbedding
    init_kwargs = {"sequence_length": 8}

    def make_inputs(self):
        return {"inputs": random_floats((2, 5, 4))}

    def make_padded_inputs(self):
        return {"inputs": (padded_ids([5, 3, 1], 5), 4)}



def test_returns_table_rows_broadcast_over_batch():
    x = random_floats((3, 5, 4))
    layer = PositionEmbedding(sequence_length=8)
    out = to_numpy(layer(x))
    table = to_numpy(layer.embeddings)
    assert table.shape == (8, 4)
    assert out.shape == x.shape
    for row in out:
        np.testing.assert_array_equal(row, table[:5])


def test_start_index_selects_later_rows():
    layer = PositionEmbedding(sequence_length=8)
    out = to_numpy(layer(random_floats((2, 3, 4)), start_index=5))
    np.testing.assert_array_equal(out[1], to_numpy(layer.embeddings)[5:8])


@pytest.mark.parametrize("as_tensor", [False, True])
def test_step_by_step_matches_full_sequence(as_tensor):
    x = random_floats((2, 6, 4))
    layer = PositionEmbedding(sequence_length=6)
    full = to_numpy(layer(x))
    for t in range(6):
        start = keras.ops.convert_to_tensor(t, "int32") if as_tensor else t
        step = to_numpy(layer(x[:, t : t + 1], start_index=start))
        np.testing.assert_array_equal(step, full[:, t : t + 1])


def test_xla_with_traced_start_index():
    layer = PositionEmbedding(sequence_length=6)
    x = random_floats((2, 1, 4))
    layer.build(x.shape)
    compiled = xla_compile(lambda x, t: layer(x, start_index=t))
    out = to_numpy(compiled(x, keras.ops.convert_to_tensor(4, "int32")))
    np.testing.assert_array_equal(out[0], to_numpy(layer.embeddings)[4:5])


def test_shorter_sequences_than_table_work_in_a_model():
    inputs = keras.Input(shape=(None, 4))
    model = keras.Model(inputs, PositionEmbedding(sequence_length=10)(inputs))
    assert to_numpy(model(random_floats((2, 3, 4)))).shape == (2, 3, 4)
    assert to_numpy(model(random_floats((2, 10, 4)))).shape == (2, 10, 4)


def test_too_long_sequence_raises_naming_sequence_length():
    with pytest.raises(ValueError, match="sequence_length=4, time=6"):
        PositionEmbedding(sequence_length=4)(random_floats((2, 6, 3)))


def test_too_long_sequence_raises_in_functional_model():
    with pytest.raises(ValueError, match="sequence_length=4, time=6"):
        PositionEmbedding(sequence_length=4)(keras.Input(shape=(6, 3)))


def test_start_index_past_table_raises():
    layer = PositionEmbedding(sequence_length=4)
    layer(random_floats((2, 4, 3)))
    message = "sequence_length=4, time=2, start_index=3"
    with pytest.raises(ValueError, match=message):
        layer(random_floats((2, 2, 3)), start_index=3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sequence_length": 0}, "Received: sequence_length=0"),
        ({"sequence_length": 2.5}, "Received: sequence_length=2.5"),
        ({"sequence_length": None}, "Received: sequence_length=None"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PositionEmbedding(**kwargs)


def test_rejects_inputs_without_time_axis():
    with pytest.raises(ValueError, match=r"inputs.shape=\(2, 3\)"):
        PositionEmbedding(sequence_length=4)(random_floats((2, 3)))
