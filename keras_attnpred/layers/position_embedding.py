import keras
from keras import ops

from keras_attnpred.layers.attention_utils import check_known_features
from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_positive_int


@register
class PositionEmbedding(keras.layers.Layer):
    """Learned absolute position embeddings.

    A trainable table of shape `(sequence_length, features)` holds one vector
    per position; the layer returns the rows for the positions of the inputs'
    time steps, broadcast over the batch. Like `PositionalEncoding` it returns
    the embeddings only, so it is used as `x = x + PositionEmbedding(n)(x)`.

    Args:
        sequence_length: int, the number of positions in the table, i.e. the
            longest sequence the layer accepts.
        initializer: initializer for the table.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, time, features)`; only its
            shape is used.
        start_index: python int or scalar int tensor, the position of the
            first time step. For step-by-step decoding,
            `layer(x[:, t:t + 1], start_index=t)` equals
            `layer(x)[:, t:t + 1]`. `start_index + time` must not exceed
            `sequence_length`; this is checked when both are python ints
            (a traced `start_index` cannot be checked, and JAX then clamps
            the slice).

    Returns:
        The position embeddings, with the shape of `inputs`, in the compute
        dtype. The inputs' Keras mask is passed on unchanged.

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> x = keras.layers.Embedding(1000, 32, mask_zero=True)(tokens)
    >>> x = x + PositionEmbedding(sequence_length=128)(x)
    >>> layer = PositionEmbedding(sequence_length=128)
    >>> steps = np.zeros((2, 10, 32))
    >>> tuple(layer(steps).shape)
    (2, 10, 32)
    >>> np.allclose(layer(steps[:, 3:4], start_index=3), layer(steps)[:, 3:4])
    True

    References:
        - [Gehring et al., 2017. Convolutional Sequence to Sequence
          Learning](https://arxiv.org/abs/1705.03122)
        - [Devlin et al., 2019. BERT: Pre-training of Deep Bidirectional
          Transformers for Language
          Understanding](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("sequence_length", sequence_length)
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def _check_length(self, time, start_index=0):
        if time is None or not isinstance(start_index, int):
            return
        if start_index < 0 or start_index + time > self.sequence_length:
            raise ValueError(
                "The positions `start_index` to `start_index + time - 1` must "
                "lie in [0, sequence_length). Received: "
                f"sequence_length={self.sequence_length}, time={time}, "
                f"start_index={start_index}"
            )

    def build(self, inputs_shape):
        check_rank("inputs", inputs_shape, (3,))
        check_known_features("inputs", inputs_shape)
        self._check_length(inputs_shape[1])
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
            trainable=True,
        )

    def call(self, inputs, start_index=0):
        self._check_length(inputs.shape[1], start_index)
        shape = ops.shape(inputs)
        table = ops.convert_to_tensor(self.embeddings)
        rows = ops.slice(
            table,
            (ops.cast(start_index, "int32"), 0),
            (shape[1], inputs.shape[-1]),
        )
        rows = ops.cast(rows, self.compute_dtype)
        return ops.broadcast_to(ops.expand_dims(rows, 0), shape)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)

    def compute_output_spec(self, inputs, start_index=0):
        self._check_length(inputs.shape[1], start_index)
        return keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
