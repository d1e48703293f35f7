"""Training runs from a configuration: data, tokenizers, distribution,
checkpoints, TensorBoard and a run directory that reloads.

`prepare` reads and tokenizes a dataset once (TensorFlow Text); `train`
on the folder it writes needs no TensorFlow on another backend, where
distribution goes through `keras.distribution`. Training on raw data
prepares it in memory first, then takes the same path. `task:
"pretraining"` (`attnpred pretrain`) pretrains a Transformer encoder, and
`init_from` fine-tunes it (`lora_rank` for LoRA, `layer_decay` with
`LayerwiseDecayAdamW`).
"""

from keras_attnpred.training.get_strategy import get_strategy
from keras_attnpred.training.layerwise_decay_adamw import LayerwiseDecayAdamW
from keras_attnpred.training.prepare import prepare
from keras_attnpred.training.train import train
from keras_attnpred.training.training_config import TrainingConfig
from keras_attnpred.training.training_diverged_error import (
    TrainingDivergedError,
)
from keras_attnpred.training.training_run import TrainingRun
from keras_attnpred.training.transformer_schedule import TransformerSchedule
