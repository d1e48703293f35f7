import keras
import numpy as np
import pytest

from keras_attnpred.models import RNNEncoderBackbone
from keras_attnpred.models import RNNTranslator
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import TransformerEncoderBackbone
from keras_attnpred.models import TransformerTranslator
from keras_attnpred.models import build_rnn_classifier
from keras_attnpred.models import upgrade_legacy_model
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.models import legacy_builders
from tests.models.model_checks import add_padding_columns
from tests.models.model_checks import save_and_reload
from tests.models.model_checks import translation_batch

# The upgrade only reads layer settings and copies weights: no backend code
# of its own. The TensorFlow run covers it; the JAX run of the model classes
# is in their own tests.
pytestmark = pytest.mark.skipif(
    keras.backend.backend() == "jax",
    reason="backend-independent; run on TensorFlow",
)

TRANSFORMER_SIZES = dict(
    num_layers=2, model_dim=8, num_heads=2, intermediate_dim=16, dropout=0.1
)
RNN_SIZES = dict(embedding_dim=6, units=4, dropout=0.1)

CLASSIFIERS = {
    "transformer_attention": (
        lambda: legacy_builders.legacy_transformer_classifier(
            30, 3, 16, **TRANSFORMER_SIZES
        )
    ),
    "transformer_attention_bigrams": (
        lambda: legacy_builders.legacy_transformer_classifier(
            30, 3, 16, bigram_buckets=64, **TRANSFORMER_SIZES
        )
    ),
    "transformer_mean_bigrams": (
        lambda: legacy_builders.legacy_transformer_classifier(
            30, 3, 16, pooling="mean", bigram_buckets=64, **TRANSFORMER_SIZES
        )
    ),
    "transformer_first_bigrams": (
        lambda: legacy_builders.legacy_transformer_classifier(
            30, 3, 16, pooling="first", bigram_buckets=64, **TRANSFORMER_SIZES
        )
    ),
    "bigru": lambda: legacy_builders.legacy_rnn_classifier(
        30, 3, rnn="gru", **RNN_SIZES
    ),
    "gru_bigrams": lambda: legacy_builders.legacy_rnn_classifier(
        30, 3, rnn="gru", bidirectional=False, bigram_buckets=64, **RNN_SIZES
    ),
    "bilstm": lambda: legacy_builders.legacy_rnn_classifier(
        30, 3, rnn="lstm", **RNN_SIZES
    ),
    "lstm": lambda: legacy_builders.legacy_rnn_classifier(
        30, 3, rnn="lstm", bidirectional=False, **RNN_SIZES
    ),
}

TRANSLATORS = {
    "transformer_post_norm": (
        lambda: legacy_builders.legacy_transformer_translator(
            30, 40, 16, **TRANSFORMER_SIZES
        )
    ),
    "transformer_pre_norm": (
        lambda: legacy_builders.legacy_transformer_translator(
            30, 40, 16, normalize_first=True, **TRANSFORMER_SIZES
        )
    ),
    "bahdanau_gru": lambda: legacy_builders.legacy_rnn_translator(
        30, 40, attention="bahdanau", rnn="gru", **RNN_SIZES
    ),
    "bahdanau_lstm": lambda: legacy_builders.legacy_rnn_translator(
        30, 40, attention="bahdanau", rnn="lstm", **RNN_SIZES
    ),
    "luong_gru_dot": lambda: legacy_builders.legacy_rnn_translator(
        30, 40, attention="luong", score="dot", rnn="gru", **RNN_SIZES
    ),
    "luong_lstm": lambda: legacy_builders.legacy_rnn_translator(
        30, 40, attention="luong", rnn="lstm", **RNN_SIZES
    ),
}


def randomize(model):
    """Moves every weight off its initial value (biases off zero, norms off
    one), so that a weight the upgrade failed to copy shows."""
    model.set_weights(
        [
            w + random_floats(w.shape, scale=0.1, seed=i)
            for i, w in enumerate(model.get_weights())
        ]
    )


def saved_legacy_model(build, tmp_path):
    legacy = build()
    randomize(legacy)
    return save_and_reload(legacy, tmp_path)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_legacy_classifier_upgrades_with_equal_outputs(name, tmp_path):
    legacy = saved_legacy_model(CLASSIFIERS[name], tmp_path)
    assert not isinstance(legacy, TextClassifier)
    ids = add_padding_columns(padded_ids([6, 2, 4], 6, 30, seed=3))
    expected = to_numpy(legacy(ids))
    upgraded = upgrade_legacy_model(legacy)
    assert type(upgraded) is TextClassifier
    backbone = TransformerEncoderBackbone if "transformer" in name else (
        RNNEncoderBackbone
    )
    assert type(upgraded.backbone) is backbone
    # Names: "transformer_<pooling>[_bigrams]"; the RNN ones pool by attention.
    pooling = name.split("_")[1] if "transformer" in name else "attention"
    assert upgraded.pooling == pooling
    assert (upgraded.backbone.bigram_embedding is not None) == (
        "bigrams" in name
    )
    assert upgraded.backbone.dropout == upgraded.dropout == 0.1
    assert upgraded.count_params() == legacy.count_params()
    np.testing.assert_allclose(to_numpy(upgraded(ids)), expected, atol=1e-6)


@pytest.mark.parametrize("name", TRANSLATORS)
def test_legacy_translator_upgrades_with_equal_outputs(name, tmp_path):
    legacy = saved_legacy_model(TRANSLATORS[name], tmp_path)
    assert not isinstance(legacy, (TransformerTranslator, RNNTranslator))
    inputs, _ = translation_batch()
    expected = to_numpy(legacy(inputs))
    upgraded = upgrade_legacy_model(legacy)
    if "transformer" in name:
        assert type(upgraded) is TransformerTranslator
        assert upgraded.normalize_first == ("pre_norm" in name)
        assert upgraded.num_layers == upgraded.encoder.num_layers == 2
    else:
        assert type(upgraded) is RNNTranslator
        assert upgraded.attention_type == name.split("_")[0]
        assert upgraded.rnn_type == ("lstm" if "lstm" in name else "gru")
    assert upgraded.count_params() == legacy.count_params()
    actual = to_numpy(upgraded(inputs))
    if isinstance(upgraded, RNNTranslator):
        # The legacy decoder RNN, called with `initial_state`, got no Keras
        # mask and ran on through the padded target steps; the logits there
        # are read by no loss or search. The real steps must agree exactly.
        real = inputs["target"] != 0
        actual, expected = actual[real], expected[real]
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_upgraded_model_saves_and_reloads(tmp_path):
    legacy = saved_legacy_model(TRANSLATORS["luong_lstm"], tmp_path)
    upgraded = upgrade_legacy_model(legacy)
    inputs, _ = translation_batch()
    expected = to_numpy(upgraded(inputs))
    (tmp_path / "upgraded").mkdir()
    reloaded = save_and_reload(upgraded, tmp_path / "upgraded")
    assert type(reloaded) is RNNTranslator
    assert reloaded.get_config() == upgraded.get_config()
    np.testing.assert_allclose(to_numpy(reloaded(inputs)), expected, atol=1e-6)


def test_new_model_is_returned_unchanged():
    model = build_rnn_classifier(30, 2, embedding_dim=4, units=4)
    assert upgrade_legacy_model(model) is model


@pytest.mark.parametrize(
    "model, message",
    [
        (
            lambda: keras.Sequential(
                [keras.Input((4,)), keras.layers.Dense(2)], name="unrelated"
            ),
            "model named 'unrelated'",
        ),
        (lambda: "model.keras", "model of type str"),
    ],
)
def test_other_objects_raise(model, message):
    with pytest.raises(ValueError, match=message):
        upgrade_legacy_model(model())
