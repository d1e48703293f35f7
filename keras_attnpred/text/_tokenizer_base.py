"""What the tokenizers share: reserved ids, vocabulary look-ups, and
turning ids into text (private)."""

import json
import os

import tensorflow as tf

from keras_attnpred import reserved_ids
from keras_attnpred.text._utils import CONFIG_FILENAME
from keras_attnpred.validation import check_texts


class TokenizerBase:
    """Reserved tokens and vocabulary look-ups of the subword tokenizers.

    A subclass sets `_vocabulary` (list of str, by id), `_token_to_id` and
    `_tf_tokenizer`, the TensorFlow Text tokenizer whose `detokenize` turns
    ragged ids into strings (and which an export tracks).
    """

    PAD_TOKEN = reserved_ids.PAD_TOKEN
    UNK_TOKEN = reserved_ids.UNK_TOKEN
    START_TOKEN = reserved_ids.START_TOKEN
    END_TOKEN = reserved_ids.END_TOKEN
    PAD_ID = reserved_ids.PAD_ID
    UNK_ID = reserved_ids.UNK_ID
    START_ID = reserved_ids.START_ID
    END_ID = reserved_ids.END_ID
    RESERVED_TOKENS = reserved_ids.RESERVED_TOKENS

    @property
    def tf_tokenizer(self):
        """The TensorFlow Text tokenizer (a `tf.Module`) that tokenizes and
        detokenizes: an export tracks it to save its vocabulary or model
        inside the SavedModel."""
        return self._tf_tokenizer

    def _write_config(self, directory, format_version):
        """Writes `tokenizer.json`: the settings, `"class_name"` and the
        `"kind"` that `load_tokenizer` dispatches on."""
        path = os.path.join(directory, CONFIG_FILENAME)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "class_name": type(self).__name__,
                    "kind": self.KIND,
                    "format_version": format_version,
                    **self.get_config(),
                },
                f,
                indent=2,
            )

    @property
    def vocabulary_size(self):
        """The number of tokens, reserved tokens included."""
        return len(self._vocabulary)

    def get_vocabulary(self):
        """The tokens as a list, indexed by id."""
        return list(self._vocabulary)

    def word_starts(self):
        """Whether each id's piece starts a word: a bool list indexed by id
        (pretraining masks whole words with it)."""
        return [self._starts_word(token) for token in self._vocabulary]

    def id_to_token(self, id):
        """The token string of `id`; a `ValueError` if out of range."""
        if (
            isinstance(id, bool)
            or not isinstance(id, int)
            or not 0 <= id < self.vocabulary_size
        ):
            raise ValueError(
                f"`id` must be an integer in [0, {self.vocabulary_size}). "
                f"Received: id={id!r}"
            )
        return self._vocabulary[id]

    def token_to_id(self, token):
        """The id of the token string `token`; a `ValueError` if unknown."""
        if token not in self._token_to_id:
            raise ValueError(
                f"`token` is not in the vocabulary. Received: token={token!r}"
            )
        return self._token_to_id[token]


    def _detokenize(self, ids):
        """`detokenize`: ids checked, `[PAD]`/`[START]`/`[END]` dropped."""
        ragged = as_ids(ids, self.vocabulary_size)
        single = ragged.shape.rank == 1
        if single:
            ragged = tf.RaggedTensor.from_tensor(ragged[tf.newaxis])
        keep = (
            (ragged != self.PAD_ID)
            & (ragged != self.START_ID)
            & (ragged != self.END_ID)
        )
        ragged = tf.ragged.boolean_mask(ragged, keep)
        strings = self._tf_tokenizer.detokenize(ragged).numpy()
        if single:
            return strings[0].decode("utf-8")
        return _decode_nested(strings.tolist())


def training_dataset(texts):
    """`texts` to learn a vocabulary from, as a dataset of scalar strings.

    Args:
        texts: list of str, or a `tf.data.Dataset` of scalar strings.

    Raises:
        ValueError: for anything else, and for a list of blank texts only.
    """
    if isinstance(texts, tf.data.Dataset):
        spec = texts.element_spec
        if not (
            isinstance(spec, tf.TensorSpec)
            and spec.dtype == tf.string
            and spec.shape.rank == 0
        ):
            raise ValueError(
                "`texts` must be a list of strings or a dataset of scalar "
                f"strings. Received: a dataset with element_spec={spec}"
            )
        return texts
    texts = check_texts("texts", texts)
    if not any(text.strip() for text in texts):
        raise no_words_error(len(texts))
    return tf.data.Dataset.from_tensor_slices(texts)


def no_words_error(count=None):
    received = "" if count is None else f" Received: {count} blank texts"
    return ValueError(
        "`texts` hold no words to learn a vocabulary from (all empty or "
        f"whitespace).{received}"
    )


def as_string_tensor(texts):
    """`texts` as a string tensor; a `ValueError` for anything else."""
    if isinstance(texts, (tf.Tensor, tf.Variable)):
        if texts.dtype != tf.string:
            raise ValueError(
                "`texts` must be strings. Received: a tensor of dtype "
                f"{texts.dtype.name}"
            )
        return texts
    if isinstance(texts, (str, bytes)):
        texts = check_texts("texts", [texts])[0]
    elif isinstance(texts, (list, tuple)) and all(
        isinstance(text, (str, bytes)) for text in texts
    ):
        texts = check_texts("texts", texts, allow_empty=True)
    try:
        return tf.convert_to_tensor(texts, dtype=tf.string)
    except (TypeError, ValueError):
        raise ValueError(
            "`texts` must be a str, a (nested) list of str or a string "
            f"tensor. Received: texts={texts!r:.100}"
        ) from None


def as_ids(ids, vocabulary_size):
    """`ids` as an int32 tensor: ragged for rank 2+, dense for rank 1.

    Out-of-range ids are refused: the detokenizer kernel reads memory by id
    (a negative id crashed the process, a large one gave some other token).
    """
    try:
        if isinstance(ids, tf.RaggedTensor):
            ragged = ids
        elif isinstance(ids, (list, tuple)) and any(
            isinstance(row, (list, tuple)) for row in ids
        ):
            # Rows of unequal lengths must become ragged rather than fail.
            ragged = tf.ragged.constant(ids)
        else:
            ragged = tf.convert_to_tensor(ids)
    except (TypeError, ValueError):
        raise ValueError(
            "`ids` must be integer token ids. "
            f"Received: ids={ids!r:.100}"
        ) from None
    if ragged.shape.rank is None or ragged.shape.rank < 1:
        raise ValueError(
            "`ids` must have rank 1 or more. "
            f"Received: ids.shape={ragged.shape}"
        )
    values = (
        ragged.flat_values if isinstance(ragged, tf.RaggedTensor) else ragged
    )
    if not (values.dtype.is_integer or tf.size(values) == 0):
        raise ValueError(
            "`ids` must be integer token ids. Received: ids of dtype "
            f"{values.dtype.name}"
        )
    if tf.size(values) > 0:
        low = int(tf.reduce_min(values))
        high = int(tf.reduce_max(values))
        if low < 0 or high >= vocabulary_size:
            raise ValueError(
                f"`ids` must lie in [0, {vocabulary_size}) (the vocabulary "
                f"size). Received: ids from {low} to {high}"
            )
    ids = tf.cast(ragged, tf.int32)
    if isinstance(ids, tf.RaggedTensor) or ids.shape.rank == 1:
        return ids
    # Padding ids are dropped later, so the dense padding may stay inside.
    return tf.RaggedTensor.from_tensor(ids, ragged_rank=ids.shape.rank - 1)


def _decode_nested(values):
    if isinstance(values, list):
        return [_decode_nested(value) for value in values]
    return values.decode("utf-8")
