import html

import numpy as np

from keras_attnpred.explain._files import write_output

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
.label { font-size: 1.2em; }
.row { line-height: 2.2em; margin: 0.4em 0; }
.row-label { display: inline-block; min-width: 8em; font-weight: bold; }
.token { padding: 0.15em 0.2em; border-radius: 0.25em; }
.note { color: #666; font-size: 0.9em; }
"""


def importance_html(
    tokens,
    importance,
    label=None,
    row_labels=None,
    title="Token importance",
    path=None,
):
    """A self-contained HTML page that highlights each word by its weight.

    Each token gets an orange background whose opacity is its weight
    relative to the largest weight of its row; hovering shows the weight.
    A 1-D `importance` gives one highlighted text (a classifier's token
    importance); a 2-D one gives one line per row (e.g. one per generated
    word of a translation, highlighting the source words it attends to).
    All text is escaped with `html.escape`, so the page shows the text as
    written, markup included; there is no script and nothing external.

    Args:
        tokens: list of str, the words or pieces.
        importance: float array `(len(tokens),)`, or `(rows, len(tokens))`.
        label: optional str shown above the text, e.g. the predicted class
            with its probability, or the translation.
        row_labels: list of str, one per row of a 2-D `importance`.
        title: str, the page title.
        path: optional str, where to write the page (UTF-8).

    Returns:
        The page as a str.

    Example:

    >>> page = importance_html(["a", "wonderful", "film"], [0.1, 0.8, 0.1],
    ...                        label="positive (0.93)", path="review.html")
    """
    tokens = [str(token) for token in tokens]
    weights = np.asarray(importance, dtype="float32")
    if weights.ndim not in (1, 2) or weights.shape[-1] != len(tokens):
        raise ValueError(
            "`importance` must have the shape (len(tokens),) or "
            f"(rows, len(tokens)) with len(tokens)={len(tokens)}. "
            f"Received: importance.shape={weights.shape}"
        )
    if weights.ndim == 1:
        weights = weights[None]
        if row_labels is not None:
            raise ValueError(
                "`row_labels` go with a 2-D `importance`. "
                f"Received: row_labels={row_labels!r}"
            )
        row_labels = [None]
    elif row_labels is None or len(row_labels) != len(weights):
        raise ValueError(
            "`row_labels` must hold one label per row of `importance` "
            f"({len(weights)}). Received: row_labels={row_labels!r}"
        )
    escape = html.escape
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(str(title))}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(str(title))}</h1>",
    ]
    if label is not None:
        lines.append(f'<p class="label">{escape(str(label))}</p>')
    for row_label, row in zip(row_labels, weights):
        top = float(row.max()) if row.size else 0.0
        spans = []
        for token, weight in zip(tokens, row):
            alpha = float(weight) / top if top > 0 else 0.0
            spans.append(
                '<span class="token" '
                f'style="background-color: rgba(255, 140, 0, {alpha:.3f})" '
                f'title="{float(weight):.4f}">{escape(token)}</span>'
            )
        head = (
            ""
            if row_label is None
            else f'<span class="row-label">{escape(str(row_label))}</span> '
        )
        lines.append(f'<div class="row">{head}{" ".join(spans)}</div>')
    lines += [
        '<p class="note">Colour: the weight relative to the largest of its '
        "line. Hover a word to see its weight.</p>",
        "</body>",
        "</html>",
        "",
    ]
    page = "\n".join(lines)
    if path is not None:
        write_output(path, page)
    return page
