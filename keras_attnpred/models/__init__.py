"""Ready-made models built from `keras_attnpred.layers`, and padding-aware
training objects.

Every builder returns a plain functional `keras.Model` whose logits are
float32 (safe under mixed precision), that saves to `.keras` and reloads with
`keras.models.load_model` without `custom_objects`.
"""

from keras_attnpred.models._model_utils import TRANSFORMER_PRESETS
from keras_attnpred.models.build_rnn_classifier import build_rnn_classifier
from keras_attnpred.models.build_rnn_translator import build_rnn_translator
from keras_attnpred.models.build_transformer_classifier import (
    build_transformer_classifier,
)
from keras_attnpred.models.build_transformer_translator import (
    build_transformer_translator,
)
from keras_attnpred.models.first_token_pooling import FirstTokenPooling
from keras_attnpred.models.masked_sparse_categorical_accuracy import (
    MaskedSparseCategoricalAccuracy,
)
from keras_attnpred.models.masked_sparse_categorical_crossentropy import (
    MaskedSparseCategoricalCrossentropy,
)
