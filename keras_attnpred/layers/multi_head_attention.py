import math

import keras
from keras import ops

from keras_attnpred.layers._head_projection import HeadProjection
from keras_attnpred.layers.attention_utils import attention_mask_from_padding
from keras_attnpred.layers.attention_utils import causal_mask
from keras_attnpred.layers.attention_utils import check_rank
from keras_attnpred.layers.attention_utils import check_same_length
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.layers.attention_utils import fresh_initializer
from keras_attnpred.layers.attention_utils import masked_softmax
from keras_attnpred.layers.attention_utils import merge_masks
from keras_attnpred.ops import can_fuse_dropout
from keras_attnpred.ops import fused_dropout_attention
from keras_attnpred.ops import new_dropout_seed
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate


@register
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with grouped-query heads and a key/value cache.

    Projects the query into `num_heads` heads and key and value into
    `num_key_value_heads` heads (fewer heads share keys and values: grouped-query
    attention; one head: multi-query attention), attends with scaled dot
    products and projects the concatenated heads back.

    Masks from the inputs (e.g. `Embedding(mask_zero=True)`), an explicit
    `attention_mask` and the causal mask are all combined with a logical AND;
    none of them is ever dropped. Scores, masking and softmax run in float32
    under the mixed precision policies; hidden keys get exactly zero weight and
    a query that may see no key gives zeros, never NaN.

    Where the semantics allow (no attention scores asked for, no attention
    dropout in training) the heads go through `keras.ops.dot_product_attention`,
    which is flash attention on GPUs with the JAX backend. With the JAX backend
    on a GPU, attention dropout in training runs inside cuDNN's flash
    attention too, when the heads are bfloat16 or float16 with
    `value_dim == key_dim` a multiple of 8 up to 128, the lengths are even
    where a mask applies, no `keras.distribution` spans several devices and
    `XLA_FLAGS` keep cuDNN kernels out of CUDA graphs (see
    `keras_attnpred.ops`). Its
    masks then come from cuDNN's random stream, seeded once per layer, not
    from `keras.random`: a layer called twice in one compiled step draws the
    same masks at both calls.
    `use_fused_attention=False` turns both paths off for this layer.

    The query, key and value kernels are `(features, heads * head_dim)`
    matrices (Keras's `MultiHeadAttention` keeps the heads as a third axis);
    `set_weights` and loading take either layout.

    Args:
        num_heads: int, number of query heads.
        key_dim: int, size of each query and key head.
        value_dim: int, size of each value head. Defaults to `key_dim`.
        num_key_value_heads: int, number of key and value heads; must divide
            `num_heads`. Defaults to `num_heads` (standard multi-head
            attention).
        dropout: float in [0, 1), dropout on the attention weights.
        use_bias: bool, whether the projections have biases.
        output_dim: int, size of the output features. Defaults to the query's
            feature size.
        use_fused_attention: bool, whether to use a fused attention kernel
            (`keras.ops.dot_product_attention`, or cuDNN's with dropout)
            when possible.
        kernel_initializer: initializer for the projection kernels.
        bias_initializer: initializer for the projection biases.
        tie_query_key_init: bool, start the query and key kernels from one
            random draw where they have the same shape, so that the first
            logits `x W (x' W)^T` favour similar tokens (`W W^T` is close to
            a multiple of the identity): a simple form of mimetic
            initialization. Every kernel is trained on its own afterwards.
            The model builders set it; an English-Spanish Transformer
            reached in 6 epochs what it otherwise needed 15 for
            (`benchmarks/results/initialisation_bisect_spa_eng_h200.json`).
        **kwargs: base layer arguments such as `name` and `dtype`.

    Call arguments:
        query: `(batch, query_length, query_features)`.
        value: `(batch, key_length, value_features)`.
        key: `(batch, key_length, key_features)`; defaults to `value`.
        query_mask, value_mask, key_mask: optional boolean padding masks
            `(batch, length)`; filled in from the inputs' Keras masks.
        attention_mask: optional boolean mask broadcastable to
            `(batch, query_length, key_length)`; `True` may be attended to.
        use_causal_mask: bool, hide future keys: query step `i` sees key steps
            `j <= i` (plus `cache_update_index` with a cache).
        return_attention_scores: bool, also return the float32 attention
            weights `(batch, num_heads, query_length, key_length)`.
        training: bool, whether dropout is active.
        cache: optional `(batch, 2, cache_length, num_key_value_heads,
            key_dim)` tensor of projected keys (`[:, 0]`) and values
            (`[:, 1]`), for incremental decoding. Requires
            `value_dim == key_dim`.
        cache_update_index: int or scalar int tensor. With a cache, the
            position where this call's keys and values are written; slots
            after the written ones are hidden. The padding masks of this
            call apply to the slots it writes; earlier slots count as real
            steps, so write a padded prompt in the same call as its mask, or
            pass an `attention_mask` over the whole cache. Leave `None` to attend to a
            precomputed cache as is (cross-attention to an encoder).

    Returns:
        The output `(batch, query_length, output_dim)`, then the attention
        weights if `return_attention_scores=True`, then the updated cache if
        `cache` was given. The query's mask is propagated to the output.

    Example:

    >>> layer = MultiHeadAttention(num_heads=4, key_dim=16)
    >>> target = keras.random.normal((2, 8, 32))
    >>> source = keras.random.normal((2, 10, 32))
    >>> output, scores = layer(target, source, return_attention_scores=True)
    >>> tuple(output.shape), tuple(scores.shape)
    ((2, 8, 32), (2, 4, 8, 10))

    References:
        - [Vaswani et al., 2017. Attention Is All You Need](
          https://arxiv.org/abs/1706.03762)
        - [Shazeer, 2019. Fast Transformer Decoding: One Write-Head is All You
          Need](https://arxiv.org/abs/1911.02150)
        - [Ainslie et al., 2023. GQA: Training Generalized Multi-Query
          Transformer Models from Multi-Head Checkpoints](
          https://arxiv.org/abs/2305.13245)
        - [Trockman & Kolter, 2023. Mimetic Initialization of Self-Attention
          Layers](https://arxiv.org/abs/2305.09828)
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        num_key_value_heads=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        use_fused_attention=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        tie_query_key_init=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("num_heads", num_heads)
        check_positive_int("key_dim", key_dim)
        check_positive_int("value_dim", value_dim, allow_none=True)
        check_positive_int(
            "num_key_value_heads", num_key_value_heads, allow_none=True
        )
        check_positive_int("output_dim", output_dim, allow_none=True)
        check_rate("dropout", dropout)
        check_bool("tie_query_key_init", tie_query_key_init)
        if num_key_value_heads is not None and num_heads % num_key_value_heads:
            raise ValueError(
                "`num_key_value_heads` must divide `num_heads`. Received: "
                f"num_heads={num_heads}, "
                f"num_key_value_heads={num_key_value_heads}"
            )
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim
        self.num_key_value_heads = num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.output_dim = output_dim
        self.use_fused_attention = use_fused_attention
        self.tie_query_key_init = tie_query_key_init
        self._cudnn_dropout_seed = None
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    @property
    def _value_dim(self):
        return self.value_dim or self.key_dim

    @property
    def _key_value_heads(self):
        return self.num_key_value_heads or self.num_heads

    def _head_projection(self, name, num_heads, head_dim, kernel_initializer):
        return self._allow_masks(
            HeadProjection(
                num_heads,
                head_dim,
                use_bias=self.use_bias,
                kernel_initializer=kernel_initializer,
                bias_initializer=fresh_initializer(self.bias_initializer),
                dtype=self.dtype_policy,
                name=name,
            )
        )

    def _output_projection(self, output_dim):
        return self._allow_masks(
            keras.layers.EinsumDense(
                "btnh,nhd->btd",
                output_shape=(None, output_dim),
                bias_axes="d" if self.use_bias else None,
                kernel_initializer=fresh_initializer(self.kernel_initializer),
                bias_initializer=fresh_initializer(self.bias_initializer),
                dtype=self.dtype_policy,
                name="attention_output",
            )
        )

    @staticmethod
    def _allow_masks(projection):
        # This layer applies the masks itself; letting the projections pass
        # the inputs' masks along keeps Keras from warning that they are lost.
        projection.supports_masking = True
        return projection

    def build(self, query_shape, value_shape, key_shape=None):
        check_rank("query", query_shape, (3,))
        check_rank("value", value_shape, (3,))
        key_shape = value_shape if key_shape is None else key_shape
        check_rank("key", key_shape, (3,))
        if None not in (key_shape[1], value_shape[1]):
            check_same_length("key", key_shape[1], "value", value_shape[1])
        query_initializer = fresh_initializer(self.kernel_initializer)
        key_initializer = fresh_initializer(self.kernel_initializer)
        if (
            self.tie_query_key_init
            and query_shape[-1] == key_shape[-1]
            and self._key_value_heads == self.num_heads
        ):
            # A Keras initializer draws the same numbers at every call.
            key_initializer = query_initializer
        self._query_dense = self._head_projection(
            "query", self.num_heads, self.key_dim, query_initializer
        )
        self._query_dense.build(query_shape)
        self._key_dense = self._head_projection(
            "key", self._key_value_heads, self.key_dim, key_initializer
        )
        self._key_dense.build(key_shape)
        self._value_dense = self._head_projection(
            "value",
            self._key_value_heads,
            self._value_dim,
            fresh_initializer(self.kernel_initializer),
        )
        self._value_dense.build(value_shape)
        self._output_dense = self._output_projection(
            self.output_dim or query_shape[-1]
        )
        self._output_dense.build(
            (query_shape[0], query_shape[1], self.num_heads, self._value_dim)
        )
        self._dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="attention_dropout"
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
        cache=None,
        cache_update_index=None,
    ):
        if cache is None and cache_update_index is not None:
            raise ValueError(
                "`cache_update_index` needs a `cache` to write into. "
                f"Received: cache=None, cache_update_index={cache_update_index}"
            )
        if cache is not None and isinstance(cache_update_index, int):
            # A tensor index can't be checked here; a Python one can, and
            # slice_update would otherwise clamp it silently.
            last_start = cache.shape[2] - query.shape[1]
            if not 0 <= cache_update_index <= last_start:
                raise ValueError(
                    "`cache_update_index` must leave room for the query in the "
                    f"cache of length {cache.shape[2]}. "
                    f"Received: cache_update_index={cache_update_index}, "
                    f"query.shape[1]={query.shape[1]}"
                )
        if cache is not None and self._value_dim != self.key_dim:
            raise ValueError(
                "A key/value cache needs `value_dim == key_dim`. Received: "
                f"key_dim={self.key_dim}, value_dim={self.value_dim}"
            )
        key = value if key is None else key
        query_heads = self._query_dense(query)
        key_padding = merge_masks(value_mask, key_mask)
        causal_offset = 0
        if cache is None:
            key_heads = self._key_dense(key)
            value_heads = self._value_dense(value)
        elif cache_update_index is None:
            # A precomputed cache of `value`: its padding mask still applies.
            key_heads, value_heads = cache[:, 0], cache[:, 1]
        else:
            key_heads, value_heads, cache, key_padding = self._update_cache(
                cache, cache_update_index, key, value, key_padding
            )
            causal_offset = cache_update_index

        query_length = ops.shape(query_heads)[1]
        key_length = ops.shape(key_heads)[1]
        mask = attention_mask_from_padding(query_mask, key_padding, attention_mask)
        if cache is not None and cache_update_index is not None:
            # Slots past the ones written so far hold no step yet.
            written = ops.arange(key_length)[None, None, :] < (
                cache_update_index + query_length
            )
            mask = merge_masks(mask, written)
        causal = None
        if use_causal_mask:
            causal = causal_mask(query_length, key_length, causal_offset)

        attention_output, scores = self._attend(
            query_heads,
            key_heads,
            value_heads,
            mask,
            causal,
            # Without a cache the causal mask is the kernel's own `is_causal`,
            # which lets cuDNN pick flash attention.
            use_causal_mask and cache is None,
            return_attention_scores,
            training,
        )
        output = self._output_dense(attention_output)
        results = [output]
        if return_attention_scores:
            results.append(scores)
        if cache is not None:
            results.append(cache)
        return results[0] if len(results) == 1 else tuple(results)

    def _update_cache(self, cache, cache_update_index, key, value, key_padding):
        start = [0, cache_update_index, 0, 0]
        key_heads = ops.slice_update(cache[:, 0], start, self._key_dense(key))
        value_heads = ops.slice_update(
            cache[:, 1], start, self._value_dense(value)
        )
        if key_padding is not None:
            # Earlier slots hold earlier (real) steps; only the newly written
            # slots have a padding mask of their own.
            everything = ops.ones(ops.shape(cache)[:1] + ops.shape(cache)[2:3])
            key_padding = ops.slice_update(
                ops.cast(everything, "bool"),
                [0, cache_update_index],
                ops.cast(key_padding, "bool"),
            )
        return (
            key_heads,
            value_heads,
            ops.stack([key_heads, value_heads], axis=1),
            key_padding,
        )

    def _can_fuse(
        self, return_attention_scores, training, query, key, has_mask
    ):
        if not self.use_fused_attention or return_attention_scores:
            return False
        # jax.nn.dot_product_attention needs value heads of the key size.
        if self._value_dim != self.key_dim:
            return False
        if self._drops_weights(training):
            # Only cuDNN applies dropout inside a fused kernel.
            return can_fuse_dropout(
                query.dtype,
                self.key_dim,
                query_length=query.shape[1],
                key_length=key.shape[1],
                has_mask=has_mask,
            )
        # The TensorFlow kernel computes logits in the input dtype, which
        # overflows in float16; the JAX one accumulates in float32.
        if (
            keras.backend.backend() == "tensorflow"
            and self.compute_dtype == "float16"
        ):
            return False
        return True

    def _cudnn_seed(self):
        # cuDNN's masks depend only on the seed and the step, so every layer
        # draws its own; on first use, so that Python's random stream is
        # unchanged where the kernel is not used.
        if self._cudnn_dropout_seed is None:
            self._cudnn_dropout_seed = new_dropout_seed()
        return self._cudnn_dropout_seed

    def _drops_weights(self, training):
        return bool(training) and self.dropout > 0

    def _attend(
        self,
        query,
        key,
        value,
        mask,
        causal,
        kernel_is_causal,
        return_attention_scores,
        training,
    ):
        # Grouped-query keys and values are not repeated here: JAX's fused
        # kernels take fewer key/value heads, `_attend_grouped` groups the
        # queries instead.
        groups = self.num_heads // self._key_value_heads
        scale = 1.0 / math.sqrt(self.key_dim)
        full_mask = merge_masks(mask, causal)
        kernel_mask = mask if kernel_is_causal else full_mask
        has_mask = kernel_mask is not None
        if self._can_fuse(
            return_attention_scores, training, query, key, has_mask
        ):
            if has_mask:
                kernel_mask = ops.expand_dims(kernel_mask, 1)
            if self._drops_weights(training):
                output = fused_dropout_attention(
                    query,
                    key,
                    value,
                    kernel_mask,
                    scale=scale,
                    is_causal=kernel_is_causal,
                    rate=self.dropout,
                    seed=self._cudnn_seed(),
                )
            else:
                if groups > 1 and keras.backend.backend() != "jax":
                    # Keras's TensorFlow kernel repeats grouped heads itself
                    # but fails on a single key/value head.
                    key = ops.repeat(key, groups, axis=2)
                    value = ops.repeat(value, groups, axis=2)
                output = ops.dot_product_attention(
                    query,
                    key,
                    value,
                    mask=kernel_mask,
                    scale=scale,
                    is_causal=kernel_is_causal,
                    # Keras picks cuDNN flash attention where it can, a
                    # padding mask included (as a bias): in a full training
                    # step on an H100 that beat XLA's kernel
                    # (benchmarks/RESULTS.md, "Encoder training throughput
                    # on the GPU").
                    flash_attention=None,
                )
            if mask is not None:
                # Match the unfused path: a query that sees no key gives zeros.
                can_see = ops.any(full_mask, axis=-1, keepdims=True)
                output = output * ops.cast(
                    ops.expand_dims(can_see, -1), output.dtype
                )
            return output, None

        if groups > 1:
            return self._attend_grouped(
                query, key, value, full_mask, scale, groups, training
            )
        # Logits in float32: float16 overflows beyond 65504, and bfloat16's
        # 8-bit mantissa would shift the weights by a few percent.
        scores = ops.einsum(
            "btnh,bsnh->bnts",
            ops.cast(query, "float32") * scale,
            ops.cast(key, "float32"),
        )
        weights = masked_softmax(
            scores, None if full_mask is None else ops.expand_dims(full_mask, 1)
        )
        # Dropout and the weighted sum run in the compute dtype: the
        # (batch, heads, T, S) weights are the largest tensor of the layer.
        dropped = self._dropout(ops.cast(weights, value.dtype), training=training)
        output = ops.einsum("bnts,bsnh->btnh", dropped, value)
        return output, weights

    def _attend_grouped(self, query, key, value, mask, scale, groups, training):
        """`_attend`'s explicit path for grouped-query heads.

        Query head `i` attends with key/value head `i // groups`; the query
        heads are grouped instead of the keys and values repeated, which
        would copy a decoding cache at every step. Logits and softmax in
        float32, as in `_attend`. Standard heads keep `_attend`'s plain
        einsums, which TensorFlow's graph mode runs faster.
        """
        batch, query_length = ops.shape(query)[0], ops.shape(query)[1]
        key_length = ops.shape(key)[1]
        grouped_shape = (batch, self._key_value_heads, groups)
        grouped_query = ops.reshape(
            query,
            (batch, query_length, self._key_value_heads, groups, self.key_dim),
        )
        scores = ops.einsum(
            "btkgh,bskh->bkgts",
            ops.cast(grouped_query, "float32") * scale,
            ops.cast(key, "float32"),
        )
        scores = ops.reshape(
            scores, (batch, self.num_heads, query_length, key_length)
        )
        weights = masked_softmax(
            scores, None if mask is None else ops.expand_dims(mask, 1)
        )
        dropped = self._dropout(ops.cast(weights, value.dtype), training=training)
        output = ops.einsum(
            "bkgts,bskh->btkgh",
            ops.reshape(dropped, grouped_shape + (query_length, key_length)),
            value,
        )
        output = ops.reshape(
            output, (batch, query_length, self.num_heads, self._value_dim)
        )
        return output, weights

    def compute_mask(self, query, previous_mask=None):
        return previous_mask

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape[:-1]) + (self.output_dim or query_shape[-1],)

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
        cache=None,
        cache_update_index=None,
    ):
        output = keras.KerasTensor(
            self.compute_output_shape(query.shape, value.shape),
            dtype=self.compute_dtype,
        )
        results = [output]
        if return_attention_scores:
            key_length = cache.shape[2] if cache is not None else value.shape[1]
            results.append(
                keras.KerasTensor(
                    (query.shape[0], self.num_heads, query.shape[1], key_length),
                    dtype="float32",
                )
            )
        if cache is not None:
            results.append(keras.KerasTensor(cache.shape, dtype=cache.dtype))
        return results[0] if len(results) == 1 else tuple(results)

    def set_weights(self, weights):
        """Sets the weights; also takes `keras.layers.MultiHeadAttention`'s.

        Keras keeps the heads of the query, key and value kernels (and
        biases) as their own axis; they are merged here, numbers unchanged.
        """
        weights = list(weights)
        start = 0
        for projection in (
            self._query_dense,
            self._key_dense,
            self._value_dense,
            self._output_dense,
        ):
            end = start + len(projection.weights)
            if isinstance(projection, HeadProjection):
                weights[start:end] = projection.flat_weights(weights[start:end])
            start = end
        super().set_weights(weights)

    def get_config(self):
        config = super().get_config()
        config["dtype"] = dtype_with_quantized_sublayers(self)
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "num_key_value_heads": self.num_key_value_heads,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_dim": self.output_dim,
                "use_fused_attention": self.use_fused_attention,
                "tie_query_key_init": self.tie_query_key_init,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
