import numpy as np

from keras_attnpred.explain.attention_heatmap import attention_heatmap
from keras_attnpred.explain.importance_html import importance_html
from keras_attnpred.explain.merge_subwords import merge_subwords


class TextExplanation:
    """A classified text with the importance of each of its tokens.

    Args:
        tokens: list of str, the pieces (or words) of the text, padding left
            out.
        weights: float array `(len(tokens),)`, e.g. from `token_importance`;
            it sums to 1.
        label: int, the predicted class.
        label_name: str, its name.
        probability: float, its probability.
        attention: optional float array `(num_layers, num_heads,
            len(tokens), len(tokens))`, the self-attention of a Transformer
            classifier (`self_attention_weights`), row `i` the attention
            token `i` pays.
        rollout: optional float array `(len(tokens), len(tokens))`, its
            `attention_rollout`.
        pooling_weights: optional float array `(len(tokens),)`, the weights
            of the attention pooling.

    `explain_classification(..., return_attention=True)` fills the last
    three; `AttentionExplorer` shows them.

    Example:

    >>> explanation = TextExplanation(
    ...     ["a", "wonder", "##ful", "film"], [0.05, 0.5, 0.4, 0.05],
    ...     label=1, label_name="positive", probability=0.93)
    >>> words = explanation.merge_subwords()
    >>> words.tokens, [round(float(w), 2) for w in words.weights]
    (['a', 'wonderful', 'film'], [0.05, 0.9, 0.05])
    >>> words.description
    'predicted: positive (0.93)'
    >>> page = words.to_html("review.html")
    >>> png = words.plot("review.png")
    """

    def __init__(self, tokens, weights, label=None, label_name=None,
                 probability=None, attention=None, rollout=None,
                 pooling_weights=None):
        self.tokens = [str(token) for token in tokens]
        length = len(self.tokens)
        self.weights = np.asarray(weights, dtype="float32")
        if self.weights.shape != (length,):
            raise ValueError(
                "`weights` must hold one weight per token, shape "
                f"({length},). Received: weights.shape={self.weights.shape}"
            )
        self.label = label
        self.label_name = label_name
        self.probability = probability
        self.attention = _optional_array(
            "attention", attention, (None, None, length, length),
            "(num_layers, num_heads, len(tokens), len(tokens))",
        )
        self.rollout = _optional_array(
            "rollout", rollout, (length, length),
            "(len(tokens), len(tokens))",
        )
        self.pooling_weights = _optional_array(
            "pooling_weights", pooling_weights, (length,), "(len(tokens),)"
        )

    def merge_subwords(self):
        """The same explanation over words: a word's weight is the sum of
        its pieces' (see `merge_subwords`); in the attention and rollout
        maps a word pays the mean of its pieces' rows and receives the sum
        of their columns. Returns a new `TextExplanation`."""
        words, weights = merge_subwords(self.tokens, self.weights)
        maps = {}
        for name in ("attention", "rollout"):
            value = getattr(self, name)
            if value is not None:
                _, value = merge_subwords(self.tokens, value, -1, "sum")
                _, value = merge_subwords(self.tokens, value, -2, "mean")
            maps[name] = value
        pooling = self.pooling_weights
        if pooling is not None:
            _, pooling = merge_subwords(self.tokens, pooling)
        return TextExplanation(
            words, weights, self.label, self.label_name, self.probability,
            pooling_weights=pooling, **maps,
        )

    @property
    def description(self):
        """The prediction in words, e.g. `"predicted: positive (0.93)"`."""
        name = self.label_name if self.label_name is not None else self.label
        if name is None:
            return None
        text = f"predicted: {name}"
        if self.probability is not None:
            text += f" ({self.probability:.2f})"
        return text

    def plot(self, path=None, **kwargs):
        """A one-row heatmap PNG of the weights, tokens along the bottom;
        keyword arguments go to `attention_heatmap`. Returns the bytes."""
        return attention_heatmap(
            self.weights[None],
            self.tokens,
            ["importance"],
            path=path,
            title=self.description or "Token importance",
            **kwargs,
        )

    def to_html(self, path=None):
        """A self-contained HTML page highlighting each token by its weight,
        with the prediction above. Returns the page as a str."""
        return importance_html(
            self.tokens, self.weights, label=self.description, path=path
        )

    def __repr__(self):
        return (
            f"TextExplanation(label_name={self.label_name!r}, "
            f"tokens={len(self.tokens)})"
        )


def _optional_array(name, value, shape, described):
    """`value` as float32 of `shape` (None: any size), or None."""
    if value is None:
        return None
    array = np.asarray(value, dtype="float32")
    if array.ndim != len(shape) or any(
        want is not None and got != want
        for got, want in zip(array.shape, shape)
    ):
        raise ValueError(
            f"`{name}` must have the shape {described}. Received: "
            f"{name}.shape={array.shape}"
        )
    return array
