"""The model of a `TrainingConfig`, and its optimizer, loss and metric."""

import keras

from keras_attnpred import models
from keras_attnpred.models.presets import resolve_transformer_config
from keras_attnpred.training._pretrained_encoder import pretrained_backbone
from keras_attnpred.training.layerwise_decay_adamw import LayerwiseDecayAdamW
from keras_attnpred.training.transformer_schedule import TransformerSchedule


def build_model(config, dataset):
    """The model of `config`, sized by the vocabularies and classes of the
    `PreparedDataset`; `config.max_length` must be set."""
    rnn_sizes = dict(models.RNN_PRESETS[config.preset])
    for name in ("embedding_dim", "units"):
        if getattr(config, name) is not None:
            rnn_sizes[name] = getattr(config, name)
    rnn_options = dict(rnn_sizes, rnn=config.rnn)
    if config.dropout is not None:
        rnn_options["dropout"] = config.dropout
    transformer_options = dict(
        preset=config.preset,
        dropout=config.dropout,
        activation_dropout=config.activation_dropout,
    )
    sizes = dataset.vocabulary_sizes
    if config.task == "pretraining":
        encoder_sizes = resolve_transformer_config(
            config.preset, None, None, None, None, config.dropout
        )

        def encoder(sizes_, name):
            return models.TransformerEncoderBackbone(
                sizes["tokenizer"],
                config.max_length,
                activation_dropout=config.activation_dropout,
                bigram_buckets=config.bigram_buckets,
                name=name,
                **sizes_,
            )

        backbone = encoder(encoder_sizes, "transformer_encoder")
        if config.objective == "mlm":
            return models.MaskedLanguageModel(backbone)
        # ELECTRA's generator: a quarter of the discriminator's width.
        generator_sizes = dict(
            encoder_sizes,
            model_dim=encoder_sizes["model_dim"] // 4,
            num_heads=max(1, encoder_sizes["num_heads"] // 4),
            intermediate_dim=encoder_sizes["intermediate_dim"] // 4,
        )
        generator = models.MaskedLanguageModel(
            encoder(generator_sizes, "generator_encoder"), name="generator"
        )
        return models.ElectraPretrainer(generator, backbone, seed=config.seed)
    if config.is_classification:
        vocabulary = sizes["tokenizer"]
        classes = len(dataset.label_names)
        if config.init_from is not None:
            backbone = pretrained_backbone(config)
            if config.lora_rank is not None:
                backbone.enable_lora(config.lora_rank)
            return models.TextClassifier(
                backbone,
                classes,
                dropout=backbone.dropout,
                name="transformer_classifier",
            )
        if config.model == "transformer":
            return models.build_transformer_classifier(
                vocabulary,
                classes,
                config.max_length,
                bigram_buckets=config.bigram_buckets,
                **transformer_options,
            )
        return models.build_rnn_classifier(
            vocabulary,
            classes,
            bigram_buckets=config.bigram_buckets,
            bidirectional=config.bidirectional,
            **rnn_options,
        )
    source = sizes["source_tokenizer"]
    target = sizes["target_tokenizer"]
    if config.model == "transformer":
        return models.build_transformer_translator(
            source, target, config.max_length, **transformer_options
        )
    return models.build_rnn_translator(
        source, target, attention=config.attention, **rnn_options
    )


def model_dim(config):
    """The width of the model's hidden states: the transformer schedule's
    `model_dim`."""
    if config.model == "transformer":
        return models.TRANSFORMER_PRESETS[config.preset]["model_dim"]
    return config.units or models.RNN_PRESETS[config.preset]["units"]


DEFAULT_TRANSFORMER_WARMUP = 4000


def build_optimizer(config, total_steps, model=None):
    """Adam (AdamW with a `weight_decay`), with the learning rate schedule
    of `config` over `total_steps` steps; with `layer_decay`, a
    `LayerwiseDecayAdamW` over the encoder of `model`."""
    kwargs = {}
    if config.clipnorm is not None:
        kwargs["clipnorm"] = config.clipnorm
    learning_rate = config.learning_rate
    warmup = config.warmup_steps
    if learning_rate == "transformer":
        learning_rate = TransformerSchedule(
            model_dim(config), warmup or DEFAULT_TRANSFORMER_WARMUP
        )
        # The paper's Adam settings go with its schedule.
        kwargs.update(beta_1=0.9, beta_2=0.98, epsilon=1e-9)
    elif config.learning_rate_decay == "cosine" or warmup:
        # Without a decay the cosine ends where it starts (alpha=1): a
        # constant rate after the warm-up.
        learning_rate = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else config.learning_rate,
            max(total_steps - (warmup or 0), 1),
            alpha=0.05 if config.learning_rate_decay == "cosine" else 1.0,
            warmup_target=config.learning_rate if warmup else None,
            warmup_steps=warmup or 0,
        )
    if config.layer_decay is not None:
        backbone = model.backbone
        top = backbone.num_layers + 1
        multipliers = {
            path: config.layer_decay ** (top - depth)
            for path, depth in backbone.layer_depths().items()
        }
        return LayerwiseDecayAdamW(
            multipliers, learning_rate=learning_rate,
            weight_decay=config.weight_decay, **kwargs,
        )
    if config.weight_decay:
        return keras.optimizers.AdamW(
            learning_rate, weight_decay=config.weight_decay, **kwargs
        )
    return keras.optimizers.Adam(learning_rate, **kwargs)


def pretraining_batch_settings(config):
    """The `PreparedBatches` arguments of a pretraining `config` (none for
    other tasks)."""
    if config.task != "pretraining":
        return {}
    return {
        "mask_rate": config.mask_rate,
        "labels_in_inputs": config.objective == "electra",
        "pack_texts": config.pack_texts,
    }


def build_loss(config):
    """The loss to compile with; None for ELECTRA, whose model computes its
    own."""
    from keras_attnpred.models import MaskedSparseCategoricalCrossentropy

    if config.objective == "electra":
        return None
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


def build_metrics(config):
    """The metrics to compile with: `"accuracy"`, for translation over real
    tokens only; none for ELECTRA, whose model tracks its own."""
    if config.objective == "electra":
        return []
    return [_accuracy(config)]


def _accuracy(config):
    from keras_attnpred.models import MaskedSparseCategoricalAccuracy

    if config.is_classification:
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    return MaskedSparseCategoricalAccuracy(name="accuracy")
