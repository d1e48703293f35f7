import keras
import numpy as np
import pytest

from keras_attnpred.models import Distiller
from keras_attnpred.models import RNNEncoderBackbone
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import TransformerEncoderBackbone
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy

VOCABULARY = 30


def transformer(width, heads, classes=3, layers=1):
    backbone = TransformerEncoderBackbone(
        vocabulary_size=VOCABULARY, max_length=16, num_layers=layers,
        model_dim=width, num_heads=heads, intermediate_dim=2 * width,
        dropout=0.0,
    )
    return TextClassifier(backbone, num_classes=classes)


def rnn(classes=3):
    return TextClassifier(
        RNNEncoderBackbone(VOCABULARY, embedding_dim=8, units=4),
        num_classes=classes,
    )


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def reference_loss(teacher, student, labels, temperature, alpha,
                   attention_weight=0.0, divergence=None):
    """Hinton et al.'s loss written out in NumPy."""
    log_t = log_softmax(teacher / temperature)
    log_s = log_softmax(student / temperature)
    kl = (np.exp(log_t) * (log_t - log_s)).sum(-1) * temperature**2
    labeled = labels >= 0
    ce = -log_softmax(student)[np.arange(len(labels)),
                               np.maximum(labels, 0)] * labeled
    total = alpha * kl + (1 - alpha) * ce
    if divergence is not None:
        total = total + attention_weight * divergence
    return total.mean(), kl.mean(), ce.sum() / max(labeled.sum(), 1)


def reference_divergence(teacher, student, ids, average_heads):
    if average_heads:
        teacher = teacher.mean(1, keepdims=True)
        student = student.mean(1, keepdims=True)
    kl = (teacher * (np.log(teacher + 1e-7) - np.log(student + 1e-7))).sum(-1)
    real = (ids != 0)[:, None, :]
    return (kl * real).sum((1, 2)) / (real.sum((1, 2)) * kl.shape[1])


@pytest.mark.parametrize("temperature,alpha", [(1.0, 0.5), (4.0, 0.9),
                                               (2.0, 0.0), (3.0, 1.0)])
def test_loss_matches_numpy_reference(temperature, alpha):
    distiller = Distiller(transformer(8, 2), transformer(4, 2),
                          temperature=temperature, alpha=alpha)
    ids = padded_ids([5, 3, 7, 2], 7, VOCABULARY, seed=3)
    labels = np.array([0, 2, -1, 1])
    outputs = distiller(ids)
    loss = distiller.compute_loss(ids, labels, outputs)
    teacher = to_numpy(distiller.teacher(ids))
    student = to_numpy(distiller.student(ids))
    np.testing.assert_allclose(to_numpy(outputs["teacher_logits"]), teacher,
                               rtol=1e-5, atol=1e-6)
    expected, kl, ce = reference_loss(teacher, student, labels, temperature,
                                      alpha)
    np.testing.assert_allclose(float(to_numpy(loss)), expected, rtol=1e-4)
    np.testing.assert_allclose(
        float(to_numpy(distiller.distillation_tracker.result())), kl,
        rtol=1e-4)
    np.testing.assert_allclose(
        float(to_numpy(distiller.label_tracker.result())), ce, rtol=1e-4)


def test_unlabeled_examples_have_no_label_term():
    distiller = Distiller(transformer(8, 2), transformer(4, 2), alpha=0.0)
    ids = padded_ids([5, 3], 7, VOCABULARY, seed=1)
    loss = distiller.compute_loss(ids, np.array([-1, -1]), distiller(ids))
    assert float(to_numpy(loss)) == 0.0


@pytest.mark.parametrize("student_heads", [2, 4])
def test_attention_term_matches_numpy_reference(student_heads):
    teacher = transformer(8, 2, layers=2)
    student = transformer(8, student_heads)
    distiller = Distiller(teacher, student, temperature=2.0, alpha=0.5,
                          attention_weight=0.7)
    ids = padded_ids([6, 2, 5], 8, VOCABULARY, seed=5)
    labels = np.array([1, 0, -1])
    outputs = distiller(ids)
    _, teacher_attention = teacher.logits_and_attention(ids)
    _, student_attention = student.logits_and_attention(ids)
    divergence = reference_divergence(
        to_numpy(teacher_attention), to_numpy(student_attention), ids,
        average_heads=student_heads != 2,
    )
    np.testing.assert_allclose(to_numpy(outputs["attention_divergence"]),
                               divergence, rtol=1e-4, atol=1e-6)
    assert divergence.min() > 0  # two random models attend differently
    expected, _, _ = reference_loss(
        to_numpy(teacher(ids)), to_numpy(student(ids)), labels, 2.0, 0.5,
        0.7, divergence,
    )
    loss = distiller.compute_loss(ids, labels, outputs)
    np.testing.assert_allclose(float(to_numpy(loss)), expected, rtol=1e-4)


def test_logits_and_attention_gives_the_model_output():
    classifier = transformer(8, 2, layers=2)
    ids = padded_ids([6, 2], 8, VOCABULARY, seed=2)
    logits, attention = classifier.logits_and_attention(ids)
    np.testing.assert_allclose(to_numpy(logits), to_numpy(classifier(ids)),
                               rtol=1e-5, atol=1e-6)
    assert tuple(attention.shape) == (2, 2, 8, 8)
    np.testing.assert_allclose(to_numpy(attention).sum(-1)[0, :, :6], 1.0,
                               rtol=1e-5)


def test_teacher_is_frozen_and_student_learns():
    teacher, student = transformer(8, 2), rnn()
    distiller = Distiller(teacher, student, alpha=0.7)
    distiller.compile(optimizer=keras.optimizers.Adam(0.01))
    before_teacher = [w.copy() for w in teacher.get_weights()]
    before_student = [w.copy() for w in student.get_weights()]
    ids = padded_ids([5, 3, 7, 2], 7, VOCABULARY, seed=3)
    distiller.fit(ids, np.array([0, 1, -1, 2]), epochs=2, verbose=0)
    for old, new in zip(before_teacher, teacher.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert any(
        not np.array_equal(old, new)
        for old, new in zip(before_student, student.get_weights())
    )
    assert not distiller.teacher.trainable_weights


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="alpha=1.5"):
        Distiller(transformer(8, 2), transformer(4, 2), alpha=1.5)
    with pytest.raises(ValueError, match="temperature=0"):
        Distiller(transformer(8, 2), transformer(4, 2), temperature=0)
    with pytest.raises(ValueError, match="num_classes=2"):
        Distiller(transformer(8, 2), transformer(4, 2, classes=2))
    with pytest.raises(ValueError, match="RNNEncoderBackbone student"):
        Distiller(transformer(8, 2), rnn(), attention_weight=1.0)
    with pytest.raises(ValueError, match="student of type Dense"):
        Distiller(transformer(8, 2), keras.layers.Dense(3))


def toy_task(seed, rows):
    """Texts of ids 3..11; the class is the most frequent `id % 3` (the
    lowest of ties)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, 12, size=(rows, 6)).astype(np.int32)
    counts = np.stack([(ids % 3 == k).sum(1) for k in range(3)], -1)
    return ids, np.argmax(counts, -1)


def test_distilled_student_agrees_with_teacher_more_than_label_trained():
    # Seeded: a student distilled on many unlabelled texts agrees with the
    # teacher's argmax more often than the same student trained on the few
    # labels alone (the teacher's signal reaches every text).
    keras.utils.set_random_seed(3)
    ids, rule = toy_task(0, 600)
    teacher = TextClassifier(
        RNNEncoderBackbone(VOCABULARY, embedding_dim=16, units=16),
        num_classes=3,
    )
    teacher.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    teacher.fit(ids, rule, epochs=6, batch_size=30, verbose=0)
    held_out, _ = toy_task(7, 400)
    expected = np.argmax(to_numpy(teacher.predict(held_out, verbose=0)), -1)
    # Not a constant: the teacher tells the classes apart.
    assert np.bincount(expected, minlength=3).min() > 50
    labeled = 40
    labels = np.full(len(ids), -1)
    labels[:labeled] = np.argmax(
        to_numpy(teacher.predict(ids[:labeled], verbose=0)), -1)

    def agreement(student):
        predicted = np.argmax(to_numpy(student.predict(held_out, verbose=0)),
                              -1)
        return float((predicted == expected).mean())

    keras.utils.set_random_seed(11)
    alone = rnn()
    alone.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # As many steps as the distilled student takes: 60 passes over the
    # labelled texts, as one epoch (an epoch of 2 steps costs more in
    # Keras's per-epoch work than in training).
    alone.fit(np.tile(ids[:labeled], (60, 1)), np.tile(labels[:labeled], 60),
              epochs=1, batch_size=20, verbose=0)
    keras.utils.set_random_seed(11)
    student = rnn()
    distiller = Distiller(teacher, student, temperature=2.0, alpha=0.5)
    distiller.compile(optimizer=keras.optimizers.Adam(0.01))
    distiller.fit(ids, labels, epochs=4, batch_size=20, verbose=0)
    distilled, trained_alone = agreement(student), agreement(alone)
    assert distilled > trained_alone + 0.05, (distilled, trained_alone)


def test_save_and_reload_round_trip(tmp_path):
    distiller = Distiller(transformer(8, 2), transformer(4, 2),
                          temperature=3.0, alpha=0.25, attention_weight=0.5)
    ids = padded_ids([5, 3], 7, VOCABULARY, seed=1)
    path = str(tmp_path / "distiller.keras")
    distiller.save(path)
    again = keras.models.load_model(path)
    assert (again.temperature, again.alpha, again.attention_weight) == (
        3.0, 0.25, 0.5)
    for key in ("logits", "teacher_logits", "attention_divergence"):
        np.testing.assert_allclose(to_numpy(again(ids)[key]),
                                   to_numpy(distiller(ids)[key]),
                                   rtol=1e-5, atol=1e-6)
