import os
import shutil

import pytest

from keras_attnpred.decoding import beam_search
from keras_attnpred.inference import Translator
from keras_attnpred.text import SubwordTokenizer
from keras_attnpred.text.join_punctuation import join_punctuation
from tests.translators import make_translator as shared_make_translator

ENGLISH = [
    "The cat sat on the mat.",
    "The dog sat on the log!",
    "A cat and a dog played together.",
    "Is the cat happy? Yes, the cat is happy.",
]
SPANISH = [
    "El gato se sentó en la alfombra.",
    "El perro se sentó en el tronco!",
    "Un gato y un perro jugaron juntos.",
    "¿Está feliz el gato? Sí, el gato está feliz.",
]
MAX_LENGTH = 12


@pytest.fixture(scope="module")
def tokenizers():
    return (
        SubwordTokenizer.train(ENGLISH, vocabulary_size=80),
        SubwordTokenizer.train(SPANISH, vocabulary_size=80),
    )


def make_translator(tokenizers, rnn=False):
    return shared_make_translator(tokenizers, rnn, max_length=MAX_LENGTH)


def test_translate_returns_one_string_per_text(tokenizers):
    translator = make_translator(tokenizers)
    translations = translator.translate(ENGLISH)
    assert len(translations) == len(ENGLISH)
    assert all(isinstance(t, str) and t for t in translations)


def test_batching_and_order_change_nothing(tokenizers):
    translator = make_translator(tokenizers, rnn=True)
    texts = ENGLISH + ["the cat", "a dog sat"]
    together = translator.translate(texts, batch_size=64)
    # Other batches, other padding, other order: the same translations.
    assert translator.translate(texts, batch_size=4) == together
    assert translator.translate(texts[::-1], batch_size=4) == together[::-1]
    assert translator.translate(texts[-1:]) == together[-1:]


def test_empty_inputs(tokenizers):
    translator = make_translator(tokenizers)
    assert translator.translate([]) == []
    translations = translator.translate(["", "the cat", "   "])
    # No source tokens: no model run, an empty translation.
    assert translations[0] == "" and translations[2] == ""
    assert translations[1] == translator.translate(["the cat"])[0]


def test_save_load_round_trip(tokenizers, tmp_path):
    translator = make_translator(tokenizers)
    expected = translator.translate(ENGLISH)
    translator.save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == [
        "model.keras", "source_tokenizer", "target_tokenizer",
        "translator.json",
    ]
    reloaded = Translator.load(tmp_path)
    assert reloaded.max_length == MAX_LENGTH
    assert reloaded.translate(ENGLISH) == expected


@pytest.mark.parametrize(
    "name", ["model.keras", "translator.json", "source_tokenizer",
             "target_tokenizer"],
)
def test_load_names_the_missing_file(tokenizers, tmp_path, name):
    make_translator(tokenizers, rnn=True).save(tmp_path)
    path = tmp_path / name
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    with pytest.raises(ValueError, match=name):
        Translator.load(tmp_path)


def test_load_rejects_a_bad_settings_file(tokenizers, tmp_path):
    make_translator(tokenizers, rnn=True).save(tmp_path)
    (tmp_path / "translator.json").write_text('{"max_length": "long"}')
    with pytest.raises(ValueError, match="translator.json"):
        Translator.load(tmp_path)


def test_beam_search_translations(tokenizers):
    # The RNN translators' beam search is tested in test_beam_search.py.
    translator = make_translator(tokenizers)
    source, target = tokenizers
    texts = ENGLISH[:3]
    beam = translator.translate(texts, beam_width=3, length_penalty=0.6)
    # Other batches, other padding: the same translations.
    assert translator.translate(
        texts, batch_size=2, beam_width=3, length_penalty=0.6
    ) == beam
    # The best hypothesis of beam_search, detokenized.
    source_ids = source.tokenize(texts[:1]).to_tensor()[:, :MAX_LENGTH]
    ids, _ = beam_search(
        translator.model, source_ids,
        beam_width=3, length_penalty=0.6, max_length=MAX_LENGTH,
    )
    assert beam[0] == join_punctuation(target.detokenize(ids[:, 0])[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(texts="the cat"), "single string"),
        (dict(texts=[1]), "strings only"),
        (dict(texts=ENGLISH, batch_size=0), "batch_size"),
        (dict(texts=ENGLISH, beam_width=0), "beam_width=0"),
        (dict(texts=ENGLISH, beam_width=2, length_penalty=-1),
         "length_penalty=-1"),
    ],
)
def test_translate_argument_errors(tokenizers, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_translator(tokenizers, rnn=True).translate(**kwargs)
