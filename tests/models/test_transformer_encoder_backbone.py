import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.models import TransformerEncoderBackbone
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy
from tests.models.model_checks import add_padding_columns
from tests.models.model_checks import assert_config_complete_and_round_trips
from tests.models.model_checks import save_and_reload

VARIANTS = {
    "post_norm": dict(),
    "pre_norm_bigrams": dict(normalize_first=True, bigram_buckets=64),
}


def tiny_backbone(**overrides):
    arguments = dict(
        vocabulary_size=30, max_length=16, num_layers=2, model_dim=8,
        num_heads=2, intermediate_dim=16, dropout=0.1,
    )
    return TransformerEncoderBackbone(**{**arguments, **overrides})


def token_ids():
    return padded_ids([6, 2, 4], 6, 30, seed=3)


@pytest.mark.parametrize("variant", VARIANTS)
def test_encode_equals_the_call(variant):
    backbone = tiny_backbone(**VARIANTS[variant])
    ids = token_ids()
    outputs = backbone(ids)
    assert set(outputs) == {"sequence_output", "padding_mask"}
    sequence, padding_mask = backbone.encode(ids)
    assert tuple(sequence.shape) == (3, 6, 8) == tuple(
        outputs["sequence_output"].shape
    )
    np.testing.assert_allclose(
        to_numpy(sequence), to_numpy(outputs["sequence_output"]), atol=1e-6
    )
    np.testing.assert_array_equal(to_numpy(padding_mask), ids != 0)
    np.testing.assert_array_equal(to_numpy(outputs["padding_mask"]), ids != 0)
    assert backbone.output_dim == backbone.model_dim == 8
    assert (backbone.final_norm is not None) == backbone.normalize_first
    assert (backbone.bigram_embedding is not None) == bool(
        backbone.bigram_buckets
    )


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
    # A padded row encodes as the same row cut to its length.
    short, _ = backbone.encode(ids[1:2, :2])
    np.testing.assert_allclose(
        to_numpy(short)[0], to_numpy(sequence)[1, :2], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_attention_scores_per_block_skip_padding(variant):
    backbone = tiny_backbone(**VARIANTS[variant])
    ids = token_ids()
    sequence, padding_mask, scores = backbone.encode(
        ids, return_attention_scores=True
    )
    plain, _ = backbone.encode(ids)
    np.testing.assert_allclose(to_numpy(sequence), to_numpy(plain), atol=1e-6)
    np.testing.assert_array_equal(to_numpy(padding_mask), ids != 0)
    assert len(scores) == backbone.num_layers == 2
    padded_keys = np.broadcast_to((ids == 0)[:, None, None, :], (3, 2, 6, 6))
    real_queries = np.broadcast_to((ids != 0)[:, None, :], (3, 2, 6))
    for weights in scores:
        weights = to_numpy(ops.cast(weights, "float32"))
        assert weights.shape == (3, 2, 6, 6)
        np.testing.assert_array_equal(weights[padded_keys], 0.0)
        np.testing.assert_allclose(
            weights.sum(-1)[real_queries], 1.0, atol=1e-5
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_config_round_trip(variant):
    backbone = tiny_backbone(**VARIANTS[variant], activation_dropout=0.0)
    restored = assert_config_complete_and_round_trips(backbone)
    assert restored.count_params() == backbone.count_params()
    assert keras.saving.get_registered_name(TransformerEncoderBackbone) == (
        "keras_attnpred>TransformerEncoderBackbone"
    )


def test_save_and_reload(tmp_path):
    backbone = tiny_backbone(**VARIANTS["pre_norm_bigrams"])
    ids = token_ids()
    expected = backbone.encode(ids)
    reloaded = save_and_reload(backbone, tmp_path)
    assert isinstance(reloaded, TransformerEncoderBackbone)
    assert reloaded.get_config() == backbone.get_config()
    actual = reloaded.encode(ids)
    np.testing.assert_allclose(
        to_numpy(actual[0]), to_numpy(expected[0]), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_array_equal(to_numpy(actual[1]), ids != 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vocabulary_size": 0}, "Received: vocabulary_size=0"),
        ({"max_length": None}, "Received: max_length=None"),
        ({"num_layers": 0}, "Received: num_layers=0"),
        ({"model_dim": 10, "num_heads": 4}, "model_dim=10, num_heads=4"),
        ({"activation_dropout": 1.0}, r"Received: activation_dropout=1\.0"),
        ({"normalize_first": "yes"}, "Received: normalize_first='yes'"),
        ({"bigram_buckets": 0}, "Received: bigram_buckets=0"),
        ({"tie_query_key_init": 1}, "Received: tie_query_key_init=1"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_backbone(**kwargs)


def test_enable_lora_trains_only_the_updates_and_saving_merges_them(tmp_path):
    backbone = tiny_backbone(dropout=0.0)
    ids = token_ids()
    before = to_numpy(backbone(ids)["sequence_output"])
    backbone.enable_lora(2)
    # 2 blocks x (query, key, value, output, 2 feed-forward) x (A, B).
    names = [v.path for v in backbone.trainable_weights]
    assert len(names) == 2 * 6 * 2
    assert all("lora_kernel" in name for name in names)
    # The updates start at zero: the backbone computes what it did.
    np.testing.assert_allclose(
        to_numpy(backbone(ids)["sequence_output"]), before, atol=1e-6
    )
    rng = np.random.default_rng(0)
    for variable in backbone.trainable_weights:
        variable.assign(rng.normal(size=variable.shape) * 0.2)
    tuned = to_numpy(backbone(ids)["sequence_output"])
    assert not np.allclose(tuned, before, atol=1e-3)
    reloaded = save_and_reload(backbone, tmp_path)
    np.testing.assert_allclose(
        to_numpy(reloaded(ids)["sequence_output"]), tuned, atol=1e-5
    )
    assert not any("lora" in v.path for v in reloaded.weights)


def test_enable_lora_rejects_a_bad_rank():
    with pytest.raises(ValueError, match="rank=0"):
        tiny_backbone().enable_lora(0)
