import keras
from keras import ops

from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.models._dtype_policies import float32_policy
from keras_attnpred.models.masked_language_model import MaskedLanguageModel
from keras_attnpred.reserved_ids import RESERVED_TOKENS
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_positive_int

# Ids below this are reserved tokens, which the generator never puts in.
_FIRST_WORD_ID = len(RESERVED_TOKENS)


@register
class ElectraPretrainer(keras.Model):
    """Replaced-token detection (ELECTRA): pretraining of an encoder that
    learns from every piece, not only the masked ones.

    A small `generator` (a `MaskedLanguageModel`) predicts the masked
    pieces; a piece is sampled from each prediction and put in place of the
    mask, and the `discriminator` backbone, reading the result, tells for
    every piece whether it was replaced (a sampled piece equal to the
    original counts as original). The loss is the generator's masked
    cross-entropy plus `discriminator_weight` times the discriminator's
    binary cross-entropy over the real pieces (Clark et al. 2020); the
    sampling passes no gradient. `accuracy` is the discriminator's over the
    real pieces. After pretraining, `backbone` (the discriminator) moves
    into a task model.

    The batches are pretraining `PreparedBatches` made with
    `labels_in_inputs=True`, whose inputs also hold the original pieces.

    Args:
        generator: a `MaskedLanguageModel`, usually a quarter of the
            discriminator's width.
        discriminator: a `TransformerEncoderBackbone` with the generator's
            vocabulary.
        discriminator_weight: float > 0, the weight of the discriminator's
            loss.
        seed: optional int, for the sampling.
        **kwargs: `keras.Model` arguments such as `name`.

    Call arguments:
        inputs: a dict with `"token_ids"` (the masked ids, `(batch, T)`),
            `"mask_positions"` and `"mask_labels"` (`(batch, P)`, the picked
            positions and their original ids, label 0 for none).

    Returns:
        A dict: `"generator_logits"` `(batch, P, vocabulary_size)`,
        `"discriminator_logits"` `(batch, T)` (float32) and `"replaced"`,
        float `(batch, T)`, 1 where the discriminator's input differs from
        the original.

    Example:

    >>> def backbone(width):
    ...     return TransformerEncoderBackbone(
    ...         vocabulary_size=100, max_length=16, num_layers=1,
    ...         model_dim=width, num_heads=2, intermediate_dim=2 * width)
    >>> model = ElectraPretrainer(MaskedLanguageModel(backbone(4)),
    ...                           backbone(8), seed=0)
    >>> outputs = model({"token_ids": np.array([[5, 2, 7, 0]]),
    ...                  "mask_positions": np.array([[1]]),
    ...                  "mask_labels": np.array([[6]])})
    >>> tuple(outputs["discriminator_logits"].shape)
    (1, 4)

    References:
        - [Clark et al., 2020. ELECTRA: Pre-training Text Encoders as
          Discriminators Rather Than Generators](https://arxiv.org/abs/2003.10555)
    """

    def __init__(
        self,
        generator,
        discriminator,
        discriminator_weight=50.0,
        seed=None,
        dtype=None,
        **kwargs,
    ):
        if not isinstance(generator, MaskedLanguageModel):
            raise ValueError(
                "`generator` must be a `MaskedLanguageModel`. Received: "
                f"generator of type {type(generator).__name__}"
            )
        if not isinstance(discriminator, keras.Model) or (
            getattr(discriminator, "vocabulary_size", None)
            != generator.backbone.vocabulary_size
        ):
            raise ValueError(
                "`discriminator` must be a `TransformerEncoderBackbone` with "
                "the generator's vocabulary "
                f"({generator.backbone.vocabulary_size}). Received: "
                f"{type(discriminator).__name__} with vocabulary_size="
                f"{getattr(discriminator, 'vocabulary_size', None)}"
            )
        if (
            isinstance(discriminator_weight, bool)
            or not isinstance(discriminator_weight, (int, float))
            or not discriminator_weight > 0
        ):
            raise ValueError(
                "`discriminator_weight` must be a number > 0. Received: "
                f"discriminator_weight={discriminator_weight!r}"
            )
        if seed is not None:
            check_positive_int("seed", seed, minimum=0)
        super().__init__(dtype=dtype, **kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.replaced_logits = keras.layers.Dense(
            1, dtype=float32_policy(dtype), name="replaced_logits"
        )
        self.discriminator_weight = float(discriminator_weight)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.generator_loss = keras.metrics.Mean(name="generator_loss")
        self.discriminator_loss = keras.metrics.Mean(name="discriminator_loss")
        self.accuracy = keras.metrics.Mean(name="accuracy")
        # The backbones are built already; the model is, with its head.
        self.build(None)

    @property
    def backbone(self):
        """The discriminator: the encoder that pretraining is for."""
        return self.discriminator

    def build(self, input_shape):
        self.replaced_logits.build((None, None, self.discriminator.output_dim))
        self.built = True

    def call(self, inputs, training=None):
        token_ids = ops.convert_to_tensor(inputs["token_ids"], "int32")
        positions = ops.convert_to_tensor(inputs["mask_positions"], "int32")
        labels = ops.convert_to_tensor(inputs["mask_labels"], "int32")
        generator_logits = self.generator(
            {"token_ids": token_ids, "mask_positions": positions},
            training=training,
        )
        # Gumbel-max sampling from the generator's predictions, never a
        # reserved id (a sampled [PAD] would hide the piece).
        uniform = keras.random.uniform(
            ops.shape(generator_logits), minval=1e-9, maxval=1.0,
            seed=self.seed_generator,
        )
        reserved = ops.less(
            ops.arange(ops.shape(generator_logits)[-1]), _FIRST_WORD_ID
        )
        sampled = ops.argmax(
            ops.where(
                reserved,
                -1e9,
                ops.stop_gradient(generator_logits)
                - ops.log(-ops.log(uniform)),
            ),
            axis=-1,
        )
        sampled = ops.cast(sampled, "int32")
        # (batch, P, T): which position each prediction fills.
        columns = ops.arange(ops.shape(token_ids)[1], dtype="int32")
        hits = ops.logical_and(
            ops.equal(ops.expand_dims(positions, -1), columns),
            ops.expand_dims(ops.greater(labels, 0), -1),
        )
        hits_int = ops.cast(hits, "int32")
        picked = ops.greater(ops.sum(hits_int, axis=1), 0)
        original = ops.where(
            picked,
            ops.sum(hits_int * ops.expand_dims(labels, -1), axis=1),
            token_ids,
        )
        corrupted = ops.where(
            picked,
            ops.sum(hits_int * ops.expand_dims(sampled, -1), axis=1),
            token_ids,
        )
        outputs = self.discriminator(corrupted, training=training)
        logits = ops.squeeze(
            self.replaced_logits(outputs["sequence_output"]), axis=-1
        )
        return {
            "generator_logits": generator_logits,
            "discriminator_logits": logits,
            "replaced": ops.cast(ops.not_equal(corrupted, original), "float32"),
            "padding_mask": outputs["padding_mask"],
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        labels = ops.convert_to_tensor(x["mask_labels"], "int32")
        predicted = ops.greater(labels, 0)
        weights = ops.cast(predicted, "float32")
        generator_losses = keras.losses.sparse_categorical_crossentropy(
            labels, y_pred["generator_logits"], from_logits=True
        )
        generator_loss = ops.sum(generator_losses * weights) / ops.maximum(
            ops.sum(weights), 1.0
        )
        real = ops.cast(y_pred["padding_mask"], "float32")
        replaced = y_pred["replaced"]
        logits = y_pred["discriminator_logits"]
        # Binary cross-entropy from logits, written out: stable for any sign.
        per_piece = (
            ops.maximum(logits, 0.0) - logits * replaced
            + ops.log1p(ops.exp(-ops.abs(logits)))
        )
        count = ops.maximum(ops.sum(real), 1.0)
        discriminator_loss = ops.sum(per_piece * real) / count
        correct = ops.cast(
            ops.equal(ops.cast(ops.greater(logits, 0.0), "float32"), replaced),
            "float32",
        )
        self.generator_loss.update_state(generator_loss)
        self.discriminator_loss.update_state(discriminator_loss)
        self.accuracy.update_state(ops.sum(correct * real) / count)
        return generator_loss + self.discriminator_weight * discriminator_loss

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_with_quantized_sublayers(self),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(
                self.discriminator
            ),
            "discriminator_weight": self.discriminator_weight,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
