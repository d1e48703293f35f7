import keras
from keras import ops

from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.serialization import register
from keras_attnpred.validation import MAX_BIGRAM_BUCKETS
from keras_attnpred.validation import MAX_BIGRAM_VOCABULARY_SIZE
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int


@register
class HashedBigramEmbedding(keras.layers.Layer):
    """Embeddings of hashed token bigrams, one per position.

    At position `t` the pair `(ids[t], ids[t + 1])` is hashed into one of
    `num_buckets` rows of an embedding table: the features that a bag of
    bigrams gives a linear model (Wang & Manning 2012), learned as vectors
    (Joulin et al. 2017). Add the output to the token embeddings of the same
    ids to give an attention classifier word-pair evidence such as "not
    good" at no cost in sequence length. A pair with padding in it, and the
    last position, give zeros; so the output is safe to sum.

    The hash is `(first * vocabulary_size + second) mod num_buckets`, in
    int32 on every backend, so token ids must be below 46,341.

    Args:
        vocabulary_size: int, the number of token ids (ids lie in
            `[0, vocabulary_size)`), at most 46,340.
        num_buckets: int, the number of bigram rows. Distinct bigrams share
            a row when they outnumber it.
        embedding_dim: int, the size of the output vectors.
        mask_zero: bool, whether id 0 is padding and `ids != 0` is passed on
            as the Keras mask.
        embeddings_initializer: initializer for the bigram table.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        inputs: int tensor of token ids, shape `(batch, time)`.

    Returns:
        Float tensor `(batch, time, embedding_dim)` in the compute dtype,
        zero at every position whose bigram has padding in it or that has no
        next token, with the Keras mask `inputs != 0` when `mask_zero=True`.

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> words = keras.layers.Embedding(1000, 32, mask_zero=True)(tokens)
    >>> pairs = HashedBigramEmbedding(1000, 50000, 32)(tokens)
    >>> x = keras.layers.Add()([words, pairs])
    >>> pooled = AttentionPooling()(x)
    >>> model = keras.Model(tokens, keras.layers.Dense(2)(pooled))
    >>> tuple(model(np.array([[5, 6, 7, 0]])).shape)
    (1, 2)

    References:
        - [Wang & Manning, 2012. Baselines and Bigrams: Simple, Good
          Sentiment and Topic Classification](https://aclanthology.org/P12-2018/)
        - [Joulin et al., 2017. Bag of Tricks for Efficient Text
          Classification](https://aclanthology.org/E17-2068/)
    """

    def __init__(
        self,
        vocabulary_size,
        num_buckets,
        embedding_dim,
        mask_zero=True,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("vocabulary_size", vocabulary_size)
        if vocabulary_size > MAX_BIGRAM_VOCABULARY_SIZE:
            raise ValueError(
                f"`vocabulary_size` must be at most {MAX_BIGRAM_VOCABULARY_SIZE}"
                ", so that bigram hashes fit in int32. "
                f"Received: vocabulary_size={vocabulary_size}"
            )
        check_positive_int("num_buckets", num_buckets)
        if num_buckets > MAX_BIGRAM_BUCKETS:
            raise ValueError(
                f"`num_buckets` must be at most {MAX_BIGRAM_BUCKETS:,} "
                f"(2**24 rows). Received: num_buckets={num_buckets}"
            )
        check_positive_int("embedding_dim", embedding_dim)
        check_bool("mask_zero", mask_zero)
        self.vocabulary_size = vocabulary_size
        self.num_buckets = num_buckets
        self.embedding_dim = embedding_dim
        self.mask_zero = mask_zero
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer
        )
        self.supports_masking = True

    def build(self, inputs_shape):
        check_rank("inputs", inputs_shape, (2,))
        # Row 0 stands for "no bigram" and is multiplied by zero in `call`.
        self._embedding = keras.layers.Embedding(
            self.num_buckets + 1,
            self.embedding_dim,
            embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy,
            name="bigram_embedding",
        )
        self._embedding.build(inputs_shape)

    def bucket_ids(self, inputs):
        """The bigram row of each position, 0 where there is no bigram."""
        ids = ops.cast(inputs, "int32")
        first, second = ids[:, :-1], ids[:, 1:]
        buckets = ops.mod(first * self.vocabulary_size + second, self.num_buckets)
        real = ops.logical_and(ops.not_equal(first, 0), ops.not_equal(second, 0))
        buckets = ops.where(real, buckets + 1, 0)
        return ops.pad(buckets, [[0, 0], [0, 1]])

    def call(self, inputs):
        buckets = self.bucket_ids(inputs)
        vectors = self._embedding(buckets)
        present = ops.cast(ops.not_equal(buckets, 0), vectors.dtype)
        return vectors * ops.expand_dims(present, -1)

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
                "num_buckets": self.num_buckets,
                "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
