"""Exports of runs whose tokenizer is a `SentencePieceTokenizer`."""

import json
import os

import numpy as np
import pytest

from keras_attnpred.export import TFLiteClassifier
from keras_attnpred.export import TFLiteTranslator
from keras_attnpred.export import export_classifier_saved_model
from keras_attnpred.export import export_classifier_tflite
from keras_attnpred.export import export_translator_saved_model
from keras_attnpred.export import export_translator_tflite
from keras_attnpred.export._export_utils import tflite_ops
from keras_attnpred.text import SentencePieceTokenizer
from tests.export.test_export_classifier_saved_model import TEXTS
from tests.export.test_export_classifier_saved_model import keras_probabilities
from tests.export.test_export_classifier_saved_model import run_client
from tests.export.test_export_classifier_tflite import _builtin_names
from tests.export.test_export_translator import keras_translations

# Case, accents, spacing and punctuation that SentencePiece keeps.
MORE_TEXTS = ["Wonderful  ACTING, awful   story!", "Café «superb»?",
              "  great\u00a0music "]


@pytest.fixture(scope="module")
def sentencepiece_classifier(classifier_run):
    run = classifier_run("transformer", "sentencepiece")
    assert isinstance(run.tokenizer, SentencePieceTokenizer)
    return run


def test_saved_model_answers_raw_text_in_a_fresh_process(
    sentencepiece_classifier, tmp_path
):
    run = sentencepiece_classifier
    path = export_classifier_saved_model(run, str(tmp_path / "reviews"))
    texts = TEXTS + MORE_TEXTS
    # TensorFlow and TensorFlow Text only, as TF Serving loads it.
    responses = run_client(path, [
        {"instances": texts},
        {"signature_name": "serving_with_attention",
         "inputs": {"text": texts}},
    ], tmp_path)
    expected, ids = keras_probabilities(run, texts)
    rows = responses[0]["predictions"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], expected,
                               atol=1e-5)
    columns = responses[1]["outputs"]
    np.testing.assert_array_equal(columns["token_ids"], ids)
    tokens = columns["tokens"][0]
    assert tokens[0].startswith("\u2581")
    assert tokens[: len(run.tokenizer.tokenize(texts[0]))] == [
        run.tokenizer.id_to_token(int(i)) for i in run.tokenizer.tokenize(
            texts[0])[:len(tokens)]]


def test_tflite_text_model_holds_the_sentencepiece_kernel(
    sentencepiece_classifier, tmp_path
):
    run = sentencepiece_classifier
    paths = export_classifier_tflite(run, str(tmp_path),
                                     quantizations=["float32"], batch_size=4)
    with open(paths["text"], "rb") as f:
        ops = set(tflite_ops(f.read()))
    assert ops - _builtin_names() == {"TFText>FastSentencepieceTokenize",
                                      "RaggedTensorToTensor"}
    with open(os.path.join(str(tmp_path), "classifier.json")) as f:
        assert json.load(f)["tokenizer"] == "sentencepiece"
    texts = TEXTS + MORE_TEXTS
    expected, ids = keras_probabilities(run, texts)
    classifier = TFLiteClassifier(paths["text"])
    np.testing.assert_allclose(classifier.predict(texts), expected,
                               atol=1e-4)
    # Case folding happens inside the model: raw text, the ids of training.
    batch = np.array([t.encode() for t in texts[:4]], dtype=object)
    got = classifier(batch)["token_ids"]
    np.testing.assert_array_equal(got[:, : ids.shape[1]], ids[:4])


# Training the toy translator and tracing its loops take about a minute.
@pytest.mark.slow
def test_translator_exports_detokenize_like_the_translator(
    sentencepiece_translator_run, tmp_path
):
    import tensorflow as tf

    run = sentencepiece_translator_run
    texts = ["The cat eats fish.", "Big dog runs!", "", "cat " * 30]
    expected = keras_translations(run, texts)
    path = export_translator_saved_model(run, str(tmp_path / "serving"))
    serve = tf.saved_model.load(path).signatures["serving_default"]
    served = serve(text=tf.constant(texts))["translation"].numpy()
    assert [t.decode() for t in served] == expected
    # The float32 pair only: each quantized pair is a conversion more.
    export_translator_tflite(run, str(tmp_path / "mobile"),
                             quantizations=["float32"])
    translator = TFLiteTranslator(str(tmp_path / "mobile"))
    assert isinstance(translator.target_tokenizer, SentencePieceTokenizer)
    assert translator.translate(texts) == expected
