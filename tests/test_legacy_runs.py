"""Run directories made by an older commit still load, predict and export.

`tests/fixtures/legacy_runs/` holds four tiny runs written by `train` (a
Transformer classifier with hashed bigrams, a bidirectional GRU classifier,
a Transformer translator and a Luong-attention GRU translator), made by
`tests/fixtures/make_legacy_runs.py` with the commit recorded in
`tests/fixtures/legacy_runs/expected.json`, together with what those runs
answered then. Users have run directories like these on disk: after any
change of the model format (e.g. the models becoming Backbone/Task
classes) they must keep working with the same answers, or be refused with
a clear message (then change these tests on purpose, never the fixtures).

Only public entry points are used: `TrainingRun.load` and `predict` /
`evaluate`, `Translator.load` and `translate`, `keras_attnpred.cli.main`
(`predict`, `evaluate`), `keras_attnpred.export.export_run` and
`export_classifier_tflite`, and the exported SavedModels and TFLite models
through TensorFlow and `ai_edge_litert`.
"""

import csv
import functools
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred import cli
from keras_attnpred.decoding import translation_metrics
from keras_attnpred.export import export_run
from keras_attnpred.inference import Translator
from keras_attnpred.training import TrainingRun

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "legacy_runs")
with open(os.path.join(FIXTURES, "expected.json"), encoding="utf-8") as f:
    EXPECTED = json.load(f)
CLASSIFIERS = ["transformer_classifier", "rnn_classifier"]
TRANSLATORS = ["transformer_translator", "rnn_translator"]


def run_dir(name):
    return os.path.join(FIXTURES, name)


# Loaded once per module: loading and the first call trace the models.
@functools.cache
def classifier(name):
    return TrainingRun.load(run_dir(name))


@functools.cache
def translator(name):
    return Translator.load(run_dir(name))


def test_fixtures_record_their_commit():
    assert len(EXPECTED["commit"]) == 40
    assert set(EXPECTED["runs"]) == set(CLASSIFIERS + TRANSLATORS)
    for name in CLASSIFIERS + TRANSLATORS:
        # As `train` wrote them, less backup/, logs/ and checkpoints/.
        assert os.path.isfile(os.path.join(run_dir(name), "model.keras"))
        assert not os.path.exists(os.path.join(run_dir(name), "backup"))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_predicts_as_recorded(name):
    expected = EXPECTED["runs"][name]
    run = classifier(name)
    assert run.config.task == expected["task"]
    assert list(run.label_names) == expected["label_names"]
    predictions = run.predict(expected["texts"])
    np.testing.assert_allclose(
        [p["probabilities"] for p in predictions],
        expected["probabilities"],
        atol=1e-5,
    )
    assert [p["label_name"] for p in predictions] == expected["predicted"]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_command_line(name, tmp_path, capsys):
    expected = EXPECTED["runs"][name]
    assert cli.main(["predict", run_dir(name), *expected["texts"]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(expected["texts"])
    for line, text, label, probabilities in zip(
        lines, expected["texts"], expected["predicted"],
        expected["probabilities"],
    ):
        got_label, probability, got_text = line.split("\t")
        assert (got_label, got_text) == (label, text)
        assert abs(float(probability) - max(probabilities)) < 1e-3

    data = tmp_path / "test.csv"
    with open(data, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(expected["texts"], expected["labels"]))
    assert cli.main(["evaluate", run_dir(name), "--data", str(data)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == pytest.approx(
        expected["evaluate"]["accuracy"], abs=1e-6)
    assert report["loss"] == pytest.approx(
        expected["evaluate"]["loss"], abs=1e-5)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_saved_model_answers_as_recorded(name, tmp_path):
    expected = EXPECTED["runs"][name]
    written = export_run(run_dir(name), str(tmp_path), format="saved_model")
    serve = tf.saved_model.load(written["saved_model"]).signatures[
        "serving_default"]
    out = serve(text=tf.constant(expected["texts"]))
    np.testing.assert_allclose(
        out["probabilities"].numpy(), expected["probabilities"], atol=1e-4)
    assert [s.decode() for s in out["label_name"].numpy()] == (
        expected["predicted"])


def test_transformer_classifier_tflite_answers_as_recorded(tmp_path):
    from ai_edge_litert import interpreter

    from keras_attnpred.export import TFLiteClassifier
    from keras_attnpred.export import export_classifier_tflite

    name = "transformer_classifier"
    expected = EXPECTED["runs"][name]
    paths = export_classifier_tflite(
        run_dir(name), str(tmp_path), quantizations=["float32"])
    # The raw-text model, tokenizer inside (TFLiteClassifier folds case).
    got = TFLiteClassifier(paths["text"]).predict(expected["texts"])
    np.testing.assert_allclose(got, expected["probabilities"], atol=1e-4)
    # The token-id model in the plain LiteRT interpreter.
    run = classifier(name)
    length = run.config.max_length
    model = interpreter.Interpreter(model_path=paths["float32"])
    runner = model.get_signature_runner()
    for text, probabilities in zip(expected["texts"],
                                   expected["probabilities"]):
        row = run.tokenizer.tokenize([text]).to_list()[0][:length]
        ids = np.zeros((1, length), "int32")
        ids[0, : len(row)] = row
        out = runner(token_ids=ids)
        np.testing.assert_allclose(out["probabilities"][0], probabilities,
                                   atol=1e-4)


@pytest.mark.parametrize("name", TRANSLATORS)
def test_translator_translates_as_recorded(name):
    expected = EXPECTED["runs"][name]
    model = translator(name)
    assert model.translate(expected["sources"]) == expected["greedy"]
    assert model.translate(expected["sources"], beam_width=2) == (
        expected["beam_2"])


@pytest.mark.parametrize("name", TRANSLATORS)
def test_translation_run_evaluates_as_recorded(name):
    from keras_attnpred.data import ParallelTexts

    expected = EXPECTED["runs"][name]
    run = TrainingRun.load(run_dir(name))
    assert run.config.task == "translation"
    report = run.evaluate(ParallelTexts(expected["sources"],
                                        expected["references"]))
    assert report["accuracy"] == pytest.approx(
        expected["evaluate"]["accuracy"], abs=1e-6)
    assert report["loss"] == pytest.approx(
        expected["evaluate"]["loss"], abs=1e-5)


def test_translator_command_line_predict(capsys):
    name = "transformer_translator"
    expected = EXPECTED["runs"][name]
    assert cli.main(["predict", run_dir(name), *expected["sources"]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{s}\t{t}" for s, t in
                     zip(expected["sources"], expected["greedy"])]


@pytest.mark.slow  # loads and translates again: ~20 s on 2 busy cores
def test_translator_command_line_evaluate(tmp_path, capsys):
    name = "transformer_translator"
    expected = EXPECTED["runs"][name]
    data = tmp_path / "test.tsv"
    data.write_text(
        "".join(f"{s}\t{t}\n" for s, t in
                zip(expected["sources"], expected["references"])),
        encoding="utf-8",
    )
    assert cli.main(["evaluate", run_dir(name), "--data", str(data)]) == 0
    report = json.loads(capsys.readouterr().out)
    scores = translation_metrics(expected["greedy"], expected["references"])
    assert report["bleu"] == pytest.approx(scores["bleu"])
    assert report["chrf"] == pytest.approx(scores["chrf"])
    assert report["accuracy"] == pytest.approx(
        expected["evaluate"]["accuracy"], abs=1e-6)


def _saved_model_translations(name, tmp_path):
    expected = EXPECTED["runs"][name]
    written = export_run(run_dir(name), str(tmp_path), format="saved_model")
    signatures = tf.saved_model.load(written["saved_model"]).signatures
    texts = tf.constant(expected["sources"])
    greedy = signatures["serving_default"](text=texts)["translation"]
    beam = signatures["translate"](
        text=texts,
        beam_width=tf.constant(2),
        max_length=tf.constant(translator_max_length(name)),
        length_penalty=tf.constant(0.0),
    )["translation"]
    return ([t.decode() for t in greedy.numpy()],
            [t.decode() for t in beam.numpy()])


def translator_max_length(name):
    with open(os.path.join(run_dir(name), "translator.json"),
              encoding="utf-8") as f:
        return json.load(f)["max_length"]


def test_transformer_translator_saved_model_translates_as_recorded(tmp_path):
    name = "transformer_translator"
    greedy, beam = _saved_model_translations(name, tmp_path)
    assert greedy == EXPECTED["runs"][name]["greedy"]
    assert beam == EXPECTED["runs"][name]["beam_2"]


@pytest.mark.slow
def test_rnn_translator_saved_model_translates_as_recorded(tmp_path):
    name = "rnn_translator"
    greedy, beam = _saved_model_translations(name, tmp_path)
    assert greedy == EXPECTED["runs"][name]["greedy"]
    assert beam == EXPECTED["runs"][name]["beam_2"]


@pytest.mark.slow
def test_transformer_translator_tflite_translates_as_recorded(tmp_path):
    from keras_attnpred.export import TFLiteTranslator

    name = "transformer_translator"
    written = export_run(run_dir(name), str(tmp_path), format="tflite")
    got = TFLiteTranslator(written["tflite"]).translate(
        EXPECTED["runs"][name]["sources"])
    assert got == EXPECTED["runs"][name]["greedy"]


@pytest.mark.slow
def test_rnn_classifier_tflite_answers_as_recorded(tmp_path):
    from keras_attnpred.export import TFLiteClassifier
    from keras_attnpred.export import export_classifier_tflite

    name = "rnn_classifier"
    expected = EXPECTED["runs"][name]
    paths = export_classifier_tflite(
        run_dir(name), str(tmp_path), quantizations=["float32"])
    got = TFLiteClassifier(paths["text"]).predict(expected["texts"])
    np.testing.assert_allclose(got, expected["probabilities"], atol=1e-4)
