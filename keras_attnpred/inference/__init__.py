"""Text in, predictions out: a trained model with its tokenizers.

`Classifier` (labels and probabilities, token explanations) and
`Translator` (greedy or beam translations, alignments) load from and save to
a directory, and the exporters and the command line take them.
`keras_attnpred.training.TrainingRun` hands them out for a run.
"""

from keras_attnpred.inference.classification_metrics import (
    classification_metrics,
)
from keras_attnpred.inference.classification_metrics import confusion_matrix_png
from keras_attnpred.inference.classifier import Classifier
from keras_attnpred.inference.translate_texts import translate_texts
from keras_attnpred.inference.translator import Translator
