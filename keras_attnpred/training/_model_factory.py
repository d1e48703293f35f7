"""The model of a `TrainingConfig`, and its optimizer, loss and metric."""

import keras

from keras_attnpred import models
from keras_attnpred.training.transformer_schedule import TransformerSchedule


def build_model(config, pipelines):
    """The model of `config`, sized by the tokenizers and labels of
    `pipelines`."""
    rnn_sizes = models.RNN_PRESETS[config.preset]
    if config.is_classification:
        vocabulary = pipelines.tokenizer.vocabulary_size
        classes = len(pipelines.label_names)
        if config.model == "transformer":
            return models.build_transformer_classifier(
                vocabulary,
                classes,
                config.max_length,
                preset=config.preset,
                bigram_buckets=config.bigram_buckets,
            )
        return models.build_rnn_classifier(
            vocabulary,
            classes,
            bigram_buckets=config.bigram_buckets,
            **rnn_sizes,
        )
    source = pipelines.source_tokenizer.vocabulary_size
    target = pipelines.target_tokenizer.vocabulary_size
    if config.model == "transformer":
        return models.build_transformer_translator(
            source, target, config.max_length, preset=config.preset
        )
    return models.build_rnn_translator(
        source,
        target,
        attention=config.attention,
        **rnn_sizes,
    )


def model_dim(config):
    """The width of the model's hidden states: the transformer schedule's
    `model_dim`."""
    if config.model == "transformer":
        return models.TRANSFORMER_PRESETS[config.preset]["model_dim"]
    return models.RNN_PRESETS[config.preset]["units"]


def build_optimizer(config):
    kwargs = {}
    if config.clipnorm is not None:
        kwargs["clipnorm"] = config.clipnorm
    if config.learning_rate == "transformer":
        schedule = TransformerSchedule(model_dim(config), config.warmup_steps)
        # The paper's Adam settings go with its schedule.
        return keras.optimizers.Adam(
            schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9, **kwargs
        )
    return keras.optimizers.Adam(config.learning_rate, **kwargs)


def build_loss(config):
    from keras_attnpred.models import MaskedSparseCategoricalCrossentropy

    if not config.is_classification:
        return MaskedSparseCategoricalCrossentropy(
            label_smoothing=config.label_smoothing
        )
    if config.label_smoothing:
        # No class id is -1: nothing is masked, only smoothed.
        return MaskedSparseCategoricalCrossentropy(
            pad_id=-1, label_smoothing=config.label_smoothing
        )
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def build_accuracy(config):
    """The `"accuracy"` metric: for translation, over real tokens only."""
    from keras_attnpred.models import MaskedSparseCategoricalAccuracy

    if config.is_classification:
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    return MaskedSparseCategoricalAccuracy(name="accuracy")
