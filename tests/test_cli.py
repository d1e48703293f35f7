"""The `attnpred` command: help, one-line errors, and a whole train/use cycle."""

import argparse
import io
import json
import os
import subprocess
import sys
import time
import warnings

import keras
import numpy as np
import pytest

from keras_attnpred import cli
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv


def run_cli(*args, cwd=None, input=None):
    # Without the TF_CPP_MIN_LOG_LEVEL that importing TensorFlow here set:
    # the command decides, as it does for a user.
    env = {key: value for key, value in os.environ.items()
           if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-m", "keras_attnpred.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env=env,
        input=input,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Small trained runs of `train` (in this process: quicker than the
    command): `{"classification": dir, "translation": dir, "reviews":
    csv, "pairs": tsv}`."""
    from keras_attnpred.training import train

    root = tmp_path_factory.mktemp("cli_runs")
    reviews = write_sentiment_csv(str(root / "reviews.csv"), 240)
    pairs = write_translation_tsv(str(root / "pairs.tsv"), 200)
    common = {"preset": "tiny", "vocabulary_size": 120, "max_length": 16,
              "batch_size": 16, "learning_rate": 0.01}
    train({"task": "sentiment", "model": "rnn", "train_path": reviews,
           "epochs": 3, **common}, str(root / "classification"), verbose=0)
    train({"task": "translation", "train_path": pairs, "epochs": 1,
           **common}, str(root / "translation"), verbose=0)
    return {"classification": str(root / "classification"),
            "translation": str(root / "translation"),
            "reviews": reviews, "pairs": pairs}


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


@pytest.mark.parametrize("command, task", [("train", "sentiment"),
                                           ("pretrain", "pretraining")])
def test_no_flash_attention_reaches_the_config(tmp_path, command, task):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"task": task, "train_path": "a.csv"}))
    parser = cli.build_parser()
    args = ["--config", str(config), "--out", "x"]
    switched = parser.parse_args([command, *args, "--no-flash-attention"])
    assert cli._training_config(switched).flash_attention is False
    unswitched = parser.parse_args([command, *args])
    assert cli._training_config(unswitched).flash_attention is True


def test_classification_train_evaluate_predict(tmp_path, capsys):
    data = write_sentiment_csv(str(tmp_path / "reviews.csv"), 320)
    run = str(tmp_path / "run")
    result = run_cli(
        "train", "--task", "sentiment", "--model", "rnn", "--preset", "tiny",
        "--data", data, "--epochs", "4", "--batch-size", "32",
        "--max-length", "16", "--vocabulary-size", "200", "--out", run,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert os.path.exists(os.path.join(run, "model.keras"))

    # Its own process: nothing but the report on standard output.
    result = run_cli("evaluate", run, "--data", data)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["accuracy"] > 0.9

    # Here (a process of its own costs a TensorFlow start):
    # test_commands_are_quiet_unless_verbose runs `predict` as a command.
    capsys.readouterr()
    assert cli.main(["predict", run, "a wonderful film", "an awful film"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("positive\t") and lines[1].startswith("negative\t")


def test_translation_predict_prints_one_line_per_text(tmp_path, capsys):
    data = write_translation_tsv(str(tmp_path / "pairs.tsv"), 200)
    run = str(tmp_path / "run")
    # In this process: each command of its own would start TensorFlow
    # again (test_classification_train_evaluate_predict trains as one).
    assert cli.main([
        "train", "--task", "translation", "--preset", "tiny", "--data", data,
        "--epochs", "1", "--max-length", "12", "--vocabulary-size", "100",
        "--out", run,
    ]) == 0, capsys.readouterr().err[-2000:]
    capsys.readouterr()
    assert cli.main(["predict", run, "the cat eats", "the dog runs"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["the cat eats", "the dog runs"]
    assert cli.main([
        "predict", run, "--beam-width", "3", "--length-penalty", "0.6",
        "the cat eats", "the dog runs",
    ]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["the cat eats", "the dog runs"]
    result = run_cli("predict", run, "--beam-width", "0", "the cat eats")
    assert result.returncode == 2
    # One line: TensorFlow's start-up lines are hidden.
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("attnpred predict: error:") and "beam_width=0" in line


def test_help_version_and_flag_errors_load_no_framework():
    """`--help`, `--version`, a bad flag, a bad setting and a folder that
    is no run are answered without Keras, TensorFlow or JAX (a new
    process: this one has them loaded)."""
    code = (
        "import contextlib, io, sys\n"
        "from keras_attnpred import cli\n"
        "for argv in (['--help'], ['--version'], ['train', '--help'],\n"
        "             ['predict', '--help'], ['predict', '--no-such-flag'],\n"
        "             ['train', '--task', 'sentiment', '--data', 'a.csv',\n"
        "              '--epochs', '0', '--out', 'x'],\n"
        "             ['predict', 'nowhere', 'a text'],\n"
        "             ['evaluate', 'nowhere', '--data', 'a.csv']):\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out), "
        "contextlib.redirect_stderr(out):\n"
        "        try:\n"
        "            cli.main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax')\n"
        "             if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_version_answers_at_once():
    from keras_attnpred.version import __version__

    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = run_cli("--version")
        times.append(time.perf_counter() - start)
        assert result.returncode == 0 and result.stderr == ""
        assert result.stdout.strip() == f"attnpred {__version__}"
    # About 0.3 s here; importing TensorFlow alone takes over 4 s.
    assert min(times) < 2.0, times


def test_commands_are_quiet_unless_verbose(runs):
    """No TensorFlow/absl start-up lines and no warnings: stderr stays
    empty; `--verbose` lets TensorFlow's lines through."""
    # One text of one token: attention over one position warned once.
    result = run_cli("predict", runs["classification"], "great")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""
    assert result.stdout.startswith(("positive\t", "negative\t"))
    if keras.backend.backend() == "tensorflow":
        result = run_cli("predict", runs["classification"], "great",
                         "--verbose")
        assert result.returncode == 0 and result.stderr.strip()


@pytest.mark.parametrize("command", [
    ["predict", "{classification}", "great"],
    ["predict", "{translation}", "cat"],
    ["explain", "{classification}", "great", "--out", "{tmp}/x.html"],
    ["explain", "{translation}", "the cat", "--out", "{tmp}/y.png"],
])
def test_package_calls_raise_no_warnings(command, runs, tmp_path, capsys):
    argv = [part.format(tmp=tmp_path, **runs) for part in command]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(argv) == 0, capsys.readouterr().err
    assert [str(w.message) for w in caught] == []


def _subcommands(parser):
    [subparsers] = [action for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction)]
    return subparsers.choices


def test_help_shows_every_default_and_what_depends_on_the_data():
    """Every option that takes a value says its default (or that it is
    required); `train --help` marks the defaults fitted to the data."""
    parser = cli.build_parser()
    missing = []
    for name, command in _subcommands(parser).items():
        for action in command._actions:
            if not action.option_strings or action.nargs == 0:
                continue  # positional, or a switch (off unless given)
            if isinstance(action, argparse.BooleanOptionalAction):
                continue
            text = action.help or ""
            if "default" not in text and "required" not in text:
                missing.append(f"{name} {action.option_strings[0]}")
    assert not missing, missing
    train = _subcommands(parser)["train"]
    helps = {action.dest: action.help for action in train._actions}
    for field in ("max_length", "label_names"):
        assert "from the data" in helps[field], field
    assert "from the data" in train.description
    assert "(default: 64)" in helps["batch_size"]
    assert "(default: 10)" in helps["epochs"]
    assert "(default: small)" in helps["preset"]


def _stdin(monkeypatch, text):
    monkeypatch.setattr(sys, "stdin",
                        io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))


def _rows(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").rsplit(",", 1) for line in f][1:]


def test_evaluate_takes_columns_delimiter_and_label_names(runs, tmp_path,
                                                          capsys):
    """A test file with its own column names, `;` delimiter and class
    names scores as the same data in the run's own format."""
    rows = _rows(runs["reviews"])[:60]
    ours = tmp_path / "ours.csv"
    ours.write_text("review;stars\n" + "".join(
        f'"{text}";{["bad", "good"][int(label)]}\n' for text, label in rows))
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("text,label\n" + "".join(
        f"{text},{label}\n" for text, label in rows))

    assert cli.main(["evaluate", runs["classification"], "--data",
                     str(theirs)]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert cli.main(["evaluate", runs["classification"], "--data", str(ours),
                     "--text-column", "review", "--label-column", "stars",
                     "--label-names", "bad,good"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == expected["accuracy"]
    np.testing.assert_allclose(report["loss"], expected["loss"], rtol=1e-6)
    # The delimiter given, and columns by index.
    assert cli.main(["evaluate", runs["classification"], "--data", str(ours),
                     "--delimiter", ";", "--text-column", "0",
                     "--label-column", "1", "--label-names", "bad,good"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == (
        expected["accuracy"])
    # Without the options: one line naming what is missing.
    assert cli.main(["evaluate", runs["classification"], "--data",
                     str(ours)]) == 2
    assert "no column named 'text'" in capsys.readouterr().err
    assert cli.main(["evaluate", runs["classification"], "--data", str(ours),
                     "--text-column", "review", "--label-column", "stars",
                     "--label-names", "bad"]) == 2
    assert "--label-names must name the run's 2 classes" in (
        capsys.readouterr().err)
    assert cli.main(["evaluate", runs["translation"], "--data",
                     runs["pairs"], "--text-column", "x"]) == 2
    assert "apply to classification runs" in capsys.readouterr().err


def test_predict_reads_standard_input_files_and_columns(runs, tmp_path,
                                                        capsys, monkeypatch):
    from keras_attnpred.training import TrainingRun

    texts = ["a great film", "the plot was awful", "", "lovely music"]
    expected = TrainingRun.load(runs["classification"]).predict(texts)
    labels = [p["label_name"] for p in expected]

    _stdin(monkeypatch, "\n".join(texts) + "\n")
    assert cli.main(["predict", runs["classification"], "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == labels
    assert [line.split("\t", 2)[2] for line in lines] == texts

    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n")
    assert cli.main(["predict", runs["classification"], "--input", str(path),
                     "--format", "jsonl"]) == 0
    records = [json.loads(line)
               for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == texts
    assert [r["label"] for r in records] == labels
    for record, prediction in zip(records, expected):
        np.testing.assert_allclose(
            [record["probabilities"][name] for name in ("negative",
                                                        "positive")],
            prediction["probabilities"], atol=1e-6)
        assert record["probability"] == max(record["probabilities"].values())

    # A CSV column: by --text-column (here `;`-delimited), or the run's
    # column of a .csv file.
    table = tmp_path / "table.csv"
    table.write_text("id;review\n" + "".join(
        f'{i};"{text}"\n' for i, text in enumerate(texts)))
    assert cli.main(["predict", runs["classification"], "--input", str(table),
                     "--text-column", "review", "--format", "csv",
                     "--label-names", "neg,pos"]) == 0
    import csv

    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["text", "label", "probability"]
    assert [row[0] for row in rows[1:]] == texts
    assert [row[1] for row in rows[1:]] == [
        {"negative": "neg", "positive": "pos"}[label] for label in labels]
    plain = tmp_path / "plain.csv"
    plain.write_text("text\n" + "\n".join(texts[:2]) + "\n")
    assert cli.main(["predict", runs["classification"], "--input",
                     str(plain)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2

    # A translator reads standard input too.
    _stdin(monkeypatch, "the cat eats\nthe dog runs\n")
    assert cli.main(["predict", runs["translation"], "-", "--format",
                     "jsonl"]) == 0
    records = [json.loads(line)
               for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == ["the cat eats", "the dog runs"]
    assert all(isinstance(r["translation"], str) for r in records)

    assert cli.main(["predict", runs["classification"]]) == 2
    assert "give texts, - to read them" in capsys.readouterr().err
    assert cli.main(["predict", runs["classification"], "a", "--input",
                     str(path)]) == 2
    assert "not both" in capsys.readouterr().err


def test_predict_batches_long_inputs_with_a_progress_bar(runs, tmp_path,
                                                         capsys):
    from keras_attnpred.training import TrainingRun

    texts = [f"the film was {'great' if i % 3 else 'dull'} number {i}"
             for i in range(300)]
    path = tmp_path / "long.txt"
    path.write_text("\n".join(texts) + "\n")
    assert cli.main(["predict", runs["classification"], "--input", str(path),
                     "--batch-size", "8"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    expected = TrainingRun.load(runs["classification"]).predict(texts)
    assert [line.split("\t")[0] for line in lines] == [
        p["label_name"] for p in expected]
    # On stderr: 8 x 16 texts at a time, 300 in all.
    updates = captured.err.split("\r")[1:]
    assert len(updates) == 3 and updates[-1].strip().endswith(
        "300/300 texts")
    assert "128/300" in updates[0]
    # A short input shows no bar.
    assert cli.main(["predict", runs["classification"], "great"]) == 0
    assert capsys.readouterr().err == ""


def test_train_refuses_a_finished_run_without_overwrite(runs, tmp_path,
                                                        capsys):
    import shutil

    out = str(tmp_path / "run")
    shutil.copytree(runs["classification"], out)
    argv = ["train", "--task", "sentiment", "--model", "rnn", "--preset",
            "tiny", "--data", runs["reviews"], "--epochs", "1",
            "--max-length", "16", "--vocabulary-size", "120", "--out", out]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "holds a finished run" in err and "--overwrite" in err
    assert cli.main(argv + ["--overwrite"]) == 0
    out = capsys.readouterr().out
    metrics = out[out.index("run written to"):].split("\n", 1)[1]
    assert json.loads(metrics)["epochs_completed"] == 1


def test_evaluate_and_predict_say_which_weights(runs, capsys):
    with open(os.path.join(runs["classification"], "metrics.json")) as f:
        kept = json.load(f)["weights"]
    assert kept["kept"] == "best" and kept["last_epoch"] == 3
    assert cli.main(["evaluate", runs["classification"], "--data",
                     runs["reviews"]]) == 0
    assert json.loads(capsys.readouterr().out)["weights"] == kept
    assert cli.main(["evaluate", runs["classification"], "--data",
                     runs["reviews"], "--weights", "last"]) == 0
    assert json.loads(capsys.readouterr().out)["weights"] == {
        "kept": "last", "epoch": 3}
    assert cli.main(["predict", runs["classification"], "great",
                     "--weights", "last", "--verbose"]) == 0
    assert capsys.readouterr().err == (
        "attnpred predict: model: last epoch, 3\n")
    assert cli.main(["predict", runs["translation"], "the cat",
                     "--verbose"]) == 0
    assert capsys.readouterr().err.startswith(
        "attnpred predict: model: best epoch, 1 (val_loss ")


def test_evaluate_reports_metrics_beyond_accuracy(runs, tmp_path, capsys):
    plots = tmp_path / "plots"
    assert cli.main(["evaluate", runs["classification"], "--data",
                     runs["reviews"], "--plots", str(plots)]) == 0
    report = json.loads(capsys.readouterr().out)
    labels = [label for _, label in _rows(runs["reviews"])]
    matrix = report["confusion_matrix"]["matrix"]
    assert report["confusion_matrix"]["labels"] == ["negative", "positive"]
    # Rows are the true classes: they count the file's labels.
    assert [sum(row) for row in matrix] == [labels.count("0"),
                                            labels.count("1")]
    correct = matrix[0][0] + matrix[1][1]
    assert report["accuracy"] == pytest.approx(correct / len(labels),
                                               abs=1e-6)
    f1s = []
    for k, name in enumerate(["negative", "positive"]):
        predicted = matrix[0][k] + matrix[1][k]
        precision = matrix[k][k] / predicted if predicted else 0.0
        recall = matrix[k][k] / sum(matrix[k])
        f1 = (2 * precision * recall / (precision + recall)
              if precision + recall else 0.0)
        f1s.append(f1)
        assert report["per_class"][name] == pytest.approx(
            {"precision": precision, "recall": recall, "f1": f1,
             "support": sum(matrix[k])})
    assert report["macro_f1"] == pytest.approx(sum(f1s) / 2)
    assert report["plots"] == [str(plots / "confusion_matrix.png")]
    assert (plots / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"

    assert cli.main(["evaluate", runs["translation"], "--data",
                     runs["pairs"], "--max-examples", "40"]) == 0
    report = json.loads(capsys.readouterr().out)
    with open(runs["pairs"], encoding="utf-8") as f:
        references = [line.rstrip("\n").split("\t")[1] for line in f][:40]
    assert report["reference_length"] == sum(len(r.split())
                                             for r in references)
    assert report["length_ratio"] == pytest.approx(
        report["hypothesis_length"] / report["reference_length"])
    assert set(report["bleu_bootstrap"]) == {"mean", "ci95", "resamples",
                                             "seed"}
    assert report["bleu_bootstrap"]["ci95"] >= 0
    assert cli.main(["evaluate", runs["translation"], "--data",
                     runs["pairs"], "--plots", str(plots)]) == 2
    assert "apply to classification runs" in capsys.readouterr().err
