import io
import warnings

import numpy as np

from keras_attnpred.explain._files import write_output

# Inches per token along each axis, plus room for the labels and colour bar.
CELL_INCHES = 0.4
MARGIN_INCHES = (2.5, 1.8)
MIN_INCHES = (4.0, 3.0)


def attention_heatmap(
    weights,
    x_tokens,
    y_tokens,
    path=None,
    title=None,
    x_label=None,
    y_label=None,
    figsize=None,
    dpi=100,
):
    """Draws attention weights as a heatmap PNG with the tokens on its axes.

    Uses matplotlib's object-oriented API with the Agg canvas, imported when
    called: the global matplotlib backend (e.g. of a notebook) is left
    alone. The image is `figsize * dpi` pixels; by default the figure grows
    with the tokens, `max(4, 2.5 + 0.4 * len(x_tokens))` inches wide and
    `max(3, 1.8 + 0.4 * len(y_tokens))` inches high.

    Args:
        weights: float array `(len(y_tokens), len(x_tokens))`, e.g.
            `Alignment.average()` (generated tokens by source tokens).
        x_tokens: list of str, one per column (shown along the bottom).
        y_tokens: list of str, one per row (shown down the left).
        path: optional str, where to write the PNG.
        title: optional str, the title above the map.
        x_label: optional str, the label of the x axis.
        y_label: optional str, the label of the y axis.
        figsize: optional `(width, height)` in inches.
        dpi: int, pixels per inch.

    Returns:
        The PNG file's bytes.

    Example:

    >>> weights = np.array([[0.9, 0.1, 0.0], [0.1, 0.7, 0.2]])
    >>> png = attention_heatmap(weights, ["the", "cat", "[END]"],
    ...                         ["el", "gato"], path="align.png")
    >>> png.startswith(b"\\x89PNG")
    True
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is in the extras
        raise ImportError(
            "Pictures need matplotlib: pip install 'keras-attnpred[explain]'"
        ) from None
    weights = np.asarray(weights, dtype="float32")
    x_tokens, y_tokens = list(map(str, x_tokens)), list(map(str, y_tokens))
    if weights.shape != (len(y_tokens), len(x_tokens)):
        raise ValueError(
            "`weights` must have the shape (len(y_tokens), len(x_tokens)) = "
            f"{(len(y_tokens), len(x_tokens))}. Received: "
            f"weights.shape={weights.shape}"
        )
    if weights.size == 0:
        raise ValueError(
            "`weights` must not be empty: there is nothing to draw. "
            f"Received: weights.shape={weights.shape}"
        )
    if figsize is None:
        figsize = (
            max(MIN_INCHES[0], MARGIN_INCHES[0] + CELL_INCHES * len(x_tokens)),
            max(MIN_INCHES[1], MARGIN_INCHES[1] + CELL_INCHES * len(y_tokens)),
        )
    figure = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(
        weights, cmap="viridis", vmin=0.0, aspect="auto",
        interpolation="nearest",
    )
    figure.colorbar(image, ax=axes, fraction=0.05, pad=0.02)
    axes.set_xticks(range(len(x_tokens)), x_tokens, rotation=90)
    axes.set_yticks(range(len(y_tokens)), y_tokens)
    if title:
        axes.set_title(title)
    if x_label:
        axes.set_xlabel(x_label)
    if y_label:
        axes.set_ylabel(y_label)
    with warnings.catch_warnings():
        # Long labels may not fit; the picture is still worth having.
        warnings.simplefilter("ignore")
        figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    png = buffer.getvalue()
    if path is not None:
        write_output(path, png)
    return png
