"""`attnpred explain` on a tiny run trained for two steps, and a translator."""

import io
import json

import pytest
from PIL import Image

from keras_attnpred import cli
from keras_attnpred.inference import Translator
from keras_attnpred.models import build_transformer_translator
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training import train
from tests.explain.test_pictures import parse
from tests.training.tiny_data import write_sentiment_csv

TINY_RUN = dict(model="transformer", preset="tiny", epochs=1, batch_size=32,
                vocabulary_size=60)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tokenizers):
    folder = tmp_path_factory.mktemp("runs")
    reviews = write_sentiment_csv(str(folder / "reviews.csv"), 40)
    train(dict(TINY_RUN, task="sentiment", train_path=reviews, max_length=16),
          str(folder / "sentiment"), verbose=0)
    # What `explain` reads of a translation run: its config, its metrics
    # (which epoch the model is) and what `Translator.save` writes
    # (training one costs more time than it tests).
    source, target = tokenizers
    model = build_transformer_translator(
        source.vocabulary_size, target.vocabulary_size, 12,
        preset="tiny", model_dim=16, intermediate_dim=32,
    )
    Translator(model, source, target, max_length=12).save(
        folder / "translation"
    )
    config = TrainingConfig.from_dict(
        {"task": "translation", "train_path": "pairs.tsv", "max_length": 12}
    )
    (folder / "translation" / "config.json").write_text(
        json.dumps(config.to_dict())
    )
    (folder / "translation" / "metrics.json").write_text("{}")
    return folder


def test_classification_run_gives_a_highlighted_page(runs, tmp_path, capsys):
    out = tmp_path / "review.html"
    text = "The movie was great"
    assert cli.main(["explain", str(runs / "sentiment"), text,
                     "--out", str(out)]) == 0
    label, probability, path = capsys.readouterr().out.strip().split("\t")
    assert label in ("negative", "positive")
    assert 0.5 <= float(probability) <= 1 and path == str(out)
    checker = parse(out.read_text(encoding="utf-8"))
    words = [a for tag, a in checker.tags if a.get("class") == "token"]
    # "great" is several pieces of the tiny vocabulary, merged into a word.
    assert len(words) == 4 and "great" in checker.text
    assert sum(float(w["title"]) for w in words) == pytest.approx(1, abs=1e-3)
    assert f"predicted: {label}" in "".join(checker.text)


def test_classification_run_gives_a_heatmap_of_pieces(runs, tmp_path):
    out = tmp_path / "review.png"
    assert cli.main(["explain", str(runs / "sentiment"), "a great film",
                     "--out", str(out), "--pieces", "--method", "rollout"]) == 0
    assert Image.open(io.BytesIO(out.read_bytes())).format == "PNG"


def test_translation_run_gives_an_alignment(runs, tmp_path, capsys):
    for name in ("alignment.png", "alignment.html"):
        out = tmp_path / name
        assert cli.main(["explain", str(runs / "translation"), "the cat sees",
                         "--out", str(out)]) == 0
        assert capsys.readouterr().out.strip().endswith(str(out))
    image = Image.open(tmp_path / "alignment.png")
    assert image.format == "PNG" and image.size[0] >= 400
    checker = parse((tmp_path / "alignment.html").read_text(encoding="utf-8"))
    source_words = [a for tag, a in checker.tags if a.get("class") == "token"]
    rows = [a for tag, a in checker.tags if a.get("class") == "row"]
    assert len(source_words) == 3 * len(rows) and rows


def test_expected_errors_are_one_line(runs, tmp_path, capsys):
    out = str(tmp_path / "x.jpg")
    run = str(runs / "sentiment")
    assert cli.main(["explain", run, "hi", "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and ".png or .html" in err
    assert cli.main(["explain", str(runs / "translation"), "   ", "--out",
                     str(tmp_path / "x.png")]) == 2
    assert "no source tokens" in capsys.readouterr().err


def test_help_describes_explain(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "explain" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["explain", "--help"])
    out = capsys.readouterr().out
    for flag in ("--out", "--method", "--pieces", ".png", ".html"):
        assert flag in out


def test_interactive_pages_of_several_texts(runs, tmp_path, capsys):
    from tests.explain.test_attention_explorer import page_data

    out = tmp_path / "reviews.html"
    assert cli.main(["explain", str(runs / "sentiment"), "a great film",
                     "dull <b>", "--out", str(out), "--interactive"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[-1] == str(out)
    entries = page_data(out.read_text(encoding="utf-8"))["entries"]
    assert [e["text"] for e in entries] == ["a great film", "dull <b>"]
    assert entries[0]["attention"]["shape"][:2] == [1, 2]  # tiny preset
    out = tmp_path / "translations.html"
    assert cli.main(["explain", str(runs / "translation"), "the cat sees",
                     "--out", str(out), "--interactive",
                     "--beam-width", "3"]) == 0
    entries = page_data(out.read_text(encoding="utf-8"))["entries"]
    assert [e["caption"] for e in entries] == [
        "greedy", "beam search, width 3, length penalty 0"]


@pytest.mark.parametrize("flags, message", [
    (["a", "--out", "p.png", "--interactive"], "must end in .html"),
    (["a", "b", "--out", "p.html"], "several texts need --interactive"),
    (["a", "--out", "p.html", "--interactive", "--pieces"], "--pieces"),
    (["a", "--out", "p.html", "--beam-width", "2"], "translation runs only"),
])
def test_interactive_bad_flags(runs, flags, message, capsys):
    assert cli.main(["explain", str(runs / "sentiment"), *flags]) == 2
    assert message in capsys.readouterr().err
