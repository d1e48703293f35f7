"""Tiny untrained models and tokenizers shared by the explain tests."""

import numpy as np
import pytest

from keras_attnpred.models import build_rnn_classifier
from keras_attnpred.models import build_rnn_translator
from keras_attnpred.models import build_transformer_classifier
from keras_attnpred.models import build_transformer_translator
from tests.models import legacy_builders

VOCABULARY_SIZE = 20
MAX_LENGTH = 8
TINY = dict(preset="tiny", model_dim=16, num_heads=2, intermediate_dim=32)

# Two sources and decoder inputs with padding (id 0) at the end.
SOURCE = np.array([[5, 6, 7, 8, 0, 0], [4, 9, 0, 0, 0, 0]], "int32")
TARGET = np.array([[2, 10, 11, 12, 0], [2, 13, 0, 0, 0]], "int32")


def transformer_translator(num_layers=2, **overrides):
    return build_transformer_translator(
        VOCABULARY_SIZE, VOCABULARY_SIZE, MAX_LENGTH,
        **{**TINY, "num_layers": num_layers, **overrides},
    )


def rnn_translator(attention="bahdanau"):
    return build_rnn_translator(
        VOCABULARY_SIZE, VOCABULARY_SIZE, attention=attention,
        embedding_dim=8, units=8,
    )


def transformer_classifier(pooling="attention", num_layers=2,
                           bigram_buckets=None):
    return build_transformer_classifier(
        VOCABULARY_SIZE, 2, MAX_LENGTH, pooling=pooling,
        bigram_buckets=bigram_buckets, **{**TINY, "num_layers": num_layers},
    )


def rnn_classifier():
    return build_rnn_classifier(VOCABULARY_SIZE, 2, embedding_dim=8, units=8)


def legacy_rnn_classifier():
    """A plain functional model laid out as `build_rnn_classifier` built it
    before the task classes (layer names included): one GRU direction."""
    return legacy_builders.legacy_rnn_classifier(
        VOCABULARY_SIZE, 2, embedding_dim=8, units=8, bidirectional=False
    )


def padded(ids, extra):
    """`ids` with `extra` more padding columns."""
    return np.pad(ids, ((0, 0), (0, extra)))


@pytest.fixture(scope="session")
def tokenizers():
    from keras_attnpred.text import SubwordTokenizer

    english = ["the cat sat on the mat", "the dog is playing", "a cat sees"]
    spanish = ["el gato se sento", "el perro esta jugando", "un gato ve"]
    return (
        SubwordTokenizer.train(english, vocabulary_size=40),
        SubwordTokenizer.train(spanish, vocabulary_size=40),
    )
