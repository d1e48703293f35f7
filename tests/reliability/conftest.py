"""Tiny trained runs shared by the reliability tests, made once a session."""

import contextlib
import io
import json
import shutil

import pytest

from tests.training.tiny_data import write_sentiment_csv
from tests.training.tiny_data import write_translation_tsv

TINY = {
    "preset": "tiny",
    "vocabulary_size": 80,
    "max_length": 12,
    "learning_rate": 0.01,
    "batch_size": 16,
    "epochs": 1,
}


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """`{"classification": dir, "translation": dir, "reviews": csv,
    "pairs": tsv}`: run directories laid out as `train` writes them (an
    RNN sentiment classifier and a Transformer translator, tokenizers
    learned on the files), with untrained weights: fitting would only
    slow the tests down."""
    root = tmp_path_factory.mktemp("runs")
    reviews = write_sentiment_csv(str(root / "reviews.csv"), 120)
    pairs = write_translation_tsv(str(root / "pairs.tsv"), 120)
    _classification_run(root / "classification", reviews)
    _translation_run(root / "translation", pairs)
    return {"classification": root / "classification",
            "translation": root / "translation",
            "reviews": reviews, "pairs": pairs, "loaded": {}}


def _save_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f)


def _classification_run(directory, reviews):
    import keras

    from keras_attnpred.data import LabeledTexts
    from keras_attnpred.models import build_rnn_classifier
    from keras_attnpred.text import SubwordTokenizer
    from keras_attnpred.training import TrainingConfig
    from keras_attnpred.training import _run_files as files

    config = TrainingConfig.from_dict(
        {"task": "sentiment", "train_path": reviews, "model": "rnn", **TINY})
    texts = LabeledTexts.from_csv(reviews, "text", "label")
    tokenizer = SubwordTokenizer.train(list(texts.texts),
                                       config.vocabulary_size)
    model = build_rnn_classifier(tokenizer.vocabulary_size, 2,
                                 embedding_dim=16, units=16)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), metrics=["accuracy"])
    # As after `fit`: the saved optimizer state matches a reloaded one.
    model.optimizer.build(model.trainable_variables)
    directory.mkdir()
    model.save(directory / files.MODEL)
    tokenizer.save(str(directory / files.TOKENIZER))
    _save_json(directory / files.CONFIG, config.to_dict())
    _save_json(directory / files.METRICS, {})
    _save_json(directory / files.LABELS,
               {"label_names": ["negative", "positive"]})


def _translation_run(directory, pairs):
    from keras_attnpred.data import ParallelTexts
    from keras_attnpred.inference import Translator
    from keras_attnpred.models import build_transformer_translator
    from keras_attnpred.text import SubwordTokenizer
    from keras_attnpred.training import TrainingConfig
    from keras_attnpred.training import _run_files as files

    config = TrainingConfig.from_dict(
        {"task": "translation", "train_path": pairs, **TINY})
    texts = ParallelTexts.from_tsv(pairs)
    source = SubwordTokenizer.train(list(texts.sources),
                                    config.vocabulary_size)
    target = SubwordTokenizer.train(list(texts.targets),
                                    config.vocabulary_size, lowercase=False)
    model = build_transformer_translator(
        source.vocabulary_size, target.vocabulary_size, config.max_length,
        preset="tiny")
    Translator(model, source, target, config.max_length).save(str(directory))
    _save_json(directory / files.CONFIG, config.to_dict())
    _save_json(directory / files.METRICS, {})


class Env:
    """What a case needs: a scratch folder, the tiny runs, loaded objects."""

    def __init__(self, tmp_path, runs):
        self.tmp = tmp_path
        self.runs = runs

    def write(self, name, data):
        """Writes str (UTF-8) or bytes to `tmp/name`; returns the path."""
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str)
                         else data)
        return str(path)

    def run_copy(self, kind, name=None):
        """A fresh copy of a run directory, to damage."""
        target = self.tmp / (name or f"{kind}_copy")
        shutil.copytree(self.runs[kind], target)
        return target

    def cli(self, *argv):
        """Runs `attnpred` in this process: `(exit status, stderr)`."""
        from keras_attnpred import cli

        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = cli.main([str(a) for a in argv])
            except SystemExit as exit:
                code = exit.code
        return code, err.getvalue(), out.getvalue()

    def _loaded(self, key, load):
        # Loaded once a session: reading a model takes a second or two.
        if key not in self.runs["loaded"]:
            self.runs["loaded"][key] = load()
        return self.runs["loaded"][key]

    @property
    def tokenizer(self):
        """The classification run's `SubwordTokenizer`."""
        from keras_attnpred.text import SubwordTokenizer

        return self._loaded("tokenizer", lambda: SubwordTokenizer.load(
            str(self.runs["classification"] / "tokenizer")))

    @property
    def run(self):
        """The classification run as a `TrainingRun`."""
        from keras_attnpred.training import TrainingRun

        return self._loaded("run", lambda: TrainingRun.load(
            str(self.runs["classification"])))

    def export(self, kind):
        """The path of one export of the tiny runs, written once a session:
        `"classifier"` or `"translator"` (SavedModel version folders),
        `"classifier_tflite"` (the raw-text `.tflite`, batch 4),
        `"classifier_tflite_ids"` (the float32 `.tflite` on ids, batch 1) or
        `"translator_tflite"` (the folder of the float32 pair, batch 2)."""
        from keras_attnpred import export

        root = self.runs["classification"].parent / "exports"
        exporters = {
            "classifier": lambda: export.export_classifier_saved_model(
                self.run, str(root / "classifier")),
            "translator": lambda: export.export_translator_saved_model(
                self.translation_run, str(root / "translator")),
            "classifier_tflite": lambda: export.export_classifier_tflite(
                self.run, str(root / "classifier_tflite"),
                quantizations=[], batch_size=4)["text"],
            "classifier_tflite_ids": lambda: export.export_classifier_tflite(
                self.run, str(root / "classifier_tflite_ids"),
                quantizations=["float32"], text_model=False)["float32"],
            "translator_tflite": lambda: export.export_translator_tflite(
                self.translation_run, str(root / "translator_tflite"),
                batch_size=2, quantizations=["float32"])
            and str(root / "translator_tflite"),
        }
        return self._loaded(f"export {kind}", exporters[kind])

    def signatures(self, kind):
        """The signatures of the `"classifier"` or `"translator"`
        SavedModel, loaded as a server would (TensorFlow Text only)."""
        import tensorflow as tf
        import tensorflow_text  # noqa: F401 (registers the tokenizer ops)

        return self._loaded(f"signatures {kind}", lambda: tf.saved_model.load(
            self.export(kind)).signatures)

    @property
    def tflite_classifier(self):
        """The raw-text TFLite classifier as a `TFLiteClassifier`."""
        from keras_attnpred.export import TFLiteClassifier

        return self._loaded("tflite classifier", lambda: TFLiteClassifier(
            self.export("classifier_tflite")))

    @property
    def tflite_translator(self):
        """The TFLite translator as a `TFLiteTranslator`."""
        from keras_attnpred.export import TFLiteTranslator

        return self._loaded("tflite translator", lambda: TFLiteTranslator(
            self.export("translator_tflite")))

    @property
    def translation_run(self):
        """The translation run as a `TrainingRun`."""
        from keras_attnpred.training import TrainingRun

        return self._loaded("translation run", lambda: TrainingRun.load(
            str(self.runs["translation"])))

    @property
    def translator(self):
        """The translation run as a `Translator`."""
        from keras_attnpred.inference import Translator

        return self._loaded("translator", lambda: Translator.load(
            str(self.runs["translation"])))


@pytest.fixture
def env(tmp_path, runs):
    return Env(tmp_path, runs)
