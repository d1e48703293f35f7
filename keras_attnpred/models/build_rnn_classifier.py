from keras_attnpred.models.rnn_encoder_backbone import RNNEncoderBackbone
from keras_attnpred.models.text_classifier import TextClassifier


def build_rnn_classifier(
    vocabulary_size,
    num_classes,
    rnn="gru",
    embedding_dim=128,
    units=128,
    bidirectional=True,
    dropout=0.0,
    bigram_buckets=None,
):
    """A (bidirectional) GRU/LSTM text classifier with attention pooling: a
    `TextClassifier` over an `RNNEncoderBackbone`.

    `Embedding(mask_zero=True)` → dropout → (bi)GRU/LSTM returning
    sequences → `AttentionPooling` (the word attention of Yang et al. 2016)
    → dropout → `Dense(num_classes)` float32 logits. Id 0 is padding: the
    RNN skips it and the pooling gives it zero weight. With
    `bigram_buckets`, each token's embedding also gets the
    `HashedBigramEmbedding` of the pair it starts.

    `TextClassifier.pool` gives the word weights.

    Args:
        vocabulary_size: int, number of token ids (0 is padding).
        num_classes: int, number of classes (2 for binary).
        rnn: `"gru"` or `"lstm"`.
        embedding_dim: int, size of the token embeddings.
        units: int, size of the RNN (of each direction when bidirectional).
        bidirectional: bool, run the RNN both ways and concatenate.
        dropout: float in [0, 1), on the embeddings and the pooled vector.
        bigram_buckets: int or None, the number of hashed bigram embedding
            rows; None for token embeddings alone. `vocabulary_size` must
            then be at most 46,340.

    Returns:
        A `TextClassifier` from int ids `(batch, T)` to float32 logits
        `(batch, num_classes)`.

    Example:

    >>> model = build_rnn_classifier(20000, 2, rnn="lstm", dropout=0.2)
    >>> model.compile(
    ...     "adam",
    ...     keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...     metrics=["accuracy"],
    ... )

    References:
        - [Yang et al., 2016. Hierarchical Attention Networks for Document
          Classification](https://aclanthology.org/N16-1174/)
    """
    backbone = RNNEncoderBackbone(
        vocabulary_size,
        rnn=rnn,
        embedding_dim=embedding_dim,
        units=units,
        bidirectional=bidirectional,
        dropout=dropout,
        bigram_buckets=bigram_buckets,
        name="rnn_encoder",
    )
    return TextClassifier(
        backbone, num_classes, dropout=dropout, name="rnn_classifier"
    )
