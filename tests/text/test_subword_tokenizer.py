import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.text import SubwordTokenizer
from tests.text.conftest import TINY_CORPUS
from tests.text.conftest import normalise


def test_reserved_ids_are_fixed(tiny_tokenizer):
    vocabulary = tiny_tokenizer.get_vocabulary()
    assert vocabulary[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert (
        SubwordTokenizer.PAD_ID,
        SubwordTokenizer.UNK_ID,
        SubwordTokenizer.START_ID,
        SubwordTokenizer.END_ID,
    ) == (0, 1, 2, 3)
    for index, token in enumerate(SubwordTokenizer.RESERVED_TOKENS):
        assert tiny_tokenizer.token_to_id(token) == index
        assert tiny_tokenizer.id_to_token(index) == token
    assert tiny_tokenizer.vocabulary_size == len(vocabulary)
    # Ordinary text never yields PAD, START or END, even when it spells them.
    ids = tiny_tokenizer.tokenize(["[PAD] [START] the cat [END]"])
    assert not np.isin(ids.flat_values.numpy(), [0, 2, 3]).any()


def test_round_trip_on_tiny_corpus(tiny_tokenizer):
    ids = tiny_tokenizer.tokenize(TINY_CORPUS)
    assert isinstance(ids, tf.RaggedTensor)
    assert ids.dtype == tf.int32
    assert ids.shape[0] == len(TINY_CORPUS)
    assert tiny_tokenizer.detokenize(ids) == [normalise(s) for s in TINY_CORPUS]
    # The normalisation, stated: case folded, punctuation spaced apart.
    assert tiny_tokenizer.detokenize(
        tiny_tokenizer.tokenize("The cat, happily!")
    ) == ("the cat , happily !")


def test_word_pieces_join_back_into_words(tiny_tokenizer):
    ids = tiny_tokenizer.tokenize("sleeping").numpy().tolist()
    pieces = [tiny_tokenizer.id_to_token(i) for i in ids]
    assert len(pieces) > 1 and all(p.startswith("##") for p in pieces[1:])
    assert tiny_tokenizer.detokenize(ids) == "sleeping"


def test_detokenize_drops_padding_start_and_end(tiny_tokenizer):
    ids = tiny_tokenizer.tokenize(["the cat", "the dog sat"]).to_tensor()
    framed = tf.concat(
        [
            tf.fill([2, 1], 2),
            ids,
            tf.fill([2, 1], 3),
            tf.zeros([2, 3], tf.int32),
        ],
        axis=1,
    )
    assert tiny_tokenizer.detokenize(framed) == ["the cat", "the dog sat"]
    assert tiny_tokenizer.detokenize(framed.numpy().tolist()) == [
        "the cat",
        "the dog sat",
    ]


def test_unknown_characters_map_to_unk(tiny_tokenizer):
    ids = tiny_tokenizer.tokenize("the ж cat €").numpy().tolist()
    assert ids[0] == tiny_tokenizer.token_to_id("the")
    assert ids[1] == SubwordTokenizer.UNK_ID
    assert ids[-1] == SubwordTokenizer.UNK_ID
    # [UNK] stays visible rather than silently erasing the word.
    assert tiny_tokenizer.detokenize(ids) == "the [UNK] cat [UNK]"


def test_tokenize_inside_tf_data_matches_eager(tiny_tokenizer):
    dataset = tf.data.Dataset.from_tensor_slices(TINY_CORPUS).map(
        tiny_tokenizer.tokenize, num_parallel_calls=tf.data.AUTOTUNE
    )
    eager = tiny_tokenizer.tokenize(TINY_CORPUS)
    for row, expected in zip(dataset, eager):
        assert row.dtype == tf.int32
        np.testing.assert_array_equal(row.numpy(), expected.numpy())


def test_train_from_dataset_equals_train_from_list():
    from_list = SubwordTokenizer.train(TINY_CORPUS, vocabulary_size=80)
    from_dataset = SubwordTokenizer.train(
        tf.data.Dataset.from_tensor_slices(TINY_CORPUS), vocabulary_size=80
    )
    assert from_list.get_vocabulary() == from_dataset.get_vocabulary()


def test_strip_accents_and_case():
    tokenizer = SubwordTokenizer.train(
        ["Qué café más rico.", "que cafe mas rico"], 60, strip_accents=True
    )
    assert tokenizer.detokenize(tokenizer.tokenize("QUÉ Café")) == "que cafe"
    cased = SubwordTokenizer.train(["Qué café.", "qué"], 60, lowercase=False)
    assert cased.detokenize(cased.tokenize("Qué café.")) == "Qué café ."


def test_save_load_round_trip(tiny_tokenizer, tmp_path):
    tiny_tokenizer.save(tmp_path)
    with open(tmp_path / "vocabulary.txt", encoding="utf-8") as f:
        assert f.read().splitlines() == tiny_tokenizer.get_vocabulary()
    with open(tmp_path / "tokenizer.json", encoding="utf-8") as f:
        assert json.load(f)["lowercase"] is True
    reloaded = SubwordTokenizer.load(tmp_path)
    assert reloaded.get_vocabulary() == tiny_tokenizer.get_vocabulary()
    assert reloaded.get_config() == tiny_tokenizer.get_config()
    texts = TINY_CORPUS + ["the ж cat"]
    assert (
        reloaded.tokenize(texts).to_list()
        == tiny_tokenizer.tokenize(texts).to_list()
    )


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "holds 0 tokens"),
        ("[UNK]\n[PAD]\n[START]\n[END]\nthe\n", "first tokens must be"),
        ("[PAD]\n[UNK]\n[START]\n[END]\nthe\nthe\n", "occurs twice"),
        ("[PAD]\n[UNK]\n[START]\n[END]\n\nthe\n", "empty"),
    ],
)
def test_corrupt_vocabulary_names_the_file(
    tiny_tokenizer, tmp_path, content, reason
):
    tiny_tokenizer.save(tmp_path)
    path = os.path.join(tmp_path, "vocabulary.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)
    with pytest.raises(ValueError, match=reason) as error:
        SubwordTokenizer.load(tmp_path)
    assert path in str(error.value)


def test_missing_files_are_named(tiny_tokenizer, tmp_path):
    tiny_tokenizer.save(tmp_path)
    vocabulary_path = os.path.join(tmp_path, "vocabulary.txt")
    os.remove(vocabulary_path)
    with pytest.raises(ValueError, match="Missing vocabulary file") as error:
        SubwordTokenizer.load(tmp_path)
    assert vocabulary_path in str(error.value)
    empty = tmp_path / "empty"
    with pytest.raises(ValueError, match="tokenizer.json"):
        SubwordTokenizer.load(empty)


def test_corrupt_settings_name_the_file(tiny_tokenizer, tmp_path):
    tiny_tokenizer.save(tmp_path)
    path = os.path.join(tmp_path, "tokenizer.json")
    with open(path, "w") as f:
        f.write("{not json")
    with pytest.raises(ValueError, match="Corrupt tokenizer settings") as error:
        SubwordTokenizer.load(tmp_path)
    assert path in str(error.value)
    with open(path, "w") as f:
        json.dump({"class_name": "SubwordTokenizer", "lowercase": "yes"}, f)
    with pytest.raises(ValueError, match="lowercase='yes'"):
        SubwordTokenizer.load(tmp_path)


def test_argument_validation(tiny_tokenizer):
    with pytest.raises(ValueError, match="Received: vocabulary_size=4"):
        SubwordTokenizer.train(TINY_CORPUS, vocabulary_size=4)
    with pytest.raises(ValueError, match="Received: lowercase=1"):
        SubwordTokenizer.train(TINY_CORPUS, lowercase=1)
    with pytest.raises(ValueError, match="single string"):
        SubwordTokenizer.train("the cat sat")
    with pytest.raises(ValueError, match="must not be empty"):
        SubwordTokenizer.train([])
    with pytest.raises(ValueError, match="first tokens must be"):
        SubwordTokenizer(["[PAD]", "[START]", "[UNK]", "[END]", "a"])
    with pytest.raises(ValueError, match="Received: id=9999"):
        tiny_tokenizer.id_to_token(9999)
    with pytest.raises(ValueError, match="Received: token='zebra'"):
        tiny_tokenizer.token_to_id("zebra")


def test_round_trip_on_real_spanish_english(spa_eng):
    pairs, english, spanish = spa_eng
    for tokenizer, texts in (
        (english, [e for e, _ in pairs]),
        (spanish, [s for _, s in pairs]),
    ):
        assert tokenizer.get_vocabulary()[:4] == list(
            SubwordTokenizer.RESERVED_TOKENS
        )
        assert 4 < tokenizer.vocabulary_size <= 1000
        ids = tokenizer.tokenize(texts)
        has_unknown = tf.reduce_any(
            ids == SubwordTokenizer.UNK_ID, axis=1
        ).numpy()
        # The training sentences are in-vocabulary (all their characters are).
        assert has_unknown.mean() < 0.01
        decoded = tokenizer.detokenize(ids)
        for text, back, unknown in zip(texts, decoded, has_unknown):
            if not unknown:
                assert back == normalise(text)
    assert spanish.detokenize(spanish.tokenize("¿Qué tal?")) == "¿ qué tal ?"


@pytest.mark.parametrize("lowercase", [True, False])
def test_unicode_spaces_separate_words_like_a_space(lowercase):
    # Multi30k's German side has no-break spaces; a cased vocabulary once
    # learned "\xa0" as a token and then refused its own vocabulary.
    texts = ["Ein\xa0Hund läuft.", "Zwei Hunde\u2009laufen.", "Ein Hund."] * 20
    tokenizer = SubwordTokenizer.train(texts, 60, lowercase=lowercase)
    assert all(t.strip() == t for t in tokenizer.get_vocabulary())
    spaced = tokenizer.tokenize(["Ein Hund", "Zwei Hunde laufen"]).to_list()
    odd = tokenizer.tokenize(["Ein\xa0Hund", "Zwei\u3000Hunde\u2009laufen"])
    assert odd.to_list() == spaced
