import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.models import MaskedLanguageModel
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import TransformerEncoderBackbone
from keras_attnpred.models import upgrade_legacy_model
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy
from tests.models.model_checks import assert_config_complete_and_round_trips
from tests.models.model_checks import assert_save_reload_equal
from tests.models.model_checks import assert_training_reduces_loss

VOCABULARY = 30


def tiny_model(**overrides):
    backbone = TransformerEncoderBackbone(**{
        **dict(vocabulary_size=VOCABULARY, max_length=16, num_layers=1,
               model_dim=8, num_heads=2, intermediate_dim=16, dropout=0.1),
        **overrides,
    })
    return MaskedLanguageModel(backbone)


def batch():
    """Masked ids (2 is [MASK]), the positions to predict (0-padded) and
    their labels (0: no prediction)."""
    ids = padded_ids([6, 3, 5], 7, VOCABULARY, seed=4)
    positions = np.array([[1, 4, 5], [0, 2, 0], [3, 0, 0]], np.int32)
    labels = np.array([[7, 9, 11], [5, 6, 0], [8, 0, 0]], np.int32)
    ids[np.arange(3)[:, None], positions] = np.where(labels > 0, 2,
                                                     ids[np.arange(3)[:, None],
                                                         positions])
    return {"token_ids": ids, "mask_positions": positions}, labels


def _gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _layer_norm(x, gamma, beta, epsilon=1e-5):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def test_logits_at_the_positions_from_the_backbone_outputs():
    model = tiny_model()
    inputs, _ = batch()
    logits = to_numpy(model(inputs))
    assert logits.shape == (3, 3, VOCABULARY)
    assert ops.dtype(model(inputs)) == "float32"
    sequence = to_numpy(
        model.backbone(inputs["token_ids"])["sequence_output"]
    )
    # Gathered by hand, then the head in NumPy from the layers' weights.
    picked = np.stack([
        sequence[row, inputs["mask_positions"][row]] for row in range(3)
    ])
    kernel, bias = model.transform.get_weights()
    gamma, beta = model.transform_norm.get_weights()
    out_kernel, out_bias = model.logits_layer.get_weights()
    assert out_kernel.shape == (8, VOCABULARY)
    expected = _layer_norm(_gelu(picked @ kernel + bias), gamma, beta)
    expected = expected @ out_kernel + out_bias
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_each_prediction_reads_only_its_own_position():
    model = tiny_model()
    inputs, _ = batch()
    logits = to_numpy(model(inputs))
    # Other positions, reordered or fewer: the same logits per position.
    reordered = dict(inputs, mask_positions=inputs["mask_positions"][:, ::-1])
    np.testing.assert_allclose(
        to_numpy(model(reordered)), logits[:, ::-1], rtol=1e-5, atol=1e-5
    )
    one = dict(inputs, mask_positions=inputs["mask_positions"][:, 1:2])
    np.testing.assert_allclose(
        to_numpy(model(one)), logits[:, 1:2], rtol=1e-5, atol=1e-5
    )
    # Two positions of one row give different logits.
    assert not np.allclose(logits[0, 0], logits[0, 1], atol=1e-3)


def test_logits_stay_float32_under_mixed_precision(dtype_policy):
    dtype_policy("mixed_bfloat16")
    model = tiny_model()
    outputs = model(batch()[0])
    assert ops.dtype(outputs) == "float32"
    assert model.transform.compute_dtype == "bfloat16"
    assert np.isfinite(to_numpy(outputs)).all()


def test_training_reduces_loss():
    inputs, labels = batch()
    assert_training_reduces_loss(tiny_model(dropout=0.0), inputs, labels)


def test_config_and_save_reload(tmp_path):
    model = tiny_model(normalize_first=True, bigram_buckets=16)
    restored = assert_config_complete_and_round_trips(model)
    assert isinstance(restored.backbone, TransformerEncoderBackbone)
    assert restored.backbone.get_config() == model.backbone.get_config()
    inputs, _ = batch()
    reloaded = assert_save_reload_equal(model, inputs, tmp_path,
                                        compile=True)
    assert isinstance(reloaded, MaskedLanguageModel)
    assert reloaded.get_config() == model.get_config()
    assert reloaded.backbone.get_config() == model.backbone.get_config()
    for saved, loaded in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    # A current model: nothing to upgrade.
    assert upgrade_legacy_model(reloaded) is reloaded


def test_the_backbone_moves_into_a_classifier():
    model = tiny_model()
    inputs, _ = batch()
    ids = inputs["token_ids"]
    classifier = TextClassifier(model.backbone, 3)
    assert classifier.backbone is model.backbone
    # Its weights are the backbone's and nothing of the head's.
    head = {id(w) for layer in (model.transform, model.transform_norm,
                                model.logits_layer) for w in layer.weights}
    assert not head & {id(w) for w in classifier.weights}
    fresh = TransformerEncoderBackbone.from_config(model.backbone.get_config())
    fresh.set_weights(model.backbone.get_weights())
    np.testing.assert_allclose(
        to_numpy(classifier.encode(ids)[0]), to_numpy(fresh.encode(ids)[0]),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "backbone, message",
    [
        (lambda: "bert", "backbone of type str"),
        (lambda: keras.layers.Dense(4), "backbone of type Dense"),
        (lambda: keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]),
         "backbone of type Sequential"),
    ],
)
def test_bad_backbone_raises(backbone, message):
    with pytest.raises(ValueError, match="`backbone` must be a "
                                         "`TransformerEncoderBackbone`. "
                                         f"Received: {message}"):
        MaskedLanguageModel(backbone())
