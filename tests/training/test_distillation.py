"""Knowledge distillation through the training path (`teacher`, `attnpred
distill`): the student run is an ordinary run."""

import json
import os
import types

import numpy as np
import pytest

from keras_attnpred import cli
from keras_attnpred.data import PreparedDataset
from keras_attnpred.models import TextClassifier
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training import TrainingRun
from keras_attnpred.training import prepare
from keras_attnpred.training import sequence_level_targets
from keras_attnpred.training import train
from tests.training.tiny_data import write_corpus
from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv

TEACHER = {
    "task": "sentiment", "model": "transformer", "preset": "tiny",
    "vocabulary_size": 100, "max_length": 16, "batch_size": 16,
    "learning_rate": 0.005, "epochs": 3,
}
STUDENT = {
    "task": "sentiment", "model": "rnn", "preset": "tiny",
    "embedding_dim": 16, "units": 16, "batch_size": 16, "learning_rate": 0.01, "epochs": 2,
}


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    """A Transformer teacher and an RNN student distilled from it on raw
    data, with unlabelled texts."""
    root = tmp_path_factory.mktemp("distillation")
    reviews = write_sentiment_csv(str(root / "reviews.csv"), 120)
    unlabeled = write_corpus(str(root / "unlabeled.txt"), 60)
    teacher = train({**TEACHER, "train_path": reviews},
                    str(root / "teacher"), verbose=0)
    student = train(
        {**STUDENT, "train_path": reviews, "teacher": teacher.directory,
         "unlabeled_path": unlabeled, "distillation_alpha": 0.7},
        str(root / "student"), verbose=0,
    )
    return types.SimpleNamespace(root=root, reviews=reviews,
                                 unlabeled=unlabeled, teacher=teacher,
                                 student=student)


def test_student_run_is_an_ordinary_classifier_run(distilled):
    run = TrainingRun.load(distilled.student.directory)
    assert type(run.model) is TextClassifier
    assert run.model.count_params() < run.metrics["distillation"][
        "teacher_parameter_count"]
    last = TrainingRun.load(distilled.student.directory, weights="last")
    assert type(last.model) is TextClassifier
    with open(os.path.join(run.directory, "checkpoints", "best.keras"),
              "rb") as f:
        assert f.read(2) == b"PK"  # a .keras zip of the student alone
    assert sorted(run.metrics["validation"]) == ["accuracy", "loss"]
    facts = run.metrics["distillation"]
    assert facts["method"] == "soft-targets"
    assert facts["unlabeled_examples"] == 60
    assert facts["alpha"] == 0.7
    # The teacher's tokenizer, byte for byte.
    for name in os.listdir(os.path.join(distilled.teacher.directory,
                                        "tokenizer")):
        with open(os.path.join(run.directory, "tokenizer", name), "rb") as a:
            with open(os.path.join(distilled.teacher.directory, "tokenizer",
                                   name), "rb") as b:
                assert a.read() == b.read()
    assert run.config.max_length == 16  # the teacher's
    history = run.metrics["history"]
    assert {"distillation_loss", "label_loss", "accuracy"} <= set(history)


def test_a_student_monitored_on_accuracy_keeps_its_best_epoch(distilled,
                                                              tmp_path):
    # Keras infers a monitor's direction from the compiled metrics of the
    # model it saves; the student a Distiller saves has none.
    run = train(
        {**STUDENT, "train_path": distilled.reviews, "epochs": 3,
         "teacher": distilled.teacher.directory, "monitor": "val_accuracy",
         "early_stopping_patience": 3},
        str(tmp_path / "student"), verbose=0,
    )
    scores = run.metrics["history"]["val_accuracy"]
    assert run.metrics["weights"]["epoch"] == int(np.argmax(scores)) + 1


@pytest.fixture(scope="module")
def transformer_student(distilled):
    """A Transformer student, with the teacher's attention transferred."""
    return train(
        {**STUDENT, "model": "transformer", "epochs": 1,
         "train_path": distilled.reviews,
         "teacher": distilled.teacher.directory,
         "distillation_attention_weight": 1.0},
        str(distilled.root / "transformer_student"), verbose=0,
    )


@pytest.mark.parametrize("kind", ["rnn", "transformer"])
def test_student_evaluates_predicts_explains_and_exports(
        kind, distilled, transformer_student, tmp_path, capsys):
    student = distilled.student if kind == "rnn" else transformer_student
    run_dir = student.directory
    assert cli.main(["evaluate", run_dir, "--data", distilled.reviews]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0.0 <= report["accuracy"] <= 1.0
    assert cli.main(["predict", run_dir, "a wonderful film"]) == 0
    assert capsys.readouterr().out.strip()
    picture = str(tmp_path / "why.html")
    assert cli.main(["explain", run_dir, "a wonderful film", "--out",
                     picture]) == 0
    assert os.path.getsize(picture) > 0
    base = str(tmp_path / "export")
    assert cli.main(["export", run_dir, "--out", base]) == 0
    tflite = set(os.listdir(os.path.join(base, "tflite", "1")))
    assert {"classifier_float32.tflite",
            "classifier_dynamic_int8.tflite"} <= tflite
    # Full int8 as for any classifier: not for recurrent ones.
    assert ("classifier_int8.tflite" in tflite) == (kind == "transformer")
    assert os.path.isfile(os.path.join(base, "1", "saved_model.pb"))


def test_unlabeled_part_is_prepared_and_trained_on(distilled, tmp_path):
    prepared = str(tmp_path / "prepared")
    config = {**STUDENT, "train_path": distilled.reviews,
              "unlabeled_path": distilled.unlabeled}
    prepare(config, prepared, tokenizers_from=distilled.teacher.directory)
    data = PreparedDataset.load(prepared)
    assert len(data.part("unlabeled")["ids"]) == 60
    assert (data.part("unlabeled")["labels"] == -1).all()
    run = train({**STUDENT, "prepared": prepared, "epochs": 1,
                 "teacher": distilled.teacher.directory},
                str(tmp_path / "student"), verbose=0)
    assert run.metrics["distillation"]["unlabeled_examples"] == 60
    # Without a teacher the unlabelled part is left out of training.
    plain = train({**STUDENT, "prepared": prepared, "epochs": 1},
                  str(tmp_path / "plain"), verbose=0)
    assert "distillation" not in plain.metrics


def test_teacher_checks(distilled, tmp_path):
    other = str(tmp_path / "other")
    prepare({**STUDENT, "train_path": distilled.reviews,
             "vocabulary_size": 60}, other)
    with pytest.raises(ValueError, match="another tokenizer than the teacher"):
        train({**STUDENT, "prepared": other,
               "teacher": distilled.teacher.directory},
              str(tmp_path / "a"), verbose=0)
    with pytest.raises(ValueError, match="at most the teacher's 16"):
        train({**STUDENT, "train_path": distilled.reviews, "max_length": 32,
               "teacher": distilled.teacher.directory},
              str(tmp_path / "b"), verbose=0)
    with pytest.raises(ValueError, match="has no config.json"):
        train({**STUDENT, "train_path": distilled.reviews,
               "teacher": str(tmp_path)}, str(tmp_path / "c"), verbose=0)
    with pytest.raises(ValueError, match="distillation_alpha=1.5"):
        TrainingConfig.from_dict({**STUDENT, "train_path": "x.csv",
                                  "distillation_alpha": 1.5})
    with pytest.raises(ValueError, match="unlabeled_path"):
        TrainingConfig.from_dict({"task": "translation",
                                  "train_path": "x.tsv",
                                  "unlabeled_path": "u.txt"})
    with pytest.raises(ValueError, match="distillation_attention_weight"):
        TrainingConfig.from_dict({**STUDENT, "train_path": "x.csv",
                                  "teacher": "t",
                                  "distillation_attention_weight": 1.0})


def test_attention_transfer_between_transformers(transformer_student):
    run = transformer_student
    assert run.metrics["distillation"]["attention_weight"] == 1.0
    assert np.isfinite(run.metrics["history"]["loss"]).all()


def test_distill_command(distilled, tmp_path, capsys):
    out = str(tmp_path / "student")
    status = cli.main([
        "distill", distilled.teacher.directory, "--student", "tiny",
        "--model", "rnn", "--units", "16", "--epochs", "1", "--distillation-temperature",
        "3", "--out", out,
    ])
    assert status == 0, capsys.readouterr().err
    run = TrainingRun.load(out)
    # The data and the task are the teacher's.
    assert run.config.train_path == distilled.teacher.config.train_path
    assert run.config.teacher == distilled.teacher.directory
    assert run.metrics["distillation"]["temperature"] == 3.0
    status = cli.main(["distill", str(tmp_path), "--student", "tiny",
                       "--out", str(tmp_path / "x")])
    assert status == 2
    assert "is not a run directory" in capsys.readouterr().err


@pytest.fixture(scope="module")
def translation_teacher(tmp_path_factory):
    root = tmp_path_factory.mktemp("translation_distillation")
    pairs = write_translation_tsv(str(root / "pairs.tsv"), 80)
    run = train({"task": "translation", "train_path": pairs,
                 "preset": "tiny", "vocabulary_size": 60, "max_length": 12,
                 "batch_size": 16, "learning_rate": 0.005, "epochs": 2},
                str(root / "teacher"), verbose=0)
    return types.SimpleNamespace(root=root, pairs=pairs, run=run)


def test_sequence_level_targets_are_the_teachers_beam_outputs(
        translation_teacher):
    from keras_attnpred.decoding import beam_search

    teacher = translation_teacher.run
    prepared = str(translation_teacher.root / "prepared")
    prepare({"task": "translation", "train_path": translation_teacher.pairs},
            prepared, tokenizers_from=teacher.directory)
    sources = PreparedDataset.load(prepared).part("train")["source"]
    targets = sequence_level_targets(teacher.model, sources, max_length=12,
                                     beam_width=3, batch_size=8)
    assert len(targets) == len(sources)
    for row in range(len(sources)):
        ids, _ = beam_search(teacher.model, sources.row(row)[None, :12],
                             beam_width=3, max_length=11)
        expected = ids[0, 0]
        expected = expected[expected != 0]
        if len(expected) and expected[-1] == 3:  # [END]
            expected = expected[:-1]
        np.testing.assert_array_equal(targets.row(row), expected)


def test_translation_student_trains_on_the_teachers_translations(
        translation_teacher, tmp_path):
    teacher = translation_teacher.run
    run = train({"task": "translation", "train_path": translation_teacher.pairs,
                 "model": "rnn", "preset": "tiny", "batch_size": 16,
                 "epochs": 1, "teacher": teacher.directory,
                 "distillation_beam_width": 2,
                 "distillation_keep_references": True},
                str(tmp_path / "student"), verbose=0)
    facts = run.metrics["distillation"]
    assert facts["method"] == "sequence-level"
    # The 72 training pairs (80 less a tenth held out), with the
    # teacher's translations of their sources.
    assert facts["training_examples"] == 144
    loaded = TrainingRun.load(run.directory)
    [translation] = loaded.translator.translate(["the cat eats fish"])
    assert isinstance(translation, str)


def test_an_interrupted_translation_student_resumes_on_the_same_targets(
        translation_teacher, tmp_path, monkeypatch):
    import importlib

    import keras

    from keras_attnpred.training import _backup
    from tests.training.test_train import Epochs
    from tests.training.test_train import Interrupt

    # `training.sequence_level_targets` is the function: the module is
    # taken from `sys.modules`.
    module = importlib.import_module(
        "keras_attnpred.training.sequence_level_targets")
    search = module.sequence_level_targets
    searched = []

    def recorded_search(*args, **kwargs):
        searched.append(search(*args, **kwargs))
        return searched[-1]

    monkeypatch.setattr(module, "sequence_level_targets", recorded_search)
    config = {"task": "translation", "train_path": translation_teacher.pairs,
              "model": "rnn", "preset": "tiny", "batch_size": 16,
              "epochs": 3, "teacher": translation_teacher.run.directory,
              "distillation_beam_width": 2}
    out = str(tmp_path / "student")
    with pytest.raises(KeyboardInterrupt):
        train(config, out, callbacks=[Interrupt(epoch=1, batches=2)],
              verbose=0)
    # The translations are kept with the backup, as searched.
    kept = _backup.read_teacher_targets(os.path.join(out, "backup"), 72)
    np.testing.assert_array_equal(kept.values, searched[0].values)
    np.testing.assert_array_equal(kept.offsets, searched[0].offsets)
    keras.backend.clear_session()
    epochs = Epochs()
    run = train(config, out, callbacks=[epochs], verbose=0)
    assert epochs.seen == [1, 2]  # after the last completed epoch
    assert len(searched) == 1  # the kept translations, not a new search
    assert len(run.metrics["history"]["loss"]) == 3
    assert run.metrics["distillation"]["training_examples"] == 72
    assert os.listdir(os.path.join(out, "backup")) == []  # the run is saved
