import numpy as np
import pytest

from keras_attnpred.explain import Alignment
from tests.translators import make_translator as shared_make_translator

TEXTS = ["the cat sat on the mat", "", "a dog is playing"]
MAX_LENGTH = 8


def make_translator(tokenizers, rnn):
    return shared_make_translator(
        tokenizers, rnn, max_length=MAX_LENGTH, num_layers=2
    )


@pytest.mark.parametrize("rnn", [False, True])
def test_translate_returns_alignments_with_the_tokens(tokenizers, rnn):
    translator = make_translator(tokenizers, rnn)
    source_tokenizer, target_tokenizer = tokenizers
    translations, alignments = translator.translate(
        TEXTS, return_attention=True
    )
    assert translations == translator.translate(TEXTS)
    assert len(alignments) == len(TEXTS)
    layers, heads = (1, 1) if rnn else (2, 2)
    for text, translation, alignment in zip(TEXTS, translations, alignments):
        assert isinstance(alignment, Alignment)
        assert alignment.weights.shape[:2] == (layers, heads)
        ids = source_tokenizer.tokenize(text).numpy().tolist()[:MAX_LENGTH]
        assert alignment.source_tokens == [
            source_tokenizer.id_to_token(i) for i in ids
        ]
        if not text:
            assert translation == "" and alignment.target_tokens == []
            continue
        # The generated pieces are the translation, [END] when it came.
        generated = [
            target_tokenizer.token_to_id(t) for t in alignment.target_tokens
        ]
        assert len(generated) <= MAX_LENGTH
        assert target_tokenizer.detokenize(generated) == translation
        np.testing.assert_allclose(
            alignment.weights.sum(-1), 1.0, atol=1e-5
        )
        assert alignment.average().shape == (
            len(alignment.target_tokens), len(alignment.source_tokens)
        )


def test_no_texts_and_bad_flag(tokenizers):
    translator = make_translator(tokenizers, rnn=True)
    assert translator.translate([], return_attention=True) == ([], [])
    with pytest.raises(ValueError, match="return_attention"):
        translator.translate(["a"], return_attention="yes")


def test_average_picks_layers_and_heads():
    weights = np.random.default_rng(0).random((2, 3, 2, 2))
    alignment = Alignment(weights, ["a", "b"], ["x", "y"])
    np.testing.assert_allclose(alignment.average(), weights.mean((0, 1)),
                               atol=1e-6)
    np.testing.assert_allclose(alignment.average(layer=-1),
                               weights[1].mean(0), atol=1e-6)
    np.testing.assert_allclose(alignment.average(layer=0, head=2),
                               weights[0, 2], atol=1e-6)
    with pytest.raises(ValueError, match="layer"):
        alignment.average(layer=2)
    with pytest.raises(ValueError, match="weights.shape"):
        Alignment(weights, ["a"], ["x", "y"])


@pytest.mark.parametrize("rnn", [False, True])
def test_beam_outputs_get_their_own_alignment(tokenizers, rnn):
    translator = make_translator(tokenizers, rnn)
    _, target_tokenizer = tokenizers
    texts = [t for t in TEXTS if t]
    beam = dict(beam_width=3, length_penalty=0.6)
    translations, alignments = translator.translate(
        texts, return_attention=True, **beam
    )
    assert translations == translator.translate(texts, **beam)
    for translation, alignment in zip(translations, alignments):
        generated = [
            target_tokenizer.token_to_id(t) for t in alignment.target_tokens
        ]
        # The alignment is of the beam's output, token for token.
        assert target_tokenizer.detokenize(generated) == translation
        np.testing.assert_allclose(alignment.weights.sum(-1), 1.0, atol=1e-5)
