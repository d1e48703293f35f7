import os

import tensorflow as tf
import tensorflow_text as tf_text

from keras_attnpred.text._tokenizer_base import TokenizerBase
from keras_attnpred.text._tokenizer_base import as_string_tensor
from keras_attnpred.text._tokenizer_base import no_words_error
from keras_attnpred.text._tokenizer_base import training_dataset
from keras_attnpred.text._utils import read_tokenizer_config
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int

VOCABULARY_FILENAME = "vocabulary.txt"
_FORMAT_VERSION = 1
# What TensorFlow Text's FastWordpieceTokenizer takes: longer tokens (after
# "##") and larger word limits end in a RuntimeError or TypeError of its own.
MAX_TOKEN_BYTES = 256
MAX_BYTES_PER_WORD = 2**31 - 1


class SubwordTokenizer(TokenizerBase):
    """WordPiece tokenizer with fixed reserved ids, usable inside `tf.data`.

    The vocabulary is learned with
    `keras_hub.tokenizers.compute_word_piece_vocabulary` (the TensorFlow Text
    WordPiece learner); text is tokenized with
    `tensorflow_text.FastWordpieceTokenizer`, the linear-time WordPiece
    algorithm, which also has a TensorFlow Lite kernel.

    Text is normalised first: with `strip_accents=True` it is decomposed
    (NFD) and accent marks are removed; with `lowercase=True` it is case
    folded (Unicode NFKC_Casefold, `tensorflow_text.case_fold_utf8`). It is
    then split BERT-style on whitespace and on punctuation: every ASCII
    character that is neither a letter nor a digit and every Unicode
    punctuation character becomes a word of its own. Each word becomes one or
    more vocabulary pieces, continuation pieces starting with `"##"`; a word
    that cannot be built from the vocabulary becomes a single `[UNK]`.
    `detokenize` joins the pieces of a word back together and the words with
    single spaces, so `detokenize(tokenize(s))` is the normalised `s` with a
    space around each punctuation mark: `"¿Qué tal?"` gives
    `"¿ qué tal ?"`.

    The reserved ids never change: 0 is `[PAD]`, 1 `[UNK]`, 2 `[START]` and
    3 `[END]`. Text containing `"[END]"` is split like any other text, so it
    can never produce a reserved id except `[UNK]`.

    Args:
        vocabulary: list of str, the tokens by id. It must begin with the
            reserved tokens `[PAD]`, `[UNK]`, `[START]`, `[END]` in this
            order and contain no duplicate or empty token.
        lowercase: bool, whether to case fold the text.
        strip_accents: bool, whether to remove accent marks.
        max_bytes_per_word: int, longer words become `[UNK]`.

    Example:

    >>> tokenizer = SubwordTokenizer.train(
    ...     ["The cat sat.", "The dog sat on the cat!"], vocabulary_size=60)
    >>> ids = tokenizer.tokenize(["the cat sat on the dog."])
    >>> tokenizer.detokenize(ids)[0]
    'the cat sat on the dog .'
    >>> import tensorflow as tf
    >>> dataset = tf.data.Dataset.from_tensor_slices(["The cat."])
    >>> dataset = dataset.map(tokenizer.tokenize)  # inside the graph
    >>> tokenizer.save("tokenizer")
    >>> reloaded = SubwordTokenizer.load("tokenizer")

    References:
        - [Wu et al., 2016. Google's Neural Machine Translation System
          (WordPiece)](https://arxiv.org/abs/1609.08144)
        - [Song et al., 2021. Fast WordPiece
          Tokenization](https://arxiv.org/abs/2012.15524)
    """

    SUFFIX_INDICATOR = "##"
    # The "kind" in `tokenizer.json` (see `load_tokenizer`).
    KIND = "wordpiece"
    # `detokenize` spaces out punctuation: `join_punctuation` makes it read
    # like written text.
    SPLITS_PUNCTUATION = True

    def __init__(
        self,
        vocabulary,
        lowercase=True,
        strip_accents=False,
        max_bytes_per_word=100,
    ):
        check_bool("lowercase", lowercase)
        check_bool("strip_accents", strip_accents)
        check_positive_int("max_bytes_per_word", max_bytes_per_word)
        if max_bytes_per_word > MAX_BYTES_PER_WORD:
            raise ValueError(
                f"`max_bytes_per_word` must be at most {MAX_BYTES_PER_WORD} "
                "(an int32 in TensorFlow Text's kernel). Received: "
                f"max_bytes_per_word={max_bytes_per_word}"
            )
        problem = _vocabulary_problem(vocabulary)
        if problem is not None:
            raise ValueError(f"Invalid `vocabulary`: {problem}")
        self._vocabulary = list(vocabulary)
        self._token_to_id = {t: i for i, t in enumerate(self._vocabulary)}
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.max_bytes_per_word = int(max_bytes_per_word)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=self._vocabulary,
            suffix_indicator=self.SUFFIX_INDICATOR,
            max_bytes_per_word=self.max_bytes_per_word,
            token_out_type=tf.int32,
            unknown_token=self.UNK_TOKEN,
            # Split on whitespace and punctuation inside the same op, which
            # keeps tokenization to one TFLite-supported kernel.
            no_pretokenization=False,
            support_detokenization=True,
        )
        self._tf_tokenizer = self._wordpiece

    @classmethod
    def train(
        cls,
        texts,
        vocabulary_size=8000,
        lowercase=True,
        strip_accents=False,
        max_bytes_per_word=100,
    ):
        """Learns a WordPiece vocabulary from `texts`.

        Args:
            texts: list of str, or a `tf.data.Dataset` of scalar strings.
            vocabulary_size: int, the largest vocabulary to learn, reserved
                tokens included; must exceed the 4 reserved tokens. The
                learner may return fewer tokens on a small corpus.
            lowercase: bool, whether to case fold the text.
            strip_accents: bool, whether to remove accent marks.
            max_bytes_per_word: int, longer words become `[UNK]`.

        Returns:
            A `SubwordTokenizer`.
        """
        import keras_hub

        check_positive_int(
            "vocabulary_size",
            vocabulary_size,
            minimum=len(cls.RESERVED_TOKENS) + 1,
        )
        check_bool("lowercase", lowercase)
        check_bool("strip_accents", strip_accents)
        dataset = training_dataset(texts)
        dataset = dataset.map(
            lambda text: _normalize(text, lowercase, strip_accents),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        # Normalisation happens above, exactly as at tokenization time, so
        # the learner only splits. It splits like FastWordpieceTokenizer
        # (BERT punctuation rules) except for CJK, which it is told to leave.
        try:
            vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
                dataset,
                vocabulary_size,
                lowercase=False,
                strip_accents=False,
                split=True,
                split_on_cjk=False,
                suffix_indicator=cls.SUFFIX_INDICATOR,
                reserved_tokens=list(cls.RESERVED_TOKENS),
            )
        except StopIteration:
            # The learner's way of saying it found no word at all.
            raise no_words_error() from None
        return cls(
            vocabulary,
            lowercase=lowercase,
            strip_accents=strip_accents,
            max_bytes_per_word=max_bytes_per_word,
        )

    def _starts_word(self, token):
        return not token.startswith(self.SUFFIX_INDICATOR)

    def tokenize(self, texts):
        """Turns text into token ids; works eagerly and inside `tf.data`.

        Texts are not truncated here (the datasets and `Translator` cut to
        their `max_length`). A text with no words (`""`, only spaces) gives
        no ids; a word that cannot be built from the vocabulary (unknown
        script, symbols) gives `[UNK]`. Python input (str, bytes, lists of
        them) must be valid UTF-8 and raises a `ValueError` naming the bad
        element otherwise; invalid UTF-8 inside a string tensor (in a
        `tf.data` graph, where nothing can raise per text) gives `[UNK]`.

        Args:
            texts: a str, a list of str, or a string tensor of any rank.

        Returns:
            For a scalar string, a 1-D int32 tensor of ids. Otherwise an
            int32 `tf.RaggedTensor` with one more (ragged) dimension than
            `texts`, e.g. `(batch, None)` for a list.
        """
        texts = as_string_tensor(texts)
        return self._wordpiece.tokenize(
            _normalize(texts, self.lowercase, self.strip_accents)
        )

    def detokenize(self, ids):
        """Turns ids back into text, dropping `[PAD]`, `[START]` and `[END]`.

        Pieces of a word are joined (`"play", "##ing"` -> `"playing"`), words
        are separated by single spaces. `[UNK]` stays visible as `"[UNK]"`,
        so that lost words are not silently erased.

        Args:
            ids: a list of ids, a list of lists, a dense int tensor (padded
                with 0) or a `tf.RaggedTensor`; integers in
                `[0, vocabulary_size)`, else a `ValueError`.

        Returns:
            A str for a single sequence, otherwise a list of str (nested
            like the leading dimensions of `ids`).
        """
        return self._detokenize(ids)

    def save(self, directory):
        """Writes `vocabulary.txt` and `tokenizer.json` into `directory`.

        `tokenizer.json` holds the settings, `"class_name"` and
        `"kind": "wordpiece"`, which `load_tokenizer` dispatches on.
        """
        os.makedirs(directory, exist_ok=True)
        with open(
            os.path.join(directory, VOCABULARY_FILENAME), "w", encoding="utf-8"
        ) as f:
            f.write("".join(token + "\n" for token in self._vocabulary))
        self._write_config(directory, _FORMAT_VERSION)

    @classmethod
    def load(cls, directory):
        """Reads a tokenizer written by `save`.

        Raises:
            ValueError: naming the file, when `vocabulary.txt` or
                `tokenizer.json` is missing, unreadable or invalid (e.g. an
                empty vocabulary or reserved tokens not at ids 0-3).
        """
        config_path, config = read_tokenizer_config(directory, cls)
        vocabulary_path = os.path.join(directory, VOCABULARY_FILENAME)
        settings = {
            key: config[key]
            for key in ("lowercase", "strip_accents", "max_bytes_per_word")
            if key in config
        }
        try:
            with open(vocabulary_path, encoding="utf-8") as f:
                # Only "\n" ends a line: tokens may hold other line breaks.
                text = f.read()
        except FileNotFoundError:
            raise ValueError(
                f"Missing vocabulary file: {vocabulary_path}"
            ) from None
        except UnicodeDecodeError as error:
            raise ValueError(
                f"Corrupt vocabulary file {vocabulary_path}: {error}"
            ) from None
        vocabulary = text.split("\n")
        if vocabulary and vocabulary[-1] == "":
            vocabulary.pop()
        problem = _vocabulary_problem(vocabulary)
        if problem is not None:
            raise ValueError(
                f"Corrupt vocabulary file {vocabulary_path}: {problem}"
            )
        try:
            return cls(vocabulary, **settings)
        except ValueError as error:
            raise ValueError(
                f"Corrupt tokenizer settings file {config_path}: {error}"
            ) from None

    def get_config(self):
        """The settings, without the vocabulary."""
        return {
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "max_bytes_per_word": self.max_bytes_per_word,
        }

    def __repr__(self):
        return (
            f"{type(self).__name__}(vocabulary_size={self.vocabulary_size}, "
            f"lowercase={self.lowercase}, strip_accents={self.strip_accents})"
        )


def _normalize(texts, lowercase, strip_accents):
    # The WordPiece splitter breaks words at ASCII whitespace only, so a
    # no-break or thin space would become a token of its own (case folding
    # maps it to " ", a cased vocabulary would not).
    texts = tf.strings.regex_replace(texts, r"\p{Z}", " ")
    if strip_accents:
        # NFD splits "é" into "e" and a combining accent, then drop the marks.
        texts = tf_text.normalize_utf8(texts, "NFD")
        texts = tf.strings.regex_replace(texts, r"\p{Mn}", "")
    if lowercase:
        texts = tf_text.case_fold_utf8(texts)
    return texts


def _vocabulary_problem(vocabulary):
    """Why `vocabulary` is unusable, or None when it is fine."""
    if isinstance(vocabulary, (str, bytes)) or not isinstance(
        vocabulary, (list, tuple)
    ):
        return f"expected a list of str, got {type(vocabulary).__name__}"
    reserved = SubwordTokenizer.RESERVED_TOKENS
    if len(vocabulary) <= len(reserved):
        return (
            f"it holds {len(vocabulary)} tokens; it needs the {len(reserved)} "
            f"reserved tokens {list(reserved)} and at least one more"
        )
    if tuple(vocabulary[: len(reserved)]) != reserved:
        return (
            f"the first tokens must be {list(reserved)} (ids 0-3). "
            f"Received: {list(vocabulary[: len(reserved)])}"
        )
    seen = set()
    for index, token in enumerate(vocabulary):
        if not isinstance(token, str):
            return f"token {index} is not a str: {token!r}"
        if token == "" or token.strip() != token or "\n" in token:
            return (
                f"token {index} is empty or has surrounding whitespace: "
                f"{token!r}"
            )
        if "\x00" in token:
            return f"token {index} holds a NUL character: {token[:40]!r}"
        size = len(token.removeprefix(SubwordTokenizer.SUFFIX_INDICATOR)
                   .encode("utf-8", "surrogatepass"))
        if size > MAX_TOKEN_BYTES:
            return (
                f"token {index} is {size} bytes long, over the "
                f"{MAX_TOKEN_BYTES} bytes TensorFlow Text takes: "
                f"{token[:40]!r}..."
            )
        if token in seen:
            return f"token {token!r} occurs twice (second at id {index})"
        seen.add(token)
    return None


