import json

import keras
import numpy as np
import pytest

from keras_attnpred.explain import TextExplanation
from keras_attnpred.inference import Classifier
from keras_attnpred.models import build_rnn_classifier
from keras_attnpred.models import build_transformer_classifier
from keras_attnpred.text import SubwordTokenizer

TEXTS = [
    "a wonderful film with great acting",
    "a dull plot and bad acting",
    "great music, wonderful cast",
    "bad, dull and far too long",
]
LABELS = ("negative", "positive")
MAX_LENGTH = 6


@pytest.fixture(scope="module")
def tokenizer():
    return SubwordTokenizer.train(TEXTS, vocabulary_size=60)


@pytest.fixture(scope="module")
def classifier(tokenizer):
    keras.utils.set_random_seed(1)
    model = build_transformer_classifier(
        tokenizer.vocabulary_size, 2, MAX_LENGTH, preset="tiny"
    )
    return Classifier(model, tokenizer, LABELS, max_length=MAX_LENGTH)


def expected_probabilities(classifier, texts):
    """The model's softmax on the texts' ids, cut and padded by hand."""
    rows = [
        row[:MAX_LENGTH]
        for row in classifier.tokenizer.tokenize(texts).to_list()
    ]
    ids = np.zeros((len(rows), max(1, max(map(len, rows)))), "int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    logits = keras.ops.convert_to_numpy(classifier.model(ids))
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def test_predict_proba_is_the_softmax_of_the_cut_ids(classifier):
    texts = TEXTS + [""]
    probabilities = classifier.predict_proba(texts, batch_size=2)
    assert probabilities.shape == (5, 2)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(
        probabilities, expected_probabilities(classifier, texts), atol=1e-5
    )
    # Words past max_length are not seen.
    long = [TEXTS[0] + " and more words that the model never reads"]
    np.testing.assert_allclose(
        classifier.predict_proba(long),
        classifier.predict_proba([TEXTS[0]]),
        atol=1e-6,
    )


def test_predict_names_the_most_probable_class(classifier):
    predictions = classifier.predict(TEXTS)
    probabilities = classifier.predict_proba(TEXTS)
    for prediction, row in zip(predictions, probabilities):
        assert prediction["label"] == int(np.argmax(row))
        assert prediction["label_name"] == LABELS[prediction["label"]]
        np.testing.assert_allclose(prediction["probabilities"], row)
    assert classifier.predict([]) == []
    assert classifier.predict_proba([]).shape == (0, 2)


def test_explain_weighs_the_real_tokens(classifier):
    [explanation] = classifier.explain(["a wonderful film"])
    assert isinstance(explanation, TextExplanation)
    assert explanation.label_name in LABELS
    assert np.isclose(np.sum(explanation.weights), 1.0, atol=1e-5)
    assert len(explanation.tokens) == len(explanation.weights)


def test_save_and_load_round_trip(classifier, tmp_path):
    classifier.save(tmp_path / "sentiment")
    loaded = Classifier.load(tmp_path / "sentiment")
    assert loaded.label_names == LABELS
    assert loaded.max_length == MAX_LENGTH
    np.testing.assert_allclose(
        loaded.predict_proba(TEXTS), classifier.predict_proba(TEXTS), atol=1e-6
    )


def test_load_reads_a_run_directory(classifier, tmp_path):
    """A run directory of `train` has config.json, not classifier.json."""
    directory = tmp_path / "run"
    classifier.save(directory)
    (directory / "classifier.json").unlink()
    (directory / "config.json").write_text(
        json.dumps({"task": "sentiment", "max_length": 4})
    )
    assert Classifier.load(directory).max_length == 4


@pytest.mark.parametrize(
    "missing", ["model.keras", "labels.json", "classifier.json", "tokenizer"]
)
def test_load_names_what_is_missing(classifier, tmp_path, missing):
    import shutil

    directory = tmp_path / "sentiment"
    classifier.save(directory)
    path = directory / missing
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    with pytest.raises(ValueError, match=missing):
        Classifier.load(directory)


def test_load_refuses_label_names_that_do_not_fit_the_model(
    classifier, tmp_path
):
    directory = tmp_path / "sentiment"
    classifier.save(directory)
    (directory / "labels.json").write_text(json.dumps({"label_names": ["x"]}))
    with pytest.raises(ValueError, match="labels.json.*2 str"):
        Classifier.load(directory)
    (directory / "classifier.json").write_text("{not json")
    with pytest.raises(ValueError, match="classifier.json"):
        Classifier.load(directory)


def test_bad_arguments_name_argument_and_value(classifier, tokenizer):
    model = classifier.model
    with pytest.raises(ValueError, match="label_names"):
        Classifier(model, tokenizer, ["only one"], max_length=4)
    with pytest.raises(ValueError, match="max_length=0"):
        Classifier(model, tokenizer, LABELS, max_length=0)
    with pytest.raises(ValueError, match="tokenizer of type str"):
        Classifier(model, "wordpiece", LABELS, max_length=4)
    with pytest.raises(ValueError, match="model of type str"):
        Classifier("model.keras", tokenizer, LABELS, max_length=4)
    with pytest.raises(ValueError, match="batch_size=0"):
        classifier.predict(TEXTS, batch_size=0)
    with pytest.raises(ValueError, match="texts"):
        classifier.predict("a single string")


def test_rnn_classifier(tokenizer):
    model = build_rnn_classifier(
        tokenizer.vocabulary_size, 2, embedding_dim=8, units=8
    )
    classifier = Classifier(model, tokenizer, LABELS, max_length=MAX_LENGTH)
    np.testing.assert_allclose(
        classifier.predict_proba(TEXTS),
        expected_probabilities(classifier, TEXTS),
        atol=1e-5,
    )
