import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.decoding import beam_search
from keras_attnpred.decoding import greedy_search
from keras_attnpred.export import TFLiteTranslator
from keras_attnpred.export import export_translator_saved_model
from keras_attnpred.export import export_translator_tflite
from keras_attnpred.export._export_utils import pad_ids
from keras_attnpred.export._export_utils import tflite_ops
from keras_attnpred.export._graphs import join_punctuation
from keras_attnpred.export.export_translator_saved_model import MAX_BEAM_WIDTH
from keras_attnpred.inference import Translator
from keras_attnpred.text import join_punctuation as python_join_punctuation
from tests.export.conftest import MAX_LENGTH
from tests.export.conftest import quantized_copy
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


# Nonsense words the toy model never saw: its beam search finds other
# translations than its greedy search for them.
UNSEEN = ["wztej x v", "c qpd rjw r", "wsny", "mobd yeab teukd rulgmz dbtw"]
# Texts whose beam search differs from greedy search for the toy RNN
# translator (the LSTM of rnn_translator_run).
RNN_UNSEEN = ["nbjk vefusm cczcgx bm d rqjo", "athefo p wie",
              "the small small bird the", "cat the fish bird dog eats"]


def keras_translations(run, texts, beam_width=1, length_penalty=0.0):
    translator = Translator(run.model, run.source_tokenizer,
                            run.target_tokenizer, max_length=MAX_LENGTH)
    return translator.translate(texts, beam_width=beam_width,
                                length_penalty=length_penalty)


def source_ids(run, texts):
    rows = [r[:MAX_LENGTH] for r in run.source_tokenizer.tokenize(texts)
            .to_list()]
    return pad_ids(rows, MAX_LENGTH), [not r for r in rows]


def greedy_ids(run, texts):
    """The source ids of the `texts` that have some, and `greedy_search`'s
    ids for them."""
    rows = [r[:MAX_LENGTH] for r in
            run.source_tokenizer.tokenize(texts).to_list() if r]
    return rows, greedy_search(run.model, pad_ids(rows, max(map(len, rows))),
                               max_length=MAX_LENGTH)


def trimmed(ids, empty):
    """Ids as the signature gives them: empty sources' rows 0, then cut
    after the longest translation."""
    ids = np.where(np.array(empty)[:, None], 0, ids)
    used = np.flatnonzero(ids.any(axis=0))
    return ids[:, : used[-1] + 1 if len(used) else 0]


def call(signature, texts, beam_width, max_length=MAX_LENGTH,
         length_penalty=0.0):
    return signature(text=tf.constant(texts),
                     beam_width=tf.constant(beam_width),
                     max_length=tf.constant(max_length),
                     length_penalty=tf.constant(length_penalty))


@slow
def test_saved_model_translates_like_keras(translator_run, translator_export):
    texts = TEXTS + UNSEEN
    greedy = keras_translations(translator_run, texts)
    # The model learned the toy lexicon, so the comparison means something.
    assert greedy[0].startswith("el gato come")
    assert greedy[2] == ""
    signatures = tf.saved_model.load(translator_export).signatures
    assert set(signatures) == {"serving_default", "translate"}
    out = signatures["serving_default"](text=tf.constant(texts))
    assert [t.decode() for t in out["translation"].numpy()] == greedy
    source, empty = source_ids(translator_run, texts)
    ids = greedy_search(translator_run.model, source, max_length=MAX_LENGTH)
    np.testing.assert_array_equal(out["token_ids"], trimmed(ids, empty))

    short = call(signatures["translate"], texts, 1, max_length=2)
    np.testing.assert_array_equal(short["token_ids"],
                                  trimmed(ids[:, :2], empty))


@slow
def test_saved_model_beam_search_like_keras(translator_run,
                                            translator_export):
    texts = TEXTS + UNSEEN
    translate = tf.saved_model.load(translator_export).signatures["translate"]
    source, empty = source_ids(translator_run, texts)
    greedy = keras_translations(translator_run, texts)
    for width, alpha, max_length in ((3, 0.0, MAX_LENGTH),
                                     (MAX_BEAM_WIDTH, 1.0, MAX_LENGTH),
                                     (2, 0.0, 3),
                                     # A shorter limit changes the penalty.
                                     (3, 1.0, 3)):
        out = call(translate, texts, width, max_length, alpha)
        ids, _ = beam_search(translator_run.model, source, beam_width=width,
                             length_penalty=alpha, max_length=max_length)
        np.testing.assert_array_equal(out["token_ids"],
                                      trimmed(ids[:, 0], empty))
        if max_length == MAX_LENGTH:
            expected = keras_translations(translator_run, texts, width,
                                          alpha)
            # Beam search finds other translations here than greedy search.
            assert expected != greedy
            assert [t.decode() for t in out["translation"].numpy()] == (
                expected)


@slow
def test_saved_model_refuses_bad_search_inputs(translator_export):
    translate = tf.saved_model.load(translator_export).signatures["translate"]
    text = ["The cat."]
    for width in (0, MAX_BEAM_WIDTH + 1):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="`beam_width` must be"):
            call(translate, text, width)
    for bad in (0, MAX_LENGTH + 1):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="`max_length` must"):
            call(translate, text, 1, max_length=bad)
    for bad in (-0.5, float("nan"), float("inf")):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="`length_penalty` must"):
            call(translate, text, 2, length_penalty=bad)


@slow
def test_warmup_requests_run_both_searches(translator_run,
                                           translator_export):
    from tensorflow_serving.apis import prediction_log_pb2

    records = tf.data.TFRecordDataset(os.path.join(
        translator_export, "assets.extra", "tf_serving_warmup_requests"))
    requests = [prediction_log_pb2.PredictionLog.FromString(r.numpy())
                .predict_log.request for r in records]
    signatures = tf.saved_model.load(translator_export).signatures
    widths = []
    for request in requests:
        inputs = {name: tf.make_ndarray(proto)
                  for name, proto in request.inputs.items()}
        # A request the signature refused would stop the server loading.
        out = signatures[request.model_spec.signature_name](
            **{k: tf.constant(v) for k, v in inputs.items()})
        texts = [t.decode() for t in inputs["text"]]
        width = int(inputs.get("beam_width", 1))
        alpha = float(inputs.get("length_penalty", 0.0))
        assert [t.decode() for t in out["translation"].numpy()] == (
            keras_translations(translator_run, texts, width, alpha))
        widths.append(width)
    # The greedy loop and the beam loop are both warmed.
    assert sorted(widths)[0] == 1 and sorted(widths)[-1] > 1


@slow
def test_rnn_translator_saved_model_like_keras(rnn_translator_run, tmp_path):
    """The RNN step decoder (carried LSTM state) in the exported loops."""
    path = export_translator_saved_model(rnn_translator_run,
                                         str(tmp_path / "rnn"))
    signatures = tf.saved_model.load(path).signatures
    texts = TEXTS + UNSEEN + RNN_UNSEEN
    greedy = keras_translations(rnn_translator_run, texts)
    out = signatures["serving_default"](text=tf.constant(texts))
    assert [t.decode() for t in out["translation"].numpy()] == greedy
    beam = keras_translations(rnn_translator_run, texts, 3, 0.6)
    assert beam != greedy
    out = call(signatures["translate"], texts, 3, length_penalty=0.6)
    assert [t.decode() for t in out["translation"].numpy()] == beam


@pytest.mark.slow  # one more TensorFlow process: ~15 s
def test_fresh_process_readme_translate_request(translator_run,
                                                translator_export, tmp_path):
    """A process with TensorFlow and TensorFlow Text only: greedy and beam
    search give Translator.translate's translations."""
    readme = [b for b in readme_requests()
              if b.get("signature_name") == "translate"]
    assert len(readme) == 1 and readme[0]["inputs"]["beam_width"] > 1
    texts = TEXTS + UNSEEN
    searches = [(1, 0.0), (4, 0.0), (3, 1.0)]
    bodies = readme + [{"instances": texts}] + [
        {"signature_name": "translate",
         "inputs": {"text": texts, "beam_width": width,
                    "max_length": MAX_LENGTH, "length_penalty": alpha}}
        for width, alpha in searches]
    responses = run_client(translator_export, bodies, tmp_path)
    inputs = readme[0]["inputs"]
    assert responses[0]["outputs"]["translation"] == keras_translations(
        translator_run, inputs["text"], inputs["beam_width"],
        inputs["length_penalty"])
    assert [p["translation"] for p in responses[1]["predictions"]] == (
        keras_translations(translator_run, texts))
    for (width, alpha), response in zip(searches, responses[2:]):
        assert response["outputs"]["translation"] == keras_translations(
            translator_run, texts, width, alpha), (width, alpha)


@pytest.fixture(scope="module")
def translator_tflite(translator_run, tmp_path_factory):
    """The toy Transformer's TFLite folder, every default variant (batch
    2), and `export_translator_tflite`'s paths."""
    directory = str(tmp_path_factory.mktemp("mobile"))
    return directory, export_translator_tflite(translator_run, directory,
                                               batch_size=2)


@pytest.fixture(scope="module")
def rnn_translator_tflite(rnn_translator_run, tmp_path_factory):
    """The toy LSTM translator's TFLite folder, written by `export_run`
    (beside its SavedModel) with the default variants."""
    from keras_attnpred.export import export_run

    base = tmp_path_factory.mktemp("rnn")
    return export_run(rnn_translator_run, str(base / "rnn"),
                      batch_size=2)["tflite"]


def token_agreement(ids, reference):
    """The share of the positions where either has a token (not padding)
    at which `ids` holds `reference`'s token."""
    width = max(ids.shape[1], reference.shape[1])
    ids, reference = (np.pad(a, [(0, 0), (0, width - a.shape[1])])
                      for a in (ids, reference))
    used = (ids != 0) | (reference != 0)
    return (ids == reference)[used].mean()


QUANTIZED = ("float16", "dynamic_int8")


@slow
def test_tflite_translator_matches_greedy_search(translator_run,
                                                 translator_tflite):
    directory, paths = translator_tflite
    from ai_edge_litert import schema_py_generated as schema

    assert sorted(paths) == ["dynamic_int8", "float16", "float32"]
    builtin = set(vars(schema.BuiltinOperator))
    for pair in paths.values():
        assert sorted(pair) == ["decoder_step", "encoder"]
        for path in pair.values():
            with open(path, "rb") as f:
                assert set(tflite_ops(f.read())) <= builtin, path
    translator = TFLiteTranslator(directory)
    assert translator.quantization == "float32"
    sources, _ = translation_pairs(7, seed=5)
    rows, expected = greedy_ids(translator_run, sources)
    np.testing.assert_array_equal(translator.translate_ids(rows), expected)
    assert translator.translate(TEXTS) == keras_translations(
        translator_run, TEXTS)
    np.testing.assert_array_equal(
        translator.translate_ids(rows, max_length=2), expected[:, :2])
    with pytest.raises(ValueError, match="max_length"):
        translator.translate_ids(rows, max_length=MAX_LENGTH + 1)


@slow
@pytest.mark.parametrize("kind", ["transformer", "rnn"])
def test_quantized_tflite_translators_nearly_match_float32(kind, request):
    """float16 and dynamic-range int8 pairs: (nearly) the tokens of the
    float32 pair, which are greedy search's. Measured on these 76 texts:
    token agreement 1.0 and 0.998 (Transformer), 1.0 and 0.996 (LSTM)."""
    if kind == "transformer":
        run = request.getfixturevalue("translator_run")
        directory, _ = request.getfixturevalue("translator_tflite")
    else:
        run = request.getfixturevalue("rnn_translator_run")
        directory = request.getfixturevalue("rnn_translator_tflite")
    sources, _ = translation_pairs(64, seed=5)
    texts = sources + TEXTS + UNSEEN + RNN_UNSEEN
    rows, expected = greedy_ids(run, texts)
    reference = TFLiteTranslator(directory).translate_ids(rows)
    np.testing.assert_array_equal(reference, expected)
    # The measure tells translations apart: another row's agrees little.
    assert token_agreement(np.roll(reference, 1, axis=0), reference) < 0.5
    keras_texts = keras_translations(run, texts)
    for quantization in QUANTIZED:
        translator = TFLiteTranslator(directory, quantization=quantization)
        assert translator.quantization == quantization
        ids = translator.translate_ids(rows)
        agreement = token_agreement(ids, reference)
        assert agreement >= 0.95, (quantization, agreement)
        same = np.mean([a == b for a, b in
                        zip(translator.translate(texts), keras_texts)])
        assert same >= 0.9, (quantization, same)


@slow
def test_quantized_tflite_translator_files_are_smaller(translator_run,
                                                       tmp_path):
    """An untrained "tiny" Transformer (95 k weights, most of them in
    matrices of over 1024 entries, which dynamic-range quantization turns
    int8): measured 378 kB float32, 211 kB float16, 142 kB dynamic int8."""
    from keras_attnpred.models import build_transformer_translator

    run = translator_run
    model = build_transformer_translator(
        run.source_tokenizer.vocabulary_size,
        run.target_tokenizer.vocabulary_size, MAX_LENGTH, preset="tiny",
        dropout=0.0)
    translator = Translator(model, run.source_tokenizer,
                            run.target_tokenizer, max_length=MAX_LENGTH)
    paths = export_translator_tflite(translator, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == [
        "decoder_step_dynamic_int8.tflite", "decoder_step_float16.tflite",
        "decoder_step_float32.tflite", "encoder_dynamic_int8.tflite",
        "encoder_float16.tflite", "encoder_float32.tflite",
        "source_tokenizer", "target_tokenizer", "translator.json"]
    sizes = {q: sum(os.path.getsize(p) for p in pair.values())
             for q, pair in paths.items()}
    assert sizes["dynamic_int8"] < 0.5 * sizes["float32"], sizes
    assert sizes["float16"] < 0.6 * sizes["float32"], sizes
    for part in ("encoder", "decoder_step"):
        assert os.path.getsize(paths["dynamic_int8"][part]) < (
            0.5 * os.path.getsize(paths["float32"][part])), part
    with open(tmp_path / "translator.json") as f:
        settings = json.load(f)
    assert settings["quantizations"] == ["float32", "float16",
                                         "dynamic_int8"]
    assert settings["models"]["dynamic_int8"]["encoder"]["file"] == (
        "encoder_dynamic_int8.tflite")
    assert "DEQUANTIZE" in settings["models"]["float16"]["decoder_step"][
        "ops"]
    assert TFLiteTranslator(str(tmp_path)).quantizations == (
        "float32", "float16", "dynamic_int8")


@slow
def test_tflite_translator_reads_exports_before_quantizations(
        translator_run, translator_tflite, tmp_path):
    """A folder as exports wrote it before the variants: float32 only,
    as `encoder.tflite` and `decoder_step.tflite`."""
    import shutil

    directory, _ = translator_tflite
    for name in ("source_tokenizer", "target_tokenizer"):
        shutil.copytree(os.path.join(directory, name), tmp_path / name)
    for part in ("encoder", "decoder_step"):
        shutil.copy(os.path.join(directory, f"{part}_float32.tflite"),
                    tmp_path / f"{part}.tflite")
    with open(os.path.join(directory, "translator.json")) as f:
        settings = json.load(f)
    del settings["quantizations"], settings["models"]
    with open(tmp_path / "translator.json", "w") as f:
        json.dump(settings, f)
    translator = TFLiteTranslator(str(tmp_path))
    assert translator.quantizations == ("float32",)
    rows, expected = greedy_ids(translator_run, TEXTS)
    np.testing.assert_array_equal(translator.translate_ids(rows), expected)
    with pytest.raises(ValueError, match=(
            r"`quantization` must be a variant that the export holds: "
            r"\['float32'\] \(.*translator.json\). Received: "
            r"quantization='dynamic_int8'")):
        TFLiteTranslator(str(tmp_path), quantization="dynamic_int8")


@slow
def test_tflite_translator_refuses_a_missing_variant(translator_run,
                                                     tmp_path):
    export_translator_tflite(translator_run, str(tmp_path),
                             quantizations=["dynamic_int8"])
    assert TFLiteTranslator(
        str(tmp_path), quantization="dynamic_int8").quantizations == (
        "dynamic_int8",)
    for missing in ("float32", "float16", "int8"):
        with pytest.raises(ValueError, match=(
                r"must be a variant that the export holds: "
                r"\['dynamic_int8'\] .*Received: "
                rf"quantization='{missing}'")):
            TFLiteTranslator(str(tmp_path), quantization=missing)


@pytest.mark.parametrize("quantizations, message", [
    (["int8"], r"Full int8 quantization \(integer activations\) is not "
     r"available for translators: .* Use 'dynamic_int8' \(int8 weights\). "
     r"Received: quantizations=\['int8'\]"),
    (["float32", "int8"], r"Full int8 .*Received: "
     r"quantizations=\['float32', 'int8'\]"),
    (["float32", "int4"], r"`quantizations` must hold names among "
     r"\['float32', 'float16', 'dynamic_int8', 'int8'\]. Received: "
     r"quantizations=\['float32', 'int4'\]"),
    ("float32", r"`quantizations` must hold names among .* Received: "
     r"quantizations='float32'"),
    ([None], r"`quantizations` must hold names .* Received: "
     r"quantizations=\[None\]"),
    ([], r"`quantizations` must name at least one variant among "
     r"\['float32', 'float16', 'dynamic_int8'\]. Received: "
     r"quantizations=\[\]"),
])
def test_tflite_translator_export_refuses_bad_quantizations(
        quantizations, message, tmp_path):
    # Refused before the translator is loaded: no run at that path.
    with pytest.raises(ValueError, match=message):
        export_translator_tflite(str(tmp_path / "no_run"),
                                 str(tmp_path / "mobile"),
                                 quantizations=quantizations)
    assert not (tmp_path / "mobile").exists()


@pytest.mark.parametrize("quantization", ["int4", "", None, 8])
def test_tflite_translator_refuses_unknown_quantization(quantization,
                                                        tmp_path):
    with pytest.raises(ValueError, match=(
            r"`quantization` must be one of \['float32', 'float16', "
            r"'dynamic_int8', 'int8'\]. Received: "
            rf"quantization={re.escape(repr(quantization))}")):
        TFLiteTranslator(str(tmp_path), quantization=quantization)


def test_graph_join_punctuation_matches_python():
    texts = ['él dijo : " ¡ hola ! "', "¿ qué tal ?", "don ' t ( see ) .",
             "l ' été , 5 % …", "niño ' s « libro »"]
    got = join_punctuation(tf.constant(texts)).numpy()
    assert [t.decode() for t in got] == [python_join_punctuation(t)
                                        for t in texts]


@slow
def test_keras_int8_translator_to_tflite_is_refused(translator_run, tmp_path):
    quantized = quantized_copy(translator_run, tmp_path)
    with pytest.raises(ValueError, match=r"made int8 or float8.*\(int8\)"):
        export_translator_tflite(quantized, str(tmp_path / "mobile"))
    assert not (tmp_path / "mobile").exists()


@slow
def test_rnn_translator_tflite_matches_greedy_search(rnn_translator_run,
                                                     rnn_translator_tflite):
    """The LSTM translator's state (h and c) goes through the TFLite step;
    `export_run` writes it beside the SavedModel, in every default
    variant."""
    with open(os.path.join(rnn_translator_tflite, "translator.json")) as f:
        settings = json.load(f)
    assert settings["decoder"] == "rnn" and settings["num_states"] == 2
    assert settings["quantizations"] == ["float32", "float16",
                                         "dynamic_int8"]
    translator = TFLiteTranslator(rnn_translator_tflite)
    texts = TEXTS + UNSEEN + RNN_UNSEEN
    rows, expected = greedy_ids(rnn_translator_run, texts)
    np.testing.assert_array_equal(translator.translate_ids(rows), expected)
    assert translator.translate(texts) == keras_translations(
        rnn_translator_run, texts)
