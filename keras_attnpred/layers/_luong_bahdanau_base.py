"""Private base of `AdditiveAttention` and `DotProductAttention`.

Both layers share everything but the score function: the call signature
(mirroring `keras.layers.MultiHeadAttention`, so that Keras fills in
`query_mask`, `value_mask` and `key_mask` from the inputs' Keras masks), the
2-D single-step query, the combination of every mask, attention dropout, the
float32 scores under mixed precision, shapes and masks propagation. A
subclass only implements `_build_scores()` and `_scores()`.
"""

import keras
from keras import ops

from keras_attnpred.layers.attention_utils import attention_mask_from_padding
from keras_attnpred.layers.attention_utils import causal_mask
from keras_attnpred.layers.attention_utils import check_known_features
from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.layers.attention_utils import check_same_length
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.layers.attention_utils import fresh_initializer
from keras_attnpred.layers.attention_utils import masked_softmax
from keras_attnpred.layers.attention_utils import merge_masks
from keras_attnpred.layers.attention_utils import sublayer_dtype
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate

# Scores are always computed in float32, whatever the layer's policy: under
# `mixed_float16` a dot product of moderate vectors overflows 65504.
SCORE_DTYPE = "float32"


def _check_causal_query(use_causal_mask, query_shape):
    if use_causal_mask and len(query_shape) == 2:
        raise ValueError(
            "`use_causal_mask=True` needs a 3-D `query` with a time axis: a "
            "single decoder step has no earlier query steps to order keys "
            "against (pass an explicit `attention_mask` instead). "
            f"Received: use_causal_mask=True, query.shape={tuple(query_shape)}"
        )


class BaseScoredAttention(keras.layers.Layer):
    """Attention `context = softmax(score(query, key)) @ value`, no projection
    of the value. Subclasses define the score function."""

    def __init__(
        self,
        units=None,
        use_bias=True,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("units", units, allow_none=True)
        check_rate("dropout", dropout)
        self.units = units
        self.use_bias = use_bias
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    # --- to implement ---------------------------------------------------------
    def _build_scores(self, query_shape, key_shape):
        """Creates the scoring sublayers. `query_shape` is 3-D."""
        raise NotImplementedError

    def _scores(self, query, key):
        """float32 logits `(batch, T, S)` from a 3-D query and the key."""
        raise NotImplementedError

    # --- helpers for subclasses -----------------------------------------------
    def _dense(self, units, use_bias, name, input_shape):
        """A built float32 `Dense` sublayer, for the score computation."""
        layer = keras.layers.Dense(
            units,
            use_bias=use_bias,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            bias_initializer=fresh_initializer(self.bias_initializer),
            dtype=sublayer_dtype(self, SCORE_DTYPE),
            name=name,
        )
        layer.build(input_shape)
        return layer

    def _build_additive_scores(self, query_shape, key_shape):
        """Sublayers of `v · tanh(W_q q + W_k k + b)` (Bahdanau; Luong concat).

        `W_q q + W_k k` is `W [q; k]` with `W = [W_q, W_k]`, computed without
        materialising the `(batch, T, S, Dq + Dk)` concatenation.
        """
        units = self.units or key_shape[-1]
        self._query_projection = self._dense(
            units, self.use_bias, "query_projection", query_shape
        )
        self._key_projection = self._dense(
            units, False, "key_projection", key_shape
        )
        self._score_vector = self._dense(
            1, False, "score_vector", tuple(key_shape[:-1]) + (units,)
        )

    def _additive_scores(self, query, key):
        projected_query = self._query_projection(query)  # (batch, T, units)
        projected_key = self._key_projection(key)  # (batch, S, units)
        hidden = ops.tanh(
            ops.expand_dims(projected_query, 2)
            + ops.expand_dims(projected_key, 1)
        )  # (batch, T, S, units)
        return ops.squeeze(self._score_vector(hidden), -1)

    # --- Layer API --------------------------------------------------------------
    def build(self, query_shape, value_shape, key_shape=None):
        check_rank("query", query_shape, (2, 3))
        check_rank("value", value_shape, (3,))
        if key_shape is None:
            key_shape = value_shape
        else:
            check_rank("key", key_shape, (3,))
            check_same_length("key", key_shape[1], "value", value_shape[1])
        check_known_features("query", query_shape)
        check_known_features("key", key_shape)
        if len(query_shape) == 2:
            query_shape = (query_shape[0], 1, query_shape[1])
        self._build_scores(tuple(query_shape), tuple(key_shape))
        self._dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        _check_causal_query(use_causal_mask, query.shape)
        if key is None:
            key = value
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, 1)
            if query_mask is not None:
                query_mask = ops.expand_dims(query_mask, 1)
            if attention_mask is not None and len(attention_mask.shape) == 2:
                attention_mask = ops.expand_dims(attention_mask, 1)

        mask = attention_mask_from_padding(
            query_mask, merge_masks(value_mask, key_mask), attention_mask
        )
        if use_causal_mask:
            mask = merge_masks(
                mask, causal_mask(ops.shape(query)[1], ops.shape(key)[1])
            )

        scores = ops.cast(self._scores(query, key), SCORE_DTYPE)
        weights = masked_softmax(scores, mask)  # float32, (batch, T, S)
        dropped = self._dropout(weights, training=training)
        outputs = ops.einsum(
            "bts,bsd->btd", ops.cast(dropped, value.dtype), value
        )
        if single_step:
            outputs = ops.squeeze(outputs, 1)
            weights = ops.squeeze(weights, 1)
        if return_attention_scores:
            return outputs, weights
        return outputs

    def compute_mask(self, query, previous_mask=None):
        # The outputs have the query's time axis, hence its mask.
        return previous_mask

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape[:-1]) + (value_shape[-1],)

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        _check_causal_query(use_causal_mask, query.shape)
        outputs = keras.KerasTensor(
            self.compute_output_shape(query.shape, value.shape),
            dtype=self.compute_dtype,
        )
        if return_attention_scores:
            key_steps = (value if key is None else key).shape[1]
            weights = keras.KerasTensor(
                tuple(query.shape[:-1]) + (key_steps,), dtype="float32"
            )
            return outputs, weights
        return outputs

    def get_config(self):
        config = super().get_config()
        config["dtype"] = dtype_with_quantized_sublayers(self)
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
