"""Argument checks and presets shared by the model builders (private)."""

import keras

from keras_attnpred.layers import HashedBigramEmbedding
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate

# Sizes of the Transformer builders. Explicit arguments override a preset.
TRANSFORMER_PRESETS = {
    "tiny": {
        "num_layers": 1,
        "model_dim": 64,
        "num_heads": 2,
        "intermediate_dim": 128,
        "dropout": 0.1,
    },
    "small": {
        "num_layers": 2,
        "model_dim": 128,
        "num_heads": 4,
        "intermediate_dim": 512,
        "dropout": 0.1,
    },
    "base": {
        "num_layers": 3,
        "model_dim": 256,
        "num_heads": 8,
        "intermediate_dim": 1024,
        "dropout": 0.1,
    },
}

RNN_TYPES = ("gru", "lstm")


def resolve_transformer_config(
    preset, num_layers, model_dim, num_heads, intermediate_dim, dropout
):
    """The preset's sizes with the explicit (non-None) arguments on top.

    Returns:
        A dict with `num_layers`, `model_dim`, `num_heads`,
        `intermediate_dim` and `dropout`, all validated.
    """
    check_choice("preset", preset, TRANSFORMER_PRESETS)
    config = dict(TRANSFORMER_PRESETS[preset])
    overrides = {
        "num_layers": num_layers,
        "model_dim": model_dim,
        "num_heads": num_heads,
        "intermediate_dim": intermediate_dim,
        "dropout": dropout,
    }
    config.update({k: v for k, v in overrides.items() if v is not None})
    for name in ("num_layers", "model_dim", "num_heads", "intermediate_dim"):
        check_positive_int(name, config[name])
    check_rate("dropout", config["dropout"])
    if config["model_dim"] % config["num_heads"]:
        raise ValueError(
            "`model_dim` must be divisible by `num_heads`. Received: "
            f"model_dim={config['model_dim']}, "
            f"num_heads={config['num_heads']}"
        )
    return config


def rnn_layer(rnn, units, name, return_sequences=True, return_state=False):
    """A `keras.layers.GRU` or `keras.layers.LSTM`."""
    cls = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[rnn]
    return cls(
        units,
        return_sequences=return_sequences,
        return_state=return_state,
        name=name,
    )


def pooling_features_model(model, pooling):
    """A `keras.Model` from `model`'s inputs to the input of `pooling`.

    Calling `pooling` on its output again (e.g. with
    `return_attention_scores=True`) reproduces the classifier's pooling.
    """
    features = pooling.input
    if isinstance(features, (list, tuple)):
        # The node's tensors hold the Keras mask after the features.
        features = features[0]
    return keras.Model(model.inputs, features)


def numbered_layers(model, prefix, kind):
    """`prefix_0`, `prefix_1`, ... of `model` while they exist and are `kind`."""
    layers = {layer.name: layer for layer in model.layers}
    blocks = []
    while isinstance(layers.get(f"{prefix}_{len(blocks)}"), kind):
        blocks.append(layers[f"{prefix}_{len(blocks)}"])
    return blocks


def add_bigram_embedding(embeddings, tokens, vocabulary_size, bigram_buckets):
    """`embeddings` plus the hashed bigram embeddings of `tokens`, when
    `bigram_buckets` is set; both keep the padding mask."""
    if not bigram_buckets:
        return embeddings
    bigrams = HashedBigramEmbedding(
        vocabulary_size,
        bigram_buckets,
        embeddings.shape[-1],
        name="bigram_embedding",
    )(tokens)
    return keras.layers.Add(name="embedding_sum")([embeddings, bigrams])
