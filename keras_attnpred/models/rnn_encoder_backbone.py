import keras
from keras import ops

from keras_attnpred.layers import HashedBigramEmbedding
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.models.rnn_layer import RNN_TYPES
from keras_attnpred.models.rnn_layer import rnn_layer
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate


@register
class RNNEncoderBackbone(keras.Model):
    """A (bidirectional) GRU or LSTM over token ids, with the interface of
    `TransformerEncoderBackbone`.

    `Embedding` (plus, with `bigram_buckets`, the `HashedBigramEmbedding` of
    the pair each token starts) → dropout → GRU/LSTM returning sequences.
    Id 0 is padding: the RNN skips it, and the padding mask is an output of
    its own.

    Args:
        vocabulary_size: int, number of token ids (0 is padding).
        rnn: `"gru"` or `"lstm"`.
        embedding_dim: int, size of the token embeddings.
        units: int, size of the RNN (of each direction when bidirectional).
        bidirectional: bool, run the RNN both ways and concatenate.
        dropout: float in [0, 1), on the embeddings.
        bigram_buckets: int or None, rows of the hashed bigram embedding;
            None for token embeddings alone (`vocabulary_size` must then be
            at most 46,340).
        **kwargs: `keras.Model` arguments such as `name`.

    Call arguments:
        token_ids: int tensor `(batch, T)`.

    Returns:
        A dict: `"sequence_output"`, `(batch, T, output_dim)` with
        `output_dim = 2 * units` when bidirectional, else `units`, and
        `"padding_mask"`, bool `(batch, T)`, True at the real tokens.

    Example:

    >>> backbone = RNNEncoderBackbone(100, embedding_dim=8, units=4)
    >>> sequence, padding_mask = backbone.encode(np.array([[5, 6, 0]]))
    >>> tuple(sequence.shape)
    (1, 3, 8)

    References:
        - [Cho et al., 2014. Learning Phrase Representations using RNN
          Encoder-Decoder](https://arxiv.org/abs/1406.1078)
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
    """

    def __init__(
        self,
        vocabulary_size,
        rnn="gru",
        embedding_dim=128,
        units=128,
        bidirectional=True,
        dropout=0.0,
        bigram_buckets=None,
        dtype=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_choice("rnn", rnn, RNN_TYPES)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("units", units)
        check_bool("bidirectional", bidirectional)
        check_rate("dropout", dropout)
        check_positive_int("bigram_buckets", bigram_buckets, allow_none=True)

        # === Layers ===
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, dtype=dtype, name="token_embedding"
        )
        self.bigram_embedding = None
        if bigram_buckets:
            self.bigram_embedding = HashedBigramEmbedding(
                vocabulary_size,
                bigram_buckets,
                embedding_dim,
                dtype=dtype, name="bigram_embedding",
            )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        if bidirectional:
            self.rnn = keras.layers.Bidirectional(
                rnn_layer(rnn, units, "rnn_cell"), name="rnn"
            )
        else:
            self.rnn = rnn_layer(rnn, units, "rnn")

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        sequence, padding_mask = self._encode(token_ids, training=None)
        super().__init__(
            inputs=token_ids,
            outputs={"sequence_output": sequence, "padding_mask": padding_mask},
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.rnn_type = rnn
        self.embedding_dim = embedding_dim
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.bigram_buckets = bigram_buckets

    def _encode(self, token_ids, training):
        padding_mask = ops.not_equal(token_ids, PAD_ID)
        x = self.token_embedding(token_ids)
        if self.bigram_embedding is not None:
            x = x + self.bigram_embedding(token_ids)
        x = self.embedding_dropout(x, training=training)
        # The mask is passed explicitly: the sum above carries none.
        x = self.rnn(x, mask=padding_mask, training=training)
        return x, padding_mask

    def encode(self, token_ids, training=False):
        """Encodes `token_ids` `(batch, T)`.

        Returns:
            `(sequence, padding_mask)`: `(batch, T, output_dim)` and bool
            `(batch, T)`.
        """
        token_ids = ops.convert_to_tensor(token_ids, dtype="int32")
        return self._encode(token_ids, training=training)

    @property
    def output_dim(self):
        """The width of `"sequence_output"`."""
        return self.units * (2 if self.bidirectional else 1)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_with_quantized_sublayers(self),
            "vocabulary_size": self.vocabulary_size,
            "rnn": self.rnn_type,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "bigram_buckets": self.bigram_buckets,
        }
