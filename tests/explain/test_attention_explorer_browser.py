"""The `AttentionExplorer` page in a real browser: headless Chromium, driven
through the DevTools protocol (`tests/explain/chromium.py`), with real mouse
events. Skipped, saying so, where no Chromium is installed (Debian:
`apt-get install chromium`). Set ATTNPRED_SCREENSHOTS=DIR to keep the
screenshots."""

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from keras_attnpred.explain import AttentionExplorer
from keras_attnpred.explain import TextExplanation
from keras_attnpred.explain import attention_rollout
from keras_attnpred.explain import explain_classification
from keras_attnpred.models import build_transformer_classifier
from tests.explain.chromium import Chromium
from tests.explain.chromium import find_chromium
from tests.explain.test_attention_explorer import softmax_maps
from tests.translators import make_translator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="no chromium on PATH: the browser tests need headless "
        "Chromium (Debian: apt-get install chromium)",
    ),
]

# Half a step of 1/255, and the 3 decimals shown.
STEP = 1 / 510 + 1e-6
SHOWN = 0.0005 + 1e-6
HOSTILE = "the cat <script>window.pwned = 1</script> </script><b>bold</b>"
TEXTS = ["the cat is playing", HOSTILE]
SOURCE = "the cat sat on the mat"


@pytest.fixture(scope="module")
def explained(tokenizers):
    source_tokenizer, _ = tokenizers
    model = build_transformer_classifier(
        source_tokenizer.vocabulary_size, 2, 64, preset="tiny", model_dim=16,
        num_heads=2, intermediate_dim=32, num_layers=2,
    )
    reviews = explain_classification(
        model, source_tokenizer, TEXTS, label_names=["neg", "pos"],
        max_length=64, return_attention=True,
    )
    translator = make_translator(tokenizers, max_length=8, num_layers=2)
    translations = {}
    for name, width in (("greedy", 1), ("beam", 3)):
        [text], [alignment] = translator.translate(
            [SOURCE], return_attention=True, beam_width=width
        )
        translations[name] = (text, alignment)
    return reviews, translations


@pytest.fixture(scope="module")
def page_path(explained, tmp_path_factory):
    reviews, translations = explained
    explorer = AttentionExplorer(title="Explorer </script><i>test</i>")
    for text, review in zip(TEXTS, reviews):
        explorer.add_classification(review, text=text)
    for name, (text, alignment) in translations.items():
        explorer.add_translation(alignment, text=SOURCE, translation=text,
                                 search=name)
    path = tmp_path_factory.mktemp("explorer") / "page.html"
    explorer.to_html(path)
    return path


@pytest.fixture(scope="module")
def browser():
    with Chromium.start() as chromium:
        yield chromium


@pytest.fixture
def page(browser, page_path):
    page = browser.open(page_path.as_uri())
    page.wait_for("document.body.dataset.ready === 'true'")
    return page


def screenshot(page, name, tmp_path):
    """Takes a screenshot, checks it shows something, keeps it on request."""
    png = page.screenshot()
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size[0] >= 800 and image.size[1] >= 400
    assert len(set(image.getdata())) > 20  # not a blank page
    folder = os.environ.get("ATTNPRED_SCREENSHOTS") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(png)
    return image


def choose(page, index):
    page.evaluate(
        "(() => { const s = document.getElementById('entry-select');"
        f" s.value = '{index}'; s.dispatchEvent(new Event('change')); }})()"
    )


def set_level(page, level):
    page.click(f'input[name="level"][value="{level}"]')


def detail(page, column):
    """The numbers of the detail table's column: shown text and value."""
    return page.evaluate(
        f"Array.from(document.querySelectorAll('#detail-table td.{column}'))"
        ".map((td) => [td.textContent, Number(td.dataset.value)])"
    )


def check_numbers(shown, expected, tolerance):
    assert len(shown) == len(expected)
    for (text, value), want in zip(shown, expected):
        assert abs(value - want) <= tolerance, (value, want)
        assert abs(float(text) - want) <= tolerance + SHOWN, (text, want)


def test_page_loads_from_disk_and_builds_the_grid(page, explained, tmp_path):
    reviews, _ = explained
    assert page.evaluate("document.title") == "Explorer </script><i>test</i>"
    assert page.evaluate("document.getElementById('status').textContent") == ""
    options = page.evaluate(
        "Array.from(document.querySelectorAll('#entry-select option'))"
        ".map((o) => o.textContent)"
    )
    assert len(options) == 4 and "greedy" in options[2] and (
        "beam" in options[3])
    # 2 layers x (2 heads + mean), the average of all, the rollout.
    assert page.evaluate("document.querySelectorAll('.cell').length") == 8
    words = page.evaluate(
        "Array.from(document.querySelectorAll('#tokens .token'))"
        ".map((s) => s.textContent)"
    )
    assert words == reviews[0].merge_subwords().tokens
    # Without a token picked: the pooling weights.
    check_numbers(detail(page, "pooling"),
                  reviews[0].merge_subwords().pooling_weights, 1e-5)
    screenshot(page, "classifier-words.png", tmp_path)


def test_hovering_a_token_shows_its_attention_in_every_head(page, explained,
                                                            tmp_path):
    reviews, _ = explained
    words = reviews[0].merge_subwords()
    page.hover('#tokens .token[data-index="1"]')
    title = page.evaluate("document.getElementById('detail-title').textContent")
    assert words.tokens[1] in title and "layer 0, head 0" in title
    peaks = page.evaluate(
        "Array.from(document.querySelectorAll('.cell .peak'))"
        ".map((p) => p.textContent)"
    )
    assert len(peaks) == 8 and all("\u2192" in p and "\u2190" in p
                                   for p in peaks)
    # Word level: a word pays the mean of its pieces' rows and receives the
    # sum of their columns, each piece within half a step.
    pieces = [len(t) for t in words.tokens]  # this tokenizer: a letter each
    tolerance = max(pieces) * STEP
    check_numbers(detail(page, "paid"), words.attention[0, 0, 1], tolerance)
    check_numbers(detail(page, "received"), words.attention[0, 0, :, 1],
                  tolerance)
    screenshot(page, "classifier-hover.png", tmp_path)
    page.move_away()
    assert "Token weights" in page.evaluate(
        "document.getElementById('detail-title').textContent"
    )


def test_piece_numbers_equal_the_models_in_each_head(page, explained,
                                                     tmp_path):
    reviews, _ = explained
    review = reviews[0]
    set_level(page, "pieces")
    page.wait_for(
        f"document.querySelectorAll('#tokens .token').length === "
        f"{len(review.tokens)}"
    )
    page.click('#tokens .token[data-index="4"]')  # pinned
    for layer, head, expected in [
        (0, 1, review.attention[0, 1]),
        (1, 0, review.attention[1, 0]),
        (1, "mean", review.attention[1].mean(0)),
        ("mean", "mean", review.attention.mean((0, 1))),
        ("rollout", "rollout", review.rollout),
    ]:
        page.click(f'.cell[data-layer="{layer}"][data-head="{head}"]')
        assert page.evaluate(
            "document.querySelector('.cell.picked').dataset.layer"
        ) == str(layer)
        check_numbers(detail(page, "paid"), expected[4], STEP)
        check_numbers(detail(page, "received"), expected[:, 4], STEP)
    # The text shows what token 4 pays, relative to its largest weight.
    page.move_away()
    page.click('input[name="direction"][value="received"]')
    alphas = page.evaluate(
        "Array.from(document.querySelectorAll('#tokens .token'))"
        ".map((s) => s.style.backgroundColor)"
    )
    received = review.rollout[:, 4]
    top = int(np.argmax(received))
    assert alphas[top] == "rgb(255, 140, 0)"  # full opacity
    screenshot(page, "classifier-pieces-rollout.png", tmp_path)
    page.click('#tokens .token[data-index="4"]')  # unpinned
    page.move_away()
    assert page.evaluate("document.querySelector('.token.selected') === null")


def test_a_script_in_a_text_stays_text(page, explained):
    reviews, _ = explained
    choose(page, 1)
    page.wait_for("document.getElementById('caption').textContent"
                  f".endsWith({json.dumps(HOSTILE)})")
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert page.evaluate("document.querySelectorAll('b, i').length") == 0
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert HOSTILE[:40] in page.evaluate(
        "document.getElementById('entry-select').textContent"
    )


@pytest.mark.parametrize("entry, name", [(2, "greedy"), (3, "beam")])
def test_translation_alignment_per_layer_and_head(page, explained, entry,
                                                  name, tmp_path):
    _, translations = explained
    translation, alignment = translations[name]
    choose(page, entry)
    set_level(page, "pieces")
    page.wait_for(
        "document.querySelectorAll('#source-tokens .token').length === "
        f"{len(alignment.source_tokens)}"
    )
    caption = page.evaluate("document.getElementById('caption').textContent")
    assert translation in caption and name in caption
    layers, heads = alignment.weights.shape[:2]
    assert page.evaluate("document.querySelectorAll('.cell').length") == (
        layers * (heads + 1) + 1)
    # A generated token: the source tokens it attends to.
    page.hover('#target-tokens .token[data-index="1"]')
    check_numbers(detail(page, "weight"), alignment.weights[0, 0, 1], STEP)
    page.click('.cell[data-layer="mean"][data-head="mean"]')
    page.click('#target-tokens .token[data-index="1"]')
    check_numbers(detail(page, "weight"), alignment.average()[1], STEP)
    screenshot(page, f"translation-{name}.png", tmp_path)
    # A source token: the generated tokens that attend to it.
    page.click(f'.cell[data-layer="{layers - 1}"][data-head="{heads - 1}"]')
    page.hover('#source-tokens .token[data-index="2"]')
    check_numbers(detail(page, "weight"),
                  alignment.weights[-1, -1, :, 2], STEP)
    # Words: the source pieces summed, the generated ones averaged.
    set_level(page, "words")
    words = alignment.merge_subwords()
    page.wait_for(
        "document.querySelectorAll('#source-tokens .token').length === "
        f"{len(words.source_tokens)}"
    )
    page.hover('#target-tokens .token[data-index="0"]')
    tolerance = len(alignment.source_tokens) * STEP
    check_numbers(detail(page, "weight"), words.weights[-1, -1, 0], tolerance)


def test_a_512_token_text_with_6_layers_of_8_heads(browser, tmp_path):
    tokens = [f"w{i}" if i % 3 else f"##p{i}" for i in range(512)]
    attention = softmax_maps((6, 8, 512, 512))
    explorer = AttentionExplorer(title="Long")
    explorer.add_classification(TextExplanation(
        tokens, np.full(512, 1 / 512), label_name="neg", probability=0.6,
        attention=attention, rollout=attention_rollout(attention[None])[0],
        pooling_weights=np.full(512, 1 / 512),
    ))
    path = tmp_path / "long.html"
    explorer.to_html(path, words=False)
    page = browser.open(path.as_uri(), height=1200)
    page.wait_for("document.body.dataset.ready === 'true'", timeout=60)
    assert page.evaluate("document.querySelectorAll('.cell').length") == (
        6 * 9 + 2)
    page.click('.cell[data-layer="5"][data-head="7"]')
    page.hover('#tokens .token[data-index="300"]')
    check_numbers(detail(page, "paid"), attention[5, 7, 300], STEP)
    screenshot(page, "long.png", tmp_path)
