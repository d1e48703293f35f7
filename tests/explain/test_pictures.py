import html.parser
import io

import numpy as np
import pytest
from PIL import Image

from keras_attnpred.explain import Alignment
from keras_attnpred.explain import attention_heatmap
from keras_attnpred.explain import importance_html

VOID = {"meta", "br", "img", "hr", "link", "input"}


def decode(png):
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


def test_heatmap_is_a_png_of_the_requested_size(tmp_path):
    weights = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    path = tmp_path / "sub" / "map.png"
    png = attention_heatmap(weights, ["a", "b", "c"], ["x", "y"], path=path,
                            figsize=(4, 3), dpi=50)
    assert path.read_bytes() == png
    assert decode(png).size == (200, 150)


def test_default_size_grows_with_the_tokens():
    small = decode(attention_heatmap(np.ones((2, 2)), "ab", "cd", dpi=20))
    many = [f"t{i}" for i in range(20)]
    large = decode(attention_heatmap(np.ones((20, 20)), many, many, dpi=20))
    assert small.size == (80, 60)  # the 4 x 3 inch minimum
    assert large.size == (
        round(20 * (2.5 + 0.4 * 20)),
        round(20 * (1.8 + 0.4 * 20)),
    )


def test_heatmap_changes_when_the_weights_change():
    tokens = ["a", "b", "c"]
    first = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    second = np.array([[0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])

    def pixels(weights):
        return np.asarray(
            decode(attention_heatmap(weights, tokens, ["x", "y"], dpi=40))
        )

    assert np.array_equal(pixels(first), pixels(first))
    assert not np.array_equal(pixels(first), pixels(second))


def test_heatmap_checks_the_shape():
    with pytest.raises(ValueError, match="weights.shape"):
        attention_heatmap(np.ones((2, 3)), ["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="empty"):
        attention_heatmap(np.ones((0, 0)), [], [])


class TagChecker(html.parser.HTMLParser):
    """Records the text and fails on unbalanced tags."""

    def __init__(self):
        super().__init__()
        self.stack, self.text, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    return checker


def test_html_is_valid_and_escapes_the_text(tmp_path):
    tokens = ["<script>alert(1)</script>", "a&b", '"quoted"', "fine"]
    path = tmp_path / "page.html"
    page = importance_html(tokens, [0.1, 0.2, 0.3, 0.4],
                           label="positive <b>0.9</b>", path=path)
    assert path.read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    checker = parse(page)
    tags = [tag for tag, _ in checker.tags]
    assert "script" not in tags and "b" not in tags
    # The parser unescapes: the words come back exactly as given.
    text = "".join(checker.text)
    for token in tokens + ["positive <b>0.9</b>"]:
        assert token in text
    spans = [attrs for tag, attrs in checker.tags if tag == "span"]
    assert [float(s["title"]) for s in spans] == [0.1, 0.2, 0.3, 0.4]
    # The largest weight is fully coloured, the others relative to it.
    assert spans[-1]["style"].endswith("1.000)")
    assert spans[0]["style"].endswith("0.250)")


def test_html_changes_when_the_weights_change():
    tokens = ["a", "b"]
    assert importance_html(tokens, [0.9, 0.1]) != importance_html(
        tokens, [0.1, 0.9]
    )


def test_alignment_html_has_one_line_per_generated_token():
    alignment = Alignment(np.full((1, 1, 2, 3), 1 / 3), ["a", "b", "<c>"],
                          ["x", "[END]"])
    checker = parse(alignment.to_html(translation="x"))
    rows = [a for tag, a in checker.tags if a.get("class") == "row"]
    labels = [a for tag, a in checker.tags if a.get("class") == "row-label"]
    assert len(rows) == 2 and len(labels) == 2
    assert "<c>" in "".join(checker.text)


def test_html_checks_its_arguments():
    with pytest.raises(ValueError, match="importance.shape"):
        importance_html(["a"], [0.5, 0.5])
    with pytest.raises(ValueError, match="row_labels"):
        importance_html(["a", "b"], np.ones((2, 2)))
