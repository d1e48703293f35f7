"""Training runs from a configuration: data, tokenizers, distribution,
checkpoints, TensorBoard and a run directory that reloads.

Needs TensorFlow (the `tf.data` pipelines, and `tf.distribute` on the
TensorFlow backend); on the JAX backend, distribution goes through
`keras.distribution` instead.
"""

from keras_attnpred.training.get_strategy import get_strategy
from keras_attnpred.training.train import train
from keras_attnpred.training.training_config import TrainingConfig
from keras_attnpred.training.training_diverged_error import (
    TrainingDivergedError,
)
from keras_attnpred.training.training_run import TrainingRun
from keras_attnpred.training.transformer_schedule import TransformerSchedule
