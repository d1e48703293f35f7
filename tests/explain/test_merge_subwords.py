import numpy as np
import pytest

from keras_attnpred.explain import Alignment
from keras_attnpred.explain import TextExplanation
from keras_attnpred.explain import merge_subwords


def test_pieces_join_into_words_and_weights_add_up():
    words, weights = merge_subwords(
        ["the", "play", "##ing", "##s", ".", "##x"],
        [0.1, 0.2, 0.3, 0.1, 0.2, 0.1],
    )
    assert words == ["the", "playings", ".x"]
    np.testing.assert_allclose(weights, [0.1, 0.6, 0.3], atol=1e-6)


def test_sentencepiece_pieces_join_at_word_starts():
    words, weights = merge_subwords(
        ["\u2581the", "\u2581play", "ing", "s", ".", "\u2581", "[UNK]",
         "[END]"],
        [0.1, 0.2, 0.3, 0.1, 0.1, 0.05, 0.1, 0.05],
    )
    # "." has no word-start mark: it belongs to the word, as written.
    assert words == ["the", "playings.", "[UNK]", "[END]"]
    np.testing.assert_allclose(weights, [0.1, 0.7, 0.15, 0.05], atol=1e-6)


def test_mean_along_another_axis():
    weights = np.arange(12, dtype="float32").reshape(3, 4)
    words, merged = merge_subwords(["a", "##b", "c"], weights, axis=0,
                                   reduction="mean")
    assert words == ["ab", "c"]
    np.testing.assert_allclose(merged, [[2, 3, 4, 5], [8, 9, 10, 11]])


def test_a_leading_continuation_piece_is_a_word_of_its_own():
    words, weights = merge_subwords(["##ing", "x"], [0.5, 0.5])
    assert words == ["##ing", "x"] and weights.tolist() == [0.5, 0.5]


def test_alignment_rows_still_sum_to_one():
    rng = np.random.default_rng(0)
    weights = rng.random((2, 3, 4, 5))
    weights /= weights.sum(-1, keepdims=True)
    alignment = Alignment(
        weights,
        ["el", "ga", "##to", "come", "[END]"][:5],
        ["the", "c", "##at", "eats"],
    ).merge_subwords()
    assert alignment.source_tokens == ["el", "gato", "come", "[END]"]
    assert alignment.target_tokens == ["the", "cat", "eats"]
    assert alignment.weights.shape == (2, 3, 3, 4)
    np.testing.assert_allclose(alignment.weights.sum(-1), 1.0, atol=1e-6)
    # The row of "cat" is the mean of the rows of "c" and "##at".
    expected = (weights[..., 1, :] + weights[..., 2, :]) / 2
    np.testing.assert_allclose(alignment.weights[..., 1, 1],
                               expected[..., 1] + expected[..., 2], atol=1e-6)


def test_text_explanation_keeps_its_prediction():
    explanation = TextExplanation(
        ["won", "##der", "##ful", "film"], [0.2, 0.3, 0.3, 0.2],
        label=1, label_name="positive", probability=0.9,
    ).merge_subwords()
    assert explanation.tokens == ["wonderful", "film"]
    np.testing.assert_allclose(explanation.weights, [0.8, 0.2], atol=1e-6)
    assert explanation.description == "predicted: positive (0.90)"


def test_bad_arguments():
    with pytest.raises(ValueError, match="reduction"):
        merge_subwords(["a"], [1.0], reduction="max")
    with pytest.raises(ValueError, match="one token per entry"):
        merge_subwords(["a", "b"], [1.0])
    with pytest.raises(ValueError, match="axis"):
        merge_subwords(["a"], [1.0], axis=1)
