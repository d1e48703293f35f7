"""`AttentionExplorer` without a browser: the data it writes, its size and
its escaping. `test_attention_explorer_browser.py` drives the page."""

import base64
import json
import re
import zlib

import numpy as np
import pytest

from keras_attnpred.explain import Alignment
from keras_attnpred.explain import AttentionExplorer
from keras_attnpred.explain import TextExplanation
from keras_attnpred.explain import attention_rollout
from keras_attnpred.explain import explain_classification
from keras_attnpred.explain import merge_subwords
from keras_attnpred.models import build_rnn_classifier
from keras_attnpred.models import build_transformer_classifier

HOSTILE = 'a </script><script>window.pwned = 1</script> & "b" <!--'
MB = 1024 * 1024


def page_data(page):
    """The JSON of the page's data block."""
    found = re.search(
        r'<script type="application/json" id="explorer-data">(.*?)</script>',
        page, flags=re.DOTALL,
    )
    return json.loads(found.group(1))


def unpack(packed):
    """A map block as the page's script decodes it."""
    shape = packed["shape"]
    steps = np.frombuffer(
        zlib.decompress(base64.b64decode(packed["steps"])), "uint8"
    ).reshape(shape)
    return steps / 255.0


def softmax_maps(shape, seed=0):
    """Attention-like rows: softmax of logits whose spread differs per head,
    from nearly uniform to peaked (hard to compress, unlike an untrained
    model's near-uniform maps)."""
    rng = np.random.default_rng(seed)
    layers, heads = shape[:2]
    spread = rng.uniform(0.5, 4.0, (layers, heads, 1, 1))
    logits = rng.standard_normal(shape) * spread
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)).astype("float32")


@pytest.fixture(scope="module")
def review(tokenizers):
    tokenizer, _ = tokenizers
    model = build_transformer_classifier(
        tokenizer.vocabulary_size, 2, 16, preset="tiny", model_dim=16,
        num_heads=2, intermediate_dim=32, num_layers=2,
    )
    [explanation] = explain_classification(
        model, tokenizer, ["the cat is playing"], label_names=["neg", "pos"],
        return_attention=True,
    )
    return explanation


def test_explain_classification_returns_every_map(review):
    layers, heads, n = 2, 2, len(review.tokens)
    assert review.attention.shape == (layers, heads, n, n)
    np.testing.assert_allclose(review.attention.sum(-1), 1, atol=1e-5)
    np.testing.assert_allclose(
        review.rollout, attention_rollout(review.attention[None])[0],
        atol=1e-5,
    )
    assert review.pooling_weights.shape == (n,)
    # Attention pooling: the importance is the pooling weights.
    np.testing.assert_allclose(review.pooling_weights, review.weights,
                               atol=1e-6)


def test_an_rnn_classifier_has_pooling_weights_only(tokenizers):
    tokenizer, _ = tokenizers
    model = build_rnn_classifier(tokenizer.vocabulary_size, 2,
                                 embedding_dim=8, units=8)
    [explanation] = explain_classification(
        model, tokenizer, ["a cat"], return_attention=True
    )
    assert explanation.attention is None and explanation.rollout is None
    assert explanation.pooling_weights.shape == (len(explanation.tokens),)
    [plain] = explain_classification(model, tokenizer, ["a cat"])
    assert plain.attention is None and plain.pooling_weights is None
    with pytest.raises(ValueError, match="return_attention"):
        explain_classification(model, tokenizer, ["a"], return_attention=1)


def test_merged_maps_pay_the_mean_and_receive_the_sum(review):
    words = review.merge_subwords()
    _, expected = merge_subwords(review.tokens, review.attention, -1, "sum")
    _, expected = merge_subwords(review.tokens, expected, -2, "mean")
    np.testing.assert_allclose(words.attention, expected, atol=1e-6)
    assert words.tokens == ["the", "cat", "is", "playing"]
    np.testing.assert_allclose(words.attention.sum(-1), 1, atol=1e-5)
    np.testing.assert_allclose(words.rollout.sum(-1), 1, atol=1e-5)
    np.testing.assert_allclose(words.pooling_weights.sum(), 1, atol=1e-5)
    with pytest.raises(ValueError, match=r"attention.shape=\(2, 3, 3\)"):
        TextExplanation(["a", "b"], [0.5, 0.5], attention=np.ones((2, 3, 3)))


def test_page_holds_the_maps_within_the_quantization(review):
    explorer = AttentionExplorer()
    explorer.add_classification(review, text="the cat is playing")
    weights = softmax_maps((2, 3, 5, 7), seed=1)
    alignment = Alignment(weights, list("abcdefg"), list("vwxyz"))
    explorer.add_translation(alignment, text="t", translation="u",
                             search="beam")
    data = page_data(explorer.to_html())
    first, second = data["entries"]
    assert first["kind"] == "classification" and first["text"] == (
        "the cat is playing")
    assert first["caption"] == review.description
    for name in ("attention", "rollout"):
        original = getattr(review, name)
        np.testing.assert_allclose(
            unpack(first[name]), original, atol=1 / 510 + 1e-7
        )
    assert first["pooling"] == pytest.approx(review.pooling_weights.tolist(),
                                             abs=1e-6)
    assert first["words"] == ["the", "cat", "is", "playing"]
    assert len(first["word_of_piece"]) == len(review.tokens)
    # Within half a step, and not better than that: it is quantized.
    error = np.abs(unpack(second["attention"]) - weights).max()
    assert 1 / 2550 < error <= 1 / 510 + 1e-7
    assert second["source"] == list("abcdefg") and second["caption"] == "beam"


def test_a_512_token_text_with_6_layers_of_8_heads_stays_under_5_mb():
    tokens = [f"w{i}" if i % 3 else f"##p{i}" for i in range(512)]
    attention = softmax_maps((6, 8, 512, 512))
    rollout = attention_rollout(attention[None])[0]
    explanation = TextExplanation(
        tokens, np.full(512, 1 / 512), label=0, label_name="neg",
        probability=0.6, attention=attention, rollout=rollout,
        pooling_weights=np.full(512, 1 / 512),
    )
    explorer = AttentionExplorer()
    explorer.add_classification(explanation)
    size = len(explorer.to_html().encode("utf-8"))
    assert size < 5 * MB, f"{size / MB:.2f} MB"


def test_hostile_text_stays_text(review):
    explorer = AttentionExplorer(title=HOSTILE + " %DATA%")
    tokens = ["<script>", "alert(1)", "</script>"]
    explorer.add_classification(
        TextExplanation(tokens, [0.2, 0.3, 0.5], label_name=HOSTILE),
        text=HOSTILE,
    )
    explorer.add_translation(
        Alignment(np.ones((1, 1, 1, 3)) / 3, tokens, ["</script>"]),
        text=HOSTILE, translation=HOSTILE,
    )
    page = explorer.to_html()
    # The page's own two scripts and nothing else.
    assert page.count("<script") == 2 and page.count("</script") == 2
    assert "<!--" not in page
    data = page_data(page)
    assert data["title"] == HOSTILE + " %DATA%"
    assert data["entries"][0]["text"] == HOSTILE
    assert data["entries"][0]["tokens"] == tokens
    assert data["entries"][1]["translation"] == HOSTILE
    assert "<title>a &lt;/script&gt;" in page


def test_written_to_disk_and_level(tmp_path, review):
    explorer = AttentionExplorer(title="Reviews")
    explorer.add_classification(review)
    path = tmp_path / "sub" / "page.html"
    page = explorer.to_html(path, words=False)
    assert path.read_text(encoding="utf-8") == page
    assert page_data(page)["level"] == "pieces"
    assert page_data(page)["entries"][0]["text"] == " ".join(review.tokens)
    assert len(explorer) == 1 and "texts=1" in repr(explorer)
    # Nothing that would reach the network.
    assert not re.search(r"(src|href)=|https?://|@import|fetch\(", page)


def test_bad_arguments(review):
    explorer = AttentionExplorer()
    with pytest.raises(ValueError, match="no texts"):
        explorer.to_html()
    with pytest.raises(ValueError, match="explanation of type list"):
        explorer.add_classification([0.5, 0.5])
    with pytest.raises(ValueError, match="alignment of type TextExplanation"):
        explorer.add_translation(review)
    with pytest.raises(ValueError, match="text=3"):
        explorer.add_classification(review, text=3)
    alignment = Alignment(np.ones((1, 1, 1, 1)), ["a"], ["b"])
    with pytest.raises(ValueError, match="search=4"):
        explorer.add_translation(alignment, search=4)
    with pytest.raises(ValueError, match="title=None"):
        AttentionExplorer(title=None)
    explorer.add_classification(review)
    with pytest.raises(ValueError, match="words"):
        explorer.to_html(words="yes")
