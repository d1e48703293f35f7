"""Backend-specific kernels the layers use where a backend has them.

The layers stay on `keras.ops`; a function here says whether its fused kernel
applies (`can_...`) and the layer keeps its portable path otherwise.
"""

from keras_attnpred.ops.fused_dropout_attention import can_fuse_dropout
from keras_attnpred.ops.fused_dropout_attention import fused_dropout_attention
from keras_attnpred.ops.fused_dropout_attention import new_dropout_seed

__all__ = ["can_fuse_dropout", "fused_dropout_attention", "new_dropout_seed"]
