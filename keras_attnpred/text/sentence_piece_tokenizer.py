import io
import os
import re

import tensorflow as tf
import tensorflow_text as tf_text

from keras_attnpred.text._tokenizer_base import TokenizerBase
from keras_attnpred.text._tokenizer_base import as_string_tensor
from keras_attnpred.text._tokenizer_base import no_words_error
from keras_attnpred.text._tokenizer_base import training_dataset
from keras_attnpred.text._utils import read_tokenizer_config
from keras_attnpred.text.subword_tokenizer import _normalize
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int

MODEL_FILENAME = "sentencepiece.model"
_FORMAT_VERSION = 1
# SentencePiece's NFKC normalisation, with Unicode case folding for "_cf".
_LOWERCASE_RULE = "nmt_nfkc_cf"
_CASED_RULE = "nmt_nfkc"
# Longer training texts would be skipped by the trainer without a word.
_MAX_SENTENCE_BYTES = 1 << 20


class SentencePieceTokenizer(TokenizerBase):
    """SentencePiece tokenizer with fixed reserved ids, usable inside `tf.data`.

    A unigram language model is learned with the `sentencepiece` package
    straight from raw text: no pre-tokenization, spaces are part of the
    pieces (`"▁"`, U+2581, marks the start of a word). Text is tokenized
    with `tensorflow_text.FastSentencepieceTokenizer`, TensorFlow ops that
    run inside `tf.data`, in an exported SavedModel and, as a TFLite custom
    kernel, in a TFLite model; it gives the ids of
    `tensorflow_text.SentencepieceTokenizer` (and of `sentencepiece`) for
    unigram models, and unlike that op it holds no TensorFlow resource, so
    `keras.backend.clear_session()` cannot break it. `detokenize` joins the
    pieces, as SentencePiece decoding does.

    Normalisation is part of the model: NFKC, runs of whitespace collapsed
    to one space and leading and trailing whitespace removed, and with
    `lowercase=True` Unicode case folding (SentencePiece's `nmt_nfkc_cf`
    rule). With `strip_accents=True`, accent marks are removed before (NFD,
    then no combining marks), as `SubwordTokenizer` does. Tokenization is
    lossless otherwise: `detokenize(tokenize(s))` gives the normalised `s`
    back, punctuation and spacing included (`"¿Qué tal?"` gives
    `"¿qué tal?"`), except that characters outside the vocabulary come back
    as `"[UNK]"`.

    The reserved ids are those of `SubwordTokenizer`: 0 is `[PAD]`, 1
    `[UNK]`, 2 `[START]` and 3 `[END]`. `[PAD]`, `[START]` and `[END]` are
    SentencePiece control symbols, which no text can produce: text holding
    `"[END]"` or `"</s>"` is split into ordinary pieces.

    Needs the `sentencepiece` package (`pip install
    "keras-attnpred[sentencepiece]"`) to learn and to load a vocabulary.

    Args:
        model_proto: bytes, a serialized unigram SentencePiece model whose
            pad, unknown, begin- and end-of-sentence ids are 0, 1, 2 and 3
            (as `train` makes it).
        strip_accents: bool, whether to remove accent marks first.

    Example:

    >>> tokenizer = SentencePieceTokenizer.train(
    ...     ["The cat sat.", "The dog sat on the cat!"], vocabulary_size=40)
    >>> ids = tokenizer.tokenize(["The cat sat on the dog."])
    >>> tokenizer.detokenize(ids)[0]
    'the cat sat on the dog.'
    >>> import tensorflow as tf
    >>> dataset = tf.data.Dataset.from_tensor_slices(["The cat."])
    >>> dataset = dataset.map(tokenizer.tokenize)  # inside the graph
    >>> tokenizer.save("tokenizer")
    >>> reloaded = load_tokenizer("tokenizer")  # a SentencePieceTokenizer

    References:
        - [Kudo and Richardson, 2018. SentencePiece: A simple and language
          independent subword tokenizer and detokenizer for Neural Text
          Processing](https://arxiv.org/abs/1808.06226)
        - [Kudo, 2018. Subword Regularization: Improving Neural Network
          Translation Models with Multiple Subword Candidates (unigram
          language model)](https://arxiv.org/abs/1804.10959)
    """

    # The "kind" in `tokenizer.json` (see `load_tokenizer`).
    KIND = "sentencepiece"
    # `detokenize` gives the text back as written.
    SPLITS_PUNCTUATION = False
    WORD_START = "\u2581"

    def __init__(self, model_proto, strip_accents=False):
        sentencepiece = _import_sentencepiece()
        check_bool("strip_accents", strip_accents)
        if not isinstance(model_proto, bytes) or not model_proto:
            raise ValueError(
                "`model_proto` must be the bytes of a serialized SentencePiece "
                f"model. Received: model_proto={model_proto!r:.100}"
            )
        processor = sentencepiece.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(model_proto)
        except (RuntimeError, OSError, TypeError) as error:
            raise ValueError(
                "`model_proto` is not a SentencePiece model "
                f"({' '.join(str(error).split())}). Received: "
                f"{len(model_proto)} bytes"
            ) from None
        problem = _model_problem(processor, model_proto)
        if problem is not None:
            raise ValueError(f"Invalid `model_proto`: {problem}")
        self._model_proto = model_proto
        self._vocabulary = [
            processor.id_to_piece(i) for i in range(processor.get_piece_size())
        ]
        self._token_to_id = {t: i for i, t in enumerate(self._vocabulary)}
        # Read off the model's own normalisation rather than its rule name,
        # so a model with a custom rule is described correctly.
        self.lowercase = processor.normalize("A").endswith("a")
        self.strip_accents = strip_accents
        self._tf_tokenizer = _SentencePieceOps(model_proto, self._vocabulary)

    @classmethod
    def train(
        cls,
        texts,
        vocabulary_size=8000,
        lowercase=True,
        strip_accents=False,
        character_coverage=1.0,
    ):
        """Learns a unigram SentencePiece model from `texts`.

        Args:
            texts: list of str, or a `tf.data.Dataset` of scalar strings.
            vocabulary_size: int, the largest vocabulary to learn, reserved
                tokens included; must exceed the 4 reserved tokens and leave
                room for every character kept. The learner may return fewer
                tokens on a small corpus.
            lowercase: bool, whether to case fold the text.
            strip_accents: bool, whether to remove accent marks.
            character_coverage: float in (0, 1], the share of the characters
                of `texts` that get a piece of their own; the rarest of the
                rest become `[UNK]`. 1.0 suits alphabets, 0.9995 is
                SentencePiece's advice for Chinese or Japanese.

        Returns:
            A `SentencePieceTokenizer`.
        """
        sentencepiece = _import_sentencepiece()
        check_positive_int(
            "vocabulary_size",
            vocabulary_size,
            minimum=len(cls.RESERVED_TOKENS) + 1,
        )
        check_bool("lowercase", lowercase)
        check_bool("strip_accents", strip_accents)
        if (
            isinstance(character_coverage, bool)
            or not isinstance(character_coverage, (int, float))
            or not 0 < character_coverage <= 1
        ):
            raise ValueError(
                "`character_coverage` must be a number in (0, 1]. Received: "
                f"character_coverage={character_coverage!r}"
            )
        dataset = training_dataset(texts)
        if strip_accents:
            dataset = dataset.map(
                lambda text: _normalize(text, False, True),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        sentences = (
            text.decode("utf-8", "replace")
            for text in dataset.as_numpy_iterator()
        )
        sentences = (text for text in sentences if text.strip())
        model = io.BytesIO()
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=sentences,
                model_writer=model,
                model_type="unigram",
                vocab_size=vocabulary_size,
                # A small corpus gives fewer pieces instead of an error, as
                # the WordPiece learner does.
                hard_vocab_limit=False,
                character_coverage=float(character_coverage),
                normalization_rule_name=(
                    _LOWERCASE_RULE if lowercase else _CASED_RULE
                ),
                pad_id=cls.PAD_ID,
                unk_id=cls.UNK_ID,
                bos_id=cls.START_ID,
                eos_id=cls.END_ID,
                pad_piece=cls.PAD_TOKEN,
                unk_piece=cls.UNK_TOKEN,
                bos_piece=cls.START_TOKEN,
                eos_piece=cls.END_TOKEN,
                # Unknown text reads "[UNK]", as with `SubwordTokenizer`.
                unk_surface=cls.UNK_TOKEN,
                max_sentence_length=_MAX_SENTENCE_BYTES,
                num_threads=max(1, min(16, os.cpu_count() or 1)),
                minloglevel=2,
            )
        except RuntimeError as error:
            # Without the "INTERNAL: trainer.cc(638) [check]" prefix.
            message = re.sub(r"^.*\] ", "", " ".join(str(error).split()))
            if "Vocabulary size" in message or "vocab_size" in message:
                raise ValueError(
                    "`vocabulary_size` does not fit the characters of "
                    f"`texts` (SentencePiece: {message}). Received: "
                    f"vocabulary_size={vocabulary_size}"
                ) from None
            if "No valid sentence" in message or "empty" in message.lower():
                raise no_words_error() from None
            raise ValueError(
                f"SentencePiece could not learn from `texts`: {message}"
            ) from None
        return cls(model.getvalue(), strip_accents=strip_accents)

    def _starts_word(self, token):
        return token.startswith(self.WORD_START)

    def tokenize(self, texts):
        """Turns text into token ids; works eagerly and inside `tf.data`.

        Texts are not truncated here (the datasets and `Translator` cut to
        their `max_length`). A text with no characters but spaces gives no
        ids; a character outside the vocabulary gives `[UNK]`. Python input
        (str, bytes, lists of them) must be valid UTF-8 and raises a
        `ValueError` naming the bad element otherwise; invalid UTF-8 inside
        a string tensor gives `[UNK]`.

        Args:
            texts: a str, a list of str, or a string tensor of any rank.

        Returns:
            For a scalar string, a 1-D int32 tensor of ids. Otherwise an
            int32 `tf.RaggedTensor` with one more (ragged) dimension than
            `texts`, e.g. `(batch, None)` for a list.
        """
        texts = as_string_tensor(texts)
        if self.strip_accents:
            texts = _normalize(texts, False, True)
        return self._tf_tokenizer.tokenize(texts)

    def detokenize(self, ids):
        """Turns ids back into text, dropping `[PAD]`, `[START]` and `[END]`.

        The pieces are joined and each `"▁"` becomes a space, so the text
        comes back as it was normalised, punctuation and spacing included.
        `[UNK]` stays visible as `"[UNK]"`.

        Args:
            ids: a list of ids, a list of lists, a dense int tensor (padded
                with 0) or a `tf.RaggedTensor`; integers in
                `[0, vocabulary_size)`, else a `ValueError`.

        Returns:
            A str for a single sequence, otherwise a list of str (nested
            like the leading dimensions of `ids`).
        """
        return self._detokenize(ids)

    @property
    def model_proto(self):
        """The serialized SentencePiece model (bytes)."""
        return self._model_proto

    def save(self, directory):
        """Writes `sentencepiece.model` and `tokenizer.json` into `directory`.

        `tokenizer.json` holds the settings, `"class_name"` and
        `"kind": "sentencepiece"`, which `load_tokenizer` dispatches on.
        """
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, MODEL_FILENAME), "wb") as f:
            f.write(self._model_proto)
        self._write_config(directory, _FORMAT_VERSION)

    @classmethod
    def load(cls, directory):
        """Reads a tokenizer written by `save`.

        Raises:
            ValueError: naming the file, when `sentencepiece.model` or
                `tokenizer.json` is missing, unreadable or invalid.
        """
        config_path, config = read_tokenizer_config(directory, cls)
        model_path = os.path.join(directory, MODEL_FILENAME)
        try:
            with open(model_path, "rb") as f:
                model_proto = f.read()
        except FileNotFoundError:
            raise ValueError(
                f"Missing SentencePiece model file: {model_path}"
            ) from None
        strip_accents = config.get("strip_accents", False)
        try:
            check_bool("strip_accents", strip_accents)
        except ValueError as error:
            raise ValueError(
                f"Corrupt tokenizer settings file {config_path}: {error}"
            ) from None
        try:
            tokenizer = cls(model_proto, strip_accents=strip_accents)
        except ValueError as error:
            raise ValueError(
                f"Corrupt SentencePiece model file {model_path}: {error}"
            ) from None
        lowercase = config.get("lowercase", tokenizer.lowercase)
        if lowercase != tokenizer.lowercase:
            raise ValueError(
                f"Corrupt tokenizer settings file {config_path}: "
                f"lowercase={lowercase!r}, but the model in {model_path} "
                f"{'folds' if tokenizer.lowercase else 'keeps'} case"
            )
        return tokenizer

    def get_config(self):
        """The settings, without the model."""
        return {"lowercase": self.lowercase, "strip_accents": self.strip_accents}

    def __repr__(self):
        return (
            f"{type(self).__name__}(vocabulary_size={self.vocabulary_size}, "
            f"lowercase={self.lowercase}, strip_accents={self.strip_accents})"
        )


def _import_sentencepiece():
    try:
        import sentencepiece
    except ImportError:
        raise ModuleNotFoundError(
            "SentencePieceTokenizer needs the `sentencepiece` package: "
            'pip install "keras-attnpred[sentencepiece]"'
        ) from None
    return sentencepiece


def _model_problem(processor, model_proto):
    """Why a loaded SentencePiece model is unusable here, or None."""
    from sentencepiece import sentencepiece_model_pb2

    model = sentencepiece_model_pb2.ModelProto.FromString(model_proto)
    model_type = model.trainer_spec.model_type
    if model_type != model.trainer_spec.UNIGRAM:
        name = model.trainer_spec.ModelType.Name(model_type)
        return (
            "it must be a unigram model, the kind that TensorFlow Text's "
            "fast SentencePiece kernel (and its TFLite kernel) runs. "
            f"Received: model_type={name}"
        )
    if model.trainer_spec.byte_fallback:
        # Byte pieces ("<0xE2>") would need decoding that `detokenize`'s
        # joining of pieces does not do.
        return "byte_fallback models are not supported. Received: " + (
            "byte_fallback=True"
        )
    ids = {
        "pad_id": processor.pad_id(),
        "unk_id": processor.unk_id(),
        "bos_id": processor.bos_id(),
        "eos_id": processor.eos_id(),
    }
    if list(ids.values()) != [0, 1, 2, 3]:
        return (
            "its reserved ids must be pad_id=0, unk_id=1, bos_id=2 ([START]) "
            "and eos_id=3 ([END]). Received: "
            + ", ".join(f"{key}={value}" for key, value in ids.items())
        )
    size = processor.get_piece_size()
    if size <= 4:
        return f"it holds {size} pieces; it needs at least one besides ids 0-3"
    return None


class _SentencePieceOps(tf.Module):
    """The TensorFlow ops of a `SentencePieceTokenizer`.

    Constants only (the converted model, the pieces), no resource: the
    resource of `tensorflow_text.SentencepieceTokenizer` is owned by its
    kernel, and `keras.backend.clear_session()` deletes it under a live
    tokenizer. An export tracks this module like a `FastWordpieceTokenizer`.
    """

    def __init__(self, model_proto, pieces):
        super().__init__(name="sentencepiece")
        self._fast = tf_text.FastSentencepieceTokenizer(model_proto)
        # The unknown piece is spelled "[UNK]", the surface `train` gives it.
        self._pieces = tf.constant(pieces)

    def tokenize(self, texts):
        return self._fast.tokenize(texts)

    def detokenize(self, ids):
        """Strings of ragged ids: SentencePiece decoding of a model whose
        pieces are normalised text (as those of `train` are): the pieces
        joined, `"▁"` read as a space, the word-start space of the first
        dropped."""
        texts = tf.strings.reduce_join(tf.gather(self._pieces, ids), axis=-1)
        texts = tf.strings.regex_replace(texts, "\u2581", " ")
        return tf.strings.regex_replace(texts, "^ ", "")
