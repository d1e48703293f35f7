import json
import os

import keras
import numpy as np

from keras_attnpred.models import upgrade_legacy_model
from keras_attnpred.serialization import load_model
from keras_attnpred.training import _run_files as files
from keras_attnpred.training._batch_feeds import keras_data
from keras_attnpred.training._model_factory import pretraining_batch_settings
from keras_attnpred.training._tokenizer_files import other_tokenizer
from keras_attnpred.training.training_config import TrainingConfig
from keras_attnpred.validation import check_vocabulary_fits

# The models of a run: `model.keras` and `checkpoints/last.keras`.
WEIGHTS = ("best", "last")


class TrainingRun:
    """A trained model with everything needed to use it, from `train`.

    Classification runs have `tokenizer` and `label_names`; translation runs
    `source_tokenizer` and `target_tokenizer` (the other attributes are
    None). `classifier` and `translator` hand out the inference objects
    (`keras_attnpred.inference`) that predict, translate and export; here a
    run evaluates loss and accuracy (teacher-forced for translation).

    Args:
        config: the `TrainingConfig`.
        model: the trained, compiled `keras.Model` (logits out).
        metrics: dict, the content of `metrics.json`.
        tokenizer: `SubwordTokenizer` or `SentencePieceTokenizer` of a
            classification run.
        label_names: tuple of str, the class names of a classification run.
        source_tokenizer: the tokenizer of a translation run's source.
        target_tokenizer: `SubwordTokenizer` of its target.
        directory: str, the run directory, or None.

    Example:

    >>> run = TrainingRun.load(sentiment_run)  # the out_dir of `train`
    >>> run.config.task, run.label_names
    ('sentiment', ('negative', 'positive'))
    >>> predictions = run.predict(["a wonderful film", "a dull plot"])
    >>> [p["label_name"] for p in predictions]
    ['positive', 'negative']
    >>> sorted(predictions[0])
    ['label', 'label_name', 'probabilities']
    >>> run.classifier.label_names == run.label_names
    True
    """

    def __init__(
        self,
        config,
        model,
        metrics,
        tokenizer=None,
        label_names=None,
        source_tokenizer=None,
        target_tokenizer=None,
        directory=None,
    ):
        self.config = config
        self.model = model
        self.metrics = metrics
        self.label_names = None if label_names is None else tuple(label_names)
        self._tokenizers = {
            files.TOKENIZER: tokenizer,
            files.SOURCE_TOKENIZER: source_tokenizer,
            files.TARGET_TOKENIZER: target_tokenizer,
        }
        self.directory = directory
        # Which of the run's models this is: `load(weights=...)`.
        self.weights = "best"

    @property
    def tokenizer(self):
        """The tokenizer of a classification run (read from the run
        directory when first needed: it takes TensorFlow Text)."""
        return self._tokenizer(files.TOKENIZER)

    @property
    def source_tokenizer(self):
        """The source tokenizer of a translation run."""
        return self._tokenizer(files.SOURCE_TOKENIZER)

    @property
    def target_tokenizer(self):
        """The target tokenizer of a translation run."""
        return self._tokenizer(files.TARGET_TOKENIZER)

    def _tokenizer(self, name):
        ours = (
            (files.SOURCE_TOKENIZER, files.TARGET_TOKENIZER)
            if self.config.is_translation
            else (files.TOKENIZER,)
        )
        if name not in ours:
            return None
        if self._tokenizers[name] is None and self.directory is not None:
            from keras_attnpred.text import load_tokenizer

            path = os.path.join(self.directory, name)
            tokenizer = load_tokenizer(path)
            check_vocabulary_fits(self.model, name, tokenizer, f" in {path}")
            self._tokenizers[name] = tokenizer
        return self._tokenizers[name]

    def __repr__(self):
        return (
            f"TrainingRun(task={self.config.task!r}, "
            f"model={self.config.model!r}, directory={self.directory!r})"
        )

    @classmethod
    def load(cls, directory, weights="best"):
        """Reads a run directory written by `train`.

        Args:
            directory: str, the `out_dir` of `train`.
            weights: `"best"`, the run's model (`model.keras`: the
                validation-best epoch, or its checkpoint average), or
                `"last"`, the model of the last epoch
                (`checkpoints/last.keras`).

        Returns:
            A `TrainingRun` with that model; its tokenizers are read when
            first used, so a run loads (and evaluates on a
            `PreparedDataset`) without TensorFlow. `weights_kept` says
            which epoch its model is.

        Raises:
            ValueError: the directory is missing, incomplete (the missing
                file is named) or holds a corrupt file (named): JSON that
                does not parse, a bad setting, `labels.json` without one
                name per class of the model, a `model.keras` that is not a
                readable archive.
        """
        directory = os.fspath(directory)
        if weights not in WEIGHTS:
            raise ValueError(
                f"`weights` must be one of {list(WEIGHTS)}. Received: "
                f"weights={weights!r}"
            )
        if not os.path.isdir(directory):
            raise ValueError(
                "`directory` must be a run directory written by `train`. "
                f"Received: directory={directory!r} (not a directory)"
            )
        config = read_run_config(directory)
        kind = _kind(config)
        for name in files.REQUIRED[kind]:
            _require(directory, os.path.join(directory, name))
        metrics = _read_json(directory, files.METRICS)
        if not isinstance(metrics, dict):
            _corrupt(directory, files.METRICS, "expected a JSON object")
        model_file = files.MODEL
        if weights == "last":
            model_file = files.LAST
            if not os.path.isfile(os.path.join(directory, model_file)):
                raise ValueError(
                    f"The run {directory!r} keeps no last-epoch model "
                    f"({model_file}; runs of earlier versions do not): its "
                    f"{files.MODEL} is all there is. Received: "
                    "weights='last'"
                )
        model = _upgraded(load_model(os.path.join(directory, model_file)))
        if config.is_classification:
            label_names = _read_json(directory, files.LABELS)
            label_names = (
                label_names.get("label_names")
                if isinstance(label_names, dict)
                else None
            )
            classes = model.outputs[0].shape[-1]
            if (
                not isinstance(label_names, list)
                or not all(isinstance(n, str) for n in label_names)
                or len(label_names) != classes
            ):
                _corrupt(
                    directory,
                    files.LABELS,
                    f'expected {{"label_names": [...]}} with {classes} str, '
                    "one per class of the model. Received: "
                    f"label_names={label_names!r}",
                )
            run = cls(
                config, model, metrics, label_names=label_names,
                directory=directory,
            )
        else:
            run = cls(config, model, metrics, directory=directory)
        run.weights = weights
        return run

    @property
    def weights_kept(self):
        """Which epoch the model is: `metrics.json`'s `"weights"` record
        (`{"kept": "best", "epoch": N, ...}`, or `"kept": "average"`), or
        for a run loaded with `weights="last"`, `{"kept": "last", "epoch":
        M}`; `{"kept": "unrecorded"}` for runs of earlier versions."""
        record = self.metrics.get("weights")
        if not isinstance(record, dict):
            return {"kept": "unrecorded"}
        if self.weights == "last":
            return {"kept": "last", "epoch": record.get("last_epoch")}
        return dict(record)

    @property
    def classifier(self):
        """The run's `keras_attnpred.inference.Classifier` (classification
        runs only): the model, the tokenizer, the class names and the
        run's `max_length`."""
        from keras_attnpred.inference import Classifier

        self._check_task("classifier", classification=True)
        return Classifier(
            self.model,
            self.tokenizer,
            self.label_names,
            max_length=self.config.max_length,
            head_tokens=self.config.head_tokens,
        )

    @property
    def translator(self):
        """The run's `keras_attnpred.inference.Translator` (translation
        runs only)."""
        from keras_attnpred.inference import Translator

        self._check_task("translator", classification=False)
        return Translator(
            self.model,
            self.source_tokenizer,
            self.target_tokenizer,
            max_length=self.config.max_length,
        )

    def predict(self, texts, batch_size=None):
        """Classifies texts (classification runs only): `Classifier.predict`
        with the run's batch size by default.

        Returns:
            One dict per text: `{"label": int, "label_name": str,
            "probabilities": list of float}` (softmax of the logits, one per
            class).
        """
        self._check_task("predict", classification=True)
        return self.classifier.predict(
            texts, batch_size=batch_size or self.config.batch_size
        )

    def evaluate(self, data, batch_size=None, part="test"):
        """Loss and accuracy of the model on new data, without dropout.

        Args:
            data: a `LabeledTexts` (classification, with the run's classes)
                or a `ParallelTexts` (translation: teacher-forced next-token
                accuracy and loss over the real tokens, padding left out),
                tokenized here with the run's tokenizers; or a
                `PreparedDataset` made with the run's tokenizers (`prepare`
                with `tokenizers_from`, or the folder the run trained on),
                which needs no TensorFlow; for a pretraining run only this
                (the masked pieces' loss and accuracy, fixed masks).
            batch_size: int, default the run's batch size.
            part: str, the part of a `PreparedDataset` to evaluate.

        Returns:
            `{"accuracy": float, "loss": float}`.
        """
        batches = self._batches(data, batch_size, part)
        values = self.model.evaluate(
            keras_data(batches), return_dict=True, verbose=0
        )
        return {
            "accuracy": float(values["accuracy"]),
            "loss": float(values["loss"]),
        }

    def classification_report(self, data, batch_size=None, part="test"):
        """Per-class precision, recall and F1, macro-F1 and the confusion
        matrix of a classification run on labelled data
        (`keras_attnpred.inference.classification_metrics`).

        Args:
            data, batch_size, part: as for `evaluate`.

        Returns:
            The dict of `classification_metrics`, its texts cut and batched
            as `evaluate` does.
        """
        from keras_attnpred.inference import classification_metrics

        self._check_task("classification_report", classification=True)
        batches = self._batches(data, batch_size, part)
        labels, predictions = [], []
        for index in range(len(batches)):
            ids, batch_labels = batches[index]
            logits = keras.ops.convert_to_numpy(
                self.model.predict_on_batch(ids)
            )
            predictions.append(np.argmax(logits, axis=-1))
            labels.append(batch_labels)
        return classification_metrics(
            np.concatenate(labels), np.concatenate(predictions),
            self.label_names,
        )

    def _batches(self, data, batch_size, part):
        """The `PreparedBatches` of `evaluate`'s `data`, in order."""
        from keras_attnpred.data import PreparedDataset

        if isinstance(data, PreparedDataset):
            dataset = self._check_prepared(data)
        else:
            dataset, part = self._prepared_from_texts(data), "test"
        return dataset.batches(
            part,
            self.config.max_length,
            batch_size=batch_size or self.config.batch_size,
            bucket_boundaries=self.config.bucket_boundaries,
            head_tokens=self.config.head_tokens,
            **pretraining_batch_settings(self.config),
        )

    def _check_prepared(self, dataset):
        if _kind(dataset) != _kind(self.config):
            raise ValueError(
                f"`data` holds {dataset.task!r} data, the run is a "
                f"{self.config.task!r} run. Received: a PreparedDataset "
                f"of {dataset.directory!r}"
            )
        if dataset.is_translation and bool(
            dataset.settings.get("reverse", False)
        ) != self.config.reverse:
            raise ValueError(
                "`data` translates the other way round: prepared with "
                f"reverse={dataset.settings.get('reverse')!r}, the run trained "
                f"with reverse={self.config.reverse!r}. Received: a "
                f"PreparedDataset of {dataset.directory!r}"
            )
        if dataset.is_classification and (
            tuple(dataset.label_names) != self.label_names
        ):
            raise ValueError(
                "`data` must have the run's classes, in its order "
                f"{list(self.label_names)}. Received: label_names="
                f"{list(dataset.label_names)!r}"
            )
        name = (
            other_tokenizer(dataset.directory, self.directory,
                            dataset.tokenizer_names)
            if dataset.directory is not None and self.directory is not None
            else None
        )
        if name is not None:
            raise ValueError(
                f"`data` was prepared with another {name} than the "
                "run's: prepare it with `tokenizers_from` set to the "
                f"run. Received: {dataset.directory!r}"
            )
        return dataset

    def _prepared_from_texts(self, data):
        from keras_attnpred.data import LabeledTexts
        from keras_attnpred.data import ParallelTexts
        from keras_attnpred.data import PreparedDataset
        from keras_attnpred.training.prepare import token_ids

        if self.config.task == "pretraining":
            raise ValueError(
                "`data` must be a `PreparedDataset` for a pretraining run "
                "(`prepare` with `tokenizers_from` the run). Received: data "
                f"of type {type(data).__name__}"
            )
        if self.config.is_classification:
            if not isinstance(data, LabeledTexts):
                raise ValueError(
                    "`data` must be a `LabeledTexts` or a `PreparedDataset` "
                    "for a classification run. Received: data of type "
                    f"{type(data).__name__}"
                )
            if len(data.label_names) > len(self.label_names):
                raise ValueError(
                    f"`data` has {len(data.label_names)} classes, the "
                    f"model {len(self.label_names)}. Received: "
                    f"label_names={data.label_names!r}"
                )
            part = {
                "ids": token_ids(self.tokenizer, data.texts),
                "labels": data.labels,
            }
            sizes = {files.TOKENIZER: self.tokenizer.vocabulary_size}
        else:
            if not isinstance(data, ParallelTexts):
                raise ValueError(
                    "`data` must be a `ParallelTexts` or a `PreparedDataset` "
                    "for a translation run. Received: data of type "
                    f"{type(data).__name__}"
                )
            part = {
                "source": token_ids(self.source_tokenizer, data.sources),
                "target": token_ids(self.target_tokenizer, data.targets),
            }
            sizes = {
                files.SOURCE_TOKENIZER: self.source_tokenizer.vocabulary_size,
                files.TARGET_TOKENIZER: self.target_tokenizer.vocabulary_size,
            }
        return PreparedDataset(
            self.config.task,
            {"train": part, "test": part},
            label_names=self.label_names,
            vocabulary_sizes=sizes,
        )

    def _check_task(self, method, classification):
        kind = "classification" if classification else "translation"
        # Not a two-way test: a pretraining run is neither.
        if _kind(self.config) != kind:
            raise ValueError(
                f"`{method}` needs a {kind} run. Received: a run "
                f"with task={self.config.task!r}"
            )


def _kind(data):
    """"classification" (sentiment too), "translation" or "pretraining", of
    a `TrainingConfig` or a `PreparedDataset`."""
    return "classification" if data.is_classification else data.task




def _upgraded(model):
    """`model`, or the task class of a model saved by an earlier version,
    compiled as the saved one was (for `evaluate`)."""
    upgraded = upgrade_legacy_model(model)
    if upgraded is not model and model.compiled:
        upgraded.compile_from_config(model.get_compile_config())
    return upgraded


def read_run_config(directory):
    """The `TrainingConfig` of a run directory, its file named on errors."""
    config_path = os.path.join(directory, files.CONFIG)
    _require(directory, config_path)
    values = _read_json(directory, files.CONFIG)
    try:
        return TrainingConfig.from_dict(values)
    except ValueError as error:
        _corrupt(directory, files.CONFIG, str(error))


def _read_json(directory, name):
    path = os.path.join(directory, name)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        _corrupt(directory, name, f"not valid JSON ({error})")


def _corrupt(directory, name, problem):
    raise ValueError(
        f"Corrupt run file {os.path.join(directory, name)}: {problem}"
    ) from None


def _require(directory, path):
    if not os.path.exists(path):
        raise ValueError(
            f"Incomplete run directory {directory!r}: missing "
            f"{os.path.relpath(path, directory)!r}. Was `train` interrupted "
            "before the end?"
        )
