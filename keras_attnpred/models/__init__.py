"""Backbones, task models and their builders, built from
`keras_attnpred.layers`, and padding-aware training objects.

Encoder backbones (`TransformerEncoderBackbone`, `RNNEncoderBackbone`) map
token ids to encoded sequences and move between models; task models
(`TextClassifier`, `TransformerTranslator`, `RNNTranslator`,
`MaskedLanguageModel` and `ElectraPretrainer` for pretraining) add a head and
expose what decoding, explanations and exports need as methods. The
`build_*` functions are the friendly constructors. Logits are float32
(safe under mixed precision); every model saves to `.keras` and reloads with
`keras.models.load_model` once `keras_attnpred` is imported.
"""

from keras_attnpred.models.build_rnn_classifier import build_rnn_classifier
from keras_attnpred.models.build_rnn_translator import build_rnn_translator
from keras_attnpred.models.build_transformer_classifier import (
    build_transformer_classifier,
)
from keras_attnpred.models.build_transformer_translator import (
    build_transformer_translator,
)
from keras_attnpred.models.distiller import Distiller
from keras_attnpred.models.electra_pretrainer import ElectraPretrainer
from keras_attnpred.models.first_token_pooling import FirstTokenPooling
from keras_attnpred.models.masked_language_model import MaskedLanguageModel
from keras_attnpred.models.masked_sparse_categorical_accuracy import (
    MaskedSparseCategoricalAccuracy,
)
from keras_attnpred.models.masked_sparse_categorical_crossentropy import (
    MaskedSparseCategoricalCrossentropy,
)
from keras_attnpred.models.presets import RNN_PRESETS
from keras_attnpred.models.presets import TRANSFORMER_PRESETS
from keras_attnpred.models.rnn_encoder_backbone import RNNEncoderBackbone
from keras_attnpred.models.rnn_translator import RNNTranslator
from keras_attnpred.models.text_classifier import TextClassifier
from keras_attnpred.models.transformer_encoder_backbone import (
    TransformerEncoderBackbone,
)
from keras_attnpred.models.transformer_translator import TransformerTranslator
from keras_attnpred.models.upgrade_legacy_model import upgrade_legacy_model
