"""The `attnpred` command: help, one-line errors, and a whole train/use cycle."""

import json
import os
import subprocess
import sys

import pytest

from keras_attnpred import cli
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "keras_attnpred.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_help_lists_every_command_and_training_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "predict", "demo"):
        assert command in out
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--config", "--data", "--out", "--epochs", "--strategy",
                 "--tokenizer", "sentencepiece", "tfds:NAME[:SPLIT]"):
        assert flag in out
    for command in ("evaluate", "predict"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert "--beam-width" in out and "--length-penalty" in out


def test_errors_are_one_line_naming_the_problem(tmp_path, capsys):
    assert cli.main(["predict", str(tmp_path / "nowhere"), "hello"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "nowhere is not a run directory" in err

    code = cli.main(
        ["train", "--task", "translation", "--data", "a", "b", "c", "--out", "x"]
    )
    assert code == 2
    assert "got 3" in capsys.readouterr().err

    bad = tmp_path / "bad.yaml"
    bad.write_text("task: classification\ntrain_path: x.csv\nepochs: 0\n")
    assert cli.main(["train", "--config", str(bad), "--out", "x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "epochs" in err


def test_missing_optional_packages_are_one_line_errors(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    code = cli.main(["train", "--task", "sentiment", "--data",
                     "tfds:imdb_reviews", "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install tensorflow-datasets" in err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--task", "sentiment", "--data", "a.csv",
                  "--tokenizer", "bpe", "--out", "x"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'bpe'" in capsys.readouterr().err


def test_flags_override_the_config_file(tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"task": "classification", "train_path": "a.csv",
                                  "epochs": 3, "label_column": "y"}))
    args = cli.build_parser().parse_args(
        ["train", "--config", str(config), "--epochs", "5", "--out", "x",
         "--text-column", "0"]
    )
    values = cli._training_config(args).to_dict()
    assert values["epochs"] == 5
    assert values["label_column"] == "y"
    assert values["text_column"] == 0


def test_classification_train_evaluate_predict(tmp_path):
    data = write_sentiment_csv(str(tmp_path / "reviews.csv"), 320)
    run = str(tmp_path / "run")
    result = run_cli(
        "train", "--task", "sentiment", "--model", "rnn", "--preset", "tiny",
        "--data", data, "--epochs", "4", "--batch-size", "32",
        "--max-length", "16", "--vocabulary-size", "200", "--out", run,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert os.path.exists(os.path.join(run, "model.keras"))

    result = run_cli("evaluate", run, "--data", data)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["accuracy"] > 0.9

    result = run_cli("predict", run, "a wonderful film", "an awful film")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("positive\t") and lines[1].startswith("negative\t")


def test_translation_predict_prints_one_line_per_text(tmp_path):
    data = write_translation_tsv(str(tmp_path / "pairs.tsv"), 200)
    run = str(tmp_path / "run")
    result = run_cli(
        "train", "--task", "translation", "--preset", "tiny", "--data", data,
        "--epochs", "1", "--max-length", "12", "--vocabulary-size", "100",
        "--out", run,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    result = run_cli("predict", run, "the cat eats", "the dog runs")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["the cat eats", "the dog runs"]
    result = run_cli(
        "predict", run, "--beam-width", "3", "--length-penalty", "0.6",
        "the cat eats", "the dog runs",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["the cat eats", "the dog runs"]
    result = run_cli("predict", run, "--beam-width", "0", "the cat eats")
    assert result.returncode == 2
    # The last line (TensorFlow's start-up chatter may come before it).
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("attnpred predict: error:") and "beam_width=0" in last
