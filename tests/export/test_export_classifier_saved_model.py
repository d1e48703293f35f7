import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.export import export_classifier_saved_model
from tests.export.conftest import MAX_LENGTH
from tests.export.conftest import head_and_tail_probabilities
from tests.export.conftest import quantized_copy

HERE = os.path.dirname(__file__)
README = os.path.join(HERE, "..", "..", "README.md")
TEXTS = [
    "The acting was GREAT, really superb!",
    "A boring film. The plot was dull",
    "Wonderful music, awful story",
    "",  # no tokens at all
    "great " * 40,  # longer than max_length: cut like in training
]


def keras_probabilities(run, texts):
    """What the Keras model says, with the tokenizer of training."""
    rows = [row[:MAX_LENGTH] for row in run.tokenizer.tokenize(texts).to_list()]
    ids = np.zeros((len(rows), max(1, max(map(len, rows)))), "int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    logits = run.model.predict(ids, verbose=0)
    return tf.nn.softmax(logits).numpy(), ids


def readme_requests():
    """The REST request bodies of the README's export section."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Export for TF Serving and TFLite", 1)[1]
    section = section.split("\n## ", 1)[0]
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", section,
                                               flags=re.DOTALL)]


def run_client(export_dir, bodies, tmp_path):
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(bodies), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "serving_client.py"), export_dir,
         str(path)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = [
        text for text in result.stdout.splitlines()
        if text.startswith("RESPONSES")
    ]
    return json.loads(line[-1][len("RESPONSES "):])


def test_layout_and_signatures(classifier_export):
    run, base, path = classifier_export
    assert path == os.path.join(base, "1")
    # Only the finished version is visible: no temporary folder left.
    assert os.listdir(base) == ["1"]
    for name in ("saved_model.pb", "variables",
                 "assets.extra/tf_serving_warmup_requests"):
        assert os.path.exists(os.path.join(path, name)), name
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {
        "serving_default", "serving_token_ids", "serving_with_attention"}


def test_signatures_match_keras(classifier_export):
    run, _, path = classifier_export
    expected, ids = keras_probabilities(run, TEXTS)
    signatures = tf.saved_model.load(path).signatures
    out = signatures["serving_default"](text=tf.constant(TEXTS))
    np.testing.assert_allclose(out["probabilities"], expected, atol=1e-5)
    np.testing.assert_array_equal(out["label"], expected.argmax(-1))
    assert [s.decode() for s in out["label_name"].numpy()] == [
        run.label_names[i] for i in expected.argmax(-1)]
    # The model learned something: the labels are not all alike.
    assert len(set(expected.argmax(-1)[:3])) == 2

    by_ids = signatures["serving_token_ids"](token_ids=tf.constant(ids))
    np.testing.assert_allclose(by_ids["probabilities"], expected, atol=1e-5)

    explained = signatures["serving_with_attention"](text=tf.constant(TEXTS))
    np.testing.assert_allclose(explained["probabilities"], expected,
                               atol=1e-5)
    np.testing.assert_array_equal(explained["token_ids"], ids)
    weights = explained["attention"].numpy()
    assert weights.shape == ids.shape
    np.testing.assert_array_equal(weights[ids == 0], 0.0)
    np.testing.assert_allclose(weights[:3].sum(-1), 1.0, atol=1e-5)
    tokens = explained["tokens"].numpy()
    assert tokens[0, 0].decode() == "the"  # lowercased as in training
    assert tokens[1, -1].decode() == "[PAD]"


def test_bigram_classifier_serves_raw_text(classifier_run, tmp_path):
    run = classifier_run("transformer_bigrams")
    path = export_classifier_saved_model(run, str(tmp_path / "bigrams"))
    expected, _ = keras_probabilities(run, TEXTS)
    out = tf.saved_model.load(path).signatures["serving_default"](
        text=tf.constant(TEXTS))
    np.testing.assert_allclose(out["probabilities"], expected, atol=1e-5)


def test_int8_quantized_classifier_serves_raw_text(classifier_run, tmp_path):
    run = classifier_run("transformer")
    quantized = quantized_copy(run, tmp_path)
    expected, _ = keras_probabilities(quantized, TEXTS)
    path = export_classifier_saved_model(quantized, str(tmp_path / "int8"))
    out = tf.saved_model.load(path).signatures["serving_default"](
        text=tf.constant(TEXTS))
    np.testing.assert_allclose(out["probabilities"], expected, atol=1e-5)
    # int8 weights, not the float ones: the probabilities moved a little.
    float_probabilities, _ = keras_probabilities(run, TEXTS)
    assert not np.allclose(expected, float_probabilities, atol=1e-7)
    np.testing.assert_allclose(expected, float_probabilities, atol=0.05)


def test_fresh_process_and_readme_rest_requests(classifier_export, tmp_path):
    """The README's REST bodies, in a process without keras_attnpred."""
    run, _, path = classifier_export
    bodies = readme_requests()
    classifier_bodies = [b for b in bodies
                         if b.get("signature_name") != "translate"]
    assert {"instances", "inputs"} <= {k for b in classifier_bodies for k in b}
    responses = run_client(path, classifier_bodies + [
        {"instances": TEXTS},
        {"signature_name": "serving_with_attention",
         "inputs": {"text": TEXTS}},
    ], tmp_path)
    expected, ids = keras_probabilities(run, TEXTS)
    rows = responses[-2]["predictions"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], expected,
                               atol=1e-5)
    assert [r["label_name"] for r in rows] == [
        run.label_names[i] for i in expected.argmax(-1)]
    columns = responses[-1]["outputs"]
    np.testing.assert_allclose(columns["probabilities"], expected, atol=1e-5)
    np.testing.assert_array_equal(columns["token_ids"], ids)
    for body, response in zip(classifier_bodies, responses):
        key = "predictions" if "instances" in body else "outputs"
        assert set(response) == {key}
    # The README's text example, compared with Keras.
    text_body = next(b for b in classifier_bodies if "instances" in b)
    expected, _ = keras_probabilities(run, text_body["instances"])
    np.testing.assert_allclose(
        [r["probabilities"] for r in responses[0]["predictions"]], expected,
        atol=1e-5)


def test_warmup_requests_parse_back(classifier_export):
    from tensorflow_serving.apis import prediction_log_pb2

    run, base, path = classifier_export
    records = tf.data.TFRecordDataset(
        os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy())
            for r in records]
    requests = [log.predict_log.request for log in logs]
    assert {r.model_spec.signature_name for r in requests} == {
        "serving_default", "serving_token_ids", "serving_with_attention"}
    assert {r.model_spec.name for r in requests} == {"sentiment"}
    signatures = tf.saved_model.load(path).signatures
    for request in requests:
        inputs = {name: tf.make_ndarray(proto)
                  for name, proto in request.inputs.items()}
        # Every warmup request is a valid call of its signature.
        out = signatures[request.model_spec.signature_name](
            **{k: tf.constant(v) for k, v in inputs.items()})
        assert out["probabilities"].shape[0] == len(next(iter(inputs.values())))


@pytest.mark.slow  # two more TensorFlow processes: ~30 s
def test_saved_model_cli_lists_and_runs(classifier_export, tmp_path):
    _, _, path = classifier_export
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    shown = subprocess.run(
        [cli, "show", "--dir", path, "--all"], capture_output=True,
        text=True, timeout=600, env=env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    for name in ("serving_default", "serving_token_ids",
                 "serving_with_attention"):
        assert f"signature_def['{name}']" in shown.stdout
    assert "inputs['text'] tensor_info:\n        dtype: DT_STRING" in (
        shown.stdout)
    # `run` loads the graph, so the tokenizer's ops must be registered:
    # the same saved_model_cli, with tensorflow_text imported first.
    code = (
        "import sys, tensorflow_text;"
        "from tensorflow.python.tools import saved_model_cli;"
        "sys.argv = ['saved_model_cli'] + sys.argv[1:];"
        "saved_model_cli.main()"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code, "run", "--dir", path, "--tag_set",
         "serve", "--signature_def", "serving_default", "--input_exprs",
         "text=['A great film!', 'Dull and boring.']"],
        capture_output=True, text=True, timeout=600, env=env)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "Result for output key label_name:" in ran.stdout
    assert re.search(r"\[b'(positive|negative)' b'(positive|negative)'\]",
                     ran.stdout)


def test_versions_never_overwritten(classifier_run, tmp_path):
    run = classifier_run("transformer")
    base = str(tmp_path / "model")
    os.makedirs(os.path.join(base, "3"))
    with pytest.raises(ValueError, match="Version 3 exists already"):
        export_classifier_saved_model(run, base, version=3)
    assert os.listdir(base) == ["3"]  # nothing half-written left behind
    with pytest.raises(ValueError, match="warmup_texts"):
        export_classifier_saved_model(run, base, warmup_texts=[])


def test_failed_export_leaves_no_version(classifier_run, tmp_path,
                                         monkeypatch):
    from keras_attnpred.export import _export_utils

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(_export_utils, "write_warmup_requests", broken)
    base = str(tmp_path / "model")
    with pytest.raises(OSError, match="disk full"):
        export_classifier_saved_model(classifier_run("transformer"), base)
    assert os.listdir(base) == []


# A long text whose opening and end differ: the cut decides the answer.
LONG_TEXTS = ["great superb " + "dull boring " * 20 + "wonderful",
              "a dull film"]


def test_a_head_and_tail_classifier_serves_its_opening_and_its_end(
        head_and_tail_run, tmp_path):
    run = head_and_tail_run
    expected, whole_ids = head_and_tail_probabilities(run, LONG_TEXTS)
    opening_only, _ = keras_probabilities(run, LONG_TEXTS)
    assert np.abs(opening_only[0] - expected[0]).max() > 1e-4
    served = tf.saved_model.load(
        export_classifier_saved_model(run, str(tmp_path / "serving"))
    ).signatures
    np.testing.assert_allclose(
        served["serving_default"](text=tf.constant(LONG_TEXTS))[
            "probabilities"], expected, atol=1e-5)
    # Token ids past max_length are cut the same way.
    np.testing.assert_allclose(
        served["serving_token_ids"](token_ids=tf.constant(whole_ids))[
            "probabilities"], expected, atol=1e-5)
