import keras
from keras import ops

from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerDecoder
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.models._dtype_policies import float32_policy
from keras_attnpred.models.presets import check_transformer_sizes
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate


@register
class TransformerTranslator(keras.Model):
    """An encoder–decoder Transformer for translation.

    The source ids go through `encoder`, a `TransformerEncoderBackbone`; the
    target ids (shifted right, starting with the start id) through a
    token-and-position embedding and `num_layers` causal
    `TransformerDecoder` blocks that cross-attend to the encoder output
    (with a final layer normalisation when the blocks normalise first); a
    `Dense` layer gives float32 next-token logits. Id 0 is padding on both
    sides and changes nothing at real positions.

    Step-by-step decoding goes through two methods, which the search loops
    and the exporters call: `start_decoding` encodes the source once and
    projects the cross-attention keys and values; `decode_step` runs the
    decoder on one new token through the blocks' self-attention caches.
    `cross_attention_weights` gives the alignment of a teacher-forced pass.

    Args:
        encoder: a `TransformerEncoderBackbone`: its `model_dim` is the
            decoder's width.
        target_vocabulary_size: int, number of target ids (0 is padding),
            also the size of the logits.
        max_length: int or None, the longest target sequence (size of the
            learned position table); None for the encoder's.
        num_layers, num_heads, intermediate_dim, dropout,
            activation_dropout, normalize_first, tie_query_key_init: the
            decoder blocks' settings, as in `TransformerEncoderBackbone`;
            None (the default) takes the encoder's.
        **kwargs: `keras.Model` arguments such as `name`.

    Call arguments:
        inputs: dict `{"source": (batch, S) int, "target": (batch, T) int}`.

    Returns:
        Float32 logits `(batch, T, target_vocabulary_size)`. Compile with
        `MaskedSparseCategoricalCrossentropy` and
        `MaskedSparseCategoricalAccuracy` so padding counts for nothing.

    Example:

    >>> encoder = TransformerEncoderBackbone(
    ...     vocabulary_size=50, max_length=16, num_layers=1, model_dim=8,
    ...     num_heads=2, intermediate_dim=16)
    >>> translator = TransformerTranslator(encoder, target_vocabulary_size=60)
    >>> source = np.array([[5, 6, 7, 0]])
    >>> target = np.array([[2, 9, 10]])
    >>> logits = translator({"source": source, "target": target})
    >>> tuple(logits.shape)
    (1, 3, 60)
    >>> context, state = translator.start_decoding(source, max_length=8)
    >>> step_logits, state = translator.decode_step(
    ...     context, target[:, :1], 0, state)
    >>> np.allclose(step_logits, logits[:, 0], atol=1e-5)
    True

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020. On Layer Normalization in the Transformer
          Architecture](https://arxiv.org/abs/2002.04745)
    """

    def __init__(
        self,
        encoder,
        target_vocabulary_size,
        max_length=None,
        num_layers=None,
        num_heads=None,
        intermediate_dim=None,
        dropout=None,
        activation_dropout=None,
        normalize_first=None,
        tie_query_key_init=None,
        dtype=None,
        **kwargs,
    ):
        if not isinstance(encoder, keras.Model) or not hasattr(
            encoder, "encoder_blocks"
        ):
            raise ValueError(
                "`encoder` must be a `TransformerEncoderBackbone`. Received: "
                f"encoder of type {type(encoder).__name__}"
            )
        check_positive_int("target_vocabulary_size", target_vocabulary_size)

        def inherited(value, name):
            return getattr(encoder, name) if value is None else value

        max_length = inherited(max_length, "max_length")
        num_layers = inherited(num_layers, "num_layers")
        num_heads = inherited(num_heads, "num_heads")
        intermediate_dim = inherited(intermediate_dim, "intermediate_dim")
        dropout = inherited(dropout, "dropout")
        activation_dropout = inherited(activation_dropout, "activation_dropout")
        normalize_first = inherited(normalize_first, "normalize_first")
        tie_query_key_init = inherited(tie_query_key_init, "tie_query_key_init")
        check_positive_int("max_length", max_length)
        check_transformer_sizes(
            num_layers, encoder.model_dim, num_heads, intermediate_dim, dropout
        )
        if activation_dropout is not None:
            check_rate("activation_dropout", activation_dropout)
        check_bool("normalize_first", normalize_first)
        check_bool("tie_query_key_init", tie_query_key_init)
        model_dim = encoder.model_dim

        # === Layers ===
        self.encoder = encoder
        self.target_embedding = TokenAndPositionEmbedding(
            target_vocabulary_size, max_length, model_dim, dtype=dtype, name="target_embedding"
        )
        self.target_embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="target_embedding_dropout"
        )
        self.decoder_blocks = [
            TransformerDecoder(
                intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation_dropout=activation_dropout,
                normalize_first=normalize_first,
                tie_query_key_init=tie_query_key_init,
                dtype=dtype, name=f"decoder_block_{i}",
            )
            for i in range(num_layers)
        ]
        self.decoder_final_norm = None
        if normalize_first:
            self.decoder_final_norm = keras.layers.LayerNormalization(
                epsilon=1e-5, dtype=dtype, name="decoder_final_norm"
            )
        self.logits_layer = keras.layers.Dense(
            target_vocabulary_size, dtype=float32_policy(dtype), name="logits"
        )

        # === Functional model ===
        source = keras.Input(shape=(None,), dtype="int32", name="source")
        target = keras.Input(shape=(None,), dtype="int32", name="target")
        encoded = encoder(source)
        y = self.target_embedding(target)
        y = self.target_embedding_dropout(y)
        logits = self._decode(
            y,
            ops.not_equal(target, PAD_ID),
            encoded["sequence_output"],
            encoded["padding_mask"],
        )
        super().__init__(
            inputs={"source": source, "target": target},
            outputs=logits,
            **kwargs,
        )

        # === Config ===
        self.target_vocabulary_size = target_vocabulary_size
        self.max_length = max_length
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation_dropout = activation_dropout
        self.normalize_first = normalize_first
        self.tie_query_key_init = tie_query_key_init

    def _decode(self, y, target_mask, memory, source_mask, training=None):
        for block in self.decoder_blocks:
            y = block(
                y,
                memory,
                decoder_padding_mask=target_mask,
                encoder_padding_mask=source_mask,
                training=training,
            )
        if self.decoder_final_norm is not None:
            y = self.decoder_final_norm(y)
        return self.logits_layer(y)

    @property
    def source_vocabulary_size(self):
        return self.encoder.vocabulary_size

    @property
    def max_decoding_length(self):
        """The most target positions the learned position table holds."""
        return self.max_length

    def encode(self, source_ids, training=False, return_attention_scores=False):
        """`(memory, source_mask)`: the encoder's `encode` (with
        `return_attention_scores=True`, also each encoder block's
        self-attention weights `(batch, num_heads, S, S)`)."""
        return self.encoder.encode(
            source_ids,
            training=training,
            return_attention_scores=return_attention_scores,
        )

    def start_decoding(self, source_ids, max_length):
        """Encodes the source once for step-by-step decoding.

        Args:
            source_ids: int tensor `(batch, S)`, 0-padded.
            max_length: int, the most steps that will be decoded (the size
                of the self-attention caches).

        Returns:
            `(context, state)`: `context`, what every step reads and never
            changes (the encoder output, the source mask, each block's
            cross-attention keys and values); `state`, each block's
            self-attention cache `(batch, 2, max_length, heads, head_dim)`,
            all zeros. Both are tuples of tensors whose first axis is the
            batch.
        """
        memory, source_mask = self.encode(source_ids)
        cross_caches = tuple(
            block.compute_cross_attention_cache(memory)
            for block in self.decoder_blocks
        )
        batch = ops.shape(memory)[0]
        self_caches = tuple(
            ops.zeros(
                (batch, 2, max_length) + tuple(cache.shape[3:]),
                dtype=cache.dtype,
            )
            for cache in cross_caches
        )
        return (memory, source_mask, cross_caches), self_caches

    def decode_step(self, context, token_ids, index, state):
        """One decoder step through the caches.

        Args:
            context: from `start_decoding`.
            token_ids: int tensor `(batch, 1)`, the token at position
                `index` (the start id at 0).
            index: int or scalar int tensor, the position.
            state: the caches, from `start_decoding` or the previous step.

        Returns:
            `(logits, state)`: float32 next-token logits
            `(batch, target_vocabulary_size)` and the updated caches.
        """
        memory, source_mask, cross_caches = context
        # The embedding's dropout is skipped: inference.
        y = self.target_embedding(token_ids, start_index=index)
        updated = []
        for block, self_cache, cross_cache in zip(
            self.decoder_blocks, state, cross_caches
        ):
            y, self_cache, _ = block(
                y,
                memory,
                encoder_padding_mask=source_mask,
                self_attention_cache=self_cache,
                self_attention_cache_update_index=index,
                cross_attention_cache=cross_cache,
                training=False,
            )
            updated.append(self_cache)
        if self.decoder_final_norm is not None:
            y = self.decoder_final_norm(y)
        logits = self.logits_layer(y)[:, 0, :]
        return ops.cast(logits, "float32"), tuple(updated)

    def cross_attention_weights(self, source_ids, target_ids):
        """Each decoder block's cross-attention, teacher-forced.

        Args:
            source_ids: int tensor `(batch, S)`, 0-padded.
            target_ids: int tensor `(batch, T)`, the decoder inputs (the
                start id, then the tokens so far), 0-padded.

        Returns:
            Float32 `(batch, num_layers, num_heads, T, S)`: row `t` is the
            attention of the step whose input is `target_ids[:, t]`.
        """
        memory, source_mask = self.encode(source_ids)
        target_ids = ops.convert_to_tensor(target_ids, dtype="int32")
        target_mask = ops.not_equal(target_ids, PAD_ID)
        y = self.target_embedding(target_ids)
        maps = []
        for block in self.decoder_blocks:
            y, _, cross_attention = block(
                y,
                memory,
                decoder_padding_mask=target_mask,
                encoder_padding_mask=source_mask,
                return_attention_scores=True,
                training=False,
            )
            maps.append(cross_attention)
        return ops.cast(ops.stack(maps, axis=1), "float32")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_with_quantized_sublayers(self),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "target_vocabulary_size": self.target_vocabulary_size,
            "max_length": self.max_length,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "activation_dropout": self.activation_dropout,
            "normalize_first": self.normalize_first,
            "tie_query_key_init": self.tie_query_key_init,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(
            config["encoder"]
        )
        return cls(**config)
