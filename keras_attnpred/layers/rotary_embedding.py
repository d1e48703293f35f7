import keras
from keras import ops

from keras_attnpred.layers.attention_utils import check_known_features
from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_positive_number


def _check_axis(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"`{name}` must be an integer. Received: {name}={value!r}"
        )


@register
class RotaryEmbedding(keras.layers.Layer):
    """Rotary position embedding (RoPE) of Su et al.

    Rotates pairs of features by an angle proportional to the position, so
    that the dot product of a rotated query at position `m` and a rotated key
    at position `n` depends on the positions only through `m - n`. Pairs use
    the "rotate half" convention of GPT-NeoX and `keras_hub`: feature `i` of
    the first half is paired with feature `i` of the second half, and the pair
    is rotated by `pos * max_wavelength**(-2i / features) / scaling_factor`.
    Angles, sines and cosines are computed in float32 and then cast to the
    compute dtype. The layer has no weights; apply it to queries and keys
    before the attention scores.

    Args:
        max_wavelength: positive number, the longest wavelength of the
            rotations.
        scaling_factor: positive number; positions are divided by it (linear
            position interpolation, to stretch a model to longer sequences).
        sequence_axis: int, the time axis of the inputs.
        feature_axis: int, the feature axis of the inputs, whose size must be
            even.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, time, features)` or
            `(batch, time, heads, head_dim)` (with the default axes).
        start_index: python int or scalar int tensor, the position of the
            first time step. For step-by-step decoding,
            `layer(x[:, t:t + 1], start_index=t)` equals
            `layer(x)[:, t:t + 1]`.

    Returns:
        The rotated inputs, same shape, in the compute dtype. The inputs'
        Keras mask is passed on unchanged.

    Example:

    >>> query = keras.Input(shape=(None, 4, 16))  # (batch, time, heads, dim)
    >>> key = keras.Input(shape=(None, 4, 16))
    >>> rope = RotaryEmbedding()
    >>> query, key = rope(query), rope(key)
    >>> x = keras.random.normal((1, 5, 4, 16))
    >>> norm = lambda t: keras.ops.norm(t, axis=-1)  # a rotation keeps it
    >>> bool(keras.ops.all(keras.ops.abs(norm(rope(x)) - norm(x)) < 1e-4))
    True

    References:
        - [Su et al., 2021. RoFormer: Enhanced Transformer with Rotary
          Position Embedding](https://arxiv.org/abs/2104.09864)
    """

    def __init__(
        self,
        max_wavelength=10000,
        scaling_factor=1.0,
        sequence_axis=1,
        feature_axis=-1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_number("max_wavelength", max_wavelength)
        check_positive_number("scaling_factor", scaling_factor)
        _check_axis("sequence_axis", sequence_axis)
        _check_axis("feature_axis", feature_axis)
        self.max_wavelength = max_wavelength
        self.scaling_factor = scaling_factor
        self.sequence_axis = sequence_axis
        self.feature_axis = feature_axis
        self.supports_masking = True

    def _axes(self, rank):
        """The sequence and feature axes as non-negative ints, validated."""
        axes = []
        for name, axis in (
            ("sequence_axis", self.sequence_axis),
            ("feature_axis", self.feature_axis),
        ):
            if not -rank <= axis < rank:
                raise ValueError(
                    f"`{name}` is out of range for inputs of rank {rank}. "
                    f"Received: {name}={axis}"
                )
            axes.append(axis % rank)
        if axes[0] == axes[1]:
            raise ValueError(
                "`sequence_axis` and `feature_axis` must be different axes. "
                f"Received: sequence_axis={self.sequence_axis}, "
                f"feature_axis={self.feature_axis}"
            )
        return axes

    def build(self, inputs_shape):
        check_rank("inputs", inputs_shape, (3, 4))
        _, feature_axis = self._axes(len(inputs_shape))
        check_known_features("inputs", inputs_shape, feature_axis)
        features = inputs_shape[feature_axis]
        if features % 2:
            raise ValueError(
                "The feature size of `inputs` must be even for rotary "
                "embeddings. "
                f"Received: inputs.shape[{self.feature_axis}]={features}"
            )

    def _cos_sin(self, time, features, start_index):
        """float32 `cos` and `sin` tables of shape `(time, features)`."""
        positions = ops.arange(time, dtype="float32") + ops.cast(
            start_index, "float32"
        )
        exponents = ops.arange(0, features, 2, dtype="float32") / features
        inverse_frequency = ops.power(
            ops.cast(self.max_wavelength, "float32"), -exponents
        ) / ops.cast(self.scaling_factor, "float32")
        angles = positions[:, None] * inverse_frequency[None, :]
        angles = ops.concatenate([angles, angles], axis=-1)
        return ops.cos(angles), ops.sin(angles)

    def call(self, inputs, start_index=0):
        rank = len(inputs.shape)
        sequence_axis, feature_axis = self._axes(rank)
        features = inputs.shape[feature_axis]
        time = ops.shape(inputs)[sequence_axis]
        cos, sin = self._cos_sin(time, features, start_index)
        if sequence_axis > feature_axis:
            cos, sin = ops.transpose(cos), ops.transpose(sin)
        # Size-1 axes everywhere except the sequence and feature axes.
        for axis in range(rank):
            if axis not in (sequence_axis, feature_axis):
                cos = ops.expand_dims(cos, axis)
                sin = ops.expand_dims(sin, axis)
        cos = ops.cast(cos, self.compute_dtype)
        sin = ops.cast(sin, self.compute_dtype)
        first, second = ops.split(inputs, 2, axis=feature_axis)
        rotated_half = ops.concatenate([-second, first], axis=feature_axis)
        return inputs * cos + rotated_half * sin

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)

    def compute_output_spec(self, inputs, start_index=0):
        return keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_wavelength": self.max_wavelength,
                "scaling_factor": self.scaling_factor,
                "sequence_axis": self.sequence_axis,
                "feature_axis": self.feature_axis,
            }
        )
        return config
