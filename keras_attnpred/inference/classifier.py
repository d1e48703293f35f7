import json
import os

import keras
import numpy as np

from keras_attnpred.data import RaggedIds
from keras_attnpred.explain import explain_classification
from keras_attnpred.models import upgrade_legacy_model
from keras_attnpred.serialization import load_model
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_texts
from keras_attnpred.validation import check_vocabulary_fits

MODEL_FILENAME = "model.keras"
TOKENIZER_DIRNAME = "tokenizer"
LABELS_FILENAME = "labels.json"
CONFIG_FILENAME = "classifier.json"
# A run directory of `train` keeps `max_length` in its settings file.
RUN_CONFIG_FILENAME = "config.json"


class Classifier:
    """Classifies text with a trained classifier, its tokenizer and its
    class names: the counterpart of `Translator` for classification.

    Each text is tokenized with `tokenizer` and cut to `max_length` ids, as
    in training: words past that are not seen (with `head_tokens`, a long
    text keeps its opening and its end instead), words outside the
    vocabulary count as `[UNK]`, and a text without tokens gets the model's
    answer for a fully padded input.

    A classifier saves to and loads from a directory; a run directory of
    `keras_attnpred.training.train` loads too:

    ```
    directory/model.keras
    directory/tokenizer/          (the tokenizer's save)
    directory/labels.json         {"label_names": [...]}
    directory/classifier.json     {"max_length": N, "head_tokens": H}
    ```

    Args:
        model: a `TextClassifier` (a model saved by an earlier version is
            upgraded with `upgrade_legacy_model`).
        tokenizer: the `SubwordTokenizer` or `SentencePieceTokenizer` of the
            model.
        label_names: list of str, one name per class, by class id.
        max_length: int, the most ids kept per text (training's).
        head_tokens: optional int < `max_length` (training's): a longer text
            keeps its first `head_tokens` ids and its last
            `max_length - head_tokens`.

    Example:

    >>> run = TrainingRun.load(sentiment_run)
    >>> classifier = Classifier(run.model, run.tokenizer,
    ...                         ["negative", "positive"], max_length=16)
    >>> classifier.predict(["A wonderful film.", "A dull plot."])
    [{'label': 1, 'label_name': 'positive', 'probabilities': [..., ...]},
     {'label': 0, 'label_name': 'negative', 'probabilities': [..., ...]}]
    >>> classifier.save("sentiment")
    >>> Classifier.load("sentiment").predict_proba(["Great!"]).shape
    (1, 2)
    >>> explanation = classifier.explain(["A wonderful film."])[0]

    References:
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
    """

    def __init__(self, model, tokenizer, label_names, max_length,
                 head_tokens=None):
        if not isinstance(model, keras.Model):
            raise ValueError(
                "`model` must be a `keras.Model`. "
                f"Received: model of type {type(model).__name__}"
            )
        if not callable(getattr(tokenizer, "tokenize", None)):
            raise ValueError(
                "`tokenizer` must be a `SubwordTokenizer` or a "
                "`SentencePieceTokenizer`. Received: tokenizer of type "
                f"{type(tokenizer).__name__}"
            )
        self.model = upgrade_legacy_model(model)
        check_vocabulary_fits(self.model, "tokenizer", tokenizer)
        self.tokenizer = tokenizer
        self.label_names = _check_label_names(label_names, self.model)
        self.max_length = check_positive_int("max_length", max_length)
        self.head_tokens = check_positive_int(
            "head_tokens", head_tokens, allow_none=True, minimum=0
        )
        if self.head_tokens is not None and self.head_tokens >= max_length:
            raise ValueError(
                "`head_tokens` must be less than `max_length`. Received: "
                f"head_tokens={head_tokens} and max_length={max_length}"
            )

    def predict_proba(self, texts, batch_size=32):
        """Class probabilities of `texts`.

        Args:
            texts: list of str (or UTF-8 bytes).
            batch_size: int, texts classified together.

        Returns:
            float32 NumPy array `(len(texts), num_classes)`, each row the
            softmax of the logits.
        """
        texts = check_texts("texts", texts, allow_empty=True)
        batch_size = check_positive_int("batch_size", batch_size)
        if not texts:
            return np.zeros((0, len(self.label_names)), "float32")
        ids = self._ids(texts)
        lengths = np.clip(ids.lengths, 1, self.max_length)
        logits = []
        for start in range(0, len(texts), batch_size):
            rows = np.arange(start, min(start + batch_size, len(texts)))
            # Padded to the batch's longest text, as in training.
            length = int(lengths[rows].max())
            batch = ids.padded(
                rows,
                length,
                self.head_tokens if length == self.max_length else None,
            )
            logits.append(
                keras.ops.convert_to_numpy(
                    self.model.predict_on_batch(batch)
                )
            )
        logits = np.concatenate(logits)
        probabilities = keras.ops.softmax(
            keras.ops.cast(logits, "float32"), axis=-1
        )
        return np.asarray(keras.ops.convert_to_numpy(probabilities), "float32")

    def predict(self, texts, batch_size=32):
        """Classifies `texts`.

        Returns:
            One dict per text: `{"label": int, "label_name": str,
            "probabilities": list of float}`; `[]` for no texts.
        """
        results = []
        for row in self.predict_proba(texts, batch_size=batch_size):
            label = int(np.argmax(row))
            results.append(
                {
                    "label": label,
                    "label_name": self.label_names[label],
                    "probabilities": [float(p) for p in row],
                }
            )
        return results

    def _ids(self, texts):
        """The ids of `texts` as `RaggedIds`, whole."""
        ragged = self.tokenizer.tokenize(texts)
        return RaggedIds.from_flat(
            ragged.flat_values.numpy(), ragged.row_splits.numpy()
        )

    def explain(self, texts, method="auto", return_attention=False):
        """Classifies `texts` and weighs their tokens.

        Args:
            texts: list of str.
            method: `"auto"`, `"pooling"` or `"rollout"`, see
                `keras_attnpred.explain.token_importance`.
            return_attention: bool, also give each explanation every
                layer's and head's self-attention, the rollout and the
                pooling weights (see `explain_classification`).

        Returns:
            A list of `TextExplanation`, one per text, over the subword
            pieces (`merge_subwords()` gives words).

        Raises:
            ValueError: with `head_tokens`, for a text longer than
                `max_length`: the explanations follow the opening tokens
                only, which is not what this classifier reads.
        """
        if self.head_tokens is not None:
            texts = check_texts("texts", texts, allow_empty=True)
            lengths = self._ids(texts).lengths if texts else np.zeros(0)
            if (lengths > self.max_length).any():
                index = int(np.argmax(lengths > self.max_length))
                raise ValueError(
                    "`explain` reads the opening `max_length` tokens; this "
                    "classifier keeps the opening and the end of long texts "
                    f"(head_tokens={self.head_tokens}). Received: texts[{index}]"
                    f" of {int(lengths[index])} tokens, max_length="
                    f"{self.max_length}"
                )
        return explain_classification(
            self.model,
            self.tokenizer,
            texts,
            label_names=self.label_names,
            max_length=self.max_length,
            method=method,
            return_attention=return_attention,
        )

    def save(self, directory):
        """Writes the model, the tokenizer, `labels.json` and
        `classifier.json`."""
        os.makedirs(directory, exist_ok=True)
        self.model.save(os.path.join(directory, MODEL_FILENAME))
        self.tokenizer.save(os.path.join(directory, TOKENIZER_DIRNAME))
        for name, content in (
            (LABELS_FILENAME, {"label_names": list(self.label_names)}),
            (CONFIG_FILENAME, {"max_length": self.max_length,
                               "head_tokens": self.head_tokens}),
        ):
            with open(
                os.path.join(directory, name), "w", encoding="utf-8"
            ) as f:
                json.dump(content, f, indent=2)

    @classmethod
    def load(cls, directory):
        """Reads a classifier written by `save`, or a classification run
        directory of `train`.

        Raises:
            ValueError: naming the file or folder, when one is missing or
                holds something invalid.
        """
        from keras_attnpred.text import load_tokenizer

        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise ValueError(f"Missing classifier directory: {directory}")
        settings_name = CONFIG_FILENAME
        if not os.path.isfile(os.path.join(directory, settings_name)):
            settings_name = RUN_CONFIG_FILENAME
        paths = {
            name: os.path.join(directory, name)
            for name in (MODEL_FILENAME, LABELS_FILENAME, settings_name)
        }
        for name, path in paths.items():
            if not os.path.isfile(path):
                also = ""
                if name == RUN_CONFIG_FILENAME:
                    also = f" (nor {CONFIG_FILENAME}: not a classifier?)"
                raise ValueError(f"Missing classifier file: {path}{also}")
        tokenizer_path = os.path.join(directory, TOKENIZER_DIRNAME)
        if not os.path.isdir(tokenizer_path):
            raise ValueError(
                f"Missing classifier tokenizer directory: {tokenizer_path}"
            )
        settings = _read_json_object(paths[settings_name])
        try:
            max_length = check_positive_int(
                "max_length", settings.get("max_length")
            )
            head_tokens = check_positive_int(
                "head_tokens", settings.get("head_tokens"), allow_none=True,
                minimum=0,
            )
        except ValueError as error:
            raise ValueError(
                f"Corrupt classifier settings file {paths[settings_name]}: "
                f"{error}"
            ) from None
        label_names = _read_json_object(paths[LABELS_FILENAME]).get(
            "label_names"
        )
        # Inference only: the optimizer and loss are not needed.
        model = load_model(paths[MODEL_FILENAME], compile=False)
        try:
            return cls(
                model,
                load_tokenizer(tokenizer_path),
                label_names,
                max_length=max_length,
                head_tokens=head_tokens,
            )
        except ValueError as error:
            if "label_names" not in str(error):
                raise
            raise ValueError(
                f"Corrupt classifier file {paths[LABELS_FILENAME]}: {error}"
            ) from None

    def __repr__(self):
        return (
            f"{type(self).__name__}(model={self.model.name!r}, "
            f"label_names={list(self.label_names)!r}, "
            f"max_length={self.max_length}, head_tokens={self.head_tokens})"
        )


def _check_label_names(label_names, model):
    classes = model.outputs[0].shape[-1]
    if (
        not isinstance(label_names, (list, tuple))
        or not all(isinstance(name, str) for name in label_names)
        or len(label_names) != classes
    ):
        raise ValueError(
            f"`label_names` must be {classes} str, one per class of the "
            f"model. Received: label_names={label_names!r}"
        )
    return tuple(label_names)


def _read_json_object(path):
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"Corrupt classifier file {path}: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(
            f"Corrupt classifier file {path}: expected a JSON object"
        )
    return value
