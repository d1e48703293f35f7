import numpy as np
import pytest

from keras_attnpred.explain import attention_rollout
from keras_attnpred.explain import self_attention_weights
from keras_attnpred.explain import token_importance
from tests.explain.conftest import SOURCE as IDS
from tests.explain.conftest import legacy_rnn_classifier
from tests.explain.conftest import padded
from tests.explain.conftest import rnn_classifier
from tests.explain.conftest import rnn_translator
from tests.explain.conftest import transformer_classifier
from tests.explain.conftest import transformer_translator

REAL = IDS != 0


def check_distribution(weights):
    assert weights.shape == IDS.shape and weights.dtype == np.float32
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert (weights[~REAL] == 0).all()
    assert (weights[REAL] > 0).all()


@pytest.mark.parametrize(
    "make, method",
    [
        (rnn_classifier, "auto"),
        (transformer_classifier, "pooling"),
        (transformer_classifier, "rollout"),
        (lambda: transformer_classifier(bigram_buckets=31), "rollout"),
        (lambda: transformer_classifier("first"), "auto"),
        (lambda: transformer_classifier("mean"), "auto"),
    ],
)
def test_weights_over_real_tokens_sum_to_one_and_padding_gets_none(
    make, method
):
    model = make()
    weights = token_importance(model, IDS, method=method)
    check_distribution(weights)
    # More padding changes nothing.
    more = token_importance(model, padded(IDS, 2), method=method)
    np.testing.assert_allclose(more[:, : IDS.shape[1]], weights, atol=1e-5)
    assert (more[:, IDS.shape[1]:] == 0).all()


def test_pooling_weights_are_those_of_the_pooling_layer():
    import keras

    model = rnn_classifier()
    sequence, padding_mask = model.encode(IDS)
    _, expected = model.pool(sequence, padding_mask,
                             return_attention_scores=True)
    weights = token_importance(model, IDS)
    np.testing.assert_allclose(
        weights, keras.ops.convert_to_numpy(expected), atol=1e-6,
    )
    # They are the weights the model's own pass pools with: the sum they
    # weigh gives the model's logits.
    pooled = np.einsum("bt,btd->bd", weights,
                       keras.ops.convert_to_numpy(sequence))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.pooled_logits(pooled)),
        keras.ops.convert_to_numpy(model(IDS)), atol=1e-5,
    )


def test_rollout_follows_the_pooling():
    for pooling in ("first", "mean", "attention"):
        model = transformer_classifier(pooling)
        rollout = attention_rollout(self_attention_weights(model, IDS), REAL)
        weights = token_importance(model, IDS, method="rollout")
        if pooling == "first":
            expected = rollout[:, 0]
        elif pooling == "mean":
            expected = rollout.sum(1) / REAL.sum(1, keepdims=True)
        else:
            pooled = token_importance(model, IDS, method="pooling")
            expected = np.einsum("bt,bts->bs", pooled, rollout)
        np.testing.assert_allclose(weights, expected, atol=1e-6)


def test_self_attention_weights_include_the_bigram_embeddings():
    # Rollout reads the encoders' attention; with bigrams they must see the
    # sum the model computes, not the token embedding alone.
    import keras

    model = transformer_classifier(bigram_buckets=31)
    sequence, _, scores = model.encode(IDS, return_attention_scores=True)
    # The pass that gives the weights is the model's own.
    features = model.backbone(IDS)["sequence_output"]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(sequence)[REAL],
        keras.ops.convert_to_numpy(features)[REAL], atol=1e-5)
    weights = self_attention_weights(model, IDS)
    np.testing.assert_allclose(
        weights, np.stack([keras.ops.convert_to_numpy(s) for s in scores], 1),
        atol=1e-6)
    # And the bigrams change them.
    bigrams = model.backbone.bigram_embedding
    bigrams.set_weights([np.zeros_like(w) for w in bigrams.get_weights()])
    assert not np.allclose(self_attention_weights(model, IDS), weights)


def test_self_attention_weights_per_layer_and_head():
    weights = self_attention_weights(transformer_classifier(num_layers=3), IDS)
    assert weights.shape == (2, 3, 2, 6, 6)
    pair = REAL[:, None, None, :, None] & REAL[:, None, None, None, :]
    np.testing.assert_allclose(
        weights.sum(-1)[
            np.broadcast_to(REAL[:, None, None], weights.shape[:-1])
        ],
        1.0, atol=1e-5,
    )
    assert (weights[~np.broadcast_to(pair, weights.shape)] == 0).all()


def test_self_attention_weights_of_a_translator_are_its_encoders():
    import keras

    model = transformer_translator(num_layers=2)
    weights = self_attention_weights(model, IDS)
    assert weights.shape == (2, 2, 2, 6, 6) and weights.dtype == np.float32
    _, _, scores = model.encoder.encode(IDS, return_attention_scores=True)
    np.testing.assert_allclose(
        weights, np.stack([keras.ops.convert_to_numpy(s) for s in scores], 1),
        atol=1e-6)


def test_a_model_of_an_earlier_version_is_upgraded():
    import keras

    from keras_attnpred.models import upgrade_legacy_model

    legacy = legacy_rnn_classifier()
    weights = token_importance(legacy, IDS)
    check_distribution(weights)
    np.testing.assert_allclose(
        weights, token_importance(upgrade_legacy_model(legacy), IDS),
        atol=1e-6)
    # They are the weights of the legacy model's own pooling layer.
    states = keras.Model(legacy.input, legacy.get_layer("rnn").output)(IDS)
    _, expected = legacy.get_layer("pooling")(
        states, mask=IDS != 0, return_attention_scores=True)
    np.testing.assert_allclose(
        weights, keras.ops.convert_to_numpy(expected), atol=1e-6)


def test_unsupported_combinations_are_refused():
    with pytest.raises(ValueError, match="needs attention pooling"):
        token_importance(transformer_classifier("first"), IDS, "pooling")
    with pytest.raises(ValueError, match="must be a Transformer"):
        token_importance(rnn_classifier(), IDS, "rollout")
    with pytest.raises(ValueError, match="must be a `TextClassifier`"):
        token_importance(rnn_translator(), IDS)
    with pytest.raises(ValueError, match="method"):
        token_importance(rnn_classifier(), IDS, "gradient")
    with pytest.raises(ValueError, match="must be a Transformer"):
        self_attention_weights(rnn_translator(), IDS)
    with pytest.raises(ValueError, match="must be a `keras.Model`"):
        token_importance("classifier", IDS)
