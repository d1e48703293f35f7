import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers import TransformerDecoder
from keras_attnpred.layers import TransformerEncoder
from keras_attnpred.models import MaskedSparseCategoricalCrossentropy
from keras_attnpred.models import RNNEncoderBackbone
from keras_attnpred.models import TransformerEncoderBackbone
from keras_attnpred.models import TransformerTranslator
from keras_attnpred.models import build_transformer_translator
from tests.layer_checks import to_numpy
from tests.models.model_checks import add_padding_columns
from tests.models.model_checks import assert_config_complete_and_round_trips
from tests.models.model_checks import assert_cross_attention_weights
from tests.models.model_checks import assert_save_reload_equal
from tests.models.model_checks import assert_training_reduces_loss
from tests.models.model_checks import decode_step_by_step
from tests.models.model_checks import save_and_reload
from tests.models.model_checks import translation_batch

TINY = dict(
    preset="tiny", num_layers=1, model_dim=16, num_heads=2,
    intermediate_dim=32, dropout=0.0,
)


def tiny_model(**overrides):
    return build_transformer_translator(30, 40, 16, **{**TINY, **overrides})


def test_output_shape_and_dtype():
    inputs, _ = translation_batch()
    outputs = tiny_model()(inputs)
    assert tuple(outputs.shape) == (3, 5, 40)
    assert ops.dtype(outputs) == "float32"


def test_logits_stay_float32_under_mixed_precision(dtype_policy):
    dtype_policy("mixed_bfloat16")
    inputs, _ = translation_batch()
    outputs = tiny_model()(inputs)
    assert ops.dtype(outputs) == "float32"
    assert np.isfinite(to_numpy(outputs)).all()


@pytest.mark.parametrize("normalize_first", [False, True])
def test_training_reduces_loss(normalize_first):
    inputs, labels = translation_batch()
    model = tiny_model(normalize_first=normalize_first)
    assert (model.encoder.final_norm is not None) == normalize_first
    assert (model.decoder_final_norm is not None) == normalize_first
    assert_training_reduces_loss(model, inputs, labels)


def test_save_and_reload_compiled(tmp_path):
    inputs, _ = translation_batch()
    reloaded = assert_save_reload_equal(
        tiny_model(), inputs, tmp_path, compile=True
    )
    assert isinstance(reloaded.loss, MaskedSparseCategoricalCrossentropy)
    assert reloaded.loss.label_smoothing == 0.1


def test_extra_padding_changes_nothing_at_real_positions():
    inputs, _ = translation_batch()
    model = tiny_model(num_layers=2)
    expected = to_numpy(model(inputs))
    padded = {name: add_padding_columns(ids) for name, ids in inputs.items()}
    actual = to_numpy(model(padded))
    real = inputs["target"] != 0
    np.testing.assert_allclose(
        actual[:, :5][real], expected[real], rtol=1e-5, atol=1e-5
    )


def test_decoder_is_causal():
    inputs, _ = translation_batch()
    model = tiny_model(num_layers=2)
    expected = to_numpy(model(inputs))
    for t in range(4):
        changed = dict(inputs, target=inputs["target"].copy())
        changed["target"][:, t + 1] = (changed["target"][:, t + 1] % 39) + 1
        actual = to_numpy(model(changed))
        np.testing.assert_allclose(
            actual[:, : t + 1], expected[:, : t + 1], rtol=1e-5, atol=1e-5
        )
        assert not np.allclose(actual[:, t + 1], expected[:, t + 1])


def test_parts_for_decoding():
    model = tiny_model(num_layers=2)
    assert set(model.input) == {"source", "target"}
    assert isinstance(model.encoder, TransformerEncoderBackbone)
    assert len(model.encoder.encoder_blocks) == 2
    assert all(
        isinstance(block, TransformerEncoder)
        for block in model.encoder.encoder_blocks
    )
    assert len(model.decoder_blocks) == 2
    assert all(
        isinstance(block, TransformerDecoder) for block in model.decoder_blocks
    )
    assert model.num_layers == 2
    assert model.target_embedding.vocabulary_size == 40
    assert model.logits_layer.units == 40
    assert (model.source_vocabulary_size, model.target_vocabulary_size) == (
        30,
        40,
    )
    assert model.max_decoding_length == 16


def test_presets_and_overrides():
    base = build_transformer_translator(30, 40, 16, preset="base")
    assert len(base.encoder.encoder_blocks) == 3
    assert len(base.decoder_blocks) == 3
    decoder = base.decoder_blocks[2].get_config()
    assert (decoder["num_heads"], decoder["intermediate_dim"]) == (8, 1024)
    assert decoder["dropout"] == 0.1
    assert base.target_embedding.embedding_dim == 256

    small = build_transformer_translator(30, 40, 16)  # default: small
    assert len(small.encoder.encoder_blocks) == 2
    assert len(small.decoder_blocks) == 2
    assert small.encoder.token_embedding.embedding_dim == 128

    custom = build_transformer_translator(
        30, 40, 16, preset="base", num_layers=1, num_heads=4, dropout=0.2
    )
    assert len(custom.encoder.encoder_blocks) == 1
    assert len(custom.decoder_blocks) == 1
    encoder = custom.encoder.encoder_blocks[0].get_config()
    assert (encoder["num_heads"], encoder["intermediate_dim"]) == (4, 1024)
    assert encoder["dropout"] == 0.2
    assert custom.count_params() < base.count_params()
    assert encoder["activation_dropout"] is None  # the default: `dropout`

    no_hidden_dropout = build_transformer_translator(
        30, 40, 16, preset="tiny", activation_dropout=0.0
    )
    for block in (
        no_hidden_dropout.encoder.encoder_blocks[0],
        no_hidden_dropout.decoder_blocks[0],
    ):
        config = block.get_config()
        assert (config["dropout"], config["activation_dropout"]) == (0.1, 0.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"preset": "huge"}, "Received: preset='huge'"),
        ({"num_layers": 0}, "Received: num_layers=0"),
        ({"model_dim": -8}, "Received: model_dim=-8"),
        ({"model_dim": 30, "num_heads": 4}, "model_dim=30, num_heads=4"),
        ({"dropout": 1.0}, "Received: dropout=1.0"),
        ({"activation_dropout": -0.5}, "Received: activation_dropout=-0.5"),
        ({"source_vocabulary_size": 0}, "Received: source_vocabulary_size=0"),
        ({"target_vocabulary_size": 2.5}, "Received: target_vocabulary_size=2.5"),
        ({"max_length": None}, "Received: max_length=None"),
        ({"normalize_first": "yes"}, "Received: normalize_first='yes'"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    arguments = dict(
        source_vocabulary_size=30, target_vocabulary_size=40, max_length=16
    )
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        build_transformer_translator(**arguments)


@pytest.mark.parametrize(
    "overrides, tied",
    [({}, True), ({"tie_query_key_init": False}, False)],
)
def test_query_and_key_kernels_start_tied_by_default(overrides, tied):
    model = build_transformer_translator(30, 40, 16, preset="tiny", **overrides)
    for block, attention in [
        (model.encoder.encoder_blocks[0], "self_attention"),
        (model.decoder_blocks[0], "self_attention"),
        (model.decoder_blocks[0], "cross_attention"),
    ]:
        layer = getattr(block, f"_{attention}")
        query = to_numpy(layer._query_dense.kernel)
        key = to_numpy(layer._key_dense.kernel)
        assert np.array_equal(query, key) == tied, attention


def encoder_backbone(**overrides):
    arguments = dict(
        vocabulary_size=30, max_length=16, num_layers=2, model_dim=16,
        num_heads=2, intermediate_dim=32, dropout=0.1,
    )
    return TransformerEncoderBackbone(**{**arguments, **overrides})


TRANSLATORS = {
    "post_norm": lambda: TransformerTranslator(encoder_backbone(), 40),
    "pre_norm": lambda: TransformerTranslator(
        encoder_backbone(normalize_first=True), 40
    ),
    # Decoder settings other than the encoder's.
    "mixed": lambda: TransformerTranslator(
        encoder_backbone(), 40, num_layers=1, num_heads=4,
        intermediate_dim=24, normalize_first=True, max_length=8,
    ),
}


@pytest.mark.parametrize("name", TRANSLATORS)
def test_step_by_step_decoding_equals_teacher_forcing(name):
    inputs, _ = translation_batch()
    assert (inputs["source"] == 0).any()
    model = TRANSLATORS[name]()
    expected = to_numpy(model(inputs))
    actual = decode_step_by_step(model, inputs["source"], inputs["target"])
    # Padded target steps are never decoded: only the real ones compare.
    real = inputs["target"] != 0
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual[real], expected[real], atol=1e-5)


@pytest.mark.parametrize("name", ["post_norm", "mixed"])
def test_cross_attention_weights(name):
    inputs, _ = translation_batch()
    model = TRANSLATORS[name]()
    assert_cross_attention_weights(
        model, inputs["source"], inputs["target"],
        layers=len(model.decoder_blocks), heads=model.num_heads,
    )


def test_decoder_settings_default_to_the_encoder():
    encoder = encoder_backbone(
        normalize_first=True, activation_dropout=0.0, tie_query_key_init=False
    )
    model = TransformerTranslator(encoder, 40)
    for name in (
        "num_layers", "num_heads", "intermediate_dim", "dropout",
        "activation_dropout", "normalize_first", "tie_query_key_init",
        "max_length",
    ):
        assert getattr(model, name) == getattr(encoder, name), name
    assert model.max_decoding_length == 16
    assert len(model.decoder_blocks) == 2
    assert model.decoder_final_norm is not None
    config = model.decoder_blocks[0].get_config()
    assert (
        config["num_heads"], config["intermediate_dim"], config["dropout"],
        config["activation_dropout"], config["normalize_first"],
        config["tie_query_key_init"],
    ) == (2, 32, 0.1, 0.0, True, False)
    assert model.target_embedding.embedding_dim == 16
    assert model.source_vocabulary_size == 30
    assert model.target_vocabulary_size == 40


def test_decoder_settings_can_be_overridden():
    model = TRANSLATORS["mixed"]()
    assert (model.num_layers, model.num_heads, model.max_decoding_length) == (
        1, 4, 8
    )
    assert len(model.decoder_blocks) == 1
    assert len(model.encoder.encoder_blocks) == 2
    assert model.encoder.final_norm is None
    assert model.decoder_final_norm is not None
    config = model.decoder_blocks[0].get_config()
    assert (config["num_heads"], config["intermediate_dim"]) == (4, 24)
    assert config["normalize_first"] is True
    encoder = model.encoder.encoder_blocks[0].get_config()
    assert (encoder["num_heads"], encoder["intermediate_dim"]) == (2, 32)


def test_config_round_trip_and_reload_keep_the_overrides(tmp_path):
    model = TRANSLATORS["mixed"]()
    restored = assert_config_complete_and_round_trips(model)
    assert restored.count_params() == model.count_params()
    inputs, _ = translation_batch()
    expected = to_numpy(model(inputs))
    reloaded = save_and_reload(model, tmp_path)
    assert isinstance(reloaded, TransformerTranslator)
    assert isinstance(reloaded.encoder, TransformerEncoderBackbone)
    assert reloaded.get_config() == model.get_config()
    np.testing.assert_allclose(
        to_numpy(reloaded(inputs)), expected, rtol=1e-6, atol=1e-6
    )
    real = inputs["target"] != 0
    np.testing.assert_allclose(
        decode_step_by_step(reloaded, inputs["source"], inputs["target"])[real],
        expected[real],
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "encoder, kwargs, message",
    [
        (
            lambda: RNNEncoderBackbone(30, units=4, embedding_dim=4),
            {},
            "encoder of type RNNEncoderBackbone",
        ),
        (encoder_backbone, {"num_heads": 3}, "model_dim=16, num_heads=3"),
        (encoder_backbone, {"num_layers": 0}, "Received: num_layers=0"),
        (encoder_backbone, {"max_length": 0}, "Received: max_length=0"),
        (
            encoder_backbone,
            {"target_vocabulary_size": 0},
            "Received: target_vocabulary_size=0",
        ),
        (
            encoder_backbone,
            {"normalize_first": "yes"},
            "Received: normalize_first='yes'",
        ),
    ],
)
def test_class_bad_arguments_raise(encoder, kwargs, message):
    arguments = dict(target_vocabulary_size=40)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        TransformerTranslator(encoder(), **arguments)
