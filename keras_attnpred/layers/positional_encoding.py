import keras
from keras import ops

from keras_attnpred.layers.attention_utils import check_known_features
from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_positive_number


def sinusoidal_table(length, features, max_wavelength, start_index=0):
    """float32 sinusoidal encodings of shape `(length, features)`.

    Row `t` encodes position `start_index + t`; feature `2i` holds
    `sin(pos / max_wavelength**(2i / features))` and feature `2i + 1` the
    cosine of the same angle.
    """
    positions = ops.arange(length, dtype="float32") + ops.cast(
        start_index, "float32"
    )
    feature_index = ops.arange(features, dtype="int32")
    pair_start = ops.cast((feature_index // 2) * 2, "float32")
    inverse_frequency = ops.power(
        ops.cast(max_wavelength, "float32"),
        -pair_start / ops.cast(features, "float32"),
    )
    angles = positions[:, None] * inverse_frequency[None, :]
    is_even = ops.equal(feature_index % 2, 0)[None, :]
    return ops.where(is_even, ops.sin(angles), ops.cos(angles))


@register
class PositionalEncoding(keras.layers.Layer):
    """Fixed sinusoidal position encoding of Vaswani et al.

    Returns the encoding only, not its sum with the inputs, so it is used as
    `x = x + PositionalEncoding()(x)`. The output depends on the inputs'
    shape alone: position `pos` and feature `2i` hold
    `sin(pos / max_wavelength**(2i / features))`, feature `2i + 1` the cosine
    of the same angle. The angles and their sines are computed in float32 and
    only then cast to the compute dtype, so long sequences stay accurate under
    mixed precision. The layer has no weights.

    Args:
        max_wavelength: positive number, the longest wavelength of the
            sinusoids (the base of the geometric progression of wavelengths).
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, time, features)`; only its
            shape is used.
        start_index: python int or scalar int tensor, the position of the
            first time step. For step-by-step decoding,
            `layer(x[:, t:t + 1], start_index=t)` equals
            `layer(x)[:, t:t + 1]`.

    Returns:
        The encodings, with the shape of `inputs`, in the compute dtype. The
        inputs' Keras mask is passed on unchanged.

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> x = keras.layers.Embedding(1000, 32, mask_zero=True)(tokens)
    >>> x = x + PositionalEncoding()(x)
    >>> table = PositionalEncoding()(np.zeros((1, 10, 32)))
    >>> tuple(table.shape), float(table[0, 0, 1])  # feature 1: cos(0)
    ((1, 10, 32), 1.0)

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        check_positive_number("max_wavelength", max_wavelength)
        self.max_wavelength = max_wavelength
        self.supports_masking = True

    def build(self, inputs_shape):
        check_rank("inputs", inputs_shape, (3,))
        check_known_features("inputs", inputs_shape)

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        table = sinusoidal_table(
            shape[1], inputs.shape[-1], self.max_wavelength, start_index
        )
        table = ops.cast(table, self.compute_dtype)
        return ops.broadcast_to(ops.expand_dims(table, 0), shape)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)

    def compute_output_spec(self, inputs, start_index=0):
        return keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
