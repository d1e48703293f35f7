import keras
import numpy as np
import pytest

from keras_attnpred.models import RNNEncoderBackbone
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy
from tests.models.model_checks import add_padding_columns
from tests.models.model_checks import assert_config_complete_and_round_trips
from tests.models.model_checks import save_and_reload

VARIANTS = {
    "bigru_bigrams": dict(rnn="gru", bidirectional=True, bigram_buckets=64),
    "lstm": dict(rnn="lstm", bidirectional=False),
}


def tiny_backbone(**overrides):
    arguments = dict(vocabulary_size=30, embedding_dim=6, units=4, dropout=0.1)
    return RNNEncoderBackbone(**{**arguments, **overrides})


def token_ids():
    return padded_ids([6, 2, 4], 6, 30, seed=3)


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_equals_the_call(variant):
    backbone = tiny_backbone(**VARIANTS[variant])
    width = 8 if backbone.bidirectional else 4
    assert backbone.output_dim == width
    ids = token_ids()
    outputs = backbone(ids)
    assert set(outputs) == {"sequence_output", "padding_mask"}
    sequence, padding_mask = backbone.encode(ids)
    assert tuple(sequence.shape) == (3, 6, width)
    assert tuple(outputs["sequence_output"].shape) == (3, 6, width)
    real = ids != 0
    np.testing.assert_allclose(
        to_numpy(sequence), to_numpy(outputs["sequence_output"]), atol=1e-6
    )
    np.testing.assert_array_equal(to_numpy(padding_mask), real)
    np.testing.assert_array_equal(to_numpy(outputs["padding_mask"]), real)


@pytest.mark.parametrize("variant", VARIANTS)
def test_padding_is_hidden(variant):
    backbone = tiny_backbone(**VARIANTS[variant])
    ids = token_ids()
    sequence, _ = backbone.encode(ids)
    real = ids != 0
    longer = add_padding_columns(ids)
    padded_sequence, padded_mask = backbone.encode(longer)
    np.testing.assert_array_equal(to_numpy(padded_mask), longer != 0)
    np.testing.assert_allclose(
        to_numpy(padded_sequence)[:, :6][real],
        to_numpy(sequence)[real],
        rtol=1e-5,
        atol=1e-5,
    )
    # A padded row encodes as the same row cut to its length: the backward
    # RNN starts from the last real token.
    short, _ = backbone.encode(ids[1:2, :2])
    np.testing.assert_allclose(
        to_numpy(short)[0], to_numpy(sequence)[1, :2], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_config_round_trip(variant):
    backbone = tiny_backbone(**VARIANTS[variant])
    restored = assert_config_complete_and_round_trips(backbone)
    assert restored.count_params() == backbone.count_params()
    assert keras.saving.get_registered_name(RNNEncoderBackbone) == (
        "keras_attnpred>RNNEncoderBackbone"
    )


def test_save_and_reload(tmp_path):
    backbone = tiny_backbone(**VARIANTS["bigru_bigrams"])
    ids = token_ids()
    expected, _ = backbone.encode(ids)
    reloaded = save_and_reload(backbone, tmp_path)
    assert isinstance(reloaded, RNNEncoderBackbone)
    assert reloaded.get_config() == backbone.get_config()
    actual, padding_mask = reloaded.encode(ids)
    real = ids != 0
    np.testing.assert_allclose(
        to_numpy(actual)[real], to_numpy(expected)[real], rtol=1e-6, atol=1e-6
    )
    np.testing.assert_array_equal(to_numpy(padding_mask), real)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vocabulary_size": 0}, "Received: vocabulary_size=0"),
        ({"rnn": "rnn"}, "Received: rnn='rnn'"),
        ({"embedding_dim": -1}, "Received: embedding_dim=-1"),
        ({"units": 0}, "Received: units=0"),
        ({"bidirectional": 1}, "Received: bidirectional=1"),
        ({"dropout": 1.0}, r"Received: dropout=1\.0"),
        ({"bigram_buckets": 0}, "Received: bigram_buckets=0"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_backbone(**kwargs)
