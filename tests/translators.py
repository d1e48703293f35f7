"""Tiny untrained translators for the decoding and explain tests."""

from keras_attnpred.inference import Translator
from keras_attnpred.models import build_rnn_translator
from keras_attnpred.models import build_transformer_translator


def make_translator(tokenizers, rnn=False, max_length=12, num_layers=None):
    """A `Translator` over `(source, target)` tokenizers, tiny sizes."""
    source, target = tokenizers
    if rnn:
        model = build_rnn_translator(
            source.vocabulary_size, target.vocabulary_size,
            embedding_dim=8, units=8,
        )
    else:
        model = build_transformer_translator(
            source.vocabulary_size, target.vocabulary_size, max_length,
            preset="tiny", num_layers=num_layers, model_dim=16,
            intermediate_dim=32,
        )
    return Translator(model, source, target, max_length=max_length)
