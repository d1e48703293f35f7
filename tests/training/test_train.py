import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_attnpred.data import LabeledTexts
from keras_attnpred.data import ParallelTexts
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training import TrainingRun
from keras_attnpred.training import train
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv

COMMON = {
    "preset": "tiny",
    "vocabulary_size": 120,
    "max_length": 16,
    "learning_rate": 0.01,
    "batch_size": 16,
}


def sentiment_config(tmp_path, **overrides):
    path = write_sentiment_csv(str(tmp_path / "reviews.csv"), 240)
    return {"task": "sentiment", "train_path": path, "epochs": 2,
            **COMMON, **overrides}


def test_classification_end_to_end(tmp_path):
    test_path = write_sentiment_csv(str(tmp_path / "test.csv"), 40, seed=1)
    config = sentiment_config(tmp_path, test_path=test_path,
                              bucket_boundaries="auto")
    out = str(tmp_path / "run")
    run = train(config, out, verbose=0)

    for name in ("config.json", "model.keras", "checkpoints/best.keras",
                 "backup", "logs/train", "logs/validation", "logs/hparams",
                 "metrics.json", "tokenizer/vocabulary.txt", "labels.json"):
        assert os.path.exists(os.path.join(out, name)), name
    with open(os.path.join(out, "labels.json")) as f:
        assert json.load(f) == {"label_names": ["negative", "positive"]}
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    for part in ("train", "validation", "test"):
        assert 0.0 <= metrics[part]["accuracy"] <= 1.0
        assert np.isfinite(metrics[part]["loss"])
    assert metrics["epochs_completed"] == 2
    assert metrics["parameter_count"] == run.model.count_params() > 0
    assert 0.0 <= metrics["padding_fraction"] < 1.0
    assert metrics["training_seconds"] > 0
    assert len(metrics["history"]["val_loss"]) == 2

    loaded = TrainingRun.load(out)
    assert loaded.label_names == ("negative", "positive")
    assert loaded.config == run.config
    predictions = loaded.predict(["a great film", "the plot was dull"])
    assert [set(p) for p in predictions] == [
        {"label", "label_name", "probabilities"}] * 2
    for p in predictions:
        np.testing.assert_allclose(sum(p["probabilities"]), 1.0, atol=1e-5)
        assert p["label_name"] == loaded.label_names[p["label"]]
    # The reloaded model gives the run's own numbers.
    test = LabeledTexts.from_csv(test_path, "text", "label")
    evaluated = loaded.evaluate(test)
    np.testing.assert_allclose(evaluated["accuracy"],
                               metrics["test"]["accuracy"], atol=1e-6)
    np.testing.assert_allclose(evaluated["loss"], metrics["test"]["loss"],
                               rtol=1e-5)


def test_translation_end_to_end(tmp_path):
    path = write_translation_tsv(str(tmp_path / "pairs.tsv"), 300)
    config = {"task": "translation", "train_path": path, "epochs": 1,
              "label_smoothing": 0.1, "learning_rate": "transformer",
              "warmup_steps": 20, "clipnorm": 1.0, "max_examples": 200,
              **COMMON}
    out = str(tmp_path / "run")
    run = train(config, out, verbose=0)
    for name in ("config.json", "model.keras", "checkpoints/best.keras",
                 "metrics.json", "source_tokenizer/vocabulary.txt",
                 "target_tokenizer/vocabulary.txt", "translator.json"):
        assert os.path.exists(os.path.join(out, name)), name
    with open(os.path.join(out, "translator.json")) as f:
        assert json.load(f) == {"max_length": 16}
    # 270 training pairs after the 10% split, capped at 200: 13 batches.
    assert run.metrics["history"]["loss"] and run.model.optimizer.iterations == 13
    loaded = TrainingRun.load(out)
    assert loaded.source_tokenizer.vocabulary_size > 4
    pairs = ParallelTexts.from_tsv(path)
    result = loaded.evaluate(pairs)
    assert 0.0 <= result["accuracy"] <= 1.0 and np.isfinite(result["loss"])
    with pytest.raises(ValueError, match="needs a classification run"):
        loaded.predict(["the cat"])


def test_load_names_the_missing_file(tmp_path):
    out = str(tmp_path / "run")
    train(sentiment_config(tmp_path, epochs=1, model="rnn"), out, verbose=0)
    os.remove(os.path.join(out, "labels.json"))
    with pytest.raises(ValueError, match="missing 'labels.json'"):
        TrainingRun.load(out)
    shutil.rmtree(os.path.join(out, "tokenizer"))
    os.remove(os.path.join(out, "config.json"))
    with pytest.raises(ValueError, match="missing 'config.json'"):
        TrainingRun.load(out)
    with pytest.raises(ValueError, match="not a directory"):
        TrainingRun.load(str(tmp_path / "nowhere"))


class Interrupt(keras.callbacks.Callback):
    """Raises after `batches` batches of epoch index `epoch`."""

    def __init__(self, epoch, batches):
        super().__init__()
        self.target, self.batches, self.epoch = epoch, batches, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.target and batch + 1 == self.batches:
            raise KeyboardInterrupt("simulated interruption")


class Epochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(epoch)


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    # The Transformer preset has dropout: the dropout seeds must resume too.
    config = sentiment_config(tmp_path, epochs=3)
    whole = train(config, str(tmp_path / "whole"), verbose=0)

    out = str(tmp_path / "interrupted")
    with pytest.raises(KeyboardInterrupt):
        train(config, out, callbacks=[Interrupt(epoch=1, batches=3)],
              verbose=0)
    assert os.path.exists(os.path.join(out, "backup"))
    assert not os.path.exists(os.path.join(out, "model.keras"))
    keras.backend.clear_session()
    epochs = Epochs()
    resumed = train(config, out, callbacks=[epochs], verbose=0)
    assert epochs.seen == [1, 2]  # epoch 0 was not run again
    assert resumed.metrics["epochs_completed"] == 3
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sentencepiece_run_trains_predicts_and_explains(tmp_path):
    from keras_attnpred.explain import explain_classification
    from keras_attnpred.text import SentencePieceTokenizer

    out = str(tmp_path / "run")
    config = sentiment_config(tmp_path, tokenizer="sentencepiece", epochs=4,
                              model="rnn")
    run = train(config, out, verbose=0)
    assert sorted(os.listdir(os.path.join(out, "tokenizer"))) == [
        "sentencepiece.model", "tokenizer.json"]
    loaded = TrainingRun.load(out)
    assert loaded.config.tokenizer == "sentencepiece"
    assert isinstance(loaded.tokenizer, SentencePieceTokenizer)
    assert loaded.tokenizer.get_vocabulary() == run.tokenizer.get_vocabulary()
    predictions = loaded.predict(["a wonderful film", "the plot was awful"])
    assert [p["label_name"] for p in predictions] == ["positive", "negative"]
    # The reloaded tokenizer gives the ids of training: the same numbers.
    data = LabeledTexts.from_csv(config["train_path"], "text", "label")
    np.testing.assert_allclose(
        loaded.evaluate(data)["loss"], run.evaluate(data)["loss"], rtol=1e-5)
    [explanation] = explain_classification(
        loaded.model, loaded.tokenizer, ["The film was wonderful"],
        label_names=loaded.label_names, max_length=16)
    assert explanation.tokens[0].startswith("▁")
    assert explanation.merge_subwords().tokens == [
        "the", "film", "was", "wonderful"]


def test_sentencepiece_translation_run(tmp_path):
    from keras_attnpred.inference import Translator
    from keras_attnpred.text import SentencePieceTokenizer

    path = write_translation_tsv(str(tmp_path / "pairs.tsv"), 200)
    out = str(tmp_path / "run")
    train({"task": "translation", "train_path": path, "epochs": 1,
           "tokenizer": "sentencepiece", **COMMON}, out, verbose=0)
    translator = Translator.load(out)
    for tokenizer in (translator.source_tokenizer,
                      translator.target_tokenizer):
        assert isinstance(tokenizer, SentencePieceTokenizer)
    assert translator.target_tokenizer.lowercase is False  # cased targets
    [translation, empty] = translator.translate(["the cat eats", ""])
    assert isinstance(translation, str) and empty == ""


def test_a_backup_from_before_the_tokenizer_setting_resumes(tmp_path):
    from keras_attnpred.training import TrainingConfig
    from keras_attnpred.training._resume_checks import check_same_run

    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "training_metadata.json").write_text('{"epoch": 1}')
    values = {"task": "sentiment", "train_path": "a.csv"}
    old = TrainingConfig.from_dict(values).to_dict()
    del old["tokenizer"]  # written before the setting existed
    (backup / "config.json").write_text(json.dumps(old))
    check_same_run(str(backup), TrainingConfig.from_dict(values),
                   resuming=True)
    (backup / "config.json").write_text(json.dumps(old))
    with pytest.raises(ValueError, match="tokenizer='wordpiece' -> "
                       "'sentencepiece'"):
        check_same_run(str(backup), TrainingConfig.from_dict(
            {**values, "tokenizer": "sentencepiece"}), resuming=True)


def test_bigram_classifier_trains_saves_and_reloads(tmp_path):
    config = sentiment_config(tmp_path, model="rnn", epochs=1,
                              bigram_buckets=97)
    out = str(tmp_path / "run")
    run = train(config, out, verbose=0)
    bigrams = run.model.backbone.bigram_embedding
    assert bigrams.num_buckets == 97
    loaded = TrainingRun.load(out)
    assert loaded.config.bigram_buckets == 97
    texts = ["a great film", "the plot was dull"]
    np.testing.assert_allclose(
        [p["probabilities"] for p in loaded.predict(texts)],
        [p["probabilities"] for p in run.predict(texts)], atol=1e-6)


def _event_files(directory):
    return sorted(name for name in os.listdir(directory)
                  if name.startswith("events."))


def test_a_finished_run_is_replaced_only_with_overwrite(tmp_path):
    config = sentiment_config(tmp_path, epochs=1, model="rnn")
    out = str(tmp_path / "run")
    train(config, out, verbose=0)
    with open(os.path.join(out, "model.keras"), "rb") as f:
        model_bytes = f.read()
    before = sorted(os.walk(out))

    with pytest.raises(ValueError, match="holds a finished run") as info:
        train({**config, "epochs": 2}, out, verbose=0)
    assert "overwrite=True" in str(info.value)
    assert sorted(os.walk(out)) == before  # not a file touched
    with open(os.path.join(out, "model.keras"), "rb") as f:
        assert f.read() == model_bytes

    keep = os.path.join(out, "notes.txt")  # not the run's: stays
    with open(keep, "w") as f:
        f.write("mine")
    run = train({**config, "epochs": 2}, out, verbose=0, overwrite=True)
    assert run.metrics["epochs_completed"] == 2
    assert len(run.metrics["history"]["loss"]) == 2
    # The logs hold the new run's events only.
    assert len(_event_files(os.path.join(out, "logs", "train"))) == 1
    assert os.path.exists(keep)
    with pytest.raises(ValueError, match="`overwrite` must be a bool"):
        train(config, out, verbose=0, overwrite="yes")


def test_a_failed_start_leaves_nothing_behind(tmp_path):
    out = tmp_path / "run"
    # Bad data: the label column is missing.
    bad = sentiment_config(tmp_path, epochs=1, label_column="stars")
    with pytest.raises(ValueError, match="no column named 'stars'"):
        train(bad, str(out), verbose=0)
    assert not out.exists()
    # A directory made beforehand stays, empty.
    out.mkdir()
    with pytest.raises(ValueError, match="no column named 'stars'"):
        train(bad, str(out), verbose=0)
    assert list(out.iterdir()) == []
    # Interrupted in its first epoch: nothing to resume, nothing kept.
    config = sentiment_config(tmp_path, epochs=2, model="rnn")
    with pytest.raises(KeyboardInterrupt):
        train(config, str(out), callbacks=[Interrupt(epoch=0, batches=2)],
              verbose=0)
    assert list(out.iterdir()) == []
    # After the first epoch the backup stays, and the call resumes.
    with pytest.raises(KeyboardInterrupt):
        train(config, str(out), callbacks=[Interrupt(epoch=1, batches=2)],
              verbose=0)
    assert (out / "backup" / "training_metadata.json").exists()
    run = train(config, str(out), verbose=0)
    assert run.metrics["epochs_completed"] == 2


class Scramble(keras.callbacks.Callback):
    """Before epoch index `epoch`, fills every trainable weight with noise:
    that epoch validates worse than the trained one before it."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            rng = np.random.default_rng(0)
            for variable in self.model.trainable_variables:
                variable.assign(rng.normal(0, 3, variable.shape))


class WeightsByEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch + 1] = self.model.get_weights()


def assert_weights(model, expected):
    for a, b in zip(model.get_weights(), expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_the_run_keeps_the_validation_best_model_and_the_last(tmp_path):
    from keras_attnpred.serialization import load_model

    out = str(tmp_path / "run")
    seen = WeightsByEpoch()
    run = train(sentiment_config(tmp_path, epochs=3, model="rnn"), out,
                callbacks=[Scramble(epoch=2), seen], verbose=0)
    losses = run.metrics["history"]["val_loss"]
    best = int(np.argmin(losses)) + 1
    assert best < 3 and losses[2] > losses[best - 1]  # the last is worse
    with open(os.path.join(out, "metrics.json")) as f:
        assert json.load(f)["weights"] == {
            "kept": "best", "epoch": best, "monitor": "val_loss",
            "value": losses[best - 1], "last_epoch": 3}
    # model.keras (and the returned model) is the best epoch's, as
    # checkpoints/best.keras; checkpoints/last.keras the last epoch's.
    assert_weights(run.model, seen.weights[best])
    assert_weights(load_model(os.path.join(out, "model.keras")),
                   seen.weights[best])
    assert_weights(load_model(os.path.join(out, "checkpoints/best.keras")),
                   seen.weights[best])
    assert_weights(load_model(os.path.join(out, "checkpoints/last.keras")),
                   seen.weights[3])
    np.testing.assert_allclose(run.metrics["validation"]["loss"],
                               losses[best - 1], rtol=1e-5)

    last = TrainingRun.load(out, weights="last")
    assert_weights(last.model, seen.weights[3])
    assert last.weights_kept == {"kept": "last", "epoch": 3}
    assert TrainingRun.load(out).weights_kept["epoch"] == best
    with pytest.raises(ValueError, match="`weights` must be one of"):
        TrainingRun.load(out, weights="final")
    os.remove(os.path.join(out, "checkpoints/last.keras"))  # an older run
    with pytest.raises(ValueError, match="keeps no last-epoch model"):
        TrainingRun.load(out, weights="last")


def test_checkpoint_averaging_starts_from_the_best_epoch(tmp_path):
    out = str(tmp_path / "run")
    run = train(sentiment_config(tmp_path, epochs=4, model="rnn",
                                 average_last_epochs=2),
                out, callbacks=[Scramble(epoch=3)], verbose=0)
    losses = run.metrics["history"]["val_loss"]
    best = int(np.argmin(losses)) + 1
    averaging = run.metrics["checkpoint_averaging"]
    # The held weights are the best epoch's, not the scrambled last one's.
    np.testing.assert_allclose(averaging["held_loss"], losses[best - 1],
                               rtol=1e-5)
    weights = run.metrics["weights"]
    if averaging["kept"].startswith("average"):
        assert weights["kept"] == "average"
        assert weights["epochs"] == averaging["epochs"]
    else:
        assert weights["kept"] == "best" and weights["epoch"] == best


def _summaries(directory):
    """`{(tag, step)}` of the TensorBoard events in `directory`."""
    import tensorflow as tf

    found = set()
    for name in _event_files(directory):
        for event in tf.compat.v1.train.summary_iterator(
                os.path.join(directory, name)):
            for value in event.summary.value:
                found.add((value.tag, event.step))
    return found


def test_attention_maps_and_confusion_matrix_in_tensorboard(tmp_path):
    pytest.importorskip("matplotlib")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorBoard's images are written with TensorFlow")
    out = tmp_path / "run"
    train(sentiment_config(tmp_path, epochs=2, model="rnn", attention_maps=2),
          str(out), verbose=0)
    assert _summaries(out / "logs" / "attention") == {
        (f"attention/example_{i}", step) for i in (0, 1) for step in (0, 1)}
    assert _summaries(out / "logs" / "confusion_matrix") == {
        (tag, step) for tag in ("confusion_matrix", "macro_f1")
        for step in (0, 1)}


def test_attention_maps_of_a_translator_trained_on_a_prepared_folder(
        tmp_path):
    from keras_attnpred.training import prepare

    pytest.importorskip("matplotlib")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorBoard's images are written with TensorFlow")
    path = write_translation_tsv(str(tmp_path / "pairs.tsv"), 120)
    config = {"task": "translation", "train_path": path, "epochs": 1,
              **COMMON}
    prepare(config, str(tmp_path / "prepared"))  # the tokenizers are there
    out = tmp_path / "translator"
    train({**config, "prepared": str(tmp_path / "prepared"),
           "attention_maps": 3}, str(out), verbose=0)
    assert _summaries(out / "logs" / "attention") == {
        (f"attention/example_{i}", 0) for i in range(3)}
    assert not (out / "logs" / "confusion_matrix").exists()


def test_with_early_stopping_the_last_model_is_the_last_epoch(tmp_path):
    """`EarlyStopping` restores the best weights when it stops; the last
    epoch's model is kept all the same."""
    from keras_attnpred.serialization import load_model

    out = str(tmp_path / "run")
    seen = WeightsByEpoch()
    run = train(sentiment_config(tmp_path, epochs=5, model="rnn",
                                 early_stopping_patience=1),
                out, callbacks=[Scramble(epoch=2), seen], verbose=0)
    weights = run.metrics["weights"]
    last = weights["last_epoch"]
    assert last == run.metrics["epochs_completed"] < 5  # stopped early
    assert weights["epoch"] < last
    assert_weights(load_model(os.path.join(out, "checkpoints/last.keras")),
                   seen.weights[last])
    assert_weights(run.model, seen.weights[weights["epoch"]])


class _Clock(keras.callbacks.Callback):
    """A clock for `TimeLimit` and `RunHistory` that moves `seconds` at
    each epoch start (after they have read it)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.now = 0.0

    def monotonic(self):
        return self.now

    perf_counter = monotonic

    def on_epoch_begin(self, epoch, logs=None):
        self.now += self.seconds


def test_time_limit_stops_before_an_epoch_that_would_pass_it(
        tmp_path, monkeypatch):
    from keras_attnpred.training import _training_callbacks

    clock = _Clock(3.0)
    monkeypatch.setattr(_training_callbacks, "time", clock)
    out = str(tmp_path / "run")
    # Epochs of 3 s: after the second, a third would end past 7.5 s.
    run = train(sentiment_config(tmp_path, epochs=6, model="rnn",
                                 time_limit=7.5),
                out, callbacks=[clock], verbose=0)
    assert run.metrics["epochs_completed"] == 2
    assert run.metrics["stopped_by_time_limit"] is True
    assert os.path.isfile(os.path.join(out, "model.keras"))
    # The last epoch passing the limit stops nothing.
    clock.now = 0.0
    run = train(sentiment_config(tmp_path, epochs=1, model="rnn",
                                 time_limit=0.5),
                str(tmp_path / "other"), callbacks=[clock], verbose=0)
    assert run.metrics["epochs_completed"] == 1
    assert run.metrics["stopped_by_time_limit"] is False
    with pytest.raises(ValueError, match="time_limit=0"):
        TrainingConfig.from_dict(sentiment_config(tmp_path, time_limit=0))


def test_a_resumed_run_reports_keeps_and_averages_as_one_never_stopped(
        tmp_path, monkeypatch):
    from keras_attnpred.serialization import load_model
    from keras_attnpred.training import _run_history

    clock = _Clock(10.0)  # epochs of 10 s
    monkeypatch.setattr(_run_history, "time", clock)
    # A Transformer (dropout) whose third epoch starts from scrambled
    # weights: the best epoch is the second, before the interruption, and
    # early stopping (patience 1) ends the run after the third.
    config = sentiment_config(tmp_path, epochs=4, learning_rate=0.002,
                              average_last_epochs=2,
                              early_stopping_patience=1)

    def run(out, *callbacks):
        return train(config, str(tmp_path / out), verbose=0,
                     callbacks=[Scramble(epoch=2), clock, *callbacks])

    whole = run("whole").metrics
    assert whole["epochs_completed"] == 3 and whole["weights"]["epoch"] == 2
    with pytest.raises(KeyboardInterrupt):
        run("resumed", Interrupt(epoch=2, batches=1))
    keras.backend.clear_session()
    epochs = Epochs()
    resumed = run("resumed", epochs).metrics
    assert epochs.seen == [2]  # and early stopping stopped after it
    assert resumed["epochs_completed"] == 3
    # All the epochs, and the seconds of both calls.
    assert sorted(resumed["history"]) == sorted(whole["history"])
    for key, values in whole["history"].items():
        np.testing.assert_allclose(resumed["history"][key], values,
                                   rtol=1e-5, atol=1e-6)
    assert resumed["training_seconds"] == whole["training_seconds"] == 30.0
    # The best epoch and the average are chosen among all the epochs.
    for record in ("weights", "checkpoint_averaging"):
        numbers = {k for k, v in whole[record].items() if isinstance(v, float)}
        assert {k: v for k, v in resumed[record].items() if k not in numbers
                } == {k: v for k, v in whole[record].items()
                      if k not in numbers}
        for key in numbers:
            np.testing.assert_allclose(resumed[record][key],
                                       whole[record][key], rtol=1e-5)
    assert resumed["checkpoint_averaging"]["epochs"] == [1, 2]
    for name in ("model.keras", "checkpoints/best.keras",
                 "checkpoints/last.keras"):
        expected = load_model(str(tmp_path / "whole" / name)).get_weights()
        for a, b in zip(
                load_model(str(tmp_path / "resumed" / name)).get_weights(),
                expected):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class _FlashAttentionSetting(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(keras.config.is_flash_attention_enabled())


@pytest.mark.parametrize("flash_attention, during", [(False, False),
                                                     (True, None)])
def test_flash_attention_false_trains_without_fused_kernels(
    tmp_path, flash_attention, during
):
    setting = _FlashAttentionSetting()
    config = sentiment_config(tmp_path, model="transformer", epochs=1,
                              flash_attention=flash_attention)
    train(config, str(tmp_path / "run"), callbacks=[setting], verbose=0)
    assert setting.seen and set(setting.seen) == {during}
    assert keras.config.is_flash_attention_enabled() is None  # restored


def test_a_run_resumes_with_flash_attention_turned_off(tmp_path):
    config = sentiment_config(tmp_path, epochs=2)
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train(config, out, callbacks=[Interrupt(epoch=1, batches=3)],
              verbose=0)
    # A kernel choice does not change what was trained, so the way around
    # a kernel's NaN may be taken on resuming, as `time_limit` may change.
    epochs = Epochs()
    train({**config, "flash_attention": False}, out, callbacks=[epochs],
          verbose=0)
    assert epochs.seen == [1]
