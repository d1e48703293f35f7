import json
import os
import warnings

import numpy as np
import pytest

from keras_attnpred.export import TFLiteClassifier
from keras_attnpred.export import export_classifier_tflite
from keras_attnpred.export._export_utils import tflite_ops
from tests.export.conftest import MAX_LENGTH
from tests.export.conftest import head_and_tail_probabilities
from tests.export.conftest import quantized_copy
from tests.export.conftest import sentiment_texts
from tests.export.test_export_classifier_saved_model import LONG_TEXTS
from tests.export.test_export_classifier_saved_model import keras_probabilities

TEXT_OPS = {"FastWordpieceTokenizeWithOffsets", "RaggedTensorToTensor"}


@pytest.fixture(scope="module")
def transformer_tflite(classifier_run, tmp_path_factory):
    run = classifier_run("transformer")
    train_texts, _ = sentiment_texts(256)
    out = tmp_path_factory.mktemp("mobile")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = export_classifier_tflite(
            run, str(out), representative_texts=train_texts[:128],
            batch_size=4)
    EXPORT_WARNINGS[:] = [str(w.message) for w in caught]
    return run, paths


# What the export above warned.
EXPORT_WARNINGS = []


def test_int8_calibration_does_not_warn_of_the_deprecated_interpreter(
        transformer_tflite):
    assert "int8" in transformer_tflite[1]  # calibrated
    assert not [w for w in EXPORT_WARNINGS if "tf.lite.Interpreter" in w]


def ops_of(path):
    with open(path, "rb") as f:
        return set(tflite_ops(f.read()))


def test_builtin_ops_only_and_parity(transformer_tflite):
    run, paths = transformer_tflite
    assert set(paths) == {"float32", "float16", "dynamic_int8", "int8",
                          "text"}
    texts, labels = sentiment_texts(40, seed=7)  # not the training texts
    expected, ids = keras_probabilities(run, texts)
    for name in ("float32", "float16", "dynamic_int8", "int8"):
        ops = ops_of(paths[name])
        assert not any(op.startswith("Flex") for op in ops), (name, ops)
        assert ops <= _builtin_names(), (name, ops - _builtin_names())
        classifier = TFLiteClassifier(paths[name])
        assert (classifier.batch_size, classifier.sequence_length) == (
            4, MAX_LENGTH)
        got = classifier.predict(ids)  # 40 rows in batches of 4
        assert got.shape == expected.shape
        if name == "float32":
            np.testing.assert_allclose(got, expected, atol=1e-4)
        else:
            # Quantized: close, and the same decisions on (nearly) all.
            assert np.abs(got - expected).max() < 0.1, name
            agreement = (got.argmax(-1) == expected.argmax(-1)).mean()
            assert agreement >= 0.95, (name, agreement)
    assert "DEQUANTIZE" in ops_of(paths["float16"])
    # Full integer: the weights of the matrix products are int8.
    with open(paths["int8"], "rb") as f:
        assert _has_int8_fully_connected(f.read())
    config = json.load(open(os.path.join(os.path.dirname(paths["float32"]),
                                         "classifier.json")))
    assert config["label_names"] == ["negative", "positive"]
    assert config["sequence_length"] == MAX_LENGTH


def test_text_model_runs_with_the_text_registrar(transformer_tflite):
    from ai_edge_litert import interpreter

    run, paths = transformer_tflite
    ops = ops_of(paths["text"])
    assert ops - _builtin_names() == TEXT_OPS
    texts = ["The acting was GREAT, really superb!", "A dull, boring film.",
             "Wonderful music, awful story", "", "great " * 40,
             # No-break and thin spaces separate words, as in training.
             "Great\xa0acting,\u2009dull story"]
    expected, ids = keras_probabilities(run, texts)
    classifier = TFLiteClassifier(paths["text"])
    assert classifier.takes_text
    np.testing.assert_allclose(classifier.predict(texts), expected,
                               atol=1e-4)
    # The tokenizer inside: same ids as training, cut to max_length.
    batch = np.array([t.lower().encode() for t in texts[:4]], dtype=object)
    np.testing.assert_array_equal(
        classifier(batch)["token_ids"][:2, : ids.shape[1]], ids[:2])
    # Without the registrar the interpreter cannot run it.
    plain = interpreter.Interpreter(model_path=paths["text"])
    with pytest.raises(RuntimeError, match="FastWordpieceTokenize"):
        plain.allocate_tensors()
        plain.get_signature_runner()(text=batch)


@pytest.mark.slow  # trains a recurrent model: ~15 s
def test_recurrent_classifier(classifier_run, tmp_path):
    run = classifier_run("rnn")
    with pytest.raises(ValueError, match="not available for recurrent"):
        export_classifier_tflite(run, str(tmp_path), quantizations=["int8"],
                                 representative_texts=["a good film"])
    paths = export_classifier_tflite(run, str(tmp_path),
                                     quantizations=["float32"],
                                     text_model=False)
    assert ops_of(paths["float32"]) <= _builtin_names()
    texts, _ = sentiment_texts(8, seed=3)
    expected, ids = keras_probabilities(run, texts)
    np.testing.assert_allclose(TFLiteClassifier(paths["float32"]).predict(ids),
                               expected, atol=1e-4)


def test_bigram_classifier_exports_with_builtin_ops(classifier_run, tmp_path):
    # The bigram hash (multiply, floor-mod, select on int32) must not pull
    # in Flex ops, also under full-integer quantization.
    run = classifier_run("transformer_bigrams")
    train_texts, _ = sentiment_texts(256)
    paths = export_classifier_tflite(
        run, str(tmp_path), quantizations=["float32", "int8"],
        representative_texts=train_texts[:64], batch_size=4,
        text_model=False)
    texts, _ = sentiment_texts(16, seed=5)
    expected, ids = keras_probabilities(run, texts)
    for name, tolerance in (("float32", 1e-4), ("int8", 0.1)):
        assert ops_of(paths[name]) <= _builtin_names(), name
        got = TFLiteClassifier(paths[name]).predict(ids)
        assert np.abs(got - expected).max() < tolerance, name
    assert "FLOOR_MOD" in ops_of(paths["float32"])


def test_bad_arguments(classifier_run, tmp_path):
    run = classifier_run("transformer")
    with pytest.raises(ValueError, match="quantizations"):
        export_classifier_tflite(run, str(tmp_path), quantizations=["int4"])
    with pytest.raises(ValueError, match="representative_texts"):
        export_classifier_tflite(run, str(tmp_path), quantizations=["int8"])
    with pytest.raises(ValueError, match="batch_size"):
        export_classifier_tflite(run, str(tmp_path), batch_size=0)


def test_keras_int8_classifier_is_refused_before_anything_is_written(
        classifier_run, tmp_path):
    from keras_attnpred.export import export_run

    quantized = quantized_copy(classifier_run("transformer"), tmp_path)
    out = tmp_path / "mobile"
    with pytest.raises(ValueError, match=r"rejects layers that `Model.quantize`"
                       r" made int8 or float8.* such layers: .*\(int8\)"):
        export_classifier_tflite(quantized, str(out))
    assert not out.exists()
    base = tmp_path / "exports"
    with pytest.raises(ValueError, match="format='saved_model'"):
        export_run(quantized, str(base))  # SavedModel and TFLite
    assert not base.exists() or not any(base.iterdir())
    written = export_run(quantized, str(base), format="saved_model")
    assert os.listdir(written["saved_model"])


def test_keras_int4_classifier_converts_with_keras_outputs(classifier_run,
                                                           tmp_path):
    run = classifier_run("transformer")
    quantized = quantized_copy(run, tmp_path, mode="int4")
    paths = export_classifier_tflite(quantized, str(tmp_path / "mobile"),
                                     quantizations=["float32"],
                                     text_model=False)
    texts, _ = sentiment_texts(6, seed=7)
    expected, ids = keras_probabilities(quantized, texts)
    float_expected, _ = keras_probabilities(run, texts)
    assert not np.allclose(expected, float_expected, atol=1e-7)  # int4
    got = TFLiteClassifier(paths["float32"]).predict(ids)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def _builtin_names():
    from ai_edge_litert import schema_py_generated as schema

    return {n for n in vars(schema.BuiltinOperator) if not n.startswith("_")}


def _has_int8_fully_connected(content):
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(content, 0)
    graph = model.Subgraphs(0)
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) in (
            schema.BuiltinOperator.FULLY_CONNECTED,
            schema.BuiltinOperator.BATCH_MATMUL,
        ):
            tensor = graph.Tensors(op.Inputs(1))
            if tensor.Type() == schema.TensorType.INT8:
                return True
    return False


def test_a_head_and_tail_classifier_reads_its_opening_and_its_end(
        head_and_tail_run, tmp_path):
    run = head_and_tail_run
    expected, whole_ids = head_and_tail_probabilities(run, LONG_TEXTS)
    train_texts, _ = sentiment_texts(64)
    paths = export_classifier_tflite(
        run, str(tmp_path), quantizations=["float32"], batch_size=2,
        representative_texts=train_texts)
    np.testing.assert_allclose(
        TFLiteClassifier(paths["float32"]).predict(whole_ids), expected,
        atol=1e-4)
    np.testing.assert_allclose(
        TFLiteClassifier(paths["text"]).predict(LONG_TEXTS), expected,
        atol=1e-4)
