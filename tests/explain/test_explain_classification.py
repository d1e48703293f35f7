import keras
import numpy as np
import pytest

from keras_attnpred.explain import explain_classification
from keras_attnpred.models import build_rnn_classifier

TEXTS = ["the cat sat on the mat", "a dog"]


def rnn_classifier(tokenizer):
    return build_rnn_classifier(tokenizer.vocabulary_size, 2,
                                embedding_dim=8, units=8)


def test_tokens_weights_and_prediction(tokenizers):
    tokenizer, _ = tokenizers
    model = rnn_classifier(tokenizer)
    explanations = explain_classification(
        model, tokenizer, TEXTS, label_names=["neg", "pos"], max_length=4
    )
    ids = [row[:4] for row in tokenizer.tokenize(TEXTS).to_list()]
    padded = np.zeros((2, 4), "int32")
    for i, row in enumerate(ids):
        padded[i, : len(row)] = row
    probabilities = keras.ops.convert_to_numpy(
        keras.ops.softmax(model(padded), axis=-1)
    )
    for explanation, row, expected in zip(explanations, ids, probabilities):
        assert explanation.tokens == [tokenizer.id_to_token(i) for i in row]
        np.testing.assert_allclose(explanation.weights.sum(), 1.0, atol=1e-5)
        assert explanation.label == int(np.argmax(expected))
        assert explanation.label_name == ["neg", "pos"][explanation.label]
        assert explanation.probability == pytest.approx(expected.max(),
                                                        abs=1e-5)


def test_bad_arguments(tokenizers):
    tokenizer, _ = tokenizers
    with pytest.raises(ValueError, match="texts"):
        explain_classification(rnn_classifier(tokenizer), tokenizer, "one text")
    with pytest.raises(ValueError, match="max_length"):
        explain_classification(rnn_classifier(tokenizer), tokenizer, TEXTS,
                               max_length=0)
