import keras
from keras import ops

from keras_attnpred.layers import AttentionPooling
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.models._dtype_policies import float32_policy
from keras_attnpred.models.first_token_pooling import FirstTokenPooling
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate

POOLINGS = ("attention", "mean", "first")


@register
class TextClassifier(keras.Model):
    """A text classifier: an encoder backbone, pooling over time, logits.

    `backbone(token_ids)` → pooling of `"sequence_output"` over the real
    tokens → dropout → `Dense(num_classes)` float32 logits (safe under mixed
    precision). Binary tasks use `num_classes=2` with the sparse
    cross-entropy `from_logits=True`: one output format for every task.

    Poolings:

    - `"attention"`: `AttentionPooling` (Yang et al. 2016), whose weights
      over the real tokens `pool` returns: which words the model looked at.
    - `"mean"`: the average of the real tokens.
    - `"first"`: the first token, for inputs that start with a `[CLS]`-like
      id (BERT).

    The pieces are public methods, so explanations, exports and distillation
    reuse them without knowing the layers: `encode` (the backbone's),
    `pool` and `pooled_logits`. `model(ids)` equals
    `pooled_logits(pool(*encode(ids)))` at inference.

    Args:
        backbone: a `TransformerEncoderBackbone` or `RNNEncoderBackbone`
            (any `keras.Model` with their `encode` and outputs).
        num_classes: int, number of classes (2 for binary).
        pooling: `"attention"`, `"mean"` or `"first"`.
        dropout: float in [0, 1), on the pooled vector.
        **kwargs: `keras.Model` arguments such as `name`.

    Call arguments:
        token_ids: int tensor `(batch, T)`, 0-padded.

    Returns:
        Float32 logits `(batch, num_classes)`.

    Example:

    >>> backbone = TransformerEncoderBackbone(
    ...     vocabulary_size=100, max_length=16, num_layers=1, model_dim=8,
    ...     num_heads=2, intermediate_dim=16)
    >>> classifier = TextClassifier(backbone, num_classes=3)
    >>> ids = np.array([[5, 6, 7, 0]])
    >>> tuple(classifier(ids).shape)
    (1, 3)
    >>> weights = classifier.pooling_weights(ids)
    >>> float(weights[0, 3]), round(float(weights.sum()), 5)
    (0.0, 1.0)

    References:
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
        - [Devlin et al., 2019. BERT](https://arxiv.org/abs/1810.04805)
    """

    def __init__(
        self,
        backbone,
        num_classes,
        pooling="attention",
        dropout=0.0,
        dtype=None,
        **kwargs,
    ):
        if not isinstance(backbone, keras.Model) or not callable(
            getattr(backbone, "encode", None)
        ):
            raise ValueError(
                "`backbone` must be a `TransformerEncoderBackbone` or an "
                "`RNNEncoderBackbone`. Received: backbone of type "
                f"{type(backbone).__name__}"
            )
        check_positive_int("num_classes", num_classes)
        check_choice("pooling", pooling, POOLINGS)
        check_rate("dropout", dropout)

        # === Layers ===
        self.backbone = backbone
        if pooling == "attention":
            self.pooling_layer = AttentionPooling(dtype=dtype, name="pooling")
        elif pooling == "mean":
            self.pooling_layer = keras.layers.GlobalAveragePooling1D(
                dtype=dtype, name="pooling"
            )
        else:
            self.pooling_layer = FirstTokenPooling(dtype=dtype, name="pooling")
        self.pooling_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="pooling_dropout"
        )
        self.logits_layer = keras.layers.Dense(
            num_classes, dtype=float32_policy(dtype), name="logits"
        )

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        outputs = backbone(token_ids)
        pooled = self.pool(outputs["sequence_output"], outputs["padding_mask"])
        logits = self.logits_layer(self.pooling_dropout(pooled))
        super().__init__(inputs=token_ids, outputs=logits, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.pooling = pooling
        self.dropout = dropout

    def encode(self, token_ids, training=False, **kwargs):
        """The backbone's `encode`: `(sequence, padding_mask)`."""
        return self.backbone.encode(token_ids, training=training, **kwargs)

    def pool(self, sequence, padding_mask, return_attention_scores=False):
        """Pools `sequence` `(batch, T, features)` over its real tokens.

        Args:
            sequence: the backbone's `"sequence_output"`.
            padding_mask: bool `(batch, T)`, True at the real tokens.
            return_attention_scores: bool, also return the pooling weights
                `(batch, T)`; only with `pooling="attention"`.

        Returns:
            `(batch, features)`, and with `return_attention_scores=True` the
            float32 weights, zero at padding and summing to 1 over the real
            tokens.
        """
        check_bool("return_attention_scores", return_attention_scores)
        if return_attention_scores:
            if self.pooling != "attention":
                raise ValueError(
                    "`return_attention_scores=True` needs attention pooling; "
                    f"this classifier pools with pooling={self.pooling!r}"
                )
            return self.pooling_layer(
                sequence,
                mask=padding_mask,
                return_attention_scores=True,
                training=False,
            )
        if isinstance(self.pooling_layer, FirstTokenPooling):
            return self.pooling_layer(sequence)
        return self.pooling_layer(sequence, mask=padding_mask)

    def pooled_logits(self, pooled):
        """Float32 logits `(batch, num_classes)` of a pooled vector (no
        dropout)."""
        return self.logits_layer(pooled)

    @property
    def self_attention_heads(self):
        """The heads of each encoder block's self-attention, or None for a
        backbone without self-attention (an RNN)."""
        return getattr(self.backbone, "num_heads", None)

    def logits_and_attention(self, token_ids, training=False):
        """The logits and the last encoder block's self-attention.

        The logits equal `model(token_ids, training=training)`; what
        distillation needs to match a teacher's attention (MiniLM).

        Args:
            token_ids: int `(batch, T)`, 0-padded.
            training: bool, whether dropout is on.

        Returns:
            `(logits, weights)`: float32 `(batch, num_classes)` and the
            float32 attention weights `(batch, num_heads, T, T)`, zero at
            padded keys.
        """
        if self.self_attention_heads is None:
            raise ValueError(
                "`logits_and_attention` needs a Transformer backbone. "
                "Received: a classifier over "
                f"{type(self.backbone).__name__}"
            )
        sequence, padding_mask, scores = self.encode(
            token_ids, training=training, return_attention_scores=True
        )
        pooled = self.pool(sequence, padding_mask)
        logits = self.logits_layer(
            self.pooling_dropout(pooled, training=training)
        )
        return logits, ops.cast(scores[-1], "float32")

    def pooling_weights(self, token_ids):
        """The attention pooling's weights `(batch, T)` over `token_ids`,
        as a float32 NumPy array (inference, no dropout)."""
        sequence, padding_mask = self.encode(token_ids)
        _, weights = self.pool(
            sequence, padding_mask, return_attention_scores=True
        )
        return ops.convert_to_numpy(ops.cast(weights, "float32"))

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_with_quantized_sublayers(self),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "pooling": self.pooling,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(
            config["backbone"]
        )
        return cls(**config)
