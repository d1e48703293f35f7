import keras

from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerDecoder
from keras_attnpred.layers import TransformerEncoder
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_bool
from keras_attnpred.models._model_utils import resolve_transformer_config


def build_transformer_translator(
    source_vocabulary_size,
    target_vocabulary_size,
    max_length,
    preset="small",
    num_layers=None,
    model_dim=None,
    num_heads=None,
    intermediate_dim=None,
    dropout=None,
    normalize_first=False,
    activation_dropout=None,
    tie_query_key_init=True,
):
    """An encoder–decoder Transformer for translation, as a `keras.Model`.

    The source ids go through a token-and-position embedding and
    `num_layers` `TransformerEncoder` blocks; the target ids (shifted right,
    starting with the start id) through a token-and-position embedding and
    `num_layers` causal `TransformerDecoder` blocks that cross-attend to the
    encoder output; a final `Dense` gives next-token logits. Id 0 is padding
    on both sides: the embeddings produce Keras masks, which every block
    honours, so padded steps change nothing at real positions.

    Presets (`keras_attnpred.models.TRANSFORMER_PRESETS`):

    | preset | num_layers | model_dim | num_heads | intermediate_dim | dropout |
    |---|---|---|---|---|---|
    | `"tiny"` | 1 | 64 | 2 | 128 | 0.1 |
    | `"small"` | 2 | 128 | 4 | 512 | 0.1 |
    | `"base"` | 3 | 256 | 8 | 1024 | 0.1 |

    Layers are named for step-by-step decoding with caches:
    `"source_embedding"`, `"source_embedding_dropout"`, `"encoder_0"` ...
    `"encoder_{n-1}"`, `"encoder_final_norm"` (with `normalize_first`),
    `"target_embedding"`, `"target_embedding_dropout"`, `"decoder_0"` ...
    `"decoder_{n-1}"`, `"decoder_final_norm"` (with `normalize_first`) and
    `"logits"`; fetch them with `model.get_layer(name)`.

    Args:
        source_vocabulary_size: int, number of source ids (0 is padding).
        target_vocabulary_size: int, number of target ids (0 is padding),
            also the size of the logits.
        max_length: int, the longest source or target sequence (size of the
            learned position embeddings).
        preset: str, one of `"tiny"`, `"small"`, `"base"`.
        num_layers: int, encoder blocks and decoder blocks (each). Overrides
            the preset.
        model_dim: int, the model width. Overrides the preset. Must be
            divisible by `num_heads`.
        num_heads: int, attention heads. Overrides the preset.
        intermediate_dim: int, hidden size of the feed-forward networks.
            Overrides the preset.
        dropout: float in [0, 1), on the embeddings, attention weights,
            residual branches and (unless `activation_dropout` is given)
            feed-forward hidden activations. Overrides the preset.
        normalize_first: bool, pre-layer-norm blocks (Xiong et al. 2020),
            with a final layer normalisation after each stack, instead of the
            original post-layer-norm.
        activation_dropout: float in [0, 1), the dropout on the blocks'
            feed-forward hidden activations. Defaults to `dropout`.
        tie_query_key_init: bool, start each attention's query and key
            kernels from one random draw (`MultiHeadAttention`): an
            English-Spanish translator trained faster so.

    Returns:
        A `keras.Model` taking `{"source": (batch, S) int32,
        "target": (batch, T) int32}` and returning float32 logits
        `(batch, T, target_vocabulary_size)`, whatever the dtype policy.
        Compile it with `MaskedSparseCategoricalCrossentropy` and
        `MaskedSparseCategoricalAccuracy` so padding counts for nothing.

    Example:

    >>> model = build_transformer_translator(8000, 8000, max_length=64)
    >>> model.compile(
    ...     "adam",
    ...     loss=MaskedSparseCategoricalCrossentropy(),
    ...     metrics=[MaskedSparseCategoricalAccuracy()],
    ... )
    >>> # model.fit({"source": src, "target": tgt[:, :-1]}, tgt[:, 1:])

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020. On Layer Normalization in the Transformer
          Architecture](https://arxiv.org/abs/2002.04745)
        - [Trockman & Kolter, 2023. Mimetic Initialization of Self-Attention
          Layers](https://arxiv.org/abs/2305.09828)
    """
    check_positive_int("source_vocabulary_size", source_vocabulary_size)
    check_positive_int("target_vocabulary_size", target_vocabulary_size)
    check_positive_int("max_length", max_length)
    check_bool("normalize_first", normalize_first)
    check_bool("tie_query_key_init", tie_query_key_init)
    config = resolve_transformer_config(
        preset, num_layers, model_dim, num_heads, intermediate_dim, dropout
    )
    dim, rate = config["model_dim"], config["dropout"]

    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target = keras.Input(shape=(None,), dtype="int32", name="target")

    x = TokenAndPositionEmbedding(
        source_vocabulary_size, max_length, dim, name="source_embedding"
    )(source)
    x = keras.layers.Dropout(rate, name="source_embedding_dropout")(x)
    for i in range(config["num_layers"]):
        x = TransformerEncoder(
            config["intermediate_dim"],
            num_heads=config["num_heads"],
            dropout=rate,
            activation_dropout=activation_dropout,
            normalize_first=normalize_first,
            tie_query_key_init=tie_query_key_init,
            name=f"encoder_{i}",
        )(x)
    if normalize_first:
        x = keras.layers.LayerNormalization(
            epsilon=1e-5, name="encoder_final_norm"
        )(x)
    memory = x

    y = TokenAndPositionEmbedding(
        target_vocabulary_size, max_length, dim, name="target_embedding"
    )(target)
    y = keras.layers.Dropout(rate, name="target_embedding_dropout")(y)
    for i in range(config["num_layers"]):
        y = TransformerDecoder(
            config["intermediate_dim"],
            num_heads=config["num_heads"],
            dropout=rate,
            activation_dropout=activation_dropout,
            normalize_first=normalize_first,
            tie_query_key_init=tie_query_key_init,
            name=f"decoder_{i}",
        )(y, memory)
    if normalize_first:
        y = keras.layers.LayerNormalization(
            epsilon=1e-5, name="decoder_final_norm"
        )(y)
    logits = keras.layers.Dense(
        target_vocabulary_size, dtype="float32", name="logits"
    )(y)
    return keras.Model(
        {"source": source, "target": target},
        logits,
        name="transformer_translator",
    )
