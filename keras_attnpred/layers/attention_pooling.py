import keras
from keras import ops

from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.layers.attention_utils import fresh_initializer
from keras_attnpred.layers.attention_utils import masked_softmax
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate


@register
class AttentionPooling(keras.layers.Layer):
    """Attention-weighted average over time, for sequence classifiers.

    Each time step `h_t` gets a score `u · tanh(W h_t + b)` against a learned
    context vector `u`; the softmax of the scores over the unpadded steps
    weighs the average. Padded steps get exactly zero weight, and a sequence
    with no real step pools to zeros.

    Args:
        units: int, size of the hidden scoring projection `W`. Defaults to the
            input feature size.
        dropout: float in [0, 1), dropout on the attention weights.
        use_bias: bool, whether the scoring projection has a bias.
        kernel_initializer: initializer for `W` and `u`.
        bias_initializer: initializer for `b`.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, time, features)`.
        mask: optional boolean tensor `(batch, time)`; `True` marks real
            steps. Taken from the inputs' Keras mask when not given.
        return_attention_scores: bool, also return the weights.
        training: bool, whether dropout is active.

    Returns:
        The pooled tensor `(batch, features)`, and with
        `return_attention_scores=True` also the float32 weights
        `(batch, time)`. No mask is propagated: the time axis is gone.

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> x = keras.layers.Embedding(1000, 32, mask_zero=True)(tokens)
    >>> x = keras.layers.Bidirectional(
    ...     keras.layers.GRU(16, return_sequences=True))(x)
    >>> pooled, weights = AttentionPooling(units=32)(
    ...     x, return_attention_scores=True)
    >>> probs = keras.layers.Dense(2, activation="softmax")(pooled)
    >>> model = keras.Model(tokens, [probs, weights])
    >>> probs, weights = model(np.array([[5, 6, 7, 0]]))
    >>> float(weights[0, 3]), round(float(keras.ops.sum(weights)), 5)
    (0.0, 1.0)

    References:
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
    """

    def __init__(
        self,
        units=None,
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("units", units, allow_none=True)
        check_rate("dropout", dropout)
        self.units = units
        self.dropout = dropout
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        check_rank("inputs", inputs_shape, (3,))
        units = self.units or inputs_shape[-1]
        self._projection = keras.layers.Dense(
            units,
            activation="tanh",
            use_bias=self.use_bias,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            bias_initializer=fresh_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="projection",
        )
        self._projection.build(inputs_shape)
        self._context = keras.layers.Dense(
            1,
            use_bias=False,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="context",
        )
        self._context.build(tuple(inputs_shape[:-1]) + (units,))
        self._dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )

    def call(
        self, inputs, mask=None, return_attention_scores=False, training=None
    ):
        scores = ops.squeeze(self._context(self._projection(inputs)), -1)
        weights = masked_softmax(scores, mask)
        dropped = self._dropout(weights, training=training)
        pooled = ops.einsum(
            "bt,btd->bd", ops.cast(dropped, inputs.dtype), inputs
        )
        if return_attention_scores:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], inputs_shape[-1])

    def compute_output_spec(
        self, inputs, mask=None, return_attention_scores=False, training=None
    ):
        pooled = keras.KerasTensor(
            self.compute_output_shape(inputs.shape), dtype=self.compute_dtype
        )
        if return_attention_scores:
            return pooled, keras.KerasTensor(inputs.shape[:2], dtype="float32")
        return pooled

    def get_config(self):
        config = super().get_config()
        config["dtype"] = dtype_with_quantized_sublayers(self)
        config.update(
            {
                "units": self.units,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
