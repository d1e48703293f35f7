import os

import pytest

from keras_attnpred import cli
from keras_attnpred.training import train
from tests.training.tiny_data import write_sentiment_csv


def test_export_needs_a_run_directory(tmp_path, capsys):
    status = cli.main(["export", str(tmp_path), "--out", str(tmp_path / "x")])
    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is not a run directory" in error


def test_export_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    text = capsys.readouterr().out
    for flag in ("--out", "--format", "--version", "--batch-size",
                 "--quantizations"):
        assert flag in text


@pytest.mark.slow  # trains a small run and exports it: ~40 s
def test_export_writes_both_formats_and_refuses_existing(tmp_path, capsys):
    path = write_sentiment_csv(str(tmp_path / "reviews.csv"), 120)
    run_dir = str(tmp_path / "run")
    train({"task": "sentiment", "train_path": path, "epochs": 1,
           "preset": "tiny", "vocabulary_size": 80, "max_length": 12,
           "batch_size": 16}, run_dir, verbose=0)
    base = str(tmp_path / "serving" / "reviews")
    assert cli.main(["export", run_dir, "--out", base]) == 0
    out = capsys.readouterr().out
    assert f"saved_model\t{os.path.join(base, '1')}" in out
    assert "weights\tbest epoch, 1 (val_loss " in out
    tflite = os.path.join(base, "tflite", "1")
    assert sorted(os.listdir(tflite)) == sorted([
        "classifier.json", "classifier_float32.tflite",
        "classifier_float16.tflite", "classifier_dynamic_int8.tflite",
        "classifier_int8.tflite", "classifier_text.tflite"])
    assert cli.main(["export", run_dir, "--out", base, "--format",
                     "saved_model", "--weights", "last"]) == 0
    assert "weights\tlast epoch, 1" in capsys.readouterr().out
    assert os.path.isdir(os.path.join(base, "2"))
    status = cli.main(["export", run_dir, "--out", base, "--version", "2",
                       "--format", "saved_model"])
    assert status == 2
    assert "Version 2 exists already" in capsys.readouterr().err
    assert sorted(os.listdir(base)) == ["1", "2", "tflite"]


LEGACY_RUNS = os.path.join(
    os.path.dirname(__file__), "..", "fixtures", "legacy_runs"
)


@pytest.mark.parametrize(
    "run, quantizations, named",
    [
        ("transformer_translator", ["int8"], "not available for translators"),
        ("transformer_translator", ["int4"], "must hold names among"),
        ("transformer_classifier", ["float32", "int4"], "must hold names among"),
    ],
)
def test_export_refuses_quantizations_the_model_lacks(
    tmp_path, capsys, run, quantizations, named
):
    base = tmp_path / "serving"
    status = cli.main(["export", os.path.join(LEGACY_RUNS, run), "--out",
                       str(base), "--quantizations", *quantizations])
    assert status == 2
    error = capsys.readouterr().err
    assert named in error and f"quantizations={quantizations!r}" in error
    assert not base.exists()


@pytest.mark.slow  # converts a translator to TFLite: ~15 s
def test_export_writes_only_the_quantizations_asked(tmp_path, capsys):
    base = str(tmp_path / "serving")
    run = os.path.join(LEGACY_RUNS, "transformer_translator")
    assert cli.main(["export", run, "--out", base, "--format", "tflite",
                     "--quantizations", "dynamic_int8"]) == 0
    folder = os.path.join(base, "tflite", "1")
    assert sorted(f for f in os.listdir(folder) if f.endswith(".tflite")) == [
        "decoder_step_dynamic_int8.tflite", "encoder_dynamic_int8.tflite"]
    assert not os.path.exists(os.path.join(base, "1"))
