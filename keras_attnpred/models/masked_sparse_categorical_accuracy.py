import keras
from keras import ops

from keras_attnpred.models._masking import check_pad_id
from keras_attnpred.models._masking import labels_and_weights
from keras_attnpred.serialization import register


@register
class MaskedSparseCategoricalAccuracy(keras.metrics.Metric):
    """Accuracy over the positions whose label is not `pad_id`.

    `keras.metrics.SparseCategoricalAccuracy` counts padded positions too,
    where a model trivially predicts padding (or where anything is
    "right"), which inflates the accuracy of sequence models; here they count
    for nothing, in the numerator and the denominator. With no real label
    seen yet the result is 0, not NaN.

    Args:
        pad_id: int, the label id that counts for nothing.
        name: str, the metric name.
        dtype: dtype of the result, float32 by default.

    Update arguments:
        y_true: int labels `(batch, ...)` or `(batch, ..., 1)`.
        y_pred: scores `(batch, ..., num_classes)` (logits or
            probabilities: the argmax is the same).
        sample_weight: optional weights broadcastable to the labels; they
            multiply the padding mask.

    Example:

    >>> metric = MaskedSparseCategoricalAccuracy()
    >>> metric.update_state([[1, 2, 0]], [[[0, 1, 0], [0, 1, 0], [0, 1, 0]]])
    >>> float(metric.result())  # one right out of two real tokens
    0.5
    """

    def __init__(
        self,
        pad_id=0,
        name="masked_sparse_categorical_accuracy",
        dtype=None,
    ):
        check_pad_id(pad_id)
        super().__init__(name=name, dtype=dtype)
        self.pad_id = pad_id
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="count"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        labels, weights = labels_and_weights(
            y_true, y_pred, self.pad_id, sample_weight
        )
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        correct = ops.cast(ops.equal(predicted, labels), "float32")
        self.total.assign_add(ops.sum(correct * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.cast(
            ops.divide_no_nan(self.total, self.count), self.dtype
        )

    def get_config(self):
        config = super().get_config()
        config["pad_id"] = self.pad_id
        return config
