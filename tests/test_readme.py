"""Every code block of the README runs, so the README cannot drift.

- Python blocks run as written, each in a folder of its own where the runs
  they name (`runs/reviews`, `runs/de-en`, ...) exist: tiny runs trained
  once for these tests.
- Shell blocks run command by command, in order, in one folder per block
  that holds tiny files under the names the commands use (`reviews.csv`,
  `run.yaml`, `train.de.gz`, `$ATTNPRED_DATA/imdb/...`). `attnpred` runs in
  this process with quick settings appended to `train` (one epoch, the
  tiny preset, small sizes: later flags win) and with a stand-in
  `tensorflow_datasets` for `tfds:` paths (the package is optional);
  `printf ... |` feeds standard input and `> FILE` takes the output. A
  command that reads a run that the block has not made finds a tiny one.
  `make` targets run as a dry run (`make -n`): they install and run
  everything.
"""

import contextlib
import gzip
import io
import os
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from keras_attnpred import cli
from tests.training.tiny_data import write_corpus
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv

ROOT = os.path.join(os.path.dirname(__file__), "..")
README = os.path.join(ROOT, "README.md")
TRANSLATION_RUNS = ("de-en", "en-es")
# Appended to `train`: small and quick, whatever the command asked.
QUICK_TRAINING = ["--epochs", "1", "--batch-size", "16", "--preset", "tiny",
                  "--max-length", "16"]
# What a config file may hold that the quick settings above would contradict
# (or that is large), and its quick value.
QUICK_CONFIG = {"head_tokens": "4", "bucket_boundaries": "8",
                "bigram_buckets": "512"}


def blocks(kind):
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return [body for found, body in re.findall(r"```(\w+)\n(.*?)```", text,
                                               flags=re.DOTALL)
            if found == kind]


def python_snippets():
    return blocks("python")


def shell_commands():
    """`(block, index, words)` of every command of every shell block."""
    found = []
    for number, block in enumerate(blocks("sh")):
        lines = block.replace("\\\n", " ").splitlines()
        words = [shlex.split(line, comments=True) for line in lines]
        for index, command in enumerate(w for w in words if w):
            found.append((number, index, command))
    return found


def _command_id(command):
    block, index, words = command
    return f"block{block}-{index}-{'_'.join(words[:2])}"


def test_readme_has_snippets():
    assert len(python_snippets()) >= 2
    assert len(blocks("sh")) >= 5


# Tiny runs, made once ---------------------------------------------------


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    from keras_attnpred.training import train

    root = tmp_path_factory.mktemp("readme_runs")
    reviews = _reviews_csv(root / "reviews.csv", 160)
    pairs = write_translation_tsv(str(root / "pairs.tsv"), 160)
    common = {"preset": "tiny", "vocabulary_size": 200, "max_length": 16,
              "batch_size": 16, "epochs": 1}
    train({"task": "sentiment", "model": "rnn", "train_path": reviews,
           "text_column": "review", **common},
          str(root / "classification"), verbose=0)
    train({"task": "translation", "train_path": pairs, **common},
          str(root / "translation"), verbose=0)
    return root


def _provide_run(workspace, name, tiny_runs):
    """Copies a tiny run to `workspace/runs/NAME` unless it exists."""
    target = workspace / "runs" / name
    if not target.exists():
        kind = ("translation" if any(t in name for t in TRANSLATION_RUNS)
                else "classification")
        shutil.copytree(tiny_runs / kind, target)


def _runs_named(text):
    return set(re.findall(r"runs/([\w.-]+)", text))


# Tiny files under the README's names ------------------------------------


def _reviews_csv(path, size, seed=0):
    """`review,label` (0/1) texts told by one sentiment word."""
    write_sentiment_csv(str(path), size, seed=seed)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("text,label", "review,label", 1),
                    encoding="utf-8")
    return str(path)


def _write_gzip(path, lines):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def _workspace(path):
    """A folder holding every file the README's commands name."""
    path.mkdir()
    os.symlink(os.path.abspath(os.path.join(ROOT, "examples")),
               path / "examples")
    _reviews_csv(path / "reviews.csv", 160)
    _reviews_csv(path / "test.csv", 40, seed=1)
    write_corpus(str(path / "unlabeled.txt"), 40)
    rows = [line.rsplit(",", 1) for line in
            (path / "test.csv").read_text().splitlines()[1:]]
    (path / "their_test.csv").write_text("comment;verdict\n" + "".join(
        f'"{text}";{["bad", "good"][int(label)]}\n' for text, label in rows))
    (path / "run.yaml").write_text(yaml.safe_dump({
        "task": "sentiment", "train_path": "reviews.csv",
        "text_column": "review", "model": "rnn", "preset": "tiny",
        "vocabulary_size": 200, "max_length": 16, "batch_size": 16,
        "epochs": 1}))
    for part, size in (("train", 160), ("test", 30)):
        pairs = write_translation_tsv(str(path / f"{part}.tsv"), size,
                                      seed=part == "test")
        with open(pairs, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f]
        os.remove(pairs)
        _write_gzip(path / f"{part}.de.gz", [source for source, _ in rows])
        _write_gzip(path / f"{part}.en.gz", [target for _, target in rows])
    data = path / "data" / "imdb"
    data.mkdir(parents=True)
    for part, size, seed in (("train", 160, 0), ("test", 40, 1)):
        csv = _reviews_csv(data / f"{part}.csv", size, seed=seed)
        with open(csv, encoding="utf-8") as f:
            _write_gzip(data / f"{part}.csv.gz", f.read().splitlines())
    return path


def _fake_tfds():
    """A `tensorflow_datasets` that serves `imdb_reviews` from toy texts."""
    from tests.data.test_tfds import ClassLabel
    from tests.data.test_tfds import fake_tfds
    from tests.training.tiny_data import FILLER
    from tests.training.tiny_data import NEGATIVE
    from tests.training.tiny_data import POSITIVE

    rng = np.random.default_rng(0)

    def split(size):
        labels = np.arange(size) % 2
        texts = [" ".join(rng.choice(FILLER, 6).tolist() + [rng.choice(
            POSITIVE if label else NEGATIVE)]).encode() for label in labels]
        return {"text": texts, "label": labels.astype("int64")}

    return fake_tfds({"imdb_reviews": (
        {"text": object(), "label": ClassLabel(["neg", "pos"])},
        ("text", "label"),
        {"train": split(160), "test": split(40)},
    )})


# Python blocks ----------------------------------------------------------


@pytest.mark.parametrize("index", range(len(python_snippets())))
def test_readme_snippet_runs(index, tmp_path, monkeypatch, tiny_runs):
    snippet = python_snippets()[index]
    for name in _runs_named(snippet):
        _provide_run(tmp_path, name, tiny_runs)
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(snippet, f"README.md snippet {index}", "exec"), {})


# Shell blocks -----------------------------------------------------------

_WORKSPACES = {}


def _quick(words, workspace):
    """`attnpred` arguments with the quick settings for `train`."""
    command = words[0]
    if command not in ("train", "pretrain", "distill"):
        return words
    extra = list(QUICK_TRAINING)
    if "--prepared" not in words:
        extra += ["--vocabulary-size", "200"]
    if "--config" in words:
        path = workspace / words[words.index("--config") + 1]
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f)
        for field, value in QUICK_CONFIG.items():
            if field in config:
                extra += ["--" + field.replace("_", "-"), value]
    return words + extra


def _run_attnpred(words, workspace, tiny_runs, stdin, monkeypatch, capsys):
    command = words[0]
    reads_runs = command not in ("train", "pretrain", "prepare", "demo") or (
        "--overwrite" in words)
    if command == "distill":  # reads its teacher, writes --out
        _provide_run(workspace, words[1].split("runs/", 1)[1], tiny_runs)
    elif reads_runs:
        for name in _runs_named(" ".join(words)):
            _provide_run(workspace, name, tiny_runs)
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(
            io.BytesIO(stdin.encode("utf-8"))))
    status = cli.main(_quick(words, workspace))
    captured = capsys.readouterr()
    assert status == 0, captured.err[-3000:]
    return captured.out


def _printf(words):
    """What `printf FORMAT` writes, for the formats the README uses."""
    assert len(words) == 2, words
    return words[1].encode().decode("unicode_escape")


COMMANDS = [pytest.param(*command, id=_command_id(command))
            for command in shell_commands()]


@pytest.mark.parametrize("block, index, words", COMMANDS)
def test_readme_shell_command_runs(block, index, words, tmp_path_factory,
                                   tiny_runs, monkeypatch, capsys):
    if block not in _WORKSPACES:
        _WORKSPACES[block] = _workspace(
            tmp_path_factory.mktemp(f"readme_block{block}") / "work")
    workspace = _WORKSPACES[block]
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("ATTNPRED_DATA", str(workspace / "data"))
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", _fake_tfds())
    if words[0] == "make":
        result = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return
    if words[0] == "export":  # the shell's: where the data lives
        name = words[1].split("=", 1)[0]
        assert name == "ATTNPRED_DATA", words
        return
    stdin = None
    if "|" in words:
        bar = words.index("|")
        assert words[0] == "printf", words
        stdin, words = _printf(words[:bar]), words[bar + 1:]
    output = None
    if ">" in words:
        arrow = words.index(">")
        words, output = words[:arrow], words[arrow + 1]
    assert words[0] == "attnpred", words
    out = _run_attnpred(words[1:], workspace, tiny_runs, stdin, monkeypatch,
                        capsys)
    if output is not None:
        (workspace / output).write_text(out, encoding="utf-8")
