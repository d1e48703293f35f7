"""What the Transformer encoder and decoder blocks share (private)."""

import keras

from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.layers.attention_utils import fresh_initializer
from keras_attnpred.layers.multi_head_attention import MultiHeadAttention
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate


class TransformerBlock(keras.layers.Layer):
    """Base of `TransformerEncoder` and `TransformerDecoder`.

    Holds the shared arguments, the feed-forward network (its hidden
    activations dropped at `activation_dropout`, which defaults to
    `dropout`) and the residual wiring, which is pre-layer-norm
    (`normalize_first=True`, Xiong et al. 2020) or post-layer-norm (the
    original Transformer).
    """

    def __init__(
        self,
        intermediate_dim,
        num_heads,
        key_dim=None,
        num_key_value_heads=None,
        dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-5,
        normalize_first=False,
        use_fused_attention=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        activation_dropout=None,
        tie_query_key_init=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("intermediate_dim", intermediate_dim)
        check_positive_int("num_heads", num_heads)
        check_positive_int("key_dim", key_dim, allow_none=True)
        check_positive_int(
            "num_key_value_heads", num_key_value_heads, allow_none=True
        )
        check_rate("dropout", dropout)
        check_bool("tie_query_key_init", tie_query_key_init)
        if activation_dropout is not None:
            check_rate("activation_dropout", activation_dropout)
        if layer_norm_epsilon <= 0:
            raise ValueError(
                "`layer_norm_epsilon` must be positive. "
                f"Received: layer_norm_epsilon={layer_norm_epsilon!r}"
            )
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.num_key_value_heads = num_key_value_heads
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.normalize_first = normalize_first
        self.use_fused_attention = use_fused_attention
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.activation_dropout = activation_dropout
        self.tie_query_key_init = tie_query_key_init
        self.supports_masking = True

    def _check_model_dim(self, name, shape):
        check_rank(name, shape, (3,))
        model_dim = shape[-1]
        if self.key_dim is None and model_dim % self.num_heads:
            raise ValueError(
                f"The feature size of `{name}` must be divisible by "
                "`num_heads` when `key_dim` is not given. Received: "
                f"{name}.shape[-1]={model_dim}, num_heads={self.num_heads}"
            )
        return model_dim

    def _attention(self, name, model_dim):
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=self.key_dim or model_dim // self.num_heads,
            num_key_value_heads=self.num_key_value_heads,
            dropout=self.dropout,
            output_dim=model_dim,
            use_fused_attention=self.use_fused_attention,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            tie_query_key_init=self.tie_query_key_init,
            dtype=self.dtype_policy,
            name=name,
        )

    def _layer_norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def _build_feed_forward(self, shape):
        self._feed_forward_norm = self._layer_norm("feed_forward_norm", shape)
        self._intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            bias_initializer=fresh_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feed_forward_intermediate",
        )
        self._intermediate_dense.build(shape)
        self._output_dense = keras.layers.Dense(
            shape[-1],
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            bias_initializer=fresh_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feed_forward_output",
        )
        self._output_dense.build(tuple(shape[:-1]) + (self.intermediate_dim,))
        self._dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )
        # With None the hidden activations go through `self._dropout`, as
        # before the argument existed; at 0 there is no layer at all.
        if self.activation_dropout:
            self._activation_dropout = keras.layers.Dropout(
                self.activation_dropout,
                dtype=self.dtype_policy,
                name="activation_dropout",
            )

    def _residual(self, norm, sublayer, x, training):
        """`x + dropout(sublayer(x))`, normalised before or after."""
        y = norm(x) if self.normalize_first else x
        y = sublayer(y)
        extras = ()
        if isinstance(y, tuple):
            y, extras = y[0], y[1:]
        y = self._dropout(y, training=training) + x
        if not self.normalize_first:
            y = norm(y)
        return y, extras

    def _feed_forward(self, x, training):
        def network(y):
            y = self._intermediate_dense(y)
            if self.activation_dropout is None:
                # The shared layer (and its random stream) of the blocks
                # saved and trained before `activation_dropout` existed.
                y = self._dropout(y, training=training)
            elif self.activation_dropout > 0:
                y = self._activation_dropout(y, training=training)
            return self._output_dense(y)

        y, _ = self._residual(self._feed_forward_norm, network, x, training)
        return y

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask

    def get_config(self):
        config = super().get_config()
        config["dtype"] = dtype_with_quantized_sublayers(self)
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "num_key_value_heads": self.num_key_value_heads,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "normalize_first": self.normalize_first,
                "use_fused_attention": self.use_fused_attention,
                "tie_query_key_init": self.tie_query_key_init,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
                "activation_dropout": self.activation_dropout,
            }
        )
        return config
