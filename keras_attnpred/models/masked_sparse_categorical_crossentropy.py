import keras
from keras import ops

from keras_attnpred.models._masking import check_pad_id
from keras_attnpred.models._masking import labels_and_weights
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_rate

_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none", None)
_EPSILON = 1e-7


@register
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy that ignores padded labels.

    Every position whose label is `pad_id` gets zero loss *and* leaves the
    denominator: the default reduction is the mean over the real labels
    (`sum(loss * w) / sum(w)`), not over every position, so a batch with much
    padding is not diluted. A batch with no real label gives 0, not NaN. The
    mask comes from the labels alone (never from the Keras mask of
    `y_pred`), so the value is the same inside `fit()` and on plain arrays.
    Computed in float32 whatever the dtype of `y_pred`.

    Args:
        pad_id: int, the label id that counts for nothing.
        from_logits: bool, whether `y_pred` are logits (else probabilities).
        label_smoothing: float in [0, 1): the target puts
            `1 - label_smoothing` on the label and spreads
            `label_smoothing` uniformly over all classes
            (Szegedy et al. 2016), i.e. the loss is
            `(1 - ls) * -log p[label] + ls * mean_k(-log p[k])`.
        reduction: `"sum_over_batch_size"` or `"mean"` (both the mean over
            the weight of real labels), `"sum"`, or `"none"`/`None` (the
            per-position losses, zero at padding).
        name: str, the loss name.

    Call arguments:
        y_true: int labels `(batch, ...)` or `(batch, ..., 1)`.
        y_pred: float `(batch, ..., num_classes)`.
        sample_weight: optional weights broadcastable to the labels; they
            multiply the padding mask.

    Returns:
        A float32 scalar (or the per-position losses with no reduction).

    Example:

    >>> loss = MaskedSparseCategoricalCrossentropy(pad_id=0)
    >>> labels = np.array([[5, 2, 0, 0]])       # two real tokens
    >>> logits = np.random.randn(1, 4, 8)
    >>> value = loss(labels, logits)            # mean over 2 positions

    References:
        - [Szegedy et al., 2016. Rethinking the Inception Architecture for
          Computer Vision](https://arxiv.org/abs/1512.00567) (label
          smoothing)
    """

    def __init__(
        self,
        pad_id=0,
        from_logits=True,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="masked_sparse_categorical_crossentropy",
        **kwargs,
    ):
        check_pad_id(pad_id)
        if not isinstance(from_logits, bool):
            raise ValueError(
                "`from_logits` must be a bool. "
                f"Received: from_logits={from_logits!r}"
            )
        check_rate("label_smoothing", label_smoothing)
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"`reduction` must be one of {list(_REDUCTIONS)}. "
                f"Received: reduction={reduction!r}"
            )
        kwargs.pop("dtype", None)  # always float32
        if kwargs:
            raise ValueError(
                "Unknown arguments for MaskedSparseCategoricalCrossentropy. "
                f"Received: {sorted(kwargs)}"
            )
        super().__init__(name=name, reduction=reduction, dtype="float32")
        self.pad_id = pad_id
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        """Per-position losses, zero where the label is `pad_id`."""
        losses, _ = self._losses_and_weights(y_true, y_pred)
        return losses

    def _losses_and_weights(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
        labels, weights = labels_and_weights(
            y_true, y_pred, self.pad_id, sample_weight
        )
        if self.from_logits:
            log_probs = ops.log_softmax(y_pred, axis=-1)
        else:
            probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
            log_probs = ops.log(ops.clip(probs, _EPSILON, 1.0))
        nll = -ops.squeeze(
            ops.take_along_axis(
                log_probs, ops.expand_dims(labels, -1), axis=-1
            ),
            -1,
        )
        if self.label_smoothing:
            smooth = -ops.mean(log_probs, axis=-1)
            nll = (1.0 - self.label_smoothing) * nll + (
                self.label_smoothing * smooth
            )
        return nll * weights, weights

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses, weights = self._losses_and_weights(
            y_true, y_pred, sample_weight
        )
        if self.reduction in (None, "none"):
            return losses
        total = ops.sum(losses)
        if self.reduction == "sum":
            return total
        return ops.divide_no_nan(total, ops.sum(weights))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pad_id": self.pad_id,
                "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing,
            }
        )
        return config
