import numpy as np
from keras import layers
from keras import ops


class HeadProjection(layers.EinsumDense):
    """Projects `(batch, length, dim)` onto `num_heads` heads of `head_dim`.

    The kernel is one `(dim, num_heads * head_dim)` matrix and the bias one
    vector, and the heads are split off after the bias. Keras's
    `MultiHeadAttention` keeps the heads as their own kernel axis instead; the
    numbers are the same, in the same order, so its weights (and files saved
    by earlier versions of this package) load here by a reshape.

    The flat layout is for XLA:CPU: with one row and one step (greedy
    decoding), a kernel with a heads axis is emitted as a naive loop over the
    weights, 3-4 times slower than the library matrix-vector product a flat
    kernel followed by its bias gets (`benchmarks/RESULTS.md`, "Decoding speed
    on the CPU").
    The product is a 2-D matmul over all rows, which TensorFlow's graph mode
    also runs faster than an einsum.

    Args:
        num_heads: int, number of heads.
        head_dim: int, size of each head.
        use_bias: bool, whether to add a bias.
        **kwargs: `EinsumDense` arguments other than the equation, the output
            shape and the bias axes (`kernel_initializer`, `dtype`, `name`...).

    Call arguments:
        inputs: a `(batch, length, dim)` tensor.

    Returns:
        A `(batch, length, num_heads, head_dim)` tensor.
    """

    def __init__(self, num_heads, head_dim, use_bias=True, **kwargs):
        super().__init__(
            "btd,dk->btk",
            output_shape=(None, num_heads * head_dim),
            bias_axes="k" if use_bias else None,
            **kwargs,
        )
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.use_bias = use_bias

    def call(self, inputs, training=None):
        heads_shape = self._heads_shape(inputs)
        if self.lora_enabled:
            return ops.reshape(super().call(inputs, training=training), heads_shape)
        # One 2-D product: TensorFlow runs the rank-3 einsum as a broadcast
        # batch matmul, whose kernel gradient took 2.5 times as long.
        rows = ops.reshape(inputs, (-1, self._kernel.shape[0]))
        flat = ops.matmul(rows, self.kernel)
        if self.bias is not None:
            flat = ops.add(flat, self.bias)
        return ops.reshape(flat, heads_shape)

    def quantized_call(self, inputs, training=None):
        # Keras calls this instead of `call` once the layer is quantized.
        outputs = super().quantized_call(inputs, training=training)
        return ops.reshape(outputs, self._heads_shape(inputs))

    def _heads_shape(self, inputs):
        return ops.shape(inputs)[:-1] + (self.num_heads, self.head_dim)

    def quantize(self, mode=None, type_check=True, config=None):
        # EinsumDense refuses its subclasses unless told otherwise, since one
        # may give its kernel another meaning. This one keeps EinsumDense's
        # "btd,dk->btk" kernel and quantized call (the heads are split off
        # after them), so Model.quantize must not skip the projections.
        super().quantize(mode, type_check=False, config=config)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_heads, self.head_dim)

    def flat_weights(self, weights):
        """`weights` (kernel, then bias) with any heads axis merged."""
        variables = self._flat_variables()
        return [
            _merge_heads_axis(value, variables[index].shape)
            if index < len(variables)
            else value
            for index, value in enumerate(weights)
        ]

    def _flat_variables(self):
        if self.quantization_mode is not None:
            return []
        return [self._kernel] + ([self.bias] if self.bias is not None else [])

    def load_own_variables(self, store):
        if self.built:
            values = [store[key] for key in sorted(store.keys(), key=int)]
            store = {
                str(index): value
                for index, value in enumerate(self.flat_weights(values))
            }
        super().load_own_variables(store)

    def get_config(self):
        config = super().get_config()
        for key in ("equation", "output_shape", "bias_axes"):
            config.pop(key)
        config.update(
            num_heads=self.num_heads,
            head_dim=self.head_dim,
            use_bias=self.use_bias,
        )
        return config


def _merge_heads_axis(value, flat_shape):
    """`value` reshaped to `flat_shape` if it is that with its heads split."""
    shape = np.shape(value)
    flat_shape = tuple(flat_shape)
    split = (
        len(shape) == len(flat_shape) + 1
        and shape[:-2] == flat_shape[:-1]
        and shape[-2] * shape[-1] == flat_shape[-1]
    )
    return np.reshape(value, flat_shape) if split else value
