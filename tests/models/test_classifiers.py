import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers import AttentionPooling
from keras_attnpred.models import FirstTokenPooling
from keras_attnpred.models import build_rnn_classifier
from keras_attnpred.models import build_transformer_classifier
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy
from tests.models.model_checks import add_padding_columns
from tests.models.model_checks import assert_save_reload_equal
from tests.models.model_checks import assert_training_reduces_loss

TINY = dict(
    preset="tiny", num_layers=1, model_dim=16, num_heads=2,
    intermediate_dim=32, dropout=0.0,
)
BUILDERS = {
    "transformer_attention": lambda: build_transformer_classifier(
        30, 3, 16, **TINY
    ),
    "transformer_mean": lambda: build_transformer_classifier(
        30, 3, 16, pooling="mean", **TINY
    ),
    "transformer_first": lambda: build_transformer_classifier(
        30, 3, 16, pooling="first", **TINY
    ),
    "bigru": lambda: build_rnn_classifier(30, 3, embedding_dim=8, units=8),
    "lstm": lambda: build_rnn_classifier(
        30, 3, rnn="lstm", embedding_dim=8, units=8, bidirectional=False
    ),
}


def batch():
    return padded_ids([6, 2, 4, 5], 6, 30, seed=3), np.array([0, 1, 2, 1])


@pytest.mark.parametrize("name", BUILDERS)
def test_output_shape_and_dtype(name):
    outputs = BUILDERS[name]()(batch()[0])
    assert tuple(outputs.shape) == (4, 3)
    assert ops.dtype(outputs) == "float32"


@pytest.mark.parametrize("name", ["transformer_attention", "lstm"])
def test_training_reduces_loss(name):
    tokens, labels = batch()
    assert_training_reduces_loss(BUILDERS[name](), tokens, labels)


@pytest.mark.parametrize("name", BUILDERS)
def test_save_and_reload(name, tmp_path):
    assert_save_reload_equal(BUILDERS[name](), batch()[0], tmp_path)


@pytest.mark.parametrize("name", BUILDERS)
def test_extra_padding_changes_nothing(name):
    tokens, _ = batch()
    model = BUILDERS[name]()
    np.testing.assert_allclose(
        to_numpy(model(add_padding_columns(tokens))),
        to_numpy(model(tokens)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_poolings_and_presets():
    models = {
        pooling: build_transformer_classifier(30, 2, 16, pooling=pooling)
        for pooling in ("attention", "mean", "first")
    }
    for pooling, model in models.items():
        assert model.pooling == pooling
    assert isinstance(models["attention"].pooling_layer, AttentionPooling)
    assert models["mean"].pooling_layer.__class__.__name__ == (
        "GlobalAveragePooling1D"
    )
    assert isinstance(models["first"].pooling_layer, FirstTokenPooling)
    small = models["mean"]  # default preset: small
    assert len(small.backbone.encoder_blocks) == 2
    assert small.backbone.num_layers == 2
    assert small.backbone.token_embedding.embedding_dim == 128
    base = build_transformer_classifier(30, 2, 16, preset="base", num_heads=2)
    assert len(base.backbone.encoder_blocks) == 3
    config = base.backbone.encoder_blocks[2].get_config()
    assert (config["num_heads"], config["intermediate_dim"]) == (2, 1024)
    assert base.num_classes == 2
    assert base.logits_layer.units == 2


def test_rnn_classifier_configuration():
    bidirectional = build_rnn_classifier(30, 2, units=8, embedding_dim=4)
    single = build_rnn_classifier(
        30, 2, units=8, embedding_dim=4, bidirectional=False
    )
    tokens, _ = batch()

    def pooled_width(model):
        return tuple(model.pool(*model.encode(tokens)).shape)[-1]

    assert pooled_width(bidirectional) == 16
    assert bidirectional.backbone.output_dim == 16
    assert pooled_width(single) == 8
    assert single.backbone.output_dim == 8
    lstm = build_rnn_classifier(30, 2, rnn="lstm", units=8, embedding_dim=4)
    assert lstm.backbone.rnn.forward_layer.__class__.__name__ == "LSTM"


def test_activation_dropout_reaches_every_encoder():
    def encoder_configs(model):
        blocks = model.backbone.encoder_blocks
        assert len(blocks) == 2
        return [block.get_config() for block in blocks]

    default = build_transformer_classifier(30, 2, 16, preset="small")
    for config in encoder_configs(default):
        assert (config["dropout"], config["activation_dropout"]) == (0.1, None)
    keras_hub_like = build_transformer_classifier(
        30, 2, 16, preset="small", activation_dropout=0.0
    )
    for config in encoder_configs(keras_hub_like):
        assert (config["dropout"], config["activation_dropout"]) == (0.1, 0.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pooling": "max"}, "Received: pooling='max'"),
        ({"activation_dropout": 1.0}, r"Received: activation_dropout=1\.0"),
        ({"preset": "huge"}, "Received: preset='huge'"),
        ({"num_classes": 0}, "Received: num_classes=0"),
        ({"num_heads": 3}, "model_dim=128, num_heads=3"),
        ({"intermediate_dim": 0}, "Received: intermediate_dim=0"),
        ({"vocabulary_size": "30"}, "Received: vocabulary_size='30'"),
    ],
)
def test_transformer_classifier_bad_arguments(kwargs, message):
    arguments = dict(vocabulary_size=30, num_classes=2, max_length=16)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        build_transformer_classifier(**arguments)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rnn": "rnn"}, "Received: rnn='rnn'"),
        ({"units": 0}, "Received: units=0"),
        ({"bidirectional": 1}, "Received: bidirectional=1"),
        ({"dropout": 1.5}, "Received: dropout=1.5"),
        ({"num_classes": -2}, "Received: num_classes=-2"),
    ],
)
def test_rnn_classifier_bad_arguments(kwargs, message):
    arguments = dict(vocabulary_size=30, num_classes=2)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        build_rnn_classifier(**arguments)


@pytest.mark.parametrize(
    "overrides, tied",
    [({}, True), ({"tie_query_key_init": False}, False)],
)
def test_transformer_classifier_ties_query_and_key_init_unless_told(
    overrides, tied
):
    model = build_transformer_classifier(50, 2, 16, preset="tiny", **overrides)
    attention = model.backbone.encoder_blocks[0]._self_attention
    query = to_numpy(attention._query_dense.kernel)
    key = to_numpy(attention._key_dense.kernel)
    assert np.array_equal(query, key) == tied
