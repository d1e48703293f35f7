import os

import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.decoding import Translator
from keras_attnpred.decoding import greedy_search
from keras_attnpred.export import TFLiteTranslator
from keras_attnpred.export import export_translator_saved_model
from keras_attnpred.export import export_translator_tflite
from keras_attnpred.export._export_utils import pad_ids
from keras_attnpred.export._export_utils import tflite_ops
from keras_attnpred.export._graphs import join_punctuation
from keras_attnpred.text import join_punctuation as python_join_punctuation
from tests.export.conftest import MAX_LENGTH
from tests.export.conftest import translation_pairs
from tests.export.test_export_classifier_saved_model import readme_requests
from tests.export.test_export_classifier_saved_model import run_client

TEXTS = ["The cat eats fish.", "Big dog runs!", "", "The small bird sees "
         "the big cat and the dog.", "cat " * 30]


# Training the toy translator and tracing its loop take about a minute on
# two busy cores: the translator tests are slow ones (make test-slow).
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def translator_export(translator_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("serving") / "translator"
    return export_translator_saved_model(translator_run, str(base))


def keras_translations(run, texts):
    translator = Translator(run.model, run.source_tokenizer,
                            run.target_tokenizer, max_length=MAX_LENGTH)
    return translator.translate(texts)


@slow
def test_saved_model_translates_like_keras(translator_run, translator_export):
    expected = keras_translations(translator_run, TEXTS)
    # The model learned the toy lexicon, so the comparison means something.
    assert expected[0].startswith("el gato come")
    assert expected[2] == ""
    signatures = tf.saved_model.load(translator_export).signatures
    assert set(signatures) == {"serving_default", "translate"}
    out = signatures["serving_default"](text=tf.constant(TEXTS))
    assert [t.decode() for t in out["translation"].numpy()] == expected
    rows = [r[:MAX_LENGTH] for r in
            translator_run.source_tokenizer.tokenize(TEXTS).to_list()]
    ids = greedy_search(translator_run.model, pad_ids(rows, MAX_LENGTH),
                        max_length=MAX_LENGTH)
    ids[2] = 0  # no source tokens: no translation
    np.testing.assert_array_equal(out["token_ids"], ids)

    short = signatures["translate"](text=tf.constant(TEXTS),
                                    beam_width=tf.constant(1),
                                    max_length=tf.constant(2))
    np.testing.assert_array_equal(short["token_ids"], ids[:, :2])


@slow
def test_saved_model_refuses_beam_search_and_bad_lengths(translator_export):
    translate = tf.saved_model.load(translator_export).signatures["translate"]
    text = tf.constant(["The cat."])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Only greedy search"):
        translate(text=text, beam_width=tf.constant(4),
                  max_length=tf.constant(8))
    for bad in (0, MAX_LENGTH + 1):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="max_length"):
            translate(text=text, beam_width=tf.constant(1),
                      max_length=tf.constant(bad))


@pytest.mark.slow  # one more TensorFlow process: ~15 s
def test_fresh_process_readme_translate_request(translator_run,
                                                translator_export, tmp_path):
    bodies = [b for b in readme_requests()
              if b.get("signature_name") == "translate"]
    assert bodies
    bodies.append({"instances": TEXTS})
    responses = run_client(translator_export, bodies, tmp_path)
    expected = keras_translations(translator_run,
                                  bodies[0]["inputs"]["text"])
    assert responses[0]["outputs"]["translation"] == expected
    assert [p["translation"] for p in responses[1]["predictions"]] == (
        keras_translations(translator_run, TEXTS))


@slow
def test_tflite_translator_matches_greedy_search(translator_run, tmp_path):
    paths = export_translator_tflite(translator_run, str(tmp_path),
                                     batch_size=2)
    from ai_edge_litert import schema_py_generated as schema

    builtin = set(vars(schema.BuiltinOperator))
    for path in paths.values():
        with open(path, "rb") as f:
            assert set(tflite_ops(f.read())) <= builtin, path
    translator = TFLiteTranslator(str(tmp_path))
    sources, _ = translation_pairs(7, seed=5)
    rows = [r[:MAX_LENGTH] for r in
            translator_run.source_tokenizer.tokenize(sources).to_list()]
    expected = greedy_search(translator_run.model,
                             pad_ids(rows, max(map(len, rows))),
                             max_length=MAX_LENGTH)
    np.testing.assert_array_equal(translator.translate_ids(rows), expected)
    assert translator.translate(TEXTS) == keras_translations(
        translator_run, TEXTS)
    np.testing.assert_array_equal(
        translator.translate_ids(rows, max_length=2), expected[:, :2])
    with pytest.raises(ValueError, match="max_length"):
        translator.translate_ids(rows, max_length=MAX_LENGTH + 1)


def test_graph_join_punctuation_matches_python():
    texts = ['él dijo : " ¡ hola ! "', "¿ qué tal ?", "don ' t ( see ) .",
             "l ' été , 5 % …", "niño ' s « libro »"]
    got = join_punctuation(tf.constant(texts)).numpy()
    assert [t.decode() for t in got] == [python_join_punctuation(t)
                                        for t in texts]
