import numpy as np
import pytest

from keras_attnpred.inference import translate_texts
from keras_attnpred.text import SubwordTokenizer

TEXTS = ["the cat sat on the mat", "a dog", "", "the dog sat on a log too"]


@pytest.fixture(scope="module")
def tokenizer():
    return SubwordTokenizer.train(TEXTS, vocabulary_size=60)


class CopyingDecoder:
    """Returns each source row as its translation, and records batches."""

    def __init__(self):
        self.batches = []

    def __call__(self, batch):
        self.batches.append(batch.copy())
        return batch


def test_a_copying_decoder_gives_the_texts_back(tokenizer):
    decode = CopyingDecoder()
    translations = translate_texts(
        TEXTS, tokenizer, tokenizer, 64, decode, batch_size=2
    )
    assert translations == TEXTS
    # The empty text was not decoded; the rest, longest first, in batches
    # of two rows (the last filled up with its first row).
    assert len(decode.batches) == 2
    assert all(len(batch) == 2 for batch in decode.batches)
    lengths = [int((b[0] != 0).sum()) for b in decode.batches]
    assert lengths == sorted(lengths, reverse=True)
    np.testing.assert_array_equal(decode.batches[1][0], decode.batches[1][1])


def test_widths_are_powers_of_two_or_fixed(tokenizer):
    decode = CopyingDecoder()
    translate_texts(TEXTS, tokenizer, tokenizer, 64, decode, batch_size=1)
    widths = [batch.shape[1] for batch in decode.batches]
    assert all(w & (w - 1) == 0 for w in widths), widths
    assert max(widths) <= 64
    decode = CopyingDecoder()
    translate_texts(
        TEXTS, tokenizer, tokenizer, 16, decode, batch_size=1, fixed_width=True
    )
    assert {batch.shape[1] for batch in decode.batches} == {16}


def test_sources_are_cut_to_max_length(tokenizer):
    decode = CopyingDecoder()
    [translation] = translate_texts(
        [TEXTS[0]], tokenizer, tokenizer, 3, decode
    )
    [row] = tokenizer.tokenize([TEXTS[0]]).to_list()
    assert decode.batches[0].shape == (64, 3)
    assert list(decode.batches[0][0]) == row[:3]
    assert translation == tokenizer.detokenize([row[:3]])[0]


def test_return_batches_maps_rows_to_texts(tokenizer):
    translations, rows, batches = translate_texts(
        TEXTS, tokenizer, tokenizer, 64, lambda b: b, batch_size=3,
        return_batches=True,
    )
    assert rows[2] == []
    for indices, batch, generated in batches:
        for k, i in enumerate(indices):
            assert list(batch[k, : len(rows[i])]) == rows[i]
            np.testing.assert_array_equal(generated[k], batch[k])
    assert translate_texts([], tokenizer, tokenizer, 16, lambda b: b) == []
