"""`tune`: KerasTuner's trials as runs of `train`, resumable, reported, and
spread over a chief and workers."""

import json
import os
import socket
import subprocess
import sys

import keras
import pytest

from keras_attnpred import cli
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training import TrainingRun
from keras_attnpred.training import prepare
from keras_attnpred.training import train
from keras_attnpred.training import tune
from keras_attnpred.training._attnpred_tuner import make_oracle
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv

pytest.importorskip("keras_tuner")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
WITHOUT_TENSORFLOW = os.path.join(
    ROOT, "tests", "training", "without_tensorflow.py"
)
BASE = {"task": "sentiment", "model": "rnn", "preset": "tiny",
        "max_length": 16, "batch_size": 16, "epochs": 2,
        "learning_rate": 0.01}
SPACE = {
    "model": ["rnn", "transformer"],
    "learning_rate": {"min": 1e-3, "max": 3e-2, "log": True},
    "units": {"choices": [8, 16], "when": {"model": "rnn"}},
}


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """A prepared folder of 120 labelled reviews."""
    root = tmp_path_factory.mktemp("tune_data")
    data = write_sentiment_csv(str(root / "reviews.csv"), 120)
    folder = str(root / "prepared")
    prepare({**BASE, "train_path": data, "vocabulary_size": 100}, folder)
    return folder


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_each_trial_is_a_run_with_its_values_and_the_best_trains_again(
    reviews, tmp_path
):
    out = str(tmp_path / "search")
    results = tune({**BASE, "prepared": reviews}, SPACE, out, trials=3)
    rows = results["trials"]
    assert results["trials_completed"] == len(rows) == 3
    assert {row["status"] for row in rows} == {"COMPLETED"}
    for row in rows:
        # The run trained with the trial's values, the base's elsewhere.
        config = _read(os.path.join(row["run_dir"], "config.json"))
        metrics = _read(os.path.join(row["run_dir"], "metrics.json"))
        assert config["learning_rate"] == row["values"]["learning_rate"]
        assert config["model"] == row["values"]["model"]
        assert ("units" in row["values"]) == (config["model"] == "rnn")
        assert config["units"] == row["values"].get("units")
        assert row["score"] == metrics["validation"]["loss"]
        assert row["val_accuracy"] == metrics["validation"]["accuracy"]
    best = min(rows, key=lambda row: row["score"])
    assert results["best_trial"] == best["trial_id"]
    assert results["best_score"] == best["score"]
    # The best trial is an ordinary run directory.
    run = TrainingRun.load(results["best_run"])
    assert run.metrics["validation"]["loss"] == best["score"]
    assert len(run.predict(["a wonderful film"])) == 1

    with open(os.path.join(out, "results.csv"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("trial_id,status,score,val_loss")
    assert len(lines) == 4
    with open(os.path.join(out, "objective.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert _read(os.path.join(out, "results.json"))["best_trial"] == (
        best["trial_id"])

    # best.yaml is a configuration `train` takes, and it trains the best
    # trial's run again.
    config = TrainingConfig.from_file(os.path.join(out, "best.yaml"))
    assert config.learning_rate == best["values"]["learning_rate"]
    assert config.prepared == reviews
    keras.backend.clear_session()
    again = train(config, str(tmp_path / "again"), verbose=0)
    assert again.metrics["validation"]["loss"] == pytest.approx(
        best["score"], rel=1e-4)


class _StopSecondTrial(keras.callbacks.Callback):
    """Ctrl-C in the second trial, once two of its three epochs are done."""

    def __init__(self):
        super().__init__()
        self.trainings = 0

    def on_train_begin(self, logs=None):
        self.trainings += 1

    def on_epoch_begin(self, epoch, logs=None):
        if self.trainings == 2 and epoch == 2:
            raise KeyboardInterrupt


def test_an_interrupted_search_continues_and_its_trial_is_not_counted(
    reviews, tmp_path
):
    out = str(tmp_path / "search")
    config = {**BASE, "prepared": reviews, "epochs": 3}
    space = {"learning_rate": {"min": 1e-3, "max": 3e-2, "log": True}}
    with pytest.raises(KeyboardInterrupt):
        tune(config, space, out, trials=2, callbacks=[_StopSecondTrial()])
    oracle = _read(os.path.join(out, "search", "oracle.json"))
    [stopped] = oracle["ongoing_trials"].values()
    trial = _read(os.path.join(out, "search", f"trial_{stopped}",
                               "trial.json"))
    assert trial["status"] == "RUNNING" and trial["score"] is None
    run_dir = os.path.join(out, "trials", stopped)
    assert not os.path.exists(os.path.join(run_dir, "metrics.json"))
    assert os.path.isdir(os.path.join(run_dir, "backup"))
    assert not os.path.exists(os.path.join(out, "results.json"))

    # Other settings are refused rather than mixed into this search.
    with pytest.raises(ValueError, match="other settings \\(algorithm"):
        tune(config, space, out, algorithm="bayesian", trials=2)

    # The same call continues, with one trial more: the stopped trial is
    # trained again from its backup (one epoch left), with its values.
    results = tune(config, space, out, trials=3)
    assert results["trials_completed"] == 3
    assert [row["status"] for row in results["trials"]] == ["COMPLETED"] * 3
    [row] = [row for row in results["trials"] if row["trial_id"] == stopped]
    assert row["values"] == {
        "learning_rate": trial["hyperparameters"]["values"]["learning_rate"]
    }
    metrics = _read(os.path.join(run_dir, "metrics.json"))
    assert metrics["epochs_completed"] == 3
    # All three epochs, those of the stopped call too.
    assert len(metrics["history"]["loss"]) == 3

    # overwrite starts over.
    results = tune(config, space, out, algorithm="bayesian", trials=1,
                   overwrite=True)
    assert results["algorithm"] == "bayesian"
    assert len(results["trials"]) == 1
    # Most of a search's trials are left to the Gaussian process (KerasTuner
    # alone draws 3 per setting at random: all 20 of a 10-setting search).
    oracle = _read(os.path.join(out, "search", "oracle.json"))
    assert oracle["num_initial_points"] == 3
    # The TREC space's 20-trial search: 5 random, 15 from the process.
    assert make_oracle("bayesian", "val_accuracy", 20, 0, None).get_state()[
        "num_initial_points"] == 5


def test_the_command_line_tunes_with_hyperband_and_refuses_bad_spaces(
    reviews, tmp_path, capsys
):
    base = tmp_path / "base.yaml"
    # As for `attnpred train`, the folder's data paths replace the file's.
    base.write_text(json.dumps({**BASE, "train_path": "reviews.csv"}))
    space = tmp_path / "space.yaml"
    space.write_text("learning_rate: {min: 0.001, max: 0.03, log: true}\n"
                     "units: [8, 16]\n")
    out = str(tmp_path / "search")
    status = cli.main(["tune", "--config", str(base), "--space", str(space),
                       "--prepared", reviews, "--algorithm", "hyperband",
                       "--trials", "2", "--out", out])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "search written to" in captured.out
    assert f"{out}/best.yaml" in captured.out
    results = _read(os.path.join(out, "results.json"))
    assert results["algorithm"] == "hyperband"
    assert results["trials_completed"] == 2
    for row in results["trials"]:
        trial = _read(os.path.join(out, "search", f"trial_{row['trial_id']}",
                                   "trial.json"))
        given = trial["hyperparameters"]["values"]["tuner/epochs"]
        # Hyperband's epochs, up to the base configuration's.
        assert 1 <= given <= 2
        config = _read(os.path.join(row["run_dir"], "config.json"))
        assert config["epochs"] == given

    space.write_text("dropout: {min: 0.3, max: 0.1}\n")
    status = cli.main(["tune", "--config", str(base), "--space", str(space),
                       "--prepared", reviews, "--out", str(tmp_path / "bad")])
    assert status == 2
    assert "Received: field='dropout', min=0.3, max=0.1" in (
        capsys.readouterr().err)
    space.write_text("epochs: [1, 2]\n")
    status = cli.main(["tune", "--config", str(base), "--space", str(space),
                       "--prepared", reviews, "--algorithm", "hyperband",
                       "--out", str(tmp_path / "bad")])
    assert status == 2
    assert "field='epochs'" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "bad")


def test_a_translation_search_maximizes_bleu(tmp_path):
    pairs = write_translation_tsv(str(tmp_path / "pairs.tsv"), 120)
    base = {"task": "translation", "train_path": pairs, "preset": "tiny",
            "vocabulary_size": 60, "max_length": 16, "batch_size": 16,
            "epochs": 1}
    results = tune(base, {"learning_rate": [0.001, 0.01]},
                   str(tmp_path / "search"), trials=1, objective="bleu",
                   bleu_examples=20)
    [row] = results["trials"]
    assert results["direction"] == "max"
    assert 0 <= row["bleu"] <= 100
    assert results["best_score"] == row["bleu"]
    # Prepared once, into the search's folder.
    assert os.path.isfile(tmp_path / "search" / "prepared" / "prepared.json")
    with pytest.raises(ValueError, match="objective='bleu'"):
        tune({**BASE, "train_path": pairs}, {"units": [8]},
             str(tmp_path / "other"), objective="bleu")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_chief_and_two_workers_share_the_trials(reviews, tmp_path):
    """KerasTuner's distributed tuning on 127.0.0.1: the chief serves the
    oracle, two CPU workers train the trials into the same folder."""
    base = tmp_path / "base.yaml"
    base.write_text(json.dumps({**BASE, "train_path": "reviews.csv",
                                "epochs": 1}))
    space = tmp_path / "space.yaml"
    space.write_text("learning_rate: {min: 0.001, max: 0.03, log: true}\n")
    out = str(tmp_path / "search")
    command = [sys.executable, "-m", "keras_attnpred.cli", "tune",
               "--config", str(base), "--space", str(space),
               "--prepared", reviews, "--trials", "4", "--out", out]
    env = {**os.environ, "PYTHONPATH": ROOT,
           "KERASTUNER_ORACLE_IP": "127.0.0.1",
           "KERASTUNER_ORACLE_PORT": str(_free_port())}
    processes = [
        subprocess.Popen(command, env={**env, "KERASTUNER_TUNER_ID": name},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
        for name in ("chief", "tuner0", "tuner1")
    ]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=400)[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    assert "search written to" in outputs[0]
    for output in outputs[1:]:
        assert "worker done" in output
        # Each worker trained trials; the chief none.
        assert output.count("Training a rnn sentiment model") >= 1
    assert "Training a" not in outputs[0]
    results = _read(os.path.join(out, "results.json"))
    assert results["trials_completed"] == 4
    assert sum(output.count("Training a") for output in outputs) == 4
    for row in results["trials"]:
        assert os.path.isfile(os.path.join(row["run_dir"], "model.keras"))


def test_keras_tuner_and_the_tuner_load_without_tensorflow():
    """The GPU machines have JAX and no TensorFlow."""
    pytest.importorskip("jax")
    code = (
        "import sys\n"
        f"sys.path.insert(0, {os.path.dirname(WITHOUT_TENSORFLOW)!r})\n"
        "from without_tensorflow import _NoTensorFlow\n"
        "sys.meta_path.insert(0, _NoTensorFlow())\n"
        "from keras_attnpred.training import _attnpred_tuner\n"
        "import keras\n"
        "print(keras.backend.backend(), sorted(m for m in sys.modules\n"
        "      if m.split('.')[0] in ('tensorflow', 'tensorflow_text')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=300, env={**os.environ, "KERAS_BACKEND": "jax",
                          "PYTHONPATH": ROOT},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "jax []"
