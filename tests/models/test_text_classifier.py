import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.models import RNNEncoderBackbone
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import TransformerEncoderBackbone
from keras_attnpred.models import TransformerTranslator
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.models.model_checks import assert_config_complete_and_round_trips
from tests.models.model_checks import save_and_reload

SIZES = dict(
    vocabulary_size=30, max_length=16, num_layers=1, model_dim=8,
    num_heads=2, intermediate_dim=16, dropout=0.1,
)


def transformer_backbone():
    return TransformerEncoderBackbone(**SIZES)


def rnn_backbone():
    return RNNEncoderBackbone(30, embedding_dim=6, units=4, dropout=0.1)


BACKBONES = {"transformer": transformer_backbone, "rnn": rnn_backbone}


def token_ids():
    return padded_ids([6, 2, 4], 6, 30, seed=3)


def plain(tensor):
    """`tensor` without the Keras mask an eager TensorFlow tensor may carry,
    so that only the explicit `padding_mask` can hide the padding."""
    return ops.convert_to_tensor(to_numpy(tensor))


def classifier(backbone="transformer", pooling="attention", num_classes=3):
    return TextClassifier(
        BACKBONES[backbone](), num_classes, pooling=pooling, dropout=0.2
    )


@pytest.mark.parametrize(
    "backbone, pooling",
    [
        ("transformer", "attention"),
        ("transformer", "mean"),
        ("transformer", "first"),
        ("rnn", "attention"),
    ],
)
def test_pieces_compose_to_the_call(backbone, pooling):
    model = classifier(backbone, pooling)
    assert model.pooling == pooling
    ids = token_ids()
    logits = model(ids)
    assert tuple(logits.shape) == (3, 3)
    sequence, padding_mask = model.encode(ids)
    pooled = model.pool(plain(sequence), padding_mask)
    np.testing.assert_allclose(
        to_numpy(model.pooled_logits(pooled)), to_numpy(logits), atol=1e-5
    )
    # What each pooling computes, over the real tokens only.
    sequence, real = to_numpy(sequence), ids != 0
    if pooling == "mean":
        expected = (sequence * real[..., None]).sum(1) / real.sum(1)[:, None]
    elif pooling == "first":
        expected = sequence[:, 0]
    else:
        weights = model.pooling_weights(ids)
        expected = np.einsum("bt,btf->bf", weights, sequence)
    np.testing.assert_allclose(to_numpy(pooled), expected, atol=1e-5)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_pooling_weights(backbone):
    model = classifier(backbone)
    ids = token_ids()
    weights = model.pooling_weights(ids)
    assert isinstance(weights, np.ndarray)
    assert weights.dtype == np.float32 and weights.shape == (3, 6)
    np.testing.assert_array_equal(weights[ids == 0], 0.0)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-5)
    assert (weights[ids != 0] > 0).all()
    sequence, padding_mask = model.encode(ids)
    pooled, returned = model.pool(
        plain(sequence), padding_mask, return_attention_scores=True
    )
    np.testing.assert_allclose(to_numpy(returned), weights, atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(pooled), to_numpy(model.pool(plain(sequence), padding_mask)),
        atol=1e-6,
    )


@pytest.mark.parametrize("pooling", ["mean", "first"])
def test_attention_scores_need_attention_pooling(pooling):
    model = classifier(pooling=pooling)
    sequence, padding_mask = model.encode(token_ids())
    with pytest.raises(ValueError, match=f"pooling='{pooling}'"):
        model.pool(sequence, padding_mask, return_attention_scores=True)
    with pytest.raises(ValueError, match=f"pooling='{pooling}'"):
        model.pooling_weights(token_ids())


def randomize(model, seed=7):
    """Fresh random weights, so that copied weights cannot match by chance."""
    model.set_weights(
        [
            w + random_floats(w.shape, scale=0.1, seed=seed + i)
            for i, w in enumerate(model.get_weights())
        ]
    )


@pytest.mark.parametrize("backbone", BACKBONES)
def test_backbone_weights_move_to_another_classifier(backbone):
    ids = token_ids()
    trained = classifier(backbone)
    randomize(trained.backbone)
    other = classifier(backbone, pooling="mean", num_classes=5)
    assert not np.allclose(
        to_numpy(other.encode(ids)[0]), to_numpy(trained.encode(ids)[0])
    )
    other.backbone.set_weights(trained.backbone.get_weights())
    np.testing.assert_allclose(
        to_numpy(other.encode(ids)[0]),
        to_numpy(trained.encode(ids)[0]),
        atol=1e-6,
    )
    assert tuple(other(ids).shape) == (3, 5)


def test_backbone_weights_move_into_a_translator_encoder():
    ids = token_ids()
    trained = classifier()
    randomize(trained.backbone)
    encoder = TransformerEncoderBackbone(**SIZES)
    translator = TransformerTranslator(encoder, target_vocabulary_size=40)
    assert not np.allclose(
        to_numpy(translator.encode(ids)[0]), to_numpy(trained.encode(ids)[0])
    )
    encoder.set_weights(trained.backbone.get_weights())
    memory, source_mask = translator.encode(ids)
    np.testing.assert_allclose(
        to_numpy(memory), to_numpy(trained.encode(ids)[0]), atol=1e-6
    )
    np.testing.assert_array_equal(to_numpy(source_mask), ids != 0)


def test_one_backbone_shared_by_two_task_models():
    ids = token_ids()
    backbone = transformer_backbone()
    first = TextClassifier(backbone, 3)
    second = TextClassifier(backbone, 2, pooling="mean")
    translator = TransformerTranslator(backbone, target_vocabulary_size=40)
    assert first.backbone is second.backbone is translator.encoder
    # One set of variables: a change through one model shows in the others.
    randomize(first.backbone)
    expected = to_numpy(backbone.encode(ids)[0])
    np.testing.assert_allclose(to_numpy(second.encode(ids)[0]), expected)
    np.testing.assert_allclose(to_numpy(translator.encode(ids)[0]), expected)
    backbone_ids = {id(w) for w in backbone.weights}
    assert backbone_ids <= {id(w) for w in second.weights}
    second_logits = to_numpy(second(ids))
    np.testing.assert_allclose(
        second_logits,
        to_numpy(second.pooled_logits(second.pool(*second.encode(ids)))),
        atol=1e-5,
    )


@pytest.mark.parametrize("backbone", BACKBONES)
def test_config_round_trip_and_reload(backbone, tmp_path):
    model = classifier(backbone)
    restored = assert_config_complete_and_round_trips(model)
    assert type(restored.backbone) is type(model.backbone)
    ids = token_ids()
    expected_logits = to_numpy(model(ids))
    expected_weights = model.pooling_weights(ids)
    reloaded = save_and_reload(model, tmp_path)
    assert isinstance(reloaded, TextClassifier)
    assert type(reloaded.backbone) is type(model.backbone)
    assert reloaded.get_config() == model.get_config()
    np.testing.assert_allclose(
        to_numpy(reloaded(ids)), expected_logits, rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        reloaded.pooling_weights(ids), expected_weights, atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 0}, "Received: num_classes=0"),
        ({"pooling": "max"}, "Received: pooling='max'"),
        ({"dropout": 1.0}, r"Received: dropout=1\.0"),
        ({"backbone": lambda: "bert"}, "backbone of type str"),
        (
            {"backbone": lambda: keras.layers.Dense(4)},
            "backbone of type Dense",
        ),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    arguments = dict(num_classes=2, backbone=transformer_backbone)
    arguments.update(kwargs)
    arguments["backbone"] = arguments["backbone"]()
    with pytest.raises(ValueError, match=message):
        TextClassifier(**arguments)
