import json
import os

import numpy as np

from keras_attnpred.export._export_utils import QUANTIZATIONS
from keras_attnpred.export._export_utils import pad_ids
from keras_attnpred.export._export_utils import tflite_interpreter
from keras_attnpred.export.export_translator_tflite import CONFIG_FILENAME
from keras_attnpred.export.export_translator_tflite import DECODER_FILENAME
from keras_attnpred.export.export_translator_tflite import ENCODER_FILENAME
from keras_attnpred.export.export_translator_tflite import (
    SOURCE_TOKENIZER_DIRNAME,
)
from keras_attnpred.export.export_translator_tflite import (
    TARGET_TOKENIZER_DIRNAME,
)
from keras_attnpred.inference import translate_texts
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_texts


class TFLiteTranslator:
    """Translates with the TFLite models of `export_translator_tflite`.

    Greedy search in Python around the LiteRT interpreter (`ai_edge_litert`):
    the encoder runs once per batch of sentences, the decoder step once per
    generated token, its state (a Transformer's self-attention caches, an
    RNN's state) fed back each time. Like
    `greedy_search`, `[PAD]` and `[START]` are never generated and a row
    stops at `[END]`. The tokenizers are the exported `SubwordTokenizer`s
    or `SentencePieceTokenizer`s (which need TensorFlow Text); on a phone, a
    WordPiece or SentencePiece tokenizer on the same vocabulary or model
    files takes their place.

    Args:
        directory: str, the folder written by `export_translator_tflite`.
        num_threads: int, interpreter threads; default 1.
        quantization: str, the variant to run: `"float32"` (default),
            `"float16"` or `"dynamic_int8"`, among those the folder holds
            (`quantizations`). A folder exported before the variants holds
            `"float32"` only (`encoder.tflite`, `decoder_step.tflite`).

    Example:

    >>> _ = export_translator_tflite(translator, "mobile/en-es",
    ...                              quantizations=["float32"])
    >>> tflite = TFLiteTranslator("mobile/en-es")
    >>> tflite.max_length, tflite.batch_size  # the translator's, and 1
    (16, 1)
    >>> tflite.quantization, tflite.quantizations
    ('float32', ('float32',))
    >>> source_ids = english.tokenize(["the cat eats fish", "a dog"])
    >>> ids = tflite.translate_ids(source_ids.to_list(), max_length=8)
    >>> expected = greedy_search(translator.model, source_ids.to_tensor(), 8)
    >>> np.array_equal(ids, expected)  # the tokens of greedy search
    True
    >>> tflite.translate(["the cat eats fish", ""])[1]  # no tokens, no text
    ''
    >>> TFLiteTranslator("mobile/en-es", quantization="dynamic_int8")
    Traceback (most recent call last):
    ...
    ValueError: `quantization` must be a variant that the export holds:
    ['float32'] (mobile/en-es/translator.json). Received:
    quantization='dynamic_int8'
    """

    def __init__(self, directory, num_threads=None, quantization="float32"):
        from keras_attnpred.text import load_tokenizer

        num_threads = check_positive_int(
            "num_threads", num_threads, allow_none=True
        )
        if not isinstance(quantization, str) or (
            quantization not in QUANTIZATIONS
        ):
            raise ValueError(
                f"`quantization` must be one of {list(QUANTIZATIONS)}. "
                f"Received: quantization={quantization!r}"
            )
        config_path = os.path.join(directory, CONFIG_FILENAME)
        if not os.path.isfile(config_path):
            raise ValueError(
                f"Missing TFLite translator settings file: {config_path}"
            )
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        self.max_length = config["max_length"]
        self.batch_size = config["batch_size"]
        self.start_id, self.end_id = config["start_id"], config["end_id"]
        self.pad_id = config["pad_id"]
        # Exports before RNN translators had no "decoder": Transformers.
        self.decoder = config.get("decoder", "transformer")

        def runner(name):
            path = os.path.join(directory, name)
            return tflite_interpreter(path, num_threads).get_signature_runner()

        # Exports before the quantized variants: float32 under the old
        # names.
        models = config.get("models") or {
            "float32": {"encoder": {"file": ENCODER_FILENAME},
                        "decoder_step": {"file": DECODER_FILENAME}},
        }
        self.quantizations = tuple(models)
        if quantization not in models:
            raise ValueError(
                "`quantization` must be a variant that the export holds: "
                f"{list(models)} ({config_path}). Received: "
                f"quantization={quantization!r}"
            )
        self.quantization = quantization
        files = models[quantization]
        self._encoder = runner(files["encoder"]["file"])
        self._decoder = runner(files["decoder_step"]["file"])
        self.source_tokenizer = load_tokenizer(
            os.path.join(directory, SOURCE_TOKENIZER_DIRNAME)
        )
        self.target_tokenizer = load_tokenizer(
            os.path.join(directory, TARGET_TOKENIZER_DIRNAME)
        )

    def translate_ids(self, source_ids, max_length=None):
        """Greedy search on source ids, like `greedy_search`.

        Args:
            source_ids: int array `(n, S)` or a list of id lists; rows are
                cut or padded with 0 to the exported length.
            max_length: int, the most tokens generated (`[END]` included);
                at most, and by default, the exported `max_length`.

        Returns:
            int32 array `(n, steps)`: the generated ids without `[START]`,
            each row's `[END]` included, then 0.
        """
        max_length = self._check_max_length(max_length)
        source = pad_ids(list(source_ids), self.max_length)
        results = []
        for begin in range(0, len(source), self.batch_size):
            batch = source[begin : begin + self.batch_size]
            count = len(batch)
            # Filler rows repeat the first: they end when it does.
            batch = np.concatenate(
                [batch, np.repeat(batch[:1], self.batch_size - count, 0)]
            )
            results.append(self._search(batch, max_length)[:count])
        width = max((r.shape[1] for r in results), default=0)
        return np.concatenate(
            [np.pad(r, [(0, 0), (0, width - r.shape[1])]) for r in results]
        ) if results else np.zeros((0, 0), "int32")

    def _check_max_length(self, max_length):
        max_length = check_positive_int(
            "max_length", self.max_length if max_length is None else max_length
        )
        if max_length > self.max_length:
            raise ValueError(
                "`max_length` must not exceed the exported "
                f"{self.max_length}. Received: max_length={max_length}"
            )
        return max_length

    def _search(self, source, max_length):
        encoded = self._encoder(source_ids=source)
        if self.decoder == "transformer":
            # The encoder gives the cross-attention caches; the
            # self-attention caches start empty.
            context = encoded
            state = {
                name.replace("cross", "self"): np.zeros_like(cache)
                for name, cache in encoded.items()
            }
        else:
            context = {"memory": encoded.pop("memory")}
            state = encoded
        # An RNN's step has no position input: its state carries it.
        position = self.decoder != "rnn"
        token = np.full((self.batch_size, 1), self.start_id, "int32")
        done = np.zeros((self.batch_size,), bool)
        generated = []
        for index in range(max_length):
            outputs = self._decoder(
                token=token,
                source_ids=source,
                **({"index": np.array(index, "int32")} if position else {}),
                **context,
                **state,
            )
            logits = outputs.pop("logits")
            state = outputs
            logits[:, [self.pad_id, self.start_id]] = -np.inf
            step = np.where(done, 0, logits.argmax(-1)).astype("int32")
            done |= step == self.end_id
            generated.append(step)
            token = step[:, None]
            if done.all():
                break
        return np.stack(generated, axis=1)

    def translate(self, texts, max_length=None):
        """Translates `texts` (list of str) into a list of str.

        The texts go through `Translator.translate`'s path,
        `translate_texts` (tokenized, cut to the exported `max_length`,
        batched, detokenized into readable text); only the decoding is the
        TFLite models'. A text with no source tokens gives `""`.
        """
        texts = check_texts("texts", texts, allow_empty=True)
        max_length = self._check_max_length(max_length)
        return translate_texts(
            texts,
            self.source_tokenizer,
            self.target_tokenizer,
            self.max_length,
            lambda batch: self._search(batch, max_length),
            batch_size=self.batch_size,
            fixed_width=True,
        )
