import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers import AdditiveAttention
from keras_attnpred.layers import DotProductAttention
from keras_attnpred.models import RNNTranslator
from keras_attnpred.models import build_rnn_translator
from tests.layer_checks import to_numpy
from tests.models.model_checks import add_padding_columns
from tests.models.model_checks import assert_config_complete_and_round_trips
from tests.models.model_checks import assert_cross_attention_weights
from tests.models.model_checks import assert_save_reload_equal
from tests.models.model_checks import assert_training_reduces_loss
from tests.models.model_checks import decode_step_by_step
from tests.models.model_checks import translation_batch

VARIANTS = [
    dict(attention="bahdanau", rnn="gru"),
    dict(attention="luong", rnn="lstm"),
    dict(attention="luong", score="dot", rnn="gru"),
]


def tiny_model(**overrides):
    return build_rnn_translator(
        30, 40, **{"embedding_dim": 8, "units": 16, **overrides}
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_output_shape_and_dtype(variant):
    outputs = tiny_model(**variant)(translation_batch()[0])
    assert tuple(outputs.shape) == (3, 5, 40)
    assert ops.dtype(outputs) == "float32"


@pytest.mark.parametrize("variant", VARIANTS[:2])
def test_training_reduces_loss(variant):
    inputs, labels = translation_batch()
    assert_training_reduces_loss(tiny_model(**variant), inputs, labels)


@pytest.mark.parametrize("variant", VARIANTS[:2])
def test_save_and_reload(variant, tmp_path):
    inputs, _ = translation_batch()
    assert_save_reload_equal(tiny_model(**variant), inputs, tmp_path)


@pytest.mark.parametrize("variant", VARIANTS)
def test_extra_padding_changes_nothing_at_real_positions(variant):
    inputs, _ = translation_batch()
    model = tiny_model(**variant)
    expected = to_numpy(model(inputs))
    padded = {name: add_padding_columns(ids) for name, ids in inputs.items()}
    actual = to_numpy(model(padded))
    real = inputs["target"] != 0
    np.testing.assert_allclose(
        actual[:, :5][real], expected[real], rtol=1e-5, atol=1e-5
    )


def test_source_padding_is_not_attended():
    """A source with padding gives the outputs of the same source cut short."""
    inputs, _ = translation_batch()
    model = tiny_model()
    expected = to_numpy(model(inputs))[1:2]
    short = {"source": inputs["source"][1:2, :3], "target": inputs["target"][1:2]}
    np.testing.assert_allclose(
        to_numpy(model(short)), expected, rtol=1e-5, atol=1e-5
    )


def test_attention_and_parts():
    bahdanau = tiny_model()
    assert isinstance(bahdanau.attention, AdditiveAttention)
    assert bahdanau.decoder_rnn.__class__.__name__ == "GRU"
    assert len(bahdanau.initial_state_projections) == 1  # h
    luong = tiny_model(attention="luong", rnn="lstm")
    attention = luong.attention
    assert isinstance(attention, DotProductAttention)
    assert attention.get_config()["score"] == "general"
    assert tiny_model(
        attention="luong", score="concat"
    ).attention.get_config()["score"] == "concat"
    assert luong.decoder_rnn.__class__.__name__ == "LSTM"
    assert len(luong.initial_state_projections) == 2  # h and c
    assert luong.encoder_projection.units == 16
    assert luong.attentional_vector.units == 16
    assert luong.logits_layer.units == 40
    assert luong.decoder_rnn.units == 16


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"attention": "global"}, "Received: attention='global'"),
        ({"attention": "luong", "score": "cosine"}, "Received: score='cosine'"),
        ({"score": "dot"}, "Received: score='dot', attention='bahdanau'"),
        ({"rnn": "lstmm"}, "Received: rnn='lstmm'"),
        ({"units": 0}, "Received: units=0"),
        ({"embedding_dim": -1}, "Received: embedding_dim=-1"),
        ({"dropout": -0.1}, "Received: dropout=-0.1"),
        ({"source_vocabulary_size": None}, "Received: source_vocabulary_size=None"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    arguments = dict(source_vocabulary_size=30, target_vocabulary_size=40)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        build_rnn_translator(**arguments)


STEP_VARIANTS = [
    dict(attention="bahdanau", rnn="gru"),
    dict(attention="luong", rnn="lstm"),
]


@pytest.mark.parametrize("variant", STEP_VARIANTS)
def test_step_by_step_decoding_equals_teacher_forcing(variant):
    inputs, _ = translation_batch()
    assert (inputs["source"] == 0).any()
    model = tiny_model(**variant, dropout=0.1)
    assert model.max_decoding_length is None
    expected = to_numpy(model(inputs))
    actual = decode_step_by_step(model, inputs["source"], inputs["target"])
    # Padded target steps are never decoded: only the real ones compare.
    real = inputs["target"] != 0
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual[real], expected[real], atol=1e-5)


@pytest.mark.parametrize("variant", STEP_VARIANTS)
def test_cross_attention_weights(variant):
    inputs, _ = translation_batch()
    model = tiny_model(**variant)
    assert_cross_attention_weights(
        model, inputs["source"], inputs["target"], layers=1, heads=1
    )


def test_encode_gives_the_attention_memory():
    inputs, _ = translation_batch()
    model = tiny_model()
    memory, source_mask = model.encode(inputs["source"])
    assert tuple(memory.shape) == (3, 6, 16)
    np.testing.assert_array_equal(
        to_numpy(source_mask), inputs["source"] != 0
    )
    assert (model.source_vocabulary_size, model.target_vocabulary_size) == (
        30, 40
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_config_round_trip(variant):
    model = tiny_model(**variant, dropout=0.1)
    restored = assert_config_complete_and_round_trips(model)
    assert restored.count_params() == model.count_params()
    assert keras.saving.get_registered_name(RNNTranslator) == (
        "keras_attnpred>RNNTranslator"
    )
