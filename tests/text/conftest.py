import gzip
import os
import re
import unicodedata

import pytest

from keras_attnpred.text import SubwordTokenizer
from tests.conftest import data_dir

# A few sentences small enough to reason about; every character is in them.
TINY_CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the log!",
    "A cat and a dog played together, happily.",
    "Playing cats are happier than sleeping dogs?",
    "Dogs like playing; cats like sleeping.",
    "Is the cat happy? Yes, the cat is happy.",
    "The mat is red and the log is brown.",
    "Together they sat: the cat, the dog and the bird.",
]


def normalise(text):
    """What the tokenizer promises `detokenize(tokenize(text))` gives.

    An independent reference: NFKC case folding, then every ASCII character
    that is not a letter, digit or space, and every Unicode punctuation
    mark, stands alone; words are joined by single spaces.
    """
    text = unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", text).casefold()
    )

    def is_punctuation(char):
        if char.isascii():
            return not char.isalnum() and not char.isspace()
        return unicodedata.category(char).startswith("P")

    spaced = "".join(f" {c} " if is_punctuation(c) else c for c in text)
    return " ".join(spaced.split())


def read_spa_eng(limit=2000):
    """The first `limit` (English, Spanish) pairs of the real validation set."""
    path = os.path.join(data_dir(), "spa-eng", "valid.tsv.gz")
    if not os.path.exists(path):
        pytest.skip(f"spa-eng data not found at {path}; set ATTNPRED_DATA")
    pairs = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            english, spanish = line.rstrip("\n").split("\t")[:2]
            pairs.append((english, spanish))
            if len(pairs) == limit:
                break
    return pairs


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return SubwordTokenizer.train(TINY_CORPUS, vocabulary_size=80)


@pytest.fixture(scope="session")
def spa_eng():
    """(pairs, english tokenizer, spanish tokenizer), trained once."""
    pairs = read_spa_eng()
    english = SubwordTokenizer.train(
        [e for e, _ in pairs], vocabulary_size=1000
    )
    spanish = SubwordTokenizer.train(
        [s for _, s in pairs], vocabulary_size=1000
    )
    return pairs, english, spanish


def words_of(text):
    return re.findall(r"\w+", text)
