"""Tiny translators shared by the decoding tests, trained once per session."""

import keras
import numpy as np
import pytest

from keras_attnpred import reserved_ids
from keras_attnpred.models import MaskedSparseCategoricalCrossentropy
from keras_attnpred.models import build_transformer_translator

VOCABULARY_SIZE = 12  # 0-3 reserved, 4-11 content
MAX_LENGTH = 8
START_ID, END_ID = reserved_ids.START_ID, reserved_ids.END_ID
TINY = dict(
    preset="tiny", num_layers=1, model_dim=32, num_heads=2,
    intermediate_dim=64, dropout=0.0,
)


def reverse_task(count, seed):
    """Sources of 2-6 content ids, teacher-forced targets of their reversal.

    Returns `(source, target_input, labels)`: padded with 0, the target
    input starting with START, the labels ending with END.
    """
    rng = np.random.default_rng(seed)
    source = np.zeros((count, 6), "int32")
    target = np.zeros((count, 7), "int32")
    labels = np.zeros((count, 7), "int32")
    for i in range(count):
        length = rng.integers(2, 7)
        ids = rng.integers(4, VOCABULARY_SIZE, size=length)
        source[i, :length] = ids
        target[i, 0] = START_ID
        target[i, 1 : length + 1] = ids[::-1]
        labels[i, :length] = ids[::-1]
        labels[i, length] = END_ID
    return source, target, labels


def expected_reversal(source):
    """What a perfect model generates: the reversal, END, then padding."""
    width = source.shape[1] + 1
    expected = np.zeros((len(source), width), "int32")
    for i, row in enumerate(source):
        ids = row[row > 0][::-1]
        expected[i, : len(ids)] = ids
        expected[i, len(ids)] = END_ID
    return expected


def tiny_translator(**overrides):
    return build_transformer_translator(
        VOCABULARY_SIZE, VOCABULARY_SIZE, MAX_LENGTH, **{**TINY, **overrides}
    )


_TRAINED = {}


@pytest.fixture(scope="session")
def trained_translator():
    """`trained_translator(normalize_first)`: trained on the reverse task.

    The post-layer-norm model gets 256 Adam steps, which take it to a
    near-zero loss; the pre-layer-norm one 64, enough for non-trivial but
    imperfect outputs.
    """

    def get(normalize_first=False):
        if normalize_first not in _TRAINED:
            keras.utils.set_random_seed(0)
            model = tiny_translator(normalize_first=normalize_first)
            model.compile(
                keras.optimizers.Adam(5e-3),
                MaskedSparseCategoricalCrossentropy(),
            )
            source, target, labels = reverse_task(2048, seed=0)
            model.fit(
                {"source": source, "target": target},
                labels,
                batch_size=64,
                epochs=2 if normalize_first else 8,
                verbose=0,
            )
            _TRAINED[normalize_first] = model
        return _TRAINED[normalize_first]

    return get
