import functools
import json
import os

import keras
import numpy as np

from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.decoding.beam_search import beam_search
from keras_attnpred.decoding.beam_search import check_beam_arguments
from keras_attnpred.validation import check_texts
from keras_attnpred.decoding.greedy_search import greedy_search
from keras_attnpred.serialization import load_model

MODEL_FILENAME = "model.keras"
SOURCE_TOKENIZER_DIRNAME = "source_tokenizer"
TARGET_TOKENIZER_DIRNAME = "target_tokenizer"
CONFIG_FILENAME = "translator.json"


class Translator:
    """Translates text with a trained translator and its two tokenizers.

    Each text is tokenized with `source_tokenizer` (cut to `max_length` ids,
    as `keras_attnpred.text.translation_dataset` does in training), decoded
    with `greedy_search` (or `beam_search`) and detokenized with
    `target_tokenizer`. Texts are sorted by length before batching, so a
    batch holds sources of similar lengths, and each batch's source length is
    rounded up to a power of two (at most `max_length`) and the last batch is
    filled up to `batch_size`,
    so a few compiled decoding loops serve any number of texts.

    A text with no source tokens (e.g. `""`) translates to `""` without
    running the model.

    A translator saves to and loads from a directory:

    ```
    directory/model.keras
    directory/source_tokenizer/   (the tokenizer's save)
    directory/target_tokenizer/
    directory/translator.json     {"max_length": N}
    ```

    Args:
        model: a `keras.Model` taking `{"source", "target"}` ids and returning
            next-token logits, e.g. from `build_transformer_translator` or
            `build_rnn_translator`.
        source_tokenizer: the `SubwordTokenizer` or `SentencePieceTokenizer`
            of the source language.
        target_tokenizer: the tokenizer of the target language; its
            `START_ID` and `END_ID` frame the generated ids.
        max_length: int, the most source ids kept and the most target tokens
            generated (`[END]` included); the `max_length` of training.

    Example:

    >>> translator = Translator(model, english, spanish, max_length=64)
    >>> translator.translate(["How are you?"])
    ['¿ como estas ?']
    >>> translator.save("en-es")
    >>> translator = Translator.load("en-es")
    """

    def __init__(
        self, model, source_tokenizer, target_tokenizer, max_length=64
    ):
        if not isinstance(model, keras.Model):
            raise ValueError(
                "`model` must be a `keras.Model`. "
                f"Received: model of type {type(model).__name__}"
            )
        for name, tokenizer in (
            ("source_tokenizer", source_tokenizer),
            ("target_tokenizer", target_tokenizer),
        ):
            if not callable(getattr(tokenizer, "tokenize", None)):
                raise ValueError(
                    f"`{name}` must be a `SubwordTokenizer`. "
                    f"Received: {name} of type {type(tokenizer).__name__}"
                )
        if not callable(getattr(target_tokenizer, "detokenize", None)):
            raise ValueError(
                "`target_tokenizer` must be a `SubwordTokenizer` (with "
                "`detokenize`). Received: target_tokenizer of type "
                f"{type(target_tokenizer).__name__}"
            )
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.max_length = check_positive_int("max_length", max_length)

    def translate(
        self,
        texts,
        batch_size=64,
        beam_width=1,
        length_penalty=0.0,
        return_attention=False,
    ):
        """Translates `texts` with greedy or beam search.

        Args:
            texts: list of str.
            batch_size: int, texts decoded together.
            beam_width: int, 1 for greedy search, more for `beam_search`
                with that many hypotheses per text (the best one is kept).
            length_penalty: float >= 0, the GNMT length penalty `alpha` of
                `beam_search`; 0 ranks by log-probability alone. With
                `beam_width=1` and `length_penalty=0` the search is greedy.
            return_attention: bool, also return each translation's
                cross-attention alignment (see
                `keras_attnpred.explain.align_translations`); greedy search
                only.

        Returns:
            A list of str, one translation per text, in order; `[]` for no
            texts. With `return_attention=True`, a tuple `(translations,
            alignments)`: one `keras_attnpred.explain.Alignment` per text
            (generated tokens by source tokens, with the token strings).
        """
        texts = check_texts("texts", texts, allow_empty=True)
        batch_size = check_positive_int("batch_size", batch_size)
        beam_width, _, length_penalty = check_beam_arguments(
            beam_width, 1, length_penalty
        )
        if beam_width == 1 and length_penalty == 0:
            search = greedy_search
        else:
            search = functools.partial(
                _best_of_beam,
                beam_width=beam_width,
                length_penalty=length_penalty,
            )
        check_bool("return_attention", return_attention)
        if return_attention:
            if search is not greedy_search:
                # The alignment is read from a greedy decode of each text.
                raise ValueError(
                    "`return_attention=True` needs greedy search "
                    "(`beam_width=1`, `length_penalty=0`). Received: "
                    f"beam_width={beam_width}, length_penalty={length_penalty}"
                )
            from keras_attnpred.explain import align_translations

            return align_translations(self, texts, batch_size=batch_size)
        if not texts:
            return []
        source_ids = [
            row[: self.max_length]
            for row in self.source_tokenizer.tokenize(texts).to_list()
        ]
        results = [""] * len(texts)
        # Longest first: similar lengths share a batch and its padding.
        order = sorted(
            (i for i, row in enumerate(source_ids) if row),
            key=lambda i: -len(source_ids[i]),
        )
        for begin in range(0, len(order), batch_size):
            indices = order[begin : begin + batch_size]
            batch = [source_ids[i] for i in indices]
            ids = search(
                self.model,
                self._source_batch(batch, batch_size),
                max_length=self.max_length,
                start_id=getattr(self.target_tokenizer, "START_ID", 2),
                end_id=getattr(self.target_tokenizer, "END_ID", 3),
            )
            translations = self.target_tokenizer.detokenize(ids)
            # Imported here: `keras_attnpred.text` needs TensorFlow, and
            # greedy_search from this package must import without it (JAX).
            from keras_attnpred.text.join_punctuation import readable_text

            for i, translation in zip(indices, translations):
                results[i] = readable_text(self.target_tokenizer, translation)
        return results

    def _source_batch(self, rows, batch_size):
        """Rows padded to a power-of-two length and `batch_size` rows."""
        longest = max(len(row) for row in rows)
        width = min(1 << (longest - 1).bit_length(), self.max_length)
        # Extra rows repeat the first one rather than being empty: they end
        # when it does, so they never hold up the early stop.
        rows = rows + [rows[0]] * (batch_size - len(rows))
        batch = np.zeros((len(rows), width), dtype="int32")
        for i, row in enumerate(rows):
            batch[i, : len(row)] = row
        return batch

    def save(self, directory):
        """Writes the model, both tokenizers and `translator.json`."""
        os.makedirs(directory, exist_ok=True)
        self.model.save(os.path.join(directory, MODEL_FILENAME))
        self.source_tokenizer.save(
            os.path.join(directory, SOURCE_TOKENIZER_DIRNAME)
        )
        self.target_tokenizer.save(
            os.path.join(directory, TARGET_TOKENIZER_DIRNAME)
        )
        with open(
            os.path.join(directory, CONFIG_FILENAME), "w", encoding="utf-8"
        ) as f:
            json.dump({"max_length": self.max_length}, f, indent=2)

    @classmethod
    def load(cls, directory):
        """Reads a translator written by `save` (or by the training code).

        Raises:
            ValueError: naming the file or folder, when one is missing or
                `translator.json` is invalid.
        """
        # The text subpackage needs TensorFlow: imported only when loading.
        from keras_attnpred.text import load_tokenizer

        if not os.path.isdir(directory):
            raise ValueError(f"Missing translator directory: {directory}")
        model_path = os.path.join(directory, MODEL_FILENAME)
        config_path = os.path.join(directory, CONFIG_FILENAME)
        source_path = os.path.join(directory, SOURCE_TOKENIZER_DIRNAME)
        target_path = os.path.join(directory, TARGET_TOKENIZER_DIRNAME)
        for path, is_file in (
            (model_path, True),
            (config_path, True),
            (source_path, False),
            (target_path, False),
        ):
            exists = os.path.isfile(path) if is_file else os.path.isdir(path)
            if not exists:
                what = "file" if is_file else "tokenizer directory"
                raise ValueError(f"Missing translator {what}: {path}")
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(
                f"Corrupt translator settings file {config_path}: {error}"
            ) from None
        max_length = (
            config.get("max_length") if isinstance(config, dict) else None
        )
        try:
            check_positive_int("max_length", max_length)
        except ValueError as error:
            raise ValueError(
                f"Corrupt translator settings file {config_path}: {error}"
            ) from None
        # Inference only: the optimizer and loss are not needed.
        model = load_model(model_path, compile=False)
        return cls(
            model,
            load_tokenizer(source_path),
            load_tokenizer(target_path),
            max_length=max_length,
        )

    def __repr__(self):
        return (
            f"{type(self).__name__}(model={self.model.name!r}, "
            f"max_length={self.max_length})"
        )


def _best_of_beam(model, source_ids, **kwargs):
    ids, _ = beam_search(model, source_ids, **kwargs)
    return ids[:, 0]

