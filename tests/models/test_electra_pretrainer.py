import keras
import numpy as np
import pytest

from keras_attnpred.models import ElectraPretrainer
from keras_attnpred.models import MaskedLanguageModel
from keras_attnpred.models import TransformerEncoderBackbone
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy
from tests.models.model_checks import save_and_reload

VOCABULARY = 30


def backbone(width, **overrides):
    return TransformerEncoderBackbone(**{
        **dict(vocabulary_size=VOCABULARY, max_length=16, num_layers=1,
               model_dim=width, num_heads=2, intermediate_dim=2 * width,
               dropout=0.0),
        **overrides,
    })


def tiny_model(**overrides):
    return ElectraPretrainer(
        MaskedLanguageModel(backbone(4)), backbone(8), seed=1, **overrides
    )


def batch():
    """Masked ids (2 is [MASK]), positions, and the original ids there."""
    original = padded_ids([6, 3, 5], 7, VOCABULARY, seed=4)
    positions = np.array([[1, 4, 5], [0, 2, 0], [3, 0, 0]], np.int32)
    rows = np.arange(3)[:, None]
    labels = np.where(
        np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]]) > 0,
        original[rows, positions], 0,
    ).astype(np.int32)
    masked = original.copy()
    masked[rows, positions] = np.where(labels > 0, 2, masked[rows, positions])
    inputs = {"token_ids": masked, "mask_positions": positions,
              "mask_labels": labels}
    return inputs, original



def test_replaced_marks_exactly_the_changed_pieces():
    model = tiny_model()
    inputs, original = batch()
    # A generator sure of one id: every picked piece becomes id 9.
    logits_layer = model.generator.logits_layer
    kernel, bias = logits_layer.get_weights()
    bias = np.full_like(bias, -1e4)
    bias[9] = 1e4
    logits_layer.set_weights([np.zeros_like(kernel), bias])
    outputs = model(inputs)
    replaced = to_numpy(outputs["replaced"])
    expected = np.zeros_like(original, dtype=np.float32)
    rows, positions, labels = (
        np.arange(3)[:, None], inputs["mask_positions"], inputs["mask_labels"]
    )
    picked = np.zeros_like(original, dtype=bool)
    picked[np.repeat(rows, 3, 1)[labels > 0], positions[labels > 0]] = True
    expected[picked & (original != 9)] = 1.0
    np.testing.assert_array_equal(replaced, expected)
    assert replaced.shape == to_numpy(outputs["discriminator_logits"]).shape


def test_the_loss_against_numpy():
    model = tiny_model(discriminator_weight=10.0)
    inputs, _ = batch()
    outputs = model(inputs)
    loss = float(to_numpy(model.compute_loss(
        x=inputs, y=inputs["mask_labels"], y_pred=outputs
    )))
    labels = inputs["mask_labels"]
    logits = to_numpy(outputs["generator_logits"]).astype(np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = labels > 0
    generator = -np.take_along_axis(
        log_probs, labels[..., None], -1
    )[..., 0][picked].mean()
    d = to_numpy(outputs["discriminator_logits"]).astype(np.float64)
    r = to_numpy(outputs["replaced"])
    real = inputs["token_ids"] != 0
    p = 1 / (1 + np.exp(-d))
    bce = -(r * np.log(p) + (1 - r) * np.log(1 - p))
    np.testing.assert_allclose(
        loss, generator + 10.0 * bce[real].mean(), rtol=1e-4
    )


def test_training_lowers_the_loss_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    model = tiny_model()
    inputs, _ = batch()
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    first = model.evaluate(inputs, inputs["mask_labels"], return_dict=True,
                           verbose=0)
    assert set(first) >= {"loss", "accuracy", "generator_loss",
                          "discriminator_loss"}
    model.fit(inputs, inputs["mask_labels"], epochs=30, verbose=0)
    last = model.evaluate(inputs, inputs["mask_labels"], return_dict=True,
                          verbose=0)
    assert last["generator_loss"] < first["generator_loss"]
    reloaded = save_and_reload(model, tmp_path)
    assert isinstance(reloaded, ElectraPretrainer)
    assert reloaded.backbone.model_dim == 8
    for a, b in zip(reloaded.weights, model.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_bad_arguments():
    with pytest.raises(ValueError, match="generator"):
        ElectraPretrainer(backbone(4), backbone(8))
    with pytest.raises(ValueError, match="vocabulary_size=31"):
        ElectraPretrainer(MaskedLanguageModel(backbone(4)),
                          backbone(8, vocabulary_size=31))
    with pytest.raises(ValueError, match="discriminator_weight=0"):
        tiny_model(discriminator_weight=0)


def test_the_generator_never_puts_in_a_reserved_id():
    model = tiny_model()
    inputs, _ = batch()
    # A generator sure of [PAD]: the sample must still be a word piece, so
    # no real piece turns into padding.
    logits_layer = model.generator.logits_layer
    kernel, bias = logits_layer.get_weights()
    bias = np.zeros_like(bias)
    bias[0] = 1e4
    logits_layer.set_weights([np.zeros_like(kernel), bias])
    outputs = model(inputs)
    np.testing.assert_array_equal(
        to_numpy(outputs["padding_mask"]), inputs["token_ids"] != 0
    )
