import functools
import json
import os

import keras
import numpy as np

from keras_attnpred.decoding import beam_search
from keras_attnpred.decoding import greedy_search
from keras_attnpred.decoding.beam_search import check_beam_arguments
from keras_attnpred.explain import Alignment
from keras_attnpred.explain import translation_alignment
from keras_attnpred.inference.translate_texts import translate_texts
from keras_attnpred.models import upgrade_legacy_model
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.reserved_ids import START_ID
from keras_attnpred.serialization import load_model
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_texts
from keras_attnpred.validation import check_vocabulary_fits

MODEL_FILENAME = "model.keras"
SOURCE_TOKENIZER_DIRNAME = "source_tokenizer"
TARGET_TOKENIZER_DIRNAME = "target_tokenizer"
CONFIG_FILENAME = "translator.json"


class Translator:
    """Translates text with a trained translator and its two tokenizers.

    Each text is tokenized with `source_tokenizer` (cut to `max_length` ids,
    as `keras_attnpred.text.translation_dataset` does in training), batched
    by `translation_batches` (sorted by length, widths rounded up to a power
    of two, the last batch filled up, so a few compiled decoding loops serve
    any number of texts), decoded with `greedy_search` (or `beam_search`)
    and detokenized with `target_tokenizer`: `translate_texts`, the path
    `TFLiteTranslator` shares.

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
        model: a `TransformerTranslator` or `RNNTranslator` (a model saved
            by an earlier version is upgraded with `upgrade_legacy_model`), or
            any `keras.Model` taking `{"source", "target"}` ids and returning
            next-token logits, which decodes without caches.
        source_tokenizer: the `SubwordTokenizer` or `SentencePieceTokenizer`
            of the source language.
        target_tokenizer: the tokenizer of the target language; its
            `START_ID` and `END_ID` frame the generated ids.
        max_length: int, the most source ids kept and the most target tokens
            generated (`[END]` included); the `max_length` of training.

    Example:

    >>> model = build_transformer_translator(
    ...     english.vocabulary_size, spanish.vocabulary_size, max_length=16,
    ...     preset="tiny")  # ... then trained on English-Spanish pairs
    >>> translator = Translator(model, english, spanish, max_length=16)
    >>> translations = translator.translate(["the cat eats fish", ""])
    >>> type(translations[0]), translations[1]
    (<class 'str'>, '')
    >>> translator.save("en-es")
    >>> Translator.load("en-es").translate(["the cat eats fish", ""]) == (
    ...     translations)
    True
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
        try:
            model = upgrade_legacy_model(model)
        except ValueError:
            pass  # Any other model decodes without caches.
        for name, tokenizer in (
            ("source_tokenizer", source_tokenizer),
            ("target_tokenizer", target_tokenizer),
        ):
            check_vocabulary_fits(model, name, tokenizer)
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
                cross-attention alignment: the decoder is run once more,
                teacher-forced on the translation it chose (the greedy
                output or the best beam hypothesis), which gives the exact
                attention of the steps that generated it
                (`translation_alignment`).

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
            return self._translate_with_alignments(texts, batch_size, search)
        return self._translate(texts, batch_size, search)

    def _translate(self, texts, batch_size, search, return_batches=False):
        def decode_batch(batch):
            return search(
                self.model,
                batch,
                max_length=self.max_length,
                start_id=START_ID,
                end_id=END_ID,
            )

        return translate_texts(
            texts,
            self.source_tokenizer,
            self.target_tokenizer,
            self.max_length,
            decode_batch,
            batch_size=batch_size,
            return_batches=return_batches,
        )

    def _translate_with_alignments(self, texts, batch_size, search):
        # Each batch is decoded, then run once more, teacher-forced on the
        # generated tokens, to read the cross-attention of the steps that
        # generated them: a decoder step sees only its hypothesis's prefix,
        # so this is exact for beam outputs too.
        translations, rows, batches = self._translate(
            texts, batch_size, search, return_batches=True
        )
        alignments = [None] * len(rows)
        # Empty alignments keep the model's layers and heads.
        layout = (
            getattr(self.model, "num_layers", 1),
            getattr(self.model, "num_heads", 1),
        )
        for indices, batch, generated in batches:
            inputs = np.concatenate(
                [np.full((len(batch), 1), START_ID, "int32"), generated[:, :-1]],
                axis=1,
            )
            weights = translation_alignment(self.model, batch, inputs)
            layout = weights.shape[1:3]
            for k, i in enumerate(indices):
                steps = _until_end(generated[k])
                alignments[i] = Alignment(
                    weights[k, :, :, : len(steps), : len(rows[i])],
                    [self.source_tokenizer.id_to_token(int(t)) for t in rows[i]],
                    [self.target_tokenizer.id_to_token(int(t)) for t in steps],
                )
        empty = Alignment(np.zeros(tuple(layout) + (0, 0)), [], [])
        return translations, [empty if a is None else a for a in alignments]

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
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
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
        tokenizers = {}
        for name, path in (
            ("source_tokenizer", source_path),
            ("target_tokenizer", target_path),
        ):
            tokenizers[name] = load_tokenizer(path)
            check_vocabulary_fits(
                _upgraded(model), name, tokenizers[name], f" in {path}"
            )
        return cls(model, **tokenizers, max_length=max_length)

    def __repr__(self):
        return (
            f"{type(self).__name__}(model={self.model.name!r}, "
            f"max_length={self.max_length})"
        )


def _upgraded(model):
    try:
        return upgrade_legacy_model(model)
    except ValueError:
        return model


def _best_of_beam(model, source_ids, **kwargs):
    ids, _ = beam_search(model, source_ids, **kwargs)
    return ids[:, 0]


def _until_end(ids):
    """The generated ids up to and including the end id (if generated)."""
    ends = np.flatnonzero(ids == END_ID)
    return ids[: ends[0] + 1] if len(ends) else ids[ids != PAD_ID]
