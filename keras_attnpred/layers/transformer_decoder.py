import keras

from keras_attnpred.layers.attention_utils import padding_mask_of
from keras_attnpred.layers.transformer_block import TransformerBlock
from keras_attnpred.serialization import register


@register
class TransformerDecoder(TransformerBlock):
    """Transformer decoder block: causal self-attention, cross-attention, FFN.

    Without an `encoder_sequence` the block has no cross-attention and works
    as a decoder-only (GPT-style) block. The self-attention is causal unless
    `use_causal_mask=False`, and the causal mask is always combined with the
    padding masks, never replaced by them. For fast generation the block takes
    a self-attention key/value cache, updated at
    `self_attention_cache_update_index`, and a precomputed cross-attention
    cache of the encoder's projected keys and values, so no past step is
    recomputed.

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
        decoder_sequence: `(batch, target_length, features)`.
        encoder_sequence: optional `(batch, source_length, features)`.
        decoder_padding_mask, encoder_padding_mask: optional boolean
            `(batch, length)` masks, AND-ed with the sequences' Keras masks.
        decoder_attention_mask, encoder_attention_mask: optional boolean masks
            broadcastable to `(batch, target_length, key_length)`.
        self_attention_cache: optional `(batch, 2, max_target_length,
            num_key_value_heads, key_dim)` cache of past keys and values.
        self_attention_cache_update_index: int or scalar int tensor, the
            position of the first step of `decoder_sequence`.
        cross_attention_cache: optional `(batch, 2, source_length,
            num_key_value_heads, key_dim)` projected encoder keys and values,
            e.g. from `compute_cross_attention_cache`.
        use_causal_mask: bool, defaults to True.
        return_attention_scores: bool, also return the attention weights.
        training: bool, whether dropout is active.

    Returns:
        The output `(batch, target_length, features)`; then, with
        `return_attention_scores=True`, the self-attention weights and (with
        an encoder) the cross-attention weights
        `(batch, num_heads, target_length, source_length)`; then, when
        `self_attention_cache` was given, the updated self-attention cache
        and (with an encoder) the cross-attention cache. The decoder sequence's mask is passed on.

    Example:

    >>> source = keras.Input(shape=(None,), dtype="int32")
    >>> target = keras.Input(shape=(None,), dtype="int32")
    >>> embed = lambda: keras.layers.Embedding(1000, 64, mask_zero=True)
    >>> memory = TransformerEncoder(128, num_heads=4)(embed()(source))
    >>> x = TransformerDecoder(128, num_heads=4)(embed()(target), memory)
    >>> logits = keras.layers.Dense(1000)(x)
    >>> model = keras.Model([source, target], logits)
    >>> tuple(model([np.array([[5, 6, 0]]), np.array([[7, 8]])]).shape)
    (1, 2, 1000)

    References:
        - [Vaswani et al., 2017. Attention Is All You Need](
          https://arxiv.org/abs/1706.03762)
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        model_dim = self._check_model_dim(
            "decoder_sequence", decoder_sequence_shape
        )
        self._self_attention_norm = self._layer_norm(
            "self_attention_norm", decoder_sequence_shape
        )
        self._self_attention = self._attention("self_attention", model_dim)
        self._self_attention.build(decoder_sequence_shape, decoder_sequence_shape)
        self._has_cross_attention = encoder_sequence_shape is not None
        if self._has_cross_attention:
            self._check_model_dim("encoder_sequence", encoder_sequence_shape)
            self._cross_attention_norm = self._layer_norm(
                "cross_attention_norm", decoder_sequence_shape
            )
            self._cross_attention = self._attention("cross_attention", model_dim)
            self._cross_attention.build(
                decoder_sequence_shape, encoder_sequence_shape
            )
        self._build_feed_forward(decoder_sequence_shape)

    def compute_cross_attention_cache(self, encoder_sequence):
        """Projects `encoder_sequence` once into the cross-attention cache."""
        attention = self._cross_attention
        return keras.ops.stack(
            [
                attention._key_dense(encoder_sequence),
                attention._value_dense(encoder_sequence),
            ],
            axis=1,
        )

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        use_causal_mask=True,
        return_attention_scores=False,
        training=None,
    ):
        if (encoder_sequence is None) == self._has_cross_attention:
            raise ValueError(
                "`encoder_sequence` must be given exactly when the layer was "
                "built with one. Received: encoder_sequence="
                f"{'None' if encoder_sequence is None else 'a tensor'}, built "
                f"with cross-attention: {self._has_cross_attention}"
            )
        if (self_attention_cache is None) != (
            self_attention_cache_update_index is None
        ):
            raise ValueError(
                "`self_attention_cache` and `self_attention_cache_update_index` "
                "go together: the index says where this call's steps are "
                "written. Received: self_attention_cache="
                f"{'None' if self_attention_cache is None else 'a tensor'}, "
                "self_attention_cache_update_index="
                f"{self_attention_cache_update_index}"
            )
        decoder_padding_mask = padding_mask_of(
            decoder_sequence, decoder_padding_mask
        )
        use_cache = self_attention_cache is not None

        def self_attention(x):
            return self._self_attention(
                x,
                x,
                query_mask=decoder_padding_mask,
                value_mask=decoder_padding_mask,
                attention_mask=decoder_attention_mask,
                use_causal_mask=use_causal_mask,
                return_attention_scores=return_attention_scores,
                training=training,
                cache=self_attention_cache,
                cache_update_index=self_attention_cache_update_index,
            )

        x, self_extras = self._residual(
            self._self_attention_norm, self_attention, decoder_sequence, training
        )
        cross_extras = ()
        if self._has_cross_attention:
            encoder_padding_mask = padding_mask_of(
                encoder_sequence, encoder_padding_mask
            )

            def cross_attention(y):
                return self._cross_attention(
                    y,
                    encoder_sequence,
                    query_mask=decoder_padding_mask,
                    value_mask=encoder_padding_mask,
                    attention_mask=encoder_attention_mask,
                    return_attention_scores=return_attention_scores,
                    training=training,
                    cache=cross_attention_cache,
                )

            x, cross_extras = self._residual(
                self._cross_attention_norm, cross_attention, x, training
            )
        x = self._feed_forward(x, training)

        scores, caches = [], []
        for extras in (self_extras, cross_extras):
            extras = list(extras)
            if return_attention_scores and extras:
                scores.append(extras.pop(0))
            caches.extend(extras)
        if use_cache and self._has_cross_attention and cross_attention_cache is None:
            # Hand back the projection so later steps skip it.
            caches.append(self.compute_cross_attention_cache(encoder_sequence))
        results = [x, *scores, *caches] if use_cache else [x, *scores]
        return results[0] if len(results) == 1 else tuple(results)

    def compute_output_shape(
        self, decoder_sequence_shape, encoder_sequence_shape=None
    ):
        return decoder_sequence_shape

    def compute_output_spec(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        use_causal_mask=True,
        return_attention_scores=False,
        training=None,
    ):
        batch, length = decoder_sequence.shape[0], decoder_sequence.shape[1]
        results = [
            keras.KerasTensor(decoder_sequence.shape, dtype=self.compute_dtype)
        ]
        if return_attention_scores:
            key_length = (
                self_attention_cache.shape[2]
                if self_attention_cache is not None
                else length
            )
            results.append(
                keras.KerasTensor(
                    (batch, self.num_heads, length, key_length), dtype="float32"
                )
            )
            if encoder_sequence is not None:
                results.append(
                    keras.KerasTensor(
                        (batch, self.num_heads, length, encoder_sequence.shape[1]),
                        dtype="float32",
                    )
                )
        if self_attention_cache is not None:
            results.append(
                keras.KerasTensor(
                    self_attention_cache.shape, dtype=self_attention_cache.dtype
                )
            )
            if encoder_sequence is not None:
                heads = self.num_key_value_heads or self.num_heads
                head_dim = self.key_dim or (
                    decoder_sequence.shape[-1] // self.num_heads
                )
                results.append(
                    keras.KerasTensor(
                        (batch, 2, encoder_sequence.shape[1], heads, head_dim),
                        dtype=self.compute_dtype,
                    )
                )
        return results[0] if len(results) == 1 else tuple(results)
