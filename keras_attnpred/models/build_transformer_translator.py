from keras_attnpred.models.presets import resolve_transformer_config
from keras_attnpred.models.transformer_encoder_backbone import (
    TransformerEncoderBackbone,
)
from keras_attnpred.models.transformer_translator import TransformerTranslator
from keras_attnpred.validation import check_positive_int


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
    """An encoder–decoder Transformer for translation: a `TransformerTranslator`.

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

    Step-by-step decoding goes through the model's `start_decoding` and
    `decode_step`; its `encoder` is a `TransformerEncoderBackbone`, the
    class of the classifiers' backbones.

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
        A `TransformerTranslator` taking `{"source": (batch, S) int32,
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
    config = resolve_transformer_config(
        preset, num_layers, model_dim, num_heads, intermediate_dim, dropout
    )
    encoder = TransformerEncoderBackbone(
        source_vocabulary_size,
        max_length,
        activation_dropout=activation_dropout,
        normalize_first=normalize_first,
        tie_query_key_init=tie_query_key_init,
        name="transformer_encoder",
        **config,
    )
    return TransformerTranslator(
        encoder, target_vocabulary_size, name="transformer_translator"
    )
