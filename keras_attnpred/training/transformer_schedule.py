import keras
from keras import ops

from keras_attnpred.serialization import register


@register
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The warm-up learning rate of Vaswani et al. (2017), eq. 3.

    `lr(step) = scale * model_dim**-0.5 * min(n**-0.5, n * warmup_steps**-1.5)`
    with `n = step + 1`: Keras optimizers count steps from 0, the paper from
    1 (and `0**-0.5` is infinite). The rate rises linearly for
    `warmup_steps` steps, peaks at `scale * (model_dim * warmup_steps)**-0.5`
    and then decays with the inverse square root of the step. Registered as
    `keras_attnpred>TransformerSchedule`, so a saved optimizer reloads
    without `custom_objects`.

    Args:
        model_dim: int, the model width `d_model`.
        warmup_steps: int, steps of linear warm-up.
        scale: float, a factor on the whole curve.

    Example:

    >>> schedule = TransformerSchedule(model_dim=128, warmup_steps=4000)
    >>> optimizer = keras.optimizers.Adam(
    ...     schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9)

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762), section 5.3
    """

    def __init__(self, model_dim, warmup_steps=4000, scale=1.0):
        for name, value in (
            ("model_dim", model_dim),
            ("warmup_steps", warmup_steps),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or (
                value <= 0
            ):
                raise ValueError(
                    f"`{name}` must be a positive integer. "
                    f"Received: {name}={value!r}"
                )
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or (
            scale <= 0
        ):
            raise ValueError(
                f"`scale` must be a positive number. Received: scale={scale!r}"
            )
        self.model_dim = model_dim
        self.warmup_steps = warmup_steps
        self.scale = float(scale)

    def __call__(self, step):
        n = ops.cast(step, "float32") + 1.0
        rate = ops.minimum(
            ops.rsqrt(n), n * float(self.warmup_steps) ** -1.5
        )
        return self.scale * float(self.model_dim) ** -0.5 * rate

    def get_config(self):
        return {
            "model_dim": self.model_dim,
            "warmup_steps": self.warmup_steps,
            "scale": self.scale,
        }
