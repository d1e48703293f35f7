"""Training from a prepared folder: the same run as from raw data, on any
backend, without TensorFlow, with the recipes as configuration fields."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_attnpred import cli
from keras_attnpred.data import PreparedDataset
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training import TrainingRun
from keras_attnpred.training import prepare
from keras_attnpred.training import train
from keras_attnpred.training._checkpoint_averaging import EpochWeights
from keras_attnpred.training._checkpoint_averaging import average_checkpoints
from keras_attnpred.training._model_factory import build_optimizer
from tests.training.tiny_data import write_corpus
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv
from tests.training.without_tensorflow import SEPARATOR
from tests.training.without_tensorflow import THEN

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
WITHOUT_TENSORFLOW = os.path.join(
    ROOT, "tests", "training", "without_tensorflow.py"
)
SENTIMENT = {
    "task": "sentiment", "model": "rnn", "preset": "tiny",
    "vocabulary_size": 120, "batch_size": 16, "learning_rate": 0.01,
    "epochs": 2, "bucket_boundaries": [6, 10],
}


def weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def test_a_prepared_folder_trains_the_same_model_as_the_raw_data(tmp_path):
    data = write_sentiment_csv(str(tmp_path / "reviews.csv"), 200)
    config = {**SENTIMENT, "train_path": data}
    raw = train(config, str(tmp_path / "raw"), verbose=0)
    prepare(config, str(tmp_path / "prepared"))
    keras.backend.clear_session()
    from_folder = train(
        {**SENTIMENT, "prepared": str(tmp_path / "prepared")},
        str(tmp_path / "from_folder"), verbose=0,
    )
    for a, b in zip(weights(raw.model), weights(from_folder.model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert raw.metrics["validation"] == pytest.approx(
        from_folder.metrics["validation"], rel=1e-5
    )
    # The run records the folder's data settings and a max_length fitted to
    # the data (none was given).
    assert from_folder.config.train_path == data
    expected = PreparedDataset.load(str(tmp_path / "prepared"))
    assert from_folder.config.max_length == expected.default_max_length()
    assert raw.config.max_length == from_folder.config.max_length
    # Its tokenizer folder is the prepared one, copied.
    assert TrainingRun.load(str(tmp_path / "from_folder")).predict(
        ["a wonderful film"]
    )[0]["label_name"] in ("negative", "positive")


def test_a_data_setting_that_contradicts_the_folder_is_refused(tmp_path):
    data = write_sentiment_csv(str(tmp_path / "reviews.csv"), 60)
    prepare({**SENTIMENT, "train_path": data}, str(tmp_path / "prepared"))
    folder = str(tmp_path / "prepared")
    with pytest.raises(ValueError, match=r"`vocabulary_size` differs from "
                       r"the prepared data .*vocabulary_size=120.*Received: "
                       r"vocabulary_size=500"):
        train({**SENTIMENT, "prepared": folder, "vocabulary_size": 500},
              str(tmp_path / "run"), verbose=0)
    with pytest.raises(ValueError, match="holds 'sentiment' data. Received: "
                       "task='classification'"):
        train({**SENTIMENT, "task": "classification", "prepared": folder},
              str(tmp_path / "run"), verbose=0)
    with pytest.raises(ValueError, match="not a prepared dataset"):
        train({**SENTIMENT, "prepared": str(tmp_path)},
              str(tmp_path / "run"), verbose=0)


@pytest.mark.parametrize("task", ["sentiment", "pretraining"])
def test_an_unset_variable_in_a_data_path_is_named(tmp_path, monkeypatch,
                                                   task):
    monkeypatch.delenv("ATTNPRED_DATA_UNSET", raising=False)
    path = "${ATTNPRED_DATA_UNSET}/reviews.csv"
    config = tmp_path / "config.yaml"
    # Pretraining reads a list of files; a classifier, one.
    paths = f"\n  - {path}" if task == "pretraining" else f" {path}"
    config.write_text(f"task: {task}\ntrain_path:{paths}\n"
                      "text_column: text\n")
    with pytest.raises(ValueError, match=r"environment variable that is not "
                       r"set. Received: train_path='\$\{ATTNPRED_DATA_UNSET"):
        prepare(TrainingConfig.from_file(str(config)),
                str(tmp_path / "prepared"))
    assert not os.path.exists(tmp_path / "prepared")


def test_a_run_refuses_a_folder_of_another_tokenizer(tmp_path):
    data = write_sentiment_csv(str(tmp_path / "reviews.csv"), 120)
    other = write_sentiment_csv(str(tmp_path / "other.csv"), 120, seed=3)
    prepare({**SENTIMENT, "train_path": data}, str(tmp_path / "mine"))
    prepare({**SENTIMENT, "train_path": other}, str(tmp_path / "theirs"))
    run = train({**SENTIMENT, "prepared": str(tmp_path / "mine"),
                 "epochs": 1}, str(tmp_path / "run"), verbose=0)
    assert "accuracy" in run.evaluate(
        PreparedDataset.load(str(tmp_path / "mine")), part="validation"
    )
    with pytest.raises(ValueError, match="prepared with another tokenizer "
                       "than the run's.*theirs"):
        run.evaluate(PreparedDataset.load(str(tmp_path / "theirs")),
                     part="validation")


def test_a_folder_of_given_tokenizers_takes_the_configs_vocabulary_request(
        tmp_path):
    """The config that `prepare --tokenizers-from` read trains on its
    folder, whose vocabulary is the given tokenizer's."""
    data = write_sentiment_csv(str(tmp_path / "reviews.csv"), 120)
    config = {**SENTIMENT, "train_path": data, "epochs": 1}
    prepare(config, str(tmp_path / "first"))
    folder = str(tmp_path / "second")
    prepare({**config, "vocabulary_size": 500}, folder,
            tokenizers_from=str(tmp_path / "first"))
    size = PreparedDataset.load(folder).vocabulary_sizes["tokenizer"]
    assert size < 500
    run = train({**config, "vocabulary_size": 500, "prepared": folder},
                str(tmp_path / "run"), verbose=0)
    assert run.config.vocabulary_size == size
    # A folder that learned its own tokenizer still refuses another size.
    with pytest.raises(ValueError, match="`vocabulary_size` differs"):
        train({**config, "vocabulary_size": 500,
               "prepared": str(tmp_path / "first")},
              str(tmp_path / "other"), verbose=0)


def _without_tensorflow(tmp_path):
    """A function that runs `attnpred` commands (lists of arguments) one
    after the other in one process on JAX without TensorFlow, in
    `tmp_path`, and returns their outputs."""
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def blocked(*commands):
        args = []
        for command in commands:
            args += [THEN, *command] if args else command
        result = subprocess.run(
            [sys.executable, WITHOUT_TENSORFLOW, *args], capture_output=True,
            text=True, env=env, cwd=str(tmp_path), timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        outputs = result.stdout.split(SEPARATOR + "\n")
        assert len(outputs) == len(commands) + 1 and not outputs[-1]
        return outputs[:-1]

    return blocked


def test_a_process_without_tensorflow_trains_from_prepared_folders(tmp_path):
    """The GPU machines have JAX and no TensorFlow: a classifier and a
    translator train there from `attnpred prepare`'s folders, and evaluate
    on them; the runs then serve here like any other."""
    pytest.importorskip("jax")
    reviews = write_sentiment_csv(str(tmp_path / "reviews.csv"), 120)
    pairs = write_translation_tsv(str(tmp_path / "pairs.tsv"), 120)
    for args in (
        ["--task", "sentiment", "--data", reviews, "--vocabulary-size", "80",
         "--out", str(tmp_path / "reviews")],
        ["--task", "translation", "--data", pairs, "--vocabulary-size", "80",
         "--out", str(tmp_path / "pairs")],
    ):
        assert cli.main(["prepare", *args]) == 0
    blocked = _without_tensorflow(tmp_path)
    # One process (JAX starts once). Every new batch shape is a new jit
    # compilation (seconds each): one bucket above the longest text (16
    # ids, 8 ids) keeps the same few shapes in every epoch; one epoch of the
    # classifier, two of the translator to average.
    out, _, report = blocked(
        ["train", "--prepared", "reviews", "--model", "rnn", "--preset",
         "tiny", "--epochs", "1", "--batch-size", "16", "--learning-rate",
         "0.01", "--bucket-boundaries", "17", "--out", "reviews_run"],
        ["train", "--prepared", "pairs", "--preset", "tiny", "--epochs", "2",
         "--average-last-epochs", "2", "--bucket-boundaries", "9", "--out",
         "pairs_run"],
        ["evaluate", "reviews_run", "--prepared", "reviews", "--part",
         "validation"],
    )
    assert "labels: negative" in out and "parameters" in out
    report = json.loads(report)
    with open(tmp_path / "reviews_run" / "metrics.json") as f:
        metrics = json.load(f)
    assert report["accuracy"] == pytest.approx(
        metrics["validation"]["accuracy"]
    )
    assert "checkpoint_averaging" in json.loads(
        (tmp_path / "pairs_run" / "metrics.json").read_text()
    )
    # Here (TensorFlow): the JAX runs load, predict, translate and evaluate.
    run = TrainingRun.load(str(tmp_path / "reviews_run"))
    assert len(run.predict(["a wonderful film"])) == 1
    translation = TrainingRun.load(str(tmp_path / "pairs_run"))
    assert isinstance(translation.translator.translate(["the cat"])[0], str)
    assert cli.main(["evaluate", str(tmp_path / "pairs_run"),
                     "--data", pairs, "--max-examples", "5"]) == 0


@pytest.mark.slow  # two JAX processes: ~45 s on 2 shared cores
def test_a_process_without_tensorflow_pretrains_and_fine_tunes(tmp_path):
    """Pretraining and `--init-from` fine-tuning from prepared folders need
    no TensorFlow either; the runs then serve here."""
    pytest.importorskip("jax")
    corpus = write_corpus(str(tmp_path / "corpus.txt"), 120)
    reviews = write_sentiment_csv(str(tmp_path / "reviews.csv"), 80)
    assert cli.main(["prepare", "--task", "pretraining", "--data", corpus,
                     "--vocabulary-size", "100", "--out",
                     str(tmp_path / "corpus")]) == 0
    assert cli.main(["prepare", "--task", "sentiment", "--data", reviews,
                     "--tokenizers-from", str(tmp_path / "corpus"),
                     "--out", str(tmp_path / "reviews")]) == 0
    blocked = _without_tensorflow(tmp_path)
    blocked(["pretrain", "--prepared", "corpus", "--preset", "tiny",
             "--max-length", "16", "--epochs", "1", "--batch-size", "16",
             "--out", "pretrained"],
            ["train", "--prepared", "reviews", "--init-from", "pretrained",
             "--epochs", "1", "--batch-size", "16", "--out", "tuned"])
    pretrained = TrainingRun.load(str(tmp_path / "pretrained"))
    assert pretrained.config.task == "pretraining"
    tuned = TrainingRun.load(str(tmp_path / "tuned"))
    assert tuned.config.init_from == "pretrained"
    assert tuned.config.max_length == 16
    assert len(tuned.predict(["a wonderful film"])) == 1
    report = pretrained.evaluate(PreparedDataset.load(str(tmp_path /
                                                          "corpus")),
                                 part="validation")
    assert report["loss"] == pytest.approx(
        pretrained.metrics["validation"]["loss"], rel=1e-3
    )

def test_checkpoint_averaging_keeps_the_better_weights():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    kernel, bias = model.trainable_variables
    epochs = EpochWeights(keep=3)
    for epoch, value in enumerate([1.0, 3.0, 5.0]):
        kernel.assign(np.full((1, 1), value))
        bias.assign(np.zeros((1,)))
        epochs.set_model(model)
        epochs.on_epoch_end(epoch)
    # The model holds epoch 3 (kernel 5); the loss is |kernel - 3|, so the
    # average of epochs 2-3 (kernel 4) is better than the held weights.
    def evaluate():
        return {"loss": abs(float(kernel.numpy()[0, 0]) - 3.0)}

    report = average_checkpoints(model, epochs, 3, 2, evaluate, "val_loss")
    assert report["kept"] == "average of epochs 2-3"
    assert kernel.numpy()[0, 0] == pytest.approx(4.0)
    # Averaged over all three (kernel 3) is better still; with accuracy as
    # the monitor, higher is better and the held weights win.
    kernel.assign(np.full((1, 1), 5.0))
    report = average_checkpoints(
        model, epochs, 3, 3, lambda: {"accuracy": -evaluate()["loss"]},
        "val_accuracy",
    )
    assert report["kept"] == "average of epochs 1-3"
    kernel.assign(np.full((1, 1), 3.0))
    report = average_checkpoints(
        model, epochs, 3, 3, lambda: {"accuracy": 1.0 - evaluate()["loss"]},
        "val_accuracy",
    )
    assert report["kept"] == "held weights"
    assert kernel.numpy()[0, 0] == pytest.approx(3.0)


def test_the_optimizer_recipes():
    base = {"task": "sentiment", "train_path": "x.csv"}
    plain = build_optimizer(TrainingConfig.from_dict(base), 100)
    assert type(plain) is keras.optimizers.Adam
    decayed = build_optimizer(TrainingConfig.from_dict(
        {**base, "learning_rate": 0.01, "learning_rate_decay": "cosine",
         "weight_decay": 0.004, "clipnorm": 1.0}
    ), 100)
    assert type(decayed) is keras.optimizers.AdamW
    assert decayed.weight_decay == pytest.approx(0.004)
    assert decayed.clipnorm == 1.0
    # Keras keeps the schedule itself there (`learning_rate` is its value).
    schedule = decayed._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(100)) == pytest.approx(0.0005)
    with pytest.raises(ValueError, match="learning_rate_decay"):
        TrainingConfig.from_dict({**base, "learning_rate": "transformer",
                                  "learning_rate_decay": "cosine"})


def test_the_warmup_of_the_learning_rate():
    from keras_attnpred.training.transformer_schedule import TransformerSchedule

    base = {"task": "pretraining", "train_path": "corpus.txt",
            "learning_rate": 0.01}
    assert TrainingConfig.from_dict(base).warmup_steps is None
    # None: a float rate stays a float, without a schedule.
    plain = build_optimizer(TrainingConfig.from_dict(base), 100)
    assert float(plain.learning_rate) == pytest.approx(0.01)
    # A linear warm-up to the rate, then constant (no decay asked for).
    warm = build_optimizer(
        TrainingConfig.from_dict({**base, "warmup_steps": 10}), 100
    )._learning_rate
    assert isinstance(warm, keras.optimizers.schedules.CosineDecay)
    for step, expected in [(0, 0.0), (5, 0.005), (10, 0.01), (55, 0.01),
                           (100, 0.01)]:
        assert float(warm(step)) == pytest.approx(expected, abs=1e-7), step
    # With the cosine decay: warm-up, then down to 5% at the last step.
    decayed = build_optimizer(TrainingConfig.from_dict(
        {**base, "warmup_steps": 10, "learning_rate_decay": "cosine"}
    ), 100)._learning_rate
    assert float(decayed(5)) == pytest.approx(0.005)
    assert float(decayed(10)) == pytest.approx(0.01)
    assert float(decayed(55)) == pytest.approx(0.01 * (0.05 + 0.95 / 2))
    assert float(decayed(100)) == pytest.approx(0.0005)
    # The paper's schedule: 4000 steps unless told.
    for steps, expected in [(None, 4000), (50, 50)]:
        schedule = build_optimizer(TrainingConfig.from_dict(
            {**base, "learning_rate": "transformer", "warmup_steps": steps}
        ), 100)._learning_rate
        assert isinstance(schedule, TransformerSchedule)
        assert schedule.warmup_steps == expected

def test_a_head_and_tail_classifier_reads_long_texts_as_in_training(tmp_path):
    from keras_attnpred.data import RaggedIds
    from keras_attnpred.export import TFLiteClassifier
    from keras_attnpred.export import export_classifier_tflite

    data = write_sentiment_csv(str(tmp_path / "reviews.csv"), 80)
    run = train({**SENTIMENT, "train_path": data, "epochs": 1,
                 "max_length": 6, "head_tokens": 2, "bucket_boundaries": None},
                str(tmp_path / "run"), verbose=0)
    classifier = TrainingRun.load(str(tmp_path / "run")).classifier
    assert classifier.head_tokens == 2
    texts = ["the film was dull and the plot was really awful music",
             "great"]
    ragged = classifier.tokenizer.tokenize(texts)
    ids = RaggedIds.from_flat(ragged.flat_values.numpy(),
                              ragged.row_splits.numpy())
    long_row = ids.row(0)
    assert len(long_row) > 6
    # The model's answer on the opening 2 and the last 4 ids.
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(run.model.predict_on_batch(
        np.concatenate([long_row[:2], long_row[-4:]])[None])))
    np.testing.assert_allclose(
        classifier.predict_proba(texts[:1]), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="head_tokens=2"):
        classifier.explain(texts[:1])
    assert len(classifier.explain(texts[1:])) == 1
    # The exports cut long texts the same way (tests/export checks how):
    # the run folder's text model (the float32 one only: each quantized
    # model is a conversion more).
    exported = export_classifier_tflite(
        str(tmp_path / "run"), str(tmp_path / "export"),
        quantizations=["float32"])
    text_model = TFLiteClassifier(exported["text"])
    np.testing.assert_allclose(text_model.predict(texts[:1]), expected,
                               atol=1e-4)
