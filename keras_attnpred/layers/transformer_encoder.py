import keras

from keras_attnpred.layers.attention_utils import padding_mask_of
from keras_attnpred.layers.transformer_block import TransformerBlock
from keras_attnpred.serialization import register


@register
class TransformerEncoder(TransformerBlock):
    """Transformer encoder block: self-attention, then a feed-forward network.

    Each sublayer is wrapped in dropout, a residual connection and layer
    normalisation, applied after the residual (the original Transformer) or
    before the sublayer (`normalize_first=True`, which trains more stably in
    deep stacks). The padding mask of the inputs (e.g. from
    `Embedding(mask_zero=True)` or `TokenAndPositionEmbedding`) is honoured
    and passed on.

    Args:
        intermediate_dim: int, hidden size of the feed-forward network.
        num_heads: int, number of attention heads.
        key_dim: int, size of each attention head. Defaults to the feature
            size divided by `num_heads`.
        num_key_value_heads: int, key/value heads for grouped-query attention.
            Defaults to `num_heads`.
        dropout: float in [0, 1), for the attention weights, the residual
            branches and, unless `activation_dropout` is given, the
            feed-forward hidden activations.
        activation: activation of the feed-forward network.
        layer_norm_epsilon: float, epsilon of the layer normalisations.
        normalize_first: bool, pre-layer-norm instead of post-layer-norm.
        use_fused_attention: bool, allow `keras.ops.dot_product_attention`.
        kernel_initializer: initializer for the dense kernels.
        bias_initializer: initializer for the dense biases.
        activation_dropout: float in [0, 1), the dropout on the feed-forward
            hidden activations, or None (the default) for `dropout`. 0 leaves
            them alone, as keras-hub's blocks do, and skips the dropout step.
        tie_query_key_init: bool, start each attention's query and key
            kernels from one random draw (see `MultiHeadAttention`).
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        inputs: `(batch, length, features)`.
        padding_mask: optional boolean `(batch, length)`, `True` for real
            steps. AND-ed with the inputs' Keras mask.
        attention_mask: optional boolean mask broadcastable to
            `(batch, length, length)`.
        use_causal_mask: bool, make the self-attention causal.
        return_attention_scores: bool, also return the self-attention weights
            `(batch, num_heads, length, length)`.
        training: bool, whether dropout is active.

    Returns:
        A tensor shaped like `inputs` (and the attention weights when asked
        for), carrying the inputs' mask.

    Example:

    >>> tokens = keras.Input(shape=(None,), dtype="int32")
    >>> x = keras.layers.Embedding(1000, 64, mask_zero=True)(tokens)
    >>> x = TransformerEncoder(intermediate_dim=128, num_heads=4)(x)
    >>> x = keras.layers.GlobalAveragePooling1D()(x)
    >>> model = keras.Model(tokens, keras.layers.Dense(2)(x))
    >>> tuple(model(np.array([[5, 6, 7, 0]])).shape)
    (1, 2)

    References:
        - [Vaswani et al., 2017. Attention Is All You Need](
          https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020. On Layer Normalization in the Transformer
          Architecture](https://arxiv.org/abs/2002.04745)
    """

    def build(self, inputs_shape):
        model_dim = self._check_model_dim("inputs", inputs_shape)
        self._self_attention_norm = self._layer_norm(
            "self_attention_norm", inputs_shape
        )
        self._self_attention = self._attention("self_attention", model_dim)
        self._self_attention.build(inputs_shape, inputs_shape)
        self._build_feed_forward(inputs_shape)

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        padding_mask = padding_mask_of(inputs, padding_mask)

        def self_attention(x):
            return self._self_attention(
                x,
                x,
                query_mask=padding_mask,
                value_mask=padding_mask,
                attention_mask=attention_mask,
                use_causal_mask=use_causal_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )

        x, scores = self._residual(
            self._self_attention_norm, self_attention, inputs, training
        )
        x = self._feed_forward(x, training)
        if return_attention_scores:
            return x, scores[0]
        return x

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def compute_output_spec(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        output = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        batch, length = inputs.shape[0], inputs.shape[1]
        scores_shape = (batch, self.num_heads, length, length)
        return output, keras.KerasTensor(scores_shape, dtype="float32")
