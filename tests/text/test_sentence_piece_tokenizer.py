import gzip
import io
import json
import os
import sys
import unicodedata
from importlib import resources

import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.text import SentencePieceTokenizer
from keras_attnpred.text import SubwordTokenizer
from keras_attnpred.text import load_tokenizer
from keras_attnpred.text import tokenizer_class
from keras_attnpred.text.join_punctuation import readable_text
from tests.text.conftest import TINY_CORPUS

# Reserved tokens spelled out in text, and the usual SentencePiece ones.
SPELLED_RESERVED = "[PAD] [UNK] [START] [END] <s> </s> <unk> <pad>"


def bundled_pairs(limit):
    """The first `limit` (English, Spanish) pairs of the bundled sample."""
    path = resources.files("keras_attnpred") / "resources" / (
        "spa_eng_train.tsv.gz"
    )
    pairs = []
    with gzip.open(str(path), "rt", encoding="utf-8") as f:
        for line in f:
            pairs.append(tuple(line.rstrip("\n").split("\t")[:2]))
            if len(pairs) == limit:
                break
    return pairs


def normalised(text, lowercase=True):
    """What `detokenize(tokenize(text))` promises, computed independently:
    NFKC (case folded with `lowercase`), whitespace runs as one space, no
    space at either end."""
    text = unicodedata.normalize("NFKC", text)
    if lowercase:
        text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(text.split())


@pytest.fixture(scope="module")
def spanish():
    """Spanish SentencePiece, trained on 1,500 bundled sentences (+ one with
    the characters of the reserved tokens, so spelling them is no [UNK])."""
    texts = [s for _, s in bundled_pairs(1500)] + [SPELLED_RESERVED]
    return texts, SentencePieceTokenizer.train(texts, vocabulary_size=600)


def test_reserved_ids_are_those_of_the_wordpiece_tokenizer(spanish):
    _, tokenizer = spanish
    assert tokenizer.get_vocabulary()[:4] == list(
        SubwordTokenizer.RESERVED_TOKENS
    )
    for name in ("PAD_ID", "UNK_ID", "START_ID", "END_ID"):
        assert getattr(tokenizer, name) == getattr(SubwordTokenizer, name)
    for index, token in enumerate(SubwordTokenizer.RESERVED_TOKENS):
        assert tokenizer.token_to_id(token) == index
        assert tokenizer.id_to_token(index) == token
    assert 100 < tokenizer.vocabulary_size <= 600
    assert tokenizer.id_to_token(tokenizer.token_to_id("▁de")) == "▁de"
    with pytest.raises(ValueError, match="Received: id=600"):
        tokenizer.id_to_token(600)
    with pytest.raises(ValueError, match="Received: token='nope'"):
        tokenizer.token_to_id("nope")


def test_text_never_produces_reserved_ids(spanish):
    _, tokenizer = spanish
    ids = tokenizer.tokenize([SPELLED_RESERVED, SPELLED_RESERVED.upper()])
    # Not even [UNK]: every character of these texts was seen in training.
    assert not np.isin(ids.flat_values.numpy(), [0, 1, 2, 3]).any()
    assert tokenizer.detokenize(ids)[0] == SPELLED_RESERVED.lower()


def test_round_trip_gives_the_normalised_text_back(spanish):
    texts, tokenizer = spanish
    ids = tokenizer.tokenize(texts[:300])
    assert isinstance(ids, tf.RaggedTensor) and ids.dtype == tf.int32
    assert tokenizer.detokenize(ids) == [normalised(t) for t in texts[:300]]
    # Lossless: punctuation keeps its place, unlike WordPiece's detokenize.
    text = "¿Dónde  ESTÁ\tel tren? «Aquí», dijo."
    assert tokenizer.detokenize(tokenizer.tokenize(text)) == (
        "¿dónde está el tren? «aquí», dijo."
    )
    assert tokenizer.lowercase is True and tokenizer.SPLITS_PUNCTUATION is False
    # A character never seen is [UNK], visible; nothing else is lost.
    assert tokenizer.detokenize(tokenizer.tokenize("el tren ☃")) == (
        "el tren [UNK]"
    )


def test_same_ids_and_text_as_the_sentencepiece_library(spanish):
    """The TensorFlow ops against the reference, on held-out sentences."""
    import sentencepiece as spm

    _, tokenizer = spanish
    reference = spm.SentencePieceProcessor(model_proto=tokenizer.model_proto)
    held_out = [s for _, s in bundled_pairs(2500)[1500:]] + [
        "  Dos   espacios ", "ＡＢＣ ﬁn", "中文 y ☃", "[END]</s>"]
    ids = tokenizer.tokenize(held_out).to_list()
    assert ids == reference.encode(held_out)
    assert tokenizer.detokenize(ids) == reference.decode(ids)


def test_survives_keras_clear_session(spanish):
    # TF-Text's SentencepieceTokenizer fails after it ("Resource ... does
    # not exist"); the fast kernel holds no resource.
    import keras

    texts, tokenizer = spanish
    before = tokenizer.tokenize(texts[:5]).to_list()
    keras.backend.clear_session()
    assert tokenizer.tokenize(texts[:5]).to_list() == before


def test_cased_and_accent_stripping():
    texts = TINY_CORPUS + ["Él comió café en Málaga."]
    cased = SentencePieceTokenizer.train(
        texts, vocabulary_size=120, lowercase=False
    )
    assert cased.lowercase is False
    for text in texts:
        assert cased.detokenize(cased.tokenize(text)) == text
    plain = SentencePieceTokenizer.train(
        texts, vocabulary_size=120, strip_accents=True
    )
    assert plain.detokenize(plain.tokenize("Él comió café en Málaga.")) == (
        "el comio cafe en malaga."
    )


def test_tokenize_inside_tf_data(spanish):
    texts, tokenizer = spanish
    eager = tokenizer.tokenize(texts[:20]).to_list()
    # One text per element: scalar in, 1-D ids out.
    dataset = tf.data.Dataset.from_tensor_slices(texts[:20])
    mapped = [ids.tolist() for ids in dataset.map(tokenizer.tokenize)
              .as_numpy_iterator()]
    assert mapped == eager
    # A batch per element: ragged ids out.
    batched = dataset.batch(8).map(lambda t: tokenizer.tokenize(t).to_tensor())
    rows = [row[row != 0].tolist() for batch in batched.as_numpy_iterator()
            for row in batch]
    assert rows == eager
    # Invalid UTF-8 in a tensor cannot raise inside a graph: it is [UNK].
    ids = tokenizer.tokenize(tf.constant([b"el \xff tren"])).to_list()[0]
    assert tokenizer.UNK_ID in ids
    with pytest.raises(ValueError, match="texts"):
        tokenizer.tokenize([b"el \xff tren"])


def test_detokenize_drops_padding_start_and_end(spanish):
    _, tokenizer = spanish
    ids = tokenizer.tokenize(["el gato", "el perro come"]).to_tensor()
    framed = tf.concat(
        [tf.fill([2, 1], 2), ids, tf.fill([2, 1], 3),
         tf.zeros([2, 3], tf.int32)],
        axis=1,
    )
    assert tokenizer.detokenize(framed) == ["el gato", "el perro come"]
    assert tokenizer.detokenize(framed[1].numpy().tolist()) == "el perro come"
    with pytest.raises(ValueError, match=r"\[0, \d+\)"):
        tokenizer.detokenize([[5, tokenizer.vocabulary_size]])
    assert tokenizer.tokenize(["", "   "]).to_list() == [[], []]


def test_save_and_load_give_the_same_ids(spanish, tmp_path):
    texts, tokenizer = spanish
    tokenizer.save(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == [
        "sentencepiece.model", "tokenizer.json"]
    with open(tmp_path / "tokenizer.json") as f:
        config = json.load(f)
    assert config["kind"] == "sentencepiece"
    assert config["class_name"] == "SentencePieceTokenizer"
    for loaded in (SentencePieceTokenizer.load(str(tmp_path)),
                   load_tokenizer(str(tmp_path))):
        assert isinstance(loaded, SentencePieceTokenizer)
        assert loaded.get_config() == tokenizer.get_config()
        assert loaded.get_vocabulary() == tokenizer.get_vocabulary()
        assert loaded.tokenize(texts).to_list() == (
            tokenizer.tokenize(texts).to_list()
        )
    assert repr(loaded) == (
        f"SentencePieceTokenizer(vocabulary_size={tokenizer.vocabulary_size}"
        ", lowercase=True, strip_accents=False)"
    )


def test_load_tokenizer_dispatches_on_the_kind(spanish, tmp_path):
    _, sentencepiece = spanish
    wordpiece = SubwordTokenizer.train(TINY_CORPUS, vocabulary_size=80)
    wordpiece.save(str(tmp_path / "wordpiece"))
    sentencepiece.save(str(tmp_path / "sentencepiece"))
    assert isinstance(load_tokenizer(str(tmp_path / "wordpiece")),
                      SubwordTokenizer)
    # A WordPiece folder written before there were two kinds has no "kind".
    config_path = tmp_path / "wordpiece" / "tokenizer.json"
    config = json.loads(config_path.read_text())
    assert config.pop("kind") == "wordpiece"
    config_path.write_text(json.dumps(config))
    old = load_tokenizer(str(tmp_path / "wordpiece"))
    assert isinstance(old, SubwordTokenizer)
    assert old.get_vocabulary() == wordpiece.get_vocabulary()
    # Each class refuses the other's folder, naming the file.
    with pytest.raises(ValueError, match="class_name='SubwordTokenizer'"):
        SubwordTokenizer.load(str(tmp_path / "sentencepiece"))
    with pytest.raises(ValueError,
                       match="class_name='SentencePieceTokenizer'"):
        SentencePieceTokenizer.load(str(tmp_path / "wordpiece"))
    config["kind"] = "bytes"
    config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"tokenizer.json: `kind` must be "
                       r"one of \['sentencepiece', 'wordpiece'\]. Received: "
                       r"kind='bytes'"):
        load_tokenizer(str(tmp_path / "wordpiece"))
    assert tokenizer_class("sentencepiece") is SentencePieceTokenizer
    with pytest.raises(ValueError, match="Received: kind='bpe'"):
        tokenizer_class("bpe")


def test_corrupt_or_foreign_models_are_refused(spanish, tmp_path):
    import sentencepiece as spm

    _, tokenizer = spanish
    tokenizer.save(str(tmp_path))
    model_path = tmp_path / "sentencepiece.model"
    model_path.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="Corrupt SentencePiece model file "
                       ".*sentencepiece.model: `model_proto` is not a "
                       "SentencePiece model"):
        load_tokenizer(str(tmp_path))
    model_path.unlink()
    with pytest.raises(ValueError, match="Missing SentencePiece model file"):
        load_tokenizer(str(tmp_path))
    def foreign_model(**options):
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(TINY_CORPUS), model_writer=model,
            **{"vocab_size": 40, "minloglevel": 2, **options},
        )
        return model.getvalue()

    # SentencePiece's own default ids (unk 0, bos 1, eos 2, no pad).
    with pytest.raises(ValueError, match="pad_id=0, unk_id=1.*Received: "
                       "pad_id=-1, unk_id=0, bos_id=1, eos_id=2"):
        SentencePieceTokenizer(foreign_model())
    reserved = dict(pad_id=0, unk_id=1, bos_id=2, eos_id=3)
    with pytest.raises(ValueError, match="byte_fallback=True"):
        SentencePieceTokenizer(foreign_model(
            byte_fallback=True, vocab_size=300, **reserved))
    # BPE: the fast kernel would segment it as if it were unigram.
    with pytest.raises(ValueError, match="unigram model.*model_type=BPE"):
        SentencePieceTokenizer(foreign_model(model_type="bpe", **reserved))


def test_bad_arguments_name_the_argument():
    for kwargs, message in (
        (dict(vocabulary_size=4), "vocabulary_size"),
        (dict(character_coverage=0), "character_coverage=0"),
        (dict(lowercase="yes"), "lowercase"),
        # Fewer pieces than the corpus has characters.
        (dict(vocabulary_size=8), r"`vocabulary_size` does not fit the "
         r"characters of `texts` .*Received: vocabulary_size=8"),
    ):
        with pytest.raises(ValueError, match=message):
            SentencePieceTokenizer.train(TINY_CORPUS, **kwargs)
    with pytest.raises(ValueError, match="no words"):
        SentencePieceTokenizer.train(["", "  "], vocabulary_size=50)
    with pytest.raises(ValueError, match="model_proto"):
        SentencePieceTokenizer("a str")


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentencepiece", None)
    with pytest.raises(ModuleNotFoundError,
                       match=r"keras-attnpred\[sentencepiece\]"):
        SentencePieceTokenizer.train(TINY_CORPUS, vocabulary_size=50)


def test_readable_text_joins_punctuation_for_wordpiece_only(spanish):
    _, sentencepiece = spanish
    wordpiece = SubwordTokenizer.train(TINY_CORPUS, vocabulary_size=80)
    assert readable_text(wordpiece, "¿ qué tal ?") == "¿qué tal?"
    # SentencePiece gives text as written; quotes are not re-joined.
    text = 'él dijo "a" y "b" ( sí )'
    assert readable_text(sentencepiece, text) == text
