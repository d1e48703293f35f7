import keras

from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.serialization import register


@register
class FirstTokenPooling(keras.layers.Layer):
    """Takes the vector of the first time step, BERT's `[CLS]` pooling.

    Meaningful when every sequence starts with a real token that the model
    can learn to use as a summary (a `[CLS]` or start id). The padding mask
    is consumed: the output has no time axis, so no mask is passed on.

    Call arguments:
        inputs: float tensor `(batch, time, features)`.

    Returns:
        `(batch, features)`, the step `inputs[:, 0]`.

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> x = keras.layers.Embedding(1000, 32, mask_zero=True)(tokens)
    >>> pooled = FirstTokenPooling()(x)  # (batch, 32)

    References:
        - [Devlin et al., 2019. BERT: Pre-training of Deep Bidirectional
          Transformers for Language
          Understanding](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, inputs_shape):
        check_rank("inputs", inputs_shape, (3,))

    def call(self, inputs):
        return inputs[:, 0, :]

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], inputs_shape[-1])
