"""The `Example` sections of the model classes' docstrings run as doctests."""

import doctest
import importlib

import keras
import numpy as np
import pytest

import keras_attnpred.models as models

MODULES = [
    "transformer_encoder_backbone",
    "rnn_encoder_backbone",
    "text_classifier",
    "transformer_translator",
    "rnn_translator",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"keras_attnpred.models.{name}")
    extraglobs = {
        "np": np,
        "keras": keras,
        "TransformerEncoderBackbone": models.TransformerEncoderBackbone,
        "RNNEncoderBackbone": models.RNNEncoderBackbone,
        "TextClassifier": models.TextClassifier,
        "TransformerTranslator": models.TransformerTranslator,
        "RNNTranslator": models.RNNTranslator,
    }
    results = doctest.testmod(
        module,
        extraglobs=extraglobs,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        report=True,
    )
    assert results.attempted > 0, f"no example in {name}"
    assert results.failed == 0
