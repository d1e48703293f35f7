import random

import pytest

from keras_attnpred.inference import classification_metrics
from keras_attnpred.inference import confusion_matrix_png


def reference(labels, predictions, classes):
    """The metrics by counting, in plain Python."""
    matrix = [[0] * classes for _ in range(classes)]
    for true, predicted in zip(labels, predictions):
        matrix[true][predicted] += 1
    per_class, f1s = [], []
    for k in range(classes):
        correct = matrix[k][k]
        support = sum(matrix[k])
        predicted = sum(row[k] for row in matrix)
        precision = correct / predicted if predicted else 0.0
        recall = correct / support if support else 0.0
        f1 = (2 * precision * recall / (precision + recall)
              if precision + recall else 0.0)
        per_class.append((precision, recall, f1, support))
        if support or predicted:
            f1s.append(f1)
    accuracy = sum(matrix[k][k] for k in range(classes)) / len(labels)
    return matrix, per_class, sum(f1s) / len(f1s), accuracy


@pytest.mark.parametrize("seed", range(5))
def test_against_counting(seed):
    rng = random.Random(seed)
    names = ["a", "b", "c", "d"]
    # Class "d" never occurs in the labels, and sometimes not at all.
    labels = [rng.randrange(3) for _ in range(50)]
    predictions = [label if rng.random() < 0.6 else rng.randrange(3 + seed % 2)
                   for label in labels]
    report = classification_metrics(labels, predictions, names)
    matrix, per_class, macro_f1, accuracy = reference(labels, predictions, 4)
    assert report["confusion_matrix"] == {"labels": names, "matrix": matrix}
    assert report["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert report["macro_f1"] == pytest.approx(macro_f1, abs=1e-12)
    for name, (precision, recall, f1, support) in zip(names, per_class):
        assert report["per_class"][name] == pytest.approx(
            {"precision": precision, "recall": recall, "f1": f1,
             "support": support}, abs=1e-12)


def test_known_values_and_bad_arguments():
    report = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], ["n", "p"])
    assert report["per_class"]["p"] == pytest.approx(
        {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    with pytest.raises(ValueError, match="same length"):
        classification_metrics([0, 1], [0], ["n", "p"])
    with pytest.raises(ValueError, match=r"class ids in \[0, 2\)"):
        classification_metrics([0, 2], [0, 1], ["n", "p"])
    with pytest.raises(ValueError, match="must not be empty"):
        classification_metrics([], [], ["n", "p"])


def test_confusion_matrix_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "matrix.png"
    png = confusion_matrix_png([[3, 1], [0, 4]], ["neg", "pos"], path=str(path))
    assert png.startswith(b"\x89PNG") and path.read_bytes() == png
    with pytest.raises(ValueError, match="must be square"):
        confusion_matrix_png([[3, 1]], ["neg", "pos"])
