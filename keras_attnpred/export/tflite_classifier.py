import json
import os
import re
import unicodedata

import numpy as np

from keras_attnpred.export._export_utils import pad_ids
from keras_attnpred.export._export_utils import tflite_interpreter
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_texts


class TFLiteClassifier:
    """Runs a classifier written by `export_classifier_tflite`.

    Uses the LiteRT interpreter (`ai_edge_litert`), not the deprecated
    `tf.lite.Interpreter`. A model with custom ops (the raw-text model) gets
    TensorFlow Text's registrar:
    `InterpreterWithCustomOps(custom_op_registerers=tflite_registrar.
    SELECT_TFTEXT_OPS)`. Inputs are split into batches of the model's fixed
    batch size (the last one filled up with padding rows) and token ids are
    cut or padded with 0 to its sequence length. A missing or corrupt file
    is a `ValueError` naming it.

    Args:
        path: str, a `.tflite` file.
        num_threads: int, interpreter threads; default 1.

    Example:

    >>> run = TrainingRun.load(sentiment_run)
    >>> _ = export_classifier_tflite(run, "mobile/sentiment",
    ...                              quantizations=["float32"])
    >>> classifier = TFLiteClassifier("mobile/sentiment/classifier_text.tflite")
    >>> classifier.takes_text, classifier.batch_size, classifier.num_classes
    (True, 1, 2)
    >>> # Case folded in Python as the tokenizer does; batches of any size.
    >>> classifier.predict(["A WONDERFUL film", "a dull plot", ""]).shape
    (3, 2)
    >>> classifier.predict(["A WONDERFUL film", "a dull plot"]).argmax(-1)
    array([1, 0])
    >>> on_ids = TFLiteClassifier("mobile/sentiment/classifier_float32.tflite")
    >>> on_ids.takes_text, on_ids.sequence_length
    (False, 16)
    >>> ids = run.tokenizer.tokenize(["a wonderful film"]).to_list()
    >>> on_ids.predict(ids).argmax(-1)
    array([1])
    """

    def __init__(self, path, num_threads=None):
        num_threads = check_positive_int(
            "num_threads", num_threads, allow_none=True
        )
        self._interpreter = tflite_interpreter(path, num_threads)
        # The tokenizer settings, written next to the models.
        config_path = os.path.join(os.path.dirname(path), "classifier.json")
        config = {}
        if os.path.isfile(config_path):
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        self.lowercase = config.get("lowercase", True)
        self.strip_accents = config.get("strip_accents", False)
        # A SentencePiece model folds case itself.
        self.tokenizer_kind = config.get("tokenizer", "wordpiece")
        self._fold_case = self.lowercase and self.tokenizer_kind == "wordpiece"
        self.label_names = config.get("label_names")
        # The embedding rows: ids past them would be gathered from memory
        # past the table (negative ones wrapped around). None: an export
        # from before this was recorded, only negative ids are refused.
        self.vocabulary_size = config.get("vocabulary_size")
        self.head_tokens = config.get("head_tokens")
        self._runner = self._interpreter.get_signature_runner()
        (name, details), = self._runner.get_input_details().items()
        self.input_name = name
        self.batch_size = int(details["shape"][0])
        self.sequence_length = (
            int(details["shape"][1]) if len(details["shape"]) == 2 else None
        )
        outputs = self._runner.get_output_details()
        self.num_classes = int(outputs["probabilities"]["shape"][-1])

    @property
    def takes_text(self):
        """Whether the model takes text (else token ids)."""
        return self.input_name == "text"

    def __call__(self, batch):
        """Runs one batch of exactly the model's input shape; a dict."""
        if not self.takes_text:
            self._check_ids(batch)
        return self._runner(**{self.input_name: batch})

    def _check_ids(self, ids):
        ids = np.asarray(ids)
        if ids.size == 0:
            return
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                "`inputs` must be integer token ids. Received: ids of dtype "
                f"{ids.dtype}"
            )
        low, high = int(ids.min()), int(ids.max())
        limit = self.vocabulary_size
        if low < 0 or (limit is not None and high >= limit):
            bound = f"[0, {limit}) (the vocabulary size)" if limit else (
                "[0, vocabulary size)"
            )
            raise ValueError(
                f"`inputs` must hold token ids in {bound}. Received: ids "
                f"from {low} to {high}"
            )

    def predict(self, inputs):
        """Probabilities `(n, classes)` of texts or of token id rows.

        Args:
            inputs: for the text model, a list of str (normalised here as
                the tokenizer of training does outside its TFLite kernel:
                WordPiece's NFKC case folding, accent stripping); else
                an int array `(n, T)` or a list of id lists.
        """
        if self.takes_text:
            # Refused like `TrainingRun.predict` refuses them: invalid
            # UTF-8 bytes, lone surrogates, non-strings.
            rows = [
                normalize(text, self._fold_case, self.strip_accents).encode()
                for text in check_texts("inputs", inputs, allow_empty=True)
            ]
            filler = b""
        else:
            for row in inputs:
                self._check_ids(np.asarray(row))
            rows = list(pad_ids(list(inputs), self.sequence_length,
                                self.head_tokens))
            filler = np.zeros((self.sequence_length,), "int32")
        results = []
        for begin in range(0, len(rows), self.batch_size):
            batch = rows[begin : begin + self.batch_size]
            count = len(batch)
            batch = batch + [filler] * (self.batch_size - count)
            batch = np.array(batch, dtype=object if self.takes_text else None)
            results.append(self(batch)["probabilities"][:count])
        if not results:
            return np.zeros((0, self.num_classes), "float32")
        return np.concatenate(results)


def normalize(text, lowercase=True, strip_accents=False):
    """The normalisation of `SubwordTokenizer`, in plain Python.

    Accents are stripped as the tokenizer does (NFD, then no combining
    marks). For case folding the tokenizer uses ICU's NFKC_Casefold: NFKC,
    `str.casefold` and NFKC again, without the default-ignorable code
    points (U+00AD soft hyphen, U+200B zero-width space, U+2060 word
    joiner, U+FEFF, variation selectors, ...), which ICU removes. Code
    points newer than Python's Unicode data may still differ.
    """
    # As the tokenizer: every Unicode space separator becomes " ".
    text = "".join(
        " " if unicodedata.category(c).startswith("Z") else c
        for c in text
    )
    if strip_accents:
        text = "".join(
            c
            for c in unicodedata.normalize("NFD", text)
            if unicodedata.category(c) != "Mn"
        )
    if lowercase:
        text = _DEFAULT_IGNORABLE.sub("", text)
        text = unicodedata.normalize(
            "NFKC", unicodedata.normalize("NFKC", text).casefold()
        )
    return text


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): what
# NFKC_Casefold maps to nothing. Python's unicodedata has no such property.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff"
    "\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)
