import math

import keras
from keras import ops

from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.layers.attention_utils import fresh_initializer
from keras_attnpred.layers.position_embedding import PositionEmbedding
from keras_attnpred.layers.positional_encoding import PositionalEncoding
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_positive_number

POSITION_ENCODINGS = ("learned", "sinusoidal")


@register
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus a learned or sinusoidal position embedding.

    Sums a `keras.layers.Embedding` of the token ids and the embedding of
    their positions, either a learned `PositionEmbedding`
    (`position_encoding="learned"`) or the fixed sinusoids of
    `PositionalEncoding` (`"sinusoidal"`). Unlike many tutorial versions, the
    layer keeps the padding mask: with `mask_zero=True` id 0 is padding and
    `ids != 0` is passed on as the Keras mask, so downstream attention,
    pooling and recurrent layers skip the padded steps.

    Args:
        vocabulary_size: int, the number of token ids (ids lie in
            `[0, vocabulary_size)`).
        sequence_length: int, the longest sequence of the learned position
            table. With `"sinusoidal"` it bounds nothing, but is kept in the
            config.
        embedding_dim: int, the size of the output vectors.
        position_encoding: `"learned"` or `"sinusoidal"`.
        mask_zero: bool, whether id 0 is padding and a mask is produced.
        scale_embeddings: bool, whether the token embeddings are multiplied by
            `sqrt(embedding_dim)` before the positions are added, as in
            Vaswani et al.
        max_wavelength: positive number, the longest wavelength of the
            sinusoids; only used with `"sinusoidal"`.
        embeddings_initializer: initializer for the token table and, with
            `"learned"`, the position table.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        inputs: int tensor of token ids, shape `(batch, time)`.
        start_index: python int or scalar int tensor, the position of the
            first time step. For step-by-step decoding,
            `layer(ids[:, t:t + 1], start_index=t)` equals
            `layer(ids)[:, t:t + 1]`.

    Returns:
        Float tensor `(batch, time, embedding_dim)` in the compute dtype, with
        the Keras mask `inputs != 0` when `mask_zero=True` (else no mask).

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> x = TokenAndPositionEmbedding(
    ...     vocabulary_size=1000, sequence_length=64, embedding_dim=32)(tokens)
    >>> x = keras.layers.GlobalAveragePooling1D()(x)  # skips the padding
    >>> model = keras.Model(tokens, keras.layers.Dense(2)(x))
    >>> tuple(model(np.array([[5, 6, 7, 0]])).shape)
    (1, 2)

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
        - [Devlin et al., 2019. BERT: Pre-training of Deep Bidirectional
          Transformers for Language
          Understanding](https://arxiv.org/abs/1810.04805)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        position_encoding="learned",
        mask_zero=True,
        scale_embeddings=False,
        max_wavelength=10000,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("sequence_length", sequence_length)
        check_positive_int("embedding_dim", embedding_dim)
        check_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
        check_bool("mask_zero", mask_zero)
        check_bool("scale_embeddings", scale_embeddings)
        check_positive_number("max_wavelength", max_wavelength)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.position_encoding = position_encoding
        self.mask_zero = mask_zero
        self.scale_embeddings = scale_embeddings
        self.max_wavelength = max_wavelength
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer
        )
        self.supports_masking = True

    def build(self, inputs_shape):
        check_rank("inputs", inputs_shape, (2,))
        self._token_embedding = keras.layers.Embedding(
            self.vocabulary_size,
            self.embedding_dim,
            embeddings_initializer=fresh_initializer(
                self.embeddings_initializer
            ),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self._token_embedding.build(inputs_shape)
        if self.position_encoding == "learned":
            self._position_embedding = PositionEmbedding(
                self.sequence_length,
                initializer=fresh_initializer(self.embeddings_initializer),
                dtype=self.dtype_policy,
                name="position_embedding",
            )
        else:
            self._position_embedding = PositionalEncoding(
                max_wavelength=self.max_wavelength,
                dtype=self.dtype_policy,
                name="position_embedding",
            )
        self._position_embedding.build(
            tuple(inputs_shape) + (self.embedding_dim,)
        )

    def call(self, inputs, start_index=0):
        tokens = self._token_embedding(inputs)
        if self.scale_embeddings:
            tokens = tokens * ops.cast(
                math.sqrt(self.embedding_dim), tokens.dtype
            )
        positions = self._position_embedding(tokens, start_index=start_index)
        return tokens + positions

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config["dtype"] = dtype_with_quantized_sublayers(self)
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "position_encoding": self.position_encoding,
                "mask_zero": self.mask_zero,
                "scale_embeddings": self.scale_embeddings,
                "max_wavelength": self.max_wavelength,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
