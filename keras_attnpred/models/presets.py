"""Model sizes by preset name, shared by the builders and the training code."""

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
    # Pretraining's reference encoder (about BERT-medium's width).
    "large": {
        "num_layers": 6,
        "model_dim": 512,
        "num_heads": 8,
        "intermediate_dim": 2048,
        "dropout": 0.1,
    },
}

# Sizes of the RNN models of the training code, by the same preset names.
RNN_PRESETS = {
    "tiny": {"embedding_dim": 32, "units": 64},
    "small": {"embedding_dim": 128, "units": 128},
    "base": {"embedding_dim": 256, "units": 256},
    "large": {"embedding_dim": 512, "units": 512},
}


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
    check_transformer_sizes(**config)
    return config


def check_transformer_sizes(
    num_layers, model_dim, num_heads, intermediate_dim, dropout
):
    """Raises a `ValueError` naming the first bad size."""
    for name, value in (
        ("num_layers", num_layers),
        ("model_dim", model_dim),
        ("num_heads", num_heads),
        ("intermediate_dim", intermediate_dim),
    ):
        check_positive_int(name, value)
    check_rate("dropout", dropout)
    if model_dim % num_heads:
        raise ValueError(
            "`model_dim` must be divisible by `num_heads`. Received: "
            f"model_dim={model_dim}, num_heads={num_heads}"
        )
