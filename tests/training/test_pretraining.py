"""Masked-language-model pretraining (`task="pretraining"`, `attnpred
pretrain`) and fine-tuning its encoder (`init_from`, `--init-from`)."""

import filecmp
import json
import os
import shutil
import types

import keras
import numpy as np
import pytest

from keras_attnpred import cli
from keras_attnpred.data import PreparedDataset
from keras_attnpred.data import RaggedIds
from keras_attnpred.models import TRANSFORMER_PRESETS
from keras_attnpred.models import MaskedLanguageModel
from keras_attnpred.models import TextClassifier
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training import TrainingRun
from keras_attnpred.training import prepare
from keras_attnpred.training import train
from keras_attnpred.training._model_factory import build_model
from keras_attnpred.training._pretrained_encoder import with_pretrained_settings
from keras_attnpred.training.prepare import prepare_in_memory
from tests.training.tiny_data import write_corpus
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_topic_texts

PRETRAINING = {
    "task": "pretraining", "preset": "tiny", "vocabulary_size": 120,
    "max_length": 16, "batch_size": 16, "learning_rate": 0.005, "epochs": 6,
}
FINE_TUNING = {
    "task": "sentiment", "batch_size": 16, "learning_rate": 0.003,
    "epochs": 1,
}


def weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def assert_same_weights(first, second, atol=0.0):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A pretraining run trained from a prepared folder, and the data."""
    root = tmp_path_factory.mktemp("pretraining")
    corpus = write_corpus(str(root / "corpus.txt"), 200)
    reviews = write_sentiment_csv(str(root / "reviews.csv"), 120)
    prepared = str(root / "prepared")
    prepare({**PRETRAINING, "train_path": corpus}, prepared)
    run = train({**PRETRAINING, "prepared": prepared}, str(root / "run"),
                verbose=0)
    return types.SimpleNamespace(
        root=root, corpus=corpus, reviews=reviews, prepared=prepared,
        run=run, directory=str(root / "run"),
    )


@pytest.fixture(scope="module")
def fine_tuned(pretrained):
    """A sentiment run fine-tuned from `pretrained` on raw data."""
    return train(
        {**FINE_TUNING, "train_path": pretrained.reviews,
         "init_from": pretrained.directory},
        str(pretrained.root / "fine_tuned"), verbose=0,
    )


def test_pretraining_loss_falls_and_the_run_loads(pretrained):
    run = pretrained.run
    history = run.metrics["history"]
    assert len(history["loss"]) == 6
    assert history["loss"][-1] < 0.85 * history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert set(run.metrics) >= {"train", "validation"}
    assert "test" not in run.metrics
    assert sorted(os.listdir(pretrained.directory)) == [
        "backup", "checkpoints", "config.json", "logs", "metrics.json",
        "model.keras", "tokenizer",
    ]
    loaded = TrainingRun.load(pretrained.directory)
    assert loaded.config.task == "pretraining"
    assert loaded.label_names is None
    assert isinstance(loaded.model, MaskedLanguageModel)
    assert loaded.model.backbone.max_length == 16
    tiny = TRANSFORMER_PRESETS["tiny"]
    assert loaded.model.backbone.num_layers == tiny["num_layers"]
    assert loaded.model.backbone.model_dim == tiny["model_dim"]
    assert loaded.tokenizer.vocabulary_size == (
        loaded.model.backbone.vocabulary_size
    )
    assert filecmp.cmpfiles(
        os.path.join(pretrained.prepared, "tokenizer"),
        os.path.join(pretrained.directory, "tokenizer"),
        os.listdir(os.path.join(pretrained.prepared, "tokenizer")),
        shallow=False,
    )[1:] == ([], [])
    # Validation masks are fixed: evaluating again gives the run's numbers.
    report = loaded.evaluate(PreparedDataset.load(pretrained.prepared),
                             part="validation")
    assert report["loss"] == pytest.approx(
        run.metrics["validation"]["loss"], rel=1e-4
    )
    assert report["accuracy"] == pytest.approx(
        run.metrics["validation"]["accuracy"], abs=1e-6
    )

    # Neither a classifier nor a translator.
    for method in ("classifier", "predict"):
        with pytest.raises(ValueError, match="needs a classification run. "
                                             "Received: a run with "
                                             "task='pretraining'"):
            attribute = getattr(loaded, method)
            attribute(["a film"])
    with pytest.raises(ValueError, match="`translator` needs a translation "
                                         "run. Received: a run with "
                                         "task='pretraining'"):
        loaded.translator  # noqa: B018
    assert loaded.source_tokenizer is None


def test_a_pretraining_run_evaluates_on_pretraining_folders_only(
    pretrained, fine_tuned, tmp_path, capsys
):
    loaded = TrainingRun.load(pretrained.directory)
    with pytest.raises(ValueError, match="`data` must be a `PreparedDataset` "
                                         "for a pretraining run .*Received: "
                                         "data of type list"):
        loaded.evaluate(["the cat eats fish"])
    pairs = PreparedDataset(
        "translation",
        {"train": {"source": RaggedIds.from_rows([[5, 6]]),
                   "target": RaggedIds.from_rows([[7]])}},
        vocabulary_sizes={"source_tokenizer": 92, "target_tokenizer": 92},
    )
    with pytest.raises(ValueError, match="`data` holds 'translation' data, "
                                         "the run is a 'pretraining' run"):
        loaded.evaluate(pairs, part="train")
    corpus = PreparedDataset.load(pretrained.prepared)
    with pytest.raises(ValueError, match="`data` holds 'pretraining' data, "
                                         "the run is a 'sentiment' run"):
        TrainingRun.load(fine_tuned.directory).evaluate(corpus, part="train")
    # The command line: a prepared folder, not texts.
    assert cli.main(["evaluate", pretrained.directory, "--prepared",
                     pretrained.prepared, "--part", "validation"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["loss"] == pytest.approx(
        pretrained.run.metrics["validation"]["loss"], rel=1e-4
    )
    assert cli.main(["evaluate", pretrained.directory, "--data",
                     pretrained.corpus]) == 2
    assert "a pretraining run is evaluated on a prepared folder: " \
        "--prepared DIR" in capsys.readouterr().err


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="exports need TensorFlow")
def test_a_pretraining_run_does_not_export(pretrained, tmp_path):
    from keras_attnpred.export import export_run

    for format in ("saved_model", "both"):
        with pytest.raises(ValueError, match="A pretraining run does not "
                                             "export: fine-tune its encoder "
                                             "first"):
            export_run(pretrained.directory, str(tmp_path / "exported"),
                       format=format)
    assert not os.path.exists(tmp_path / "exported")


def _fine_tuning_config(pretrained, **overrides):
    return with_pretrained_settings(TrainingConfig.from_dict({
        **FINE_TUNING, "train_path": pretrained.reviews,
        "init_from": pretrained.directory, **overrides,
    }))


@pytest.mark.parametrize("dropout", [None, 0.3])
def test_init_from_starts_the_classifier_from_the_pretrained_encoder(
    pretrained, dropout
):
    # A vocabulary setting says nothing: the tokenizer is the run's.
    config = _fine_tuning_config(pretrained, dropout=dropout,
                                 vocabulary_size=500)
    # The encoder's sizes come with it.
    assert (config.preset, config.max_length) == ("tiny", 16)
    dataset, tokenizers = prepare_in_memory(
        config, tokenizers_from=config.init_from
    )
    assert dataset.vocabulary_sizes["tokenizer"] == (
        pretrained.run.model.backbone.vocabulary_size
    )
    model = build_model(config, dataset)
    assert isinstance(model, TextClassifier)
    assert model.num_classes == 2
    saved = keras.models.load_model(
        os.path.join(pretrained.directory, "model.keras"), compile=False
    )
    assert_same_weights(
        weights(model.backbone), weights(saved.backbone)
    )
    # The pretrained weights, not a fresh start that happens to match.
    fresh = build_model(
        TrainingConfig.from_dict({**config.to_dict(), "init_from": None}),
        dataset,
    )
    assert not np.allclose(weights(fresh.backbone)[0],
                           weights(saved.backbone)[0])
    pretrained_config = saved.backbone.get_config()
    expected = {**pretrained_config}
    if dropout is not None:
        expected["dropout"] = dropout
    assert model.backbone.get_config() == expected
    assert model.backbone.dropout == (
        pretrained_config["dropout"] if dropout is None else dropout
    )


def test_train_init_from_keeps_the_pretrained_encoder_and_tokenizer(
    pretrained, fine_tuned
):
    assert fine_tuned.config.init_from == pretrained.directory
    assert fine_tuned.config.preset == "tiny"
    assert fine_tuned.config.max_length == 16
    assert isinstance(fine_tuned.model, TextClassifier)
    assert filecmp.cmpfiles(
        os.path.join(pretrained.directory, "tokenizer"),
        os.path.join(fine_tuned.directory, "tokenizer"),
        os.listdir(os.path.join(pretrained.directory, "tokenizer")),
        shallow=False,
    )[1:] == ([], [])
    loaded = TrainingRun.load(fine_tuned.directory)
    assert loaded.config.init_from == pretrained.directory
    assert len(loaded.predict(["a wonderful film"])) == 1
    # A step as small as nothing: the trained encoder is the pretrained one.
    keras.backend.clear_session()
    still = train(
        {**FINE_TUNING, "train_path": pretrained.reviews, "learning_rate":
         1e-12, "init_from": pretrained.directory},
        str(pretrained.root / "still"), verbose=0,
    )
    assert_same_weights(weights(still.model.backbone),
                        weights(pretrained.run.model.backbone), atol=1e-6)


def test_init_from_errors(pretrained, fine_tuned, tmp_path):
    def fine_tune(**overrides):
        config = {**FINE_TUNING, "train_path": pretrained.reviews,
                  "init_from": pretrained.directory, **overrides}
        train(config, str(tmp_path / "run"), verbose=0)

    with pytest.raises(ValueError, match="`init_from` must be a pretraining "
                       "run, not a 'sentiment' run. Received: init_from="):
        fine_tune(init_from=fine_tuned.directory)
    with pytest.raises(ValueError, match="`init_from` must be a pretraining "
                       r"run directory \(`attnpred pretrain`\); it has no "
                       "config.json"):
        fine_tune(init_from=str(tmp_path))
    with pytest.raises(ValueError, match="`max_length` must be at most the "
                       "pretrained encoder's 16 .*Received: max_length=32"):
        fine_tune(max_length=32)
    with pytest.raises(ValueError, match="`preset` must be the pretrained "
                       "encoder's \\('tiny'\\) when fine-tuning from .*"
                       "Received: preset='base'"):
        fine_tune(preset="base")
    with pytest.raises(ValueError, match="`bigram_buckets` must be the "
                       "pretrained encoder's .*Received: bigram_buckets=64"):
        fine_tune(bigram_buckets=64)
    # Given as the pretrained run's: accepted (nothing to override).
    assert _fine_tuning_config(
        pretrained, preset="tiny", max_length=8, vocabulary_size=120
    ).max_length == 8
    for overrides in ({"model": "rnn"}, {"task": "translation"}):
        with pytest.raises(ValueError, match="`init_from` starts a "
                           "Transformer classifier from a pretrained "
                           "encoder. Received: init_from="):
            TrainingConfig.from_dict({
                **FINE_TUNING, "train_path": pretrained.reviews,
                "init_from": pretrained.directory, **overrides,
            })
    with pytest.raises(ValueError, match="`init_from` .*task='pretraining'"):
        TrainingConfig.from_dict({**PRETRAINING, "train_path": "c.txt",
                                  "init_from": pretrained.directory})


def test_init_from_refuses_a_folder_of_another_tokenizer(pretrained,
                                                         tmp_path):
    other = str(tmp_path / "other")
    prepare({"task": "sentiment", "train_path": pretrained.reviews,
             "vocabulary_size": 120}, other)
    with pytest.raises(ValueError, match="was made with another tokenizer "
                       "than the pretrained run .*--tokenizers-from"):
        train({**FINE_TUNING, "prepared": other,
               "init_from": pretrained.directory},
              str(tmp_path / "run"), verbose=0)


def test_pretraining_config_and_data_errors(pretrained, tmp_path):
    with pytest.raises(ValueError, match="`model` must be 'transformer' for "
                       "pretraining .*Received: model='rnn'"):
        TrainingConfig.from_dict({**PRETRAINING, "train_path": "c.txt",
                                  "model": "rnn"})
    for rate in (0, 1, 1.5):
        with pytest.raises(ValueError, match=f"mask_rate={rate}"):
            TrainingConfig.from_dict({**PRETRAINING, "train_path": "c.txt",
                                      "mask_rate": rate})
    with pytest.raises(ValueError, match="Pretraining has no test part .*"
                       "Received: test_path="):
        prepare({**PRETRAINING, "train_path": pretrained.corpus,
                 "test_path": pretrained.corpus})
    with pytest.raises(ValueError, match="Pretraining has no test part"):
        train({**PRETRAINING, "train_path": pretrained.corpus,
               "test_path": pretrained.corpus}, str(tmp_path / "run"),
              verbose=0)
    one = tmp_path / "one.txt"
    one.write_text("a single text\n")
    with pytest.raises(ValueError, match="1 text\\(s\\) are too few to hold "
                                         "out a validation part"):
        prepare({**PRETRAINING, "train_path": str(one)})
    with pytest.raises(ValueError, match="`train_path` must be a path or a "
                                         "non-empty list of paths"):
        TrainingConfig.from_dict({**PRETRAINING, "train_path": []})


def test_pretraining_reads_a_list_of_files_and_a_validation_file(
    pretrained, tmp_path
):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("one two three\nfour five\n")
    second.write_text("six seven\n\neight nine ten\n")
    validation = tmp_path / "validation.txt"
    validation.write_text("two three\n")
    data = prepare({**PRETRAINING, "train_path": [str(first), str(second)],
                    "validation_path": str(validation),
                    "vocabulary_size": 60})
    assert data.task == "pretraining"
    assert data.statistics["train"]["rows"] == 4
    assert data.statistics["validation"]["rows"] == 1
    # Validation texts from several files too, like the corpus.
    data = prepare({**PRETRAINING, "train_path": str(first),
                    "validation_path": [str(validation), str(second)],
                    "vocabulary_size": 60})
    assert data.statistics["train"]["rows"] == 2
    assert data.statistics["validation"]["rows"] == 3
    assert TrainingConfig.from_dict({
        **PRETRAINING, "train_path": "a.txt",
        "validation_path": ("b.txt", "c.txt", "d.txt"),
    }).validation_path == ["b.txt", "c.txt", "d.txt"]
    with pytest.raises(ValueError, match="`validation_path` must be a path "
                                         "or a non-empty list of paths. "
                                         r"Received: validation_path=\[\]"):
        TrainingConfig.from_dict({**PRETRAINING, "train_path": "a.txt",
                                  "validation_path": []})
    assert data.word_starts is not None
    assert data.word_starts.shape == (data.vocabulary_sizes["tokenizer"],)
    # Whole words of the tokenizer: reserved ids and `##` pieces.
    tokenizer = TrainingRun.load(pretrained.directory).tokenizer
    starts = np.array(tokenizer.word_starts())
    vocabulary = tokenizer.get_vocabulary()
    assert starts[:4].all()
    assert [not s for s in starts] == [t.startswith("##")
                                       for t in vocabulary]
    assert not starts.all()


def test_cli_pretrain_then_fine_tune(pretrained, tmp_path, capsys):
    run_dir, tuned = str(tmp_path / "pretrained"), str(tmp_path / "tuned")
    more = tmp_path / "more.txt"
    more.write_text("the big cat sees a small dog\n" * 5)
    held_out = [str(tmp_path / f"held_out{i}.txt") for i in range(3)]
    for path in held_out:
        write_corpus(path, 10, seed=len(path))
    assert cli.main([
        "pretrain", "--data", pretrained.corpus, str(more), "--preset",
        "tiny", "--vocabulary-size", "120", "--max-length", "16",
        "--epochs", "1", "--batch-size", "16", "--mask-rate", "0.2",
        "--pack-texts", "--validation-path", *held_out, "--out", run_dir,
    ]) == 0
    assert "0.0% of the input positions padding" in capsys.readouterr().out
    run = TrainingRun.load(run_dir)
    assert run.config.pack_texts
    assert run.config.task == "pretraining"
    assert run.config.train_path == [pretrained.corpus, str(more)]
    assert run.config.validation_path == held_out
    assert run.config.mask_rate == 0.2
    assert isinstance(run.model, MaskedLanguageModel)
    assert cli.main([
        "train", "--task", "sentiment", "--data", pretrained.reviews,
        "--init-from", run_dir, "--epochs", "1", "--batch-size", "16",
        "--out", tuned,
    ]) == 0
    tuned_run = TrainingRun.load(tuned)
    assert tuned_run.config.init_from == run_dir
    assert tuned_run.config.preset == "tiny"
    assert tuned_run.config.max_length == 16
    assert len(tuned_run.predict(["a dull plot"])) == 1
    capsys.readouterr()
    assert cli.main(["pretrain", "--task", "sentiment", "--data",
                     pretrained.corpus, "--out", str(tmp_path / "x")]) == 2
    assert "pretrain trains task 'pretraining'. Received: --task sentiment" \
        in capsys.readouterr().err


def test_prepare_with_tokenizers_from_a_pretraining_folder(pretrained,
                                                           tmp_path):
    """The folder route: `prepare --tokenizers-from` the pretraining folder,
    then `train --prepared --init-from` the run trained on it."""
    folder, tuned = str(tmp_path / "reviews"), str(tmp_path / "tuned")
    assert cli.main([
        "prepare", "--task", "sentiment", "--data", pretrained.reviews,
        "--tokenizers-from", pretrained.prepared, "--out", folder,
    ]) == 0
    data = PreparedDataset.load(folder)
    assert data.task == "sentiment"
    assert data.vocabulary_sizes == PreparedDataset.load(
        pretrained.prepared
    ).vocabulary_sizes
    assert cli.main([
        "train", "--prepared", folder, "--init-from", pretrained.directory,
        "--epochs", "1", "--batch-size", "16", "--out", tuned,
    ]) == 0
    run = TrainingRun.load(tuned)
    assert run.config.init_from == pretrained.directory
    assert run.config.prepared == folder
    assert run.model.backbone.vocabulary_size == (
        pretrained.run.model.backbone.vocabulary_size
    )


def test_a_pretraining_folder_prepared_by_the_cli(pretrained, tmp_path):
    folder = str(tmp_path / "corpus")
    assert cli.main([
        "prepare", "--task", "pretraining", "--data", pretrained.corpus,
        "--vocabulary-size", "120", "--out", folder,
    ]) == 0
    data = PreparedDataset.load(folder)
    assert data.task == "pretraining"
    assert os.path.exists(os.path.join(folder, "word_starts.npy"))
    assert set(data.parts) == {"train", "validation"}
    # The same texts and ids as the folder of the fixture (same settings).
    again = PreparedDataset.load(pretrained.prepared)
    for name in data.parts:
        np.testing.assert_array_equal(data.part(name)["ids"].values,
                                      again.part(name)["ids"].values)
    np.testing.assert_array_equal(data.word_starts, again.word_starts)
    with open(os.path.join(folder, "prepared.json")) as f:
        assert json.load(f)["task"] == "pretraining"
    shutil.rmtree(folder)


def test_the_pretrained_encoder_knows_words_that_fine_tuning_never_saw(
    tmp_path
):
    """Two topics of made-up words: pretraining on unlabelled texts of all
    of them groups each topic's words, so a classifier fine-tuned on texts
    of 4 words a topic tells the topic of texts of the 16 others; the same
    model from scratch, trained as long on the same ids, guesses."""
    corpus = write_topic_texts(str(tmp_path / "corpus.txt"), 600, seed=1)
    seen = write_topic_texts(str(tmp_path / "seen.csv"), 200, seed=2,
                             topic_words=range(4), labels=True)
    unseen = write_topic_texts(str(tmp_path / "unseen.csv"), 200, seed=3,
                               topic_words=range(4, 20), labels=True)
    pretraining = str(tmp_path / "pretraining")
    train({**PRETRAINING, "train_path": corpus, "vocabulary_size": 200,
           "batch_size": 32, "learning_rate": 0.003, "epochs": 3,
           "mask_rate": 0.2}, pretraining, verbose=0)
    # One folder for both: the same tokenizer, ids and batches.
    folder = str(tmp_path / "topics")
    prepare({"task": "classification", "train_path": seen,
             "validation_path": unseen}, folder, tokenizers_from=pretraining)
    common = {"task": "classification", "prepared": folder, "epochs": 2,
              "batch_size": 16, "learning_rate": 0.001}
    keras.backend.clear_session()
    tuned = train({**common, "init_from": pretraining},
                  str(tmp_path / "tuned"), verbose=0)
    keras.backend.clear_session()
    scratch = train({**common, "preset": "tiny", "max_length": 16},
                    str(tmp_path / "scratch"), verbose=0)
    assert tuned.model.count_params() == scratch.model.count_params()
    assert len(tuned.metrics["history"]["loss"]) == 2
    assert len(scratch.metrics["history"]["loss"]) == 2
    # Both learn their training texts; only one knows the other words.
    assert scratch.metrics["train"]["accuracy"] > 0.95
    assert tuned.metrics["validation"]["accuracy"] > 0.9
    assert scratch.metrics["validation"]["accuracy"] < 0.75


def test_lora_fine_tuning_trains_the_updates_and_the_head_only(
    pretrained, tmp_path
):
    run = train(
        {**FINE_TUNING, "train_path": pretrained.reviews,
         "init_from": pretrained.directory, "lora_rank": 2},
        str(tmp_path / "lora"), verbose=0,
    )
    backbone = run.model.backbone
    trained = [v.path for v in backbone.trainable_weights]
    assert trained and all("lora_kernel" in path for path in trained)
    saved = keras.models.load_model(
        os.path.join(pretrained.directory, "model.keras"), compile=False
    )
    # The frozen weights did not move; the updates did.
    frozen = {v.path: v for v in backbone.weights if "lora" not in v.path}
    for variable in saved.backbone.weights:
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(frozen[variable.path]),
            keras.ops.convert_to_numpy(variable),
        )
    assert any(
        np.abs(keras.ops.convert_to_numpy(v)).max() > 0
        for v in backbone.trainable_weights if "lora_kernel_b" in v.path
    )
    metrics = run.metrics
    assert metrics["trainable_parameter_count"] < metrics["parameter_count"]
    # The run's model.keras has the updates merged: an ordinary classifier
    # that computes what the fine-tuned one does.
    ids = np.array([[5, 6, 7, 8, 0, 0]])
    merged = TrainingRun.load(str(tmp_path / "lora")).model
    assert not any("lora" in v.path for v in merged.weights)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(merged(ids)),
        keras.ops.convert_to_numpy(run.model(ids)),
        atol=1e-5,
    )


def test_lora_rank_needs_init_from():
    with pytest.raises(ValueError, match="lora_rank=4 and init_from=None"):
        TrainingConfig.from_dict(
            {**FINE_TUNING, "train_path": "x.csv", "lora_rank": 4}
        )


def test_electra_pretraining_and_fine_tuning_its_discriminator(
    pretrained, tmp_path
):
    run = train(
        {**PRETRAINING, "prepared": pretrained.prepared,
         "objective": "electra", "epochs": 3},
        str(tmp_path / "electra"), verbose=0,
    )
    history = run.metrics["history"]
    assert history["generator_loss"][-1] < history["generator_loss"][0]
    assert history["discriminator_loss"][-1] < history["discriminator_loss"][0]
    assert 0 < run.metrics["validation"]["accuracy"] <= 1
    loaded = TrainingRun.load(str(tmp_path / "electra"))
    assert loaded.config.objective == "electra"
    # Evaluated again from its folder: the discriminator's accuracy.
    again = loaded.evaluate(PreparedDataset.load(pretrained.prepared),
                            part="validation")
    assert set(again) == {"accuracy", "loss"}
    config = with_pretrained_settings(TrainingConfig.from_dict({
        **FINE_TUNING, "train_path": pretrained.reviews,
        "init_from": str(tmp_path / "electra"),
    }))
    dataset, _ = prepare_in_memory(config, tokenizers_from=config.init_from)
    classifier = build_model(config, dataset)
    assert_same_weights(weights(classifier.backbone),
                        weights(loaded.model.discriminator))


def test_objective_is_a_pretraining_setting():
    with pytest.raises(ValueError, match="objective='electra' with task="):
        TrainingConfig.from_dict(
            {**FINE_TUNING, "train_path": "x.csv", "objective": "electra"}
        )
