import numpy as np

from keras_attnpred.validation import check_choice


def classification_metrics(labels, predictions, label_names):
    """Per-class precision, recall and F1, macro-F1 and the confusion matrix.

    A class's precision is the share of the texts predicted as it that
    have it, its recall the share of the texts that have it that are
    predicted as it, F1 their harmonic mean; a ratio with nothing to divide
    by counts as 0 (scikit-learn's `zero_division=0`). Macro-F1 is the mean
    F1 of the classes that occur among the labels or the predictions (as
    scikit-learn's `f1_score(average="macro")`).

    Args:
        labels: int array-like, the true class ids.
        predictions: int array-like, the predicted class ids.
        label_names: list of str, the class names by id.

    Returns:
        A dict: `"accuracy"`, `"macro_f1"`, `"per_class"` (`{name:
        {"precision", "recall", "f1", "support"}}`) and `"confusion_matrix"`
        (`{"labels": label_names, "matrix": [[...], ...]}`, a row per true
        class, a column per predicted class, counts).

    Example:

    >>> report = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1],
    ...                                 ["negative", "positive"])
    >>> report["per_class"]["positive"]["precision"]
    0.6666666666666666
    >>> report["confusion_matrix"]["matrix"]
    [[1, 1], [0, 2]]
    """
    label_names = [str(name) for name in label_names]
    classes = len(label_names)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    predictions = np.asarray(predictions, dtype=np.int64).reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(
            "`labels` and `predictions` must have the same length. Received: "
            f"{labels.size} labels and {predictions.size} predictions"
        )
    if not labels.size:
        raise ValueError("`labels` must not be empty. Received: 0 labels")
    for name, ids in (("labels", labels), ("predictions", predictions)):
        if ids.min() < 0 or ids.max() >= classes:
            raise ValueError(
                f"`{name}` must be class ids in [0, {classes}). Received: "
                f"ids from {ids.min()} to {ids.max()}"
            )
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    correct = np.diag(matrix)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = _ratio(correct, predicted)
    recall = _ratio(correct, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    present = (support + predicted) > 0
    return {
        "accuracy": float(correct.sum() / labels.size),
        "macro_f1": float(f1[present].mean()),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(label_names)
        },
        "confusion_matrix": {
            "labels": label_names,
            "matrix": matrix.tolist(),
        },
    }


def _ratio(numerator, denominator):
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def confusion_matrix_png(matrix, label_names, path=None, title=None,
                         normalize="true", dpi=100):
    """Draws a confusion matrix as a PNG: true classes down the side,
    predicted ones along the bottom, each cell coloured by its share of the
    row (`normalize="true"`) or its count (`None`) and labelled with its
    count.

    Needs matplotlib (the `explain` extra); imported when called, with the
    Agg canvas, leaving the global matplotlib backend alone.

    Args:
        matrix: int array `(classes, classes)`, rows true, columns
            predicted (as `classification_metrics` returns it).
        label_names: list of str, one per class.
        path: optional str, where to write the PNG.
        title: optional str.
        normalize: `"true"` or None.
        dpi: int, pixels per inch.

    Returns:
        The PNG file's bytes.

    Example:

    >>> png = confusion_matrix_png([[5, 1], [2, 7]], ["neg", "pos"])
    >>> png.startswith(b"\\x89PNG")
    True
    """
    import io

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is in the extras
        raise ImportError(
            "Pictures need matplotlib: pip install 'keras-attnpred[explain]'"
        ) from None
    check_choice("normalize", normalize, ("true", None))
    matrix = np.asarray(matrix)
    label_names = [str(name) for name in label_names]
    classes = len(label_names)
    if matrix.shape != (classes, classes):
        raise ValueError(
            "`matrix` must be square, one row and column per name in "
            f"`label_names` ({classes}). Received: matrix.shape="
            f"{matrix.shape}"
        )
    shown = matrix.astype("float64")
    if normalize == "true":
        shown = _ratio(shown, shown.sum(axis=1, keepdims=True))
    side = max(3.5, 1.8 + 0.5 * classes)
    figure = Figure(figsize=(side + 1, side), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(shown, cmap="Blues", vmin=0, interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.05, pad=0.02)
    axes.set_xticks(range(classes), label_names, rotation=90)
    axes.set_yticks(range(classes), label_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if title:
        axes.set_title(title)
    middle = shown.max() / 2 if shown.size else 0
    if classes <= 30:  # numbers in more cells would not be readable
        for row in range(classes):
            for column in range(classes):
                axes.text(
                    column, row, str(int(matrix[row, column])),
                    ha="center", va="center", fontsize=8,
                    color="white" if shown[row, column] > middle else "black",
                )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    png = buffer.getvalue()
    if path is not None:
        with open(path, "wb") as f:
            f.write(png)
    return png
