"""Label padding masks shared by the masked loss and metric (private)."""

from keras import ops


def check_pad_id(pad_id):
    if isinstance(pad_id, bool) or not isinstance(pad_id, int):
        raise ValueError(
            f"`pad_id` must be an integer. Received: pad_id={pad_id!r}"
        )


def labels_and_weights(y_true, y_pred, pad_id, sample_weight=None):
    """int32 labels shaped like `y_pred[..., 0]` and float32 weights.

    The weight is 0 where the label is `pad_id`, else 1 (times
    `sample_weight`, broadcast over the label shape, when given).
    """
    labels = ops.convert_to_tensor(y_true)
    if len(labels.shape) == len(y_pred.shape):  # (..., 1) labels
        labels = ops.squeeze(labels, -1)
    labels = ops.cast(labels, "int32")
    weights = ops.cast(ops.not_equal(labels, pad_id), "float32")
    if sample_weight is not None:
        sample_weight = ops.cast(
            ops.convert_to_tensor(sample_weight), "float32"
        )
        if len(sample_weight.shape) == len(weights.shape) + 1:
            sample_weight = ops.squeeze(sample_weight, -1)
        while len(sample_weight.shape) < len(weights.shape):
            sample_weight = ops.expand_dims(sample_weight, -1)
        weights = weights * sample_weight
    # Padded labels may lie outside the vocabulary (e.g. -100): any valid
    # index does, their weight is zero.
    labels = ops.where(weights > 0, labels, ops.zeros_like(labels))
    return labels, weights
