from keras_attnpred.models.presets import resolve_transformer_config
from keras_attnpred.models.text_classifier import TextClassifier
from keras_attnpred.models.transformer_encoder_backbone import (
    TransformerEncoderBackbone,
)
from keras_attnpred.validation import check_positive_int


def build_transformer_classifier(
    vocabulary_size,
    num_classes,
    max_length,
    preset="small",
    num_layers=None,
    model_dim=None,
    num_heads=None,
    intermediate_dim=None,
    dropout=None,
    pooling="attention",
    bigram_buckets=None,
    activation_dropout=None,
    tie_query_key_init=True,
):
    """A Transformer encoder text classifier: a `TextClassifier` over a
    `TransformerEncoderBackbone`.

    Token-and-position embedding → `num_layers` `TransformerEncoder` blocks
    → pooling over time → dropout → `Dense(num_classes)` float32 logits.
    Id 0 is padding and is hidden from the attention and the pooling.
    With `bigram_buckets`, each token's embedding also gets the
    `HashedBigramEmbedding` of the pair it starts.

    Poolings:

    - `"attention"`: `AttentionPooling` (Yang et al. 2016), weights over the
      real tokens only; fetch them from the `"pooling"` layer to see which
      words the model looked at (`TextClassifier.pool`).
    - `"mean"`: `GlobalAveragePooling1D`, which averages the real tokens only
      (it honours the Keras mask).
    - `"first"`: the first step, for inputs that start with a `[CLS]`-like
      id (BERT).

    Binary tasks use `num_classes=2` too, with the sparse cross-entropy
    `from_logits=True`: one output format for every task.

    Presets as in `build_transformer_translator` (`"tiny"`, `"small"`,
    `"base"`); explicit arguments override them.

    Args:
        vocabulary_size: int, number of token ids (0 is padding).
        num_classes: int, number of classes (2 for binary).
        max_length: int, the longest input sequence.
        preset: str, one of `"tiny"`, `"small"`, `"base"`.
        num_layers: int, encoder blocks. Overrides the preset.
        model_dim: int, model width, divisible by `num_heads`. Overrides the
            preset.
        num_heads: int, attention heads. Overrides the preset.
        intermediate_dim: int, feed-forward hidden size. Overrides the
            preset.
        dropout: float in [0, 1). Overrides the preset.
        pooling: `"attention"`, `"mean"` or `"first"`.
        bigram_buckets: int or None, the number of hashed bigram embedding
            rows; None for token embeddings alone. `vocabulary_size` must
            then be at most 46,340.
        activation_dropout: float in [0, 1), the dropout on the encoders'
            feed-forward hidden activations. Defaults to `dropout`.
        tie_query_key_init: bool, start each attention's query and key
            kernels from one random draw (`MultiHeadAttention`): the
            English-Spanish translator trained faster so.

    Returns:
        A `TextClassifier` from int ids `(batch, T)` to float32 logits
        `(batch, num_classes)`, whatever the dtype policy; its `backbone`
        is the encoder.

    Example:

    >>> model = build_transformer_classifier(20000, 2, max_length=256,
    ...                                      pooling="mean")
    >>> model.compile(
    ...     "adam",
    ...     keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...     metrics=["accuracy"],
    ... )

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
        - [Devlin et al., 2019. BERT](https://arxiv.org/abs/1810.04805)
        - [Trockman & Kolter, 2023. Mimetic Initialization of Self-Attention
          Layers](https://arxiv.org/abs/2305.09828)
    """
    check_positive_int("vocabulary_size", vocabulary_size)
    check_positive_int("num_classes", num_classes)
    config = resolve_transformer_config(
        preset, num_layers, model_dim, num_heads, intermediate_dim, dropout
    )
    backbone = TransformerEncoderBackbone(
        vocabulary_size,
        max_length,
        activation_dropout=activation_dropout,
        bigram_buckets=bigram_buckets,
        tie_query_key_init=tie_query_key_init,
        name="transformer_encoder",
        **config,
    )
    return TextClassifier(
        backbone,
        num_classes,
        pooling=pooling,
        dropout=config["dropout"],
        name="transformer_classifier",
    )
