import keras
import numpy as np
import pytest

from keras_attnpred.models import MaskedSparseCategoricalAccuracy
from keras_attnpred.models import MaskedSparseCategoricalCrossentropy
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy

LABELS = np.array([[3, 1, 4, 0, 0], [2, 0, 0, 0, 0], [5, 6, 1, 2, 6]])


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def reference_loss(labels, logits, pad_id=0, smoothing=0.0, weights=None):
    log_probs = log_softmax(logits.astype("float64"))
    mask = (labels != pad_id).astype("float64")
    if weights is not None:
        mask = mask * weights
    safe = np.where(labels != pad_id, labels, 0)
    nll = -np.take_along_axis(log_probs, safe[..., None], -1)[..., 0]
    nll = (1 - smoothing) * nll + smoothing * -log_probs.mean(-1)
    return (nll * mask).sum() / mask.sum()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_matches_numpy(smoothing):
    logits = random_floats((3, 5, 7), scale=3.0, seed=0)
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=smoothing)
    np.testing.assert_allclose(
        to_numpy(loss(LABELS, logits)),
        reference_loss(LABELS, logits, smoothing=smoothing),
        rtol=1e-5,
    )


def test_loss_from_probabilities_pad_id_and_sample_weight():
    logits = random_floats((3, 5, 7), seed=1)
    probabilities = np.exp(log_softmax(logits)).astype("float32")
    labels = np.where(LABELS == 0, -1, LABELS)  # padding marked -1
    weights = np.array([1.0, 2.0, 0.5])
    loss = MaskedSparseCategoricalCrossentropy(pad_id=-1, from_logits=False)
    np.testing.assert_allclose(
        to_numpy(loss(labels, probabilities, sample_weight=weights)),
        reference_loss(labels, logits, pad_id=-1, weights=weights[:, None]),
        rtol=1e-4,
    )


def test_loss_ignores_logits_at_padding_and_reductions():
    logits = random_floats((3, 5, 7), seed=2)
    noisy = logits.copy()
    noisy[LABELS == 0] = random_floats(((LABELS == 0).sum(), 7), scale=100.0)
    loss = MaskedSparseCategoricalCrossentropy()
    np.testing.assert_allclose(
        to_numpy(loss(LABELS, noisy)), to_numpy(loss(LABELS, logits)), rtol=1e-6
    )
    per_position = to_numpy(
        MaskedSparseCategoricalCrossentropy(reduction=None)(LABELS, logits)
    )
    assert per_position.shape == (3, 5)
    assert (per_position[LABELS == 0] == 0).all()
    total = to_numpy(
        MaskedSparseCategoricalCrossentropy(reduction="sum")(LABELS, logits)
    )
    np.testing.assert_allclose(total, per_position.sum(), rtol=1e-5)


def test_loss_on_all_padding_is_zero_not_nan():
    logits = random_floats((2, 4, 7), seed=3)
    labels = np.zeros((2, 4), "int32")
    value = to_numpy(MaskedSparseCategoricalCrossentropy()(labels, logits))
    assert value == 0.0


def test_loss_accepts_trailing_label_axis_and_classification_shapes():
    logits = random_floats((4, 3), seed=4)
    labels = np.array([0, 1, 2, 1])
    loss = MaskedSparseCategoricalCrossentropy(pad_id=-1)
    np.testing.assert_allclose(
        to_numpy(loss(labels[:, None], logits)),
        reference_loss(labels, logits, pad_id=-1),
        rtol=1e-5,
    )


def test_accuracy_matches_numpy_and_accumulates():
    logits = random_floats((3, 5, 7), seed=5)
    metric = MaskedSparseCategoricalAccuracy()
    metric.update_state(LABELS, logits)
    metric.update_state(LABELS[:1], logits[:1])
    stacked_labels = np.concatenate([LABELS, LABELS[:1]])
    stacked_logits = np.concatenate([logits, logits[:1]])
    real = stacked_labels != 0
    expected = (stacked_logits.argmax(-1) == stacked_labels)[real].mean()
    np.testing.assert_allclose(to_numpy(metric.result()), expected, rtol=1e-6)
    metric.reset_state()
    assert to_numpy(metric.result()) == 0.0


def test_accuracy_is_one_when_only_padding_is_wrong():
    one_hot = np.eye(7, dtype="float32")[LABELS]
    # Predict class 3 wherever the label is padding: wrong everywhere there.
    one_hot[LABELS == 0] = np.eye(7, dtype="float32")[3]
    metric = MaskedSparseCategoricalAccuracy()
    metric.update_state(LABELS, one_hot)
    assert to_numpy(metric.result()) == 1.0
    # Keras' unmasked accuracy is misled by the padding (the known trap).
    plain = keras.metrics.SparseCategoricalAccuracy()
    plain.update_state(LABELS, one_hot)
    assert to_numpy(plain.result()) < 1.0


def test_accuracy_on_all_padding_is_zero_not_nan():
    metric = MaskedSparseCategoricalAccuracy(pad_id=0)
    metric.update_state(np.zeros((2, 3), "int32"), random_floats((2, 3, 4)))
    assert to_numpy(metric.result()) == 0.0


def test_configs_and_registration():
    loss = MaskedSparseCategoricalCrossentropy(
        pad_id=-1, from_logits=False, label_smoothing=0.2
    )
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert (restored.pad_id, restored.from_logits, restored.label_smoothing) == (
        -1, False, 0.2,
    )
    metric = MaskedSparseCategoricalAccuracy(pad_id=5, name="acc")
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert (restored.pad_id, restored.name) == (5, "acc")
    for cls in (MaskedSparseCategoricalCrossentropy, MaskedSparseCategoricalAccuracy):
        assert keras.saving.get_registered_name(cls) == (
            f"keras_attnpred>{cls.__name__}"
        )


def test_compiled_fit_reports_masked_values():
    """Inside a compiled `fit()`, the loss and accuracy are the masked ones."""
    tokens = keras.Input(shape=(5,), dtype="int32")
    logits = keras.layers.Dense(7, dtype="float32")(
        keras.layers.Embedding(10, 4)(tokens)
    )
    model = keras.Model(tokens, logits)
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),
        loss=MaskedSparseCategoricalCrossentropy(),
        metrics=[MaskedSparseCategoricalAccuracy()],
    )
    inputs = np.arange(15).reshape(3, 5) % 10
    predictions = to_numpy(model(inputs))
    result = model.evaluate(inputs, LABELS, verbose=0, return_dict=True)
    np.testing.assert_allclose(
        result["loss"], reference_loss(LABELS, predictions), rtol=1e-5
    )
    real = LABELS != 0
    np.testing.assert_allclose(
        result["masked_sparse_categorical_accuracy"],
        (predictions.argmax(-1) == LABELS)[real].mean(),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (MaskedSparseCategoricalCrossentropy, {"pad_id": 0.5}, "pad_id=0.5"),
        (MaskedSparseCategoricalCrossentropy, {"label_smoothing": 1.0},
         "label_smoothing=1.0"),
        (MaskedSparseCategoricalCrossentropy, {"from_logits": "no"},
         "from_logits='no'"),
        (MaskedSparseCategoricalCrossentropy, {"reduction": "max"},
         "reduction='max'"),
        (MaskedSparseCategoricalAccuracy, {"pad_id": None}, "pad_id=None"),
    ],
)
def test_bad_arguments_raise(cls, kwargs, message):
    with pytest.raises(ValueError, match="Received: " + message.replace(".", r"\.")):
        cls(**kwargs)


def test_unknown_loss_arguments_are_refused_not_dropped():
    with pytest.raises(ValueError, match="lable_smoothing"):
        MaskedSparseCategoricalCrossentropy(lable_smoothing=0.1)
