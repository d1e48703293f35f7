import keras
from keras import ops

from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.models._dtype_policies import float32_policy
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_positive_int


@register
class MaskedLanguageModel(keras.Model):
    """Pretraining of an encoder backbone: predict the masked pieces.

    `backbone(token_ids)` → the encoded tokens at `mask_positions` →
    `Dense(output_dim, "gelu")` → layer normalisation → `Dense` float32
    logits over the vocabulary (Devlin et al. 2019). Only the picked
    positions go through the output layer, so its cost does not grow with
    the sequence. The batches come from `keras_attnpred.data`
    (`mask_token_ids`, pretraining `PreparedBatches`), and the loss is
    `MaskedSparseCategoricalCrossentropy` (label 0: no prediction).

    Once pretrained, `backbone` moves into a task model, e.g.
    `TextClassifier(model.backbone, num_classes)`; the head stays behind.

    Args:
        backbone: a `TransformerEncoderBackbone` (any `keras.Model` with its
            outputs, `vocabulary_size` and `output_dim`).
        **kwargs: `keras.Model` arguments such as `name`.

    Call arguments:
        inputs: a dict with `"token_ids"`, int `(batch, T)` with the masked
            pieces replaced, and `"mask_positions"`, int `(batch, P)`, the
            positions to predict.

    Returns:
        Float32 logits `(batch, P, vocabulary_size)`.

    Example:

    >>> backbone = TransformerEncoderBackbone(
    ...     vocabulary_size=100, max_length=16, num_layers=1, model_dim=8,
    ...     num_heads=2, intermediate_dim=16)
    >>> model = MaskedLanguageModel(backbone)
    >>> logits = model({"token_ids": np.array([[5, 2, 7, 0]]),
    ...                 "mask_positions": np.array([[1, 0]])})
    >>> tuple(logits.shape)
    (1, 2, 100)

    References:
        - [Devlin et al., 2019. BERT](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, backbone, dtype=None, **kwargs):
        if not isinstance(backbone, keras.Model) or not hasattr(
            backbone, "vocabulary_size"
        ):
            raise ValueError(
                "`backbone` must be a `TransformerEncoderBackbone`. "
                f"Received: backbone of type {type(backbone).__name__}"
            )
        vocabulary_size = check_positive_int(
            "backbone.vocabulary_size", backbone.vocabulary_size
        )

        # === Layers ===
        self.backbone = backbone
        self.transform = keras.layers.Dense(
            backbone.output_dim, activation="gelu", dtype=dtype,
            name="mlm_transform",
        )
        self.transform_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=dtype, name="mlm_norm"
        )
        self.logits_layer = keras.layers.Dense(
            vocabulary_size, dtype=float32_policy(dtype), name="mlm_logits"
        )

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        positions = keras.Input(
            shape=(None,), dtype="int32", name="mask_positions"
        )
        sequence = backbone(token_ids)["sequence_output"]
        picked = ops.take_along_axis(
            sequence, ops.expand_dims(positions, -1), axis=1
        )
        logits = self.logits_layer(self.transform_norm(self.transform(picked)))
        super().__init__(
            inputs={"token_ids": token_ids, "mask_positions": positions},
            outputs=logits,
            **kwargs,
        )

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_with_quantized_sublayers(self),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(
            config["backbone"]
        )
        return cls(**config)
