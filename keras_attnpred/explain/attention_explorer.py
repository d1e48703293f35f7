import base64
import html
import json
import re
import zlib

import numpy as np

from keras_attnpred.explain._explorer_page import PAGE
from keras_attnpred.explain._files import write_output
from keras_attnpred.explain.alignment import Alignment
from keras_attnpred.explain.merge_subwords import merge_subwords
from keras_attnpred.explain.text_explanation import TextExplanation
from keras_attnpred.validation import check_bool

# Weights are stored as uint8 steps of 1/255.
LEVELS = 255


class AttentionExplorer:
    """An interactive page of every layer and head of a model's attention.

    Collects classified texts (`TextExplanation`s with their attention, from
    `explain_classification(..., return_attention=True)`) and translations
    (`Alignment`s, from `Translator.translate(..., return_attention=True)`,
    greedy or beam search) and writes them into one self-contained HTML
    file: the data inline, no network access, it works opened from disk in
    any current browser. The page has a selector over the texts and shows:

    - for a classifier, a layer × head grid of the self-attention maps (each
      layer's mean beside it), the attention rollout and the pooling
      weights; hovering a token shows in every head the attention it pays
      and receives (clicking pins it), and a table gives the numbers of the
      picked head;
    - for a translator, the source-target alignment of every decoder layer
      and head, each layer's mean and the average; hovering a generated
      token shows the source tokens it attends to, hovering a source token
      the generated tokens that attend to it;
    - words (pieces merged as `merge_subwords` does: a word pays the mean of
      its pieces' rows and receives the sum of their columns) or pieces.

    The maps are stored as uint8 steps of 1/255, compressed with zlib: a
    number shown is within 1/510 of the model's (a word's, summed over its
    pieces, within as many times 1/510 as it has pieces). A 512-token text
    with 6 layers × 8 heads takes about 2.5 MB. All text (tokens, texts, labels) is escaped, so
    markup in it, a `<script>` included, shows as written.

    Args:
        title: str, the page's title.

    Example:

    >>> translations, alignments = translator.translate(
    ...     ["the cat eats fish"], return_attention=True, beam_width=3)
    >>> explorer = AttentionExplorer(title="What the attention looks at")
    >>> explorer.add_translation(
    ...     alignments[0], text="the cat eats fish",
    ...     translation=translations[0], search="beam search, width 3")
    >>> classifier = build_transformer_classifier(
    ...     tokenizer.vocabulary_size, 2, max_length=16, preset="tiny")
    >>> [review] = explain_classification(
    ...     classifier, tokenizer, ["a wonderful film"], return_attention=True)
    >>> explorer.add_classification(review, text="a wonderful film")
    >>> page = explorer.to_html("explorer.html")  # open it in a browser
    >>> len(explorer), page.startswith("<!DOCTYPE html>")
    (2, True)
    """

    def __init__(self, title="Attention explorer"):
        if not isinstance(title, str):
            raise ValueError(
                f"`title` must be a str. Received: title={title!r}"
            )
        self.title = title
        self._entries = []

    def add_classification(self, explanation, text=None):
        """Adds one classified text.

        Args:
            explanation: a `TextExplanation` over the subword pieces (before
                `merge_subwords`), ideally with `attention`, `rollout` and
                `pooling_weights` (`return_attention=True`); what it lacks
                (e.g. the self-attention of an RNN classifier) is left out.
            text: optional str, the text as written (by default the
                tokens joined by spaces).
        """
        if not isinstance(explanation, TextExplanation):
            raise ValueError(
                "`explanation` must be a `TextExplanation` (from "
                "`explain_classification`). Received: explanation of type "
                f"{type(explanation).__name__}"
            )
        tokens = explanation.tokens
        entry = {
            "kind": "classification",
            "text": _text("text", text, tokens),
            "caption": explanation.description or "",
            "tokens": tokens,
            "word_of_piece": _word_of_piece(tokens),
            "importance": _vector(explanation.weights),
            "pooling": _vector(explanation.pooling_weights),
            "attention": _maps(explanation.attention),
            "rollout": _maps(explanation.rollout),
            "words": _words(tokens),
        }
        self._entries.append(entry)

    def add_translation(self, alignment, text=None, translation=None,
                        search=None):
        """Adds one translation.

        Args:
            alignment: an `Alignment` over the pieces (before
                `merge_subwords`).
            text: optional str, the source text as written.
            translation: optional str, the translation as detokenized.
            search: optional str naming how it was found, e.g. `"greedy"`
                or `"beam search, width 4"`.
        """
        if not isinstance(alignment, Alignment):
            raise ValueError(
                "`alignment` must be an `Alignment` (from "
                "`Translator.translate(..., return_attention=True)`). "
                f"Received: alignment of type {type(alignment).__name__}"
            )
        source, target = alignment.source_tokens, alignment.target_tokens
        for name, value in (("translation", translation), ("search", search)):
            if value is not None and not isinstance(value, str):
                raise ValueError(
                    f"`{name}` must be a str or None. Received: "
                    f"{name}={value!r}"
                )
        self._entries.append({
            "kind": "translation",
            "text": _text("text", text, source),
            "translation": _text("translation", translation, target),
            "caption": search or "",
            "source": source,
            "source_words": _words(source),
            "source_word_of_piece": _word_of_piece(source),
            "target": target,
            "target_words": _words(target),
            "target_word_of_piece": _word_of_piece(target),
            "attention": _maps(alignment.weights),
        })

    def __len__(self):
        return len(self._entries)

    def to_html(self, path=None, words=True):
        """The page as a str, also written to `path` (UTF-8) when given.

        Args:
            path: optional str, where to write the page.
            words: bool, open on the word-level view (`False`: pieces); the
                page switches between both.
        """
        check_bool("words", words)
        if not self._entries:
            raise ValueError(
                "The explorer has no texts: call `add_classification` or "
                "`add_translation` first. Received: 0 texts"
            )
        data = {
            "title": self.title,
            "level": "words" if words else "pieces",
            "levels": LEVELS,
            "entries": self._entries,
        }
        # Inside <script> only `</` could end the block; escaping every
        # `<`, `>` and `&` keeps any text, `</script>` included, as data.
        payload = (
            json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )
        # One pass, so that neither text can bring in the other's marker.
        fills = {"%TITLE%": html.escape(self.title), "%DATA%": payload}
        page = re.sub("%TITLE%|%DATA%", lambda m: fills[m.group()], PAGE)
        if path is not None:
            write_output(path, page)
        return page

    def __repr__(self):
        return f"AttentionExplorer(title={self.title!r}, texts={len(self)})"


def _text(name, value, tokens):
    if value is None:
        return " ".join(tokens)
    if not isinstance(value, str):
        raise ValueError(
            f"`{name}` must be a str or None. Received: {name}={value!r}"
        )
    return value


def _words(tokens):
    return merge_subwords(tokens, np.zeros(len(tokens)))[0]


def _word_of_piece(tokens):
    """The index of the word that each piece belongs to."""
    if not tokens:
        return []
    _, membership = merge_subwords(tokens, np.eye(len(tokens)), axis=-1)
    return [int(i) for i in membership.argmax(axis=-1)]


def _vector(values):
    if values is None:
        return None
    return [round(float(v), 6) for v in np.asarray(values, "float32")]


def _maps(weights):
    """Maps `(..., rows, columns)` as zlib-compressed, base64 uint8 steps
    of 1/255."""
    if weights is None:
        return None
    weights = np.nan_to_num(np.asarray(weights, "float32")).clip(0, 1)
    steps = np.rint(weights * LEVELS).astype("uint8")
    # Level 6: as small as 9 within a few percent, many times faster on
    # maps that are mostly zeros.
    packed = zlib.compress(steps.tobytes(), 6)
    return {
        "shape": list(weights.shape),
        "steps": base64.b64encode(packed).decode(),
    }
