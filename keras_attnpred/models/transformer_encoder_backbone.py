import keras
from keras import ops

from keras_attnpred.layers import HashedBigramEmbedding
from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerEncoder
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.models.presets import check_transformer_sizes
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate


@register
class TransformerEncoderBackbone(keras.Model):
    """A Transformer encoder over token ids: the part that moves between models.

    Token-and-position embedding (plus, with `bigram_buckets`, the
    `HashedBigramEmbedding` of the pair each token starts) → dropout →
    `num_layers` `TransformerEncoder` blocks → a final layer normalisation
    when the blocks normalise first. Id 0 is padding: it is hidden from
    every block, and the padding mask is an output of its own.

    The same class is the encoder of `TextClassifier` (built by
    `build_transformer_classifier`) and of `TransformerTranslator`, so a
    trained encoder's weights move into another model with
    `other.backbone.set_weights(backbone.get_weights())`, or the object
    itself is passed to the next model.

    Args:
        vocabulary_size: int, number of token ids (0 is padding).
        max_length: int, the longest sequence (size of the learned position
            table).
        num_layers: int, encoder blocks.
        model_dim: int, the model width, divisible by `num_heads`.
        num_heads: int, attention heads.
        intermediate_dim: int, hidden size of the feed-forward networks.
        dropout: float in [0, 1), on the embeddings, attention weights,
            residual branches and (unless `activation_dropout` is given)
            feed-forward hidden activations.
        activation_dropout: float in [0, 1) or None, the dropout on the
            feed-forward hidden activations; None for `dropout`.
        normalize_first: bool, pre-layer-norm blocks (Xiong et al. 2020)
            with a final layer normalisation, instead of post-layer-norm.
        bigram_buckets: int or None, rows of the hashed bigram embedding;
            None for token embeddings alone (`vocabulary_size` must then be
            at most 46,340).
        tie_query_key_init: bool, start each attention's query and key
            kernels from one random draw (Trockman & Kolter 2023).
        **kwargs: `keras.Model` arguments such as `name`.

    Call arguments:
        token_ids: int tensor `(batch, T)`.

    Returns:
        A dict: `"sequence_output"`, the encoded tokens
        `(batch, T, model_dim)`, and `"padding_mask"`, bool `(batch, T)`,
        True at the real tokens.

    Example:

    >>> backbone = TransformerEncoderBackbone(
    ...     vocabulary_size=100, max_length=16, num_layers=1, model_dim=8,
    ...     num_heads=2, intermediate_dim=16)
    >>> ids = np.array([[5, 6, 7, 0]])
    >>> sequence, padding_mask = backbone.encode(ids)
    >>> tuple(sequence.shape), np.asarray(padding_mask).tolist()
    ((1, 4, 8), [[True, True, True, False]])

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020. On Layer Normalization in the Transformer
          Architecture](https://arxiv.org/abs/2002.04745)
        - [Trockman & Kolter, 2023. Mimetic Initialization of Self-Attention
          Layers](https://arxiv.org/abs/2305.09828)
    """

    def __init__(
        self,
        vocabulary_size,
        max_length,
        num_layers,
        model_dim,
        num_heads,
        intermediate_dim,
        dropout=0.1,
        activation_dropout=None,
        normalize_first=False,
        bigram_buckets=None,
        tie_query_key_init=True,
        dtype=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("max_length", max_length)
        check_transformer_sizes(
            num_layers, model_dim, num_heads, intermediate_dim, dropout
        )
        if activation_dropout is not None:
            check_rate("activation_dropout", activation_dropout)
        check_bool("normalize_first", normalize_first)
        check_positive_int("bigram_buckets", bigram_buckets, allow_none=True)
        check_bool("tie_query_key_init", tie_query_key_init)

        # === Layers ===
        self.token_embedding = TokenAndPositionEmbedding(
            vocabulary_size, max_length, model_dim, dtype=dtype, name="token_embedding"
        )
        self.bigram_embedding = None
        if bigram_buckets:
            self.bigram_embedding = HashedBigramEmbedding(
                vocabulary_size,
                bigram_buckets,
                model_dim,
                dtype=dtype, name="bigram_embedding",
            )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        self.encoder_blocks = [
            TransformerEncoder(
                intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation_dropout=activation_dropout,
                normalize_first=normalize_first,
                tie_query_key_init=tie_query_key_init,
                dtype=dtype, name=f"encoder_block_{i}",
            )
            for i in range(num_layers)
        ]
        self.final_norm = None
        if normalize_first:
            self.final_norm = keras.layers.LayerNormalization(
                epsilon=1e-5, dtype=dtype, name="final_norm"
            )

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        sequence, padding_mask = self._encode(token_ids, training=None)
        super().__init__(
            inputs=token_ids,
            outputs={"sequence_output": sequence, "padding_mask": padding_mask},
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.num_layers = num_layers
        self.model_dim = model_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation_dropout = activation_dropout
        self.normalize_first = normalize_first
        self.bigram_buckets = bigram_buckets
        self.tie_query_key_init = tie_query_key_init

    def _encode(self, token_ids, training, return_attention_scores=False):
        # One pass for the functional graph and for `encode`, so the two
        # cannot drift apart.
        padding_mask = ops.not_equal(token_ids, PAD_ID)
        x = self.token_embedding(token_ids)
        if self.bigram_embedding is not None:
            x = x + self.bigram_embedding(token_ids)
        x = self.embedding_dropout(x, training=training)
        scores = []
        for block in self.encoder_blocks:
            x = block(
                x,
                padding_mask=padding_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                x, weights = x
                scores.append(weights)
        if self.final_norm is not None:
            x = self.final_norm(x)
        if return_attention_scores:
            return x, padding_mask, scores
        return x, padding_mask

    def encode(self, token_ids, training=False, return_attention_scores=False):
        """Encodes `token_ids` `(batch, T)`.

        Args:
            token_ids: int array or tensor `(batch, T)`, 0-padded.
            training: bool, whether dropout is on.
            return_attention_scores: bool, also return each block's
                self-attention weights.

        Returns:
            `(sequence, padding_mask)`: `(batch, T, model_dim)` and bool
            `(batch, T)`. With `return_attention_scores=True` a third item,
            the list of each block's weights `(batch, num_heads, T, T)`.
        """
        token_ids = ops.convert_to_tensor(token_ids, dtype="int32")
        return self._encode(
            token_ids,
            training=training,
            return_attention_scores=return_attention_scores,
        )

    def layer_depths(self):
        """The depth of each weight, by its variable path: 0 for the
        embeddings, `i + 1` for encoder block `i`, `num_layers` for the final
        normalisation; e.g. for layer-wise learning-rate decay."""
        depths = {}
        for depth, layers in [
            (0, [self.token_embedding, self.bigram_embedding]),
            *[(i + 1, [block]) for i, block in enumerate(self.encoder_blocks)],
            (self.num_layers, [self.final_norm]),
        ]:
            for layer in layers:
                if layer is not None:
                    depths.update({v.path: depth for v in layer.weights})
        return depths

    def enable_lora(self, rank):
        """Parameter-efficient fine-tuning (LoRA, Hu et al. 2021): freezes
        every weight of the backbone and gives each attention and
        feed-forward projection a trainable rank-`rank` update (Keras's
        `enable_lora` of `Dense` and `EinsumDense`). Saving the model merges
        the updates into the kernels, so a saved or exported model is an
        ordinary one.

        Args:
            rank: int > 0, the rank of the updates.
        """
        check_positive_int("rank", rank)
        projections = [
            layer
            for block in self.encoder_blocks
            for layer in block._flatten_layers(include_self=False)
            if isinstance(layer, keras.layers.EinsumDense | keras.layers.Dense)
        ]
        for layer in projections:
            layer.enable_lora(rank)
        lora = {
            id(variable)
            for layer in projections
            for variable in (layer.lora_kernel_a, layer.lora_kernel_b)
        }
        for variable in self.variables:
            if id(variable) not in lora:
                variable.trainable = False

    @property
    def output_dim(self):
        """The width of `"sequence_output"`."""
        return self.model_dim

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_with_quantized_sublayers(self),
            "vocabulary_size": self.vocabulary_size,
            "max_length": self.max_length,
            "num_layers": self.num_layers,
            "model_dim": self.model_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "activation_dropout": self.activation_dropout,
            "normalize_first": self.normalize_first,
            "bigram_buckets": self.bigram_buckets,
            "tie_query_key_init": self.tie_query_key_init,
        }
