"""Export for TensorFlow Serving (SavedModel, tokenizer inside the graph) and
for mobile (TFLite built-in ops). Unlike `keras_attnpred.layers`, this
subpackage needs TensorFlow (the TensorFlow backend), TensorFlow Text, and for
TFLite and the serving warmup the `export` extras (`ai-edge-litert`,
`tensorflow-serving-api`)."""

from keras_attnpred.export.export_classifier_saved_model import (
    export_classifier_saved_model,
)
from keras_attnpred.export.export_classifier_tflite import (
    export_classifier_tflite,
)
from keras_attnpred.export.export_run import export_run
from keras_attnpred.export.export_translator_saved_model import (
    export_translator_saved_model,
)
from keras_attnpred.export.export_translator_tflite import (
    export_translator_tflite,
)
from keras_attnpred.export.tflite_classifier import TFLiteClassifier
from keras_attnpred.export.tflite_translator import TFLiteTranslator
