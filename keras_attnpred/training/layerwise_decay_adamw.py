import keras

from keras_attnpred.serialization import register


@register
class LayerwiseDecayAdamW(keras.optimizers.AdamW):
    """AdamW whose learning rate is scaled per variable, e.g. smaller for
    the lower layers of a pretrained encoder (layer-wise learning-rate
    decay, Howard & Ruder 2018; Clark et al. 2020).

    Every variable of `learning_rate_multipliers` (keyed by its `path`)
    updates with its multiplier times the learning rate; any other variable
    with the learning rate itself. The decoupled weight decay uses the
    unscaled rate.

    Args:
        learning_rate_multipliers: dict from variable path to a float >= 0.
        **kwargs: `keras.optimizers.AdamW` arguments.

    Example:

    >>> dense = keras.layers.Dense(1)
    >>> dense.build((None, 2))
    >>> optimizer = LayerwiseDecayAdamW(
    ...     {dense.kernel.path: 0.0}, learning_rate=0.1, weight_decay=0.0)
    >>> kernel = keras.ops.convert_to_numpy(dense.kernel)
    >>> optimizer.apply([keras.ops.ones((2, 1)), keras.ops.ones((1,))],
    ...                 dense.trainable_variables)
    >>> bool((keras.ops.convert_to_numpy(dense.kernel) == kernel).all())
    True
    >>> float(keras.ops.convert_to_numpy(dense.bias)[0]) < 0
    True

    References:
        - [Howard & Ruder, 2018. Universal Language Model Fine-tuning for
          Text Classification](https://arxiv.org/abs/1801.06146)
        - [Clark et al., 2020. ELECTRA](https://arxiv.org/abs/2003.10555)
    """

    def __init__(self, learning_rate_multipliers, **kwargs):
        super().__init__(**kwargs)
        multipliers = dict(learning_rate_multipliers or {})
        for path, value in multipliers.items():
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or value < 0
            ):
                raise ValueError(
                    "`learning_rate_multipliers` must map variable paths to "
                    f"numbers >= 0. Received: {path!r}: {value!r}"
                )
        self.learning_rate_multipliers = multipliers

    def build(self, variables):
        super().build(variables)
        # By position: TensorFlow's distributed update hands `update_step`
        # the backend variable, which has no Keras path.
        self._multipliers = [
            self.learning_rate_multipliers.get(variable.path)
            for variable in variables
        ]

    def update_step(self, gradient, variable, learning_rate):
        factor = self._multipliers[self._get_variable_index(variable)]
        if factor is not None:
            learning_rate = learning_rate * factor
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config["learning_rate_multipliers"] = dict(
            self.learning_rate_multipliers
        )
        return config
