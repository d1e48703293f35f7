import keras

from keras_attnpred.layers import AttentionPooling
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate
from keras_attnpred.models._model_utils import RNN_TYPES
from keras_attnpred.validation import check_bool
from keras_attnpred.models._model_utils import add_bigram_embedding
from keras_attnpred.models._model_utils import rnn_layer


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
    """A (bidirectional) GRU/LSTM text classifier with attention pooling.

    `Embedding(mask_zero=True)` → dropout → (bi)GRU/LSTM returning
    sequences → `AttentionPooling` (the word attention of Yang et al. 2016)
    → dropout → `Dense(num_classes)` float32 logits. Id 0 is padding: the
    RNN skips it and the pooling gives it zero weight. With
    `bigram_buckets`, each token's embedding also gets the
    `HashedBigramEmbedding` of the pair it starts.

    Layers are named `"embedding"` (with bigrams also `"bigram_embedding"`
    and their sum `"embedding_sum"`), `"embedding_dropout"`, `"rnn"`,
    `"pooling"` (call it with `return_attention_scores=True` to see the
    word weights), `"pooling_dropout"` and `"logits"`.

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
        A `keras.Model` from int ids `(batch, T)` to float32 logits
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
    check_positive_int("vocabulary_size", vocabulary_size)
    check_positive_int("num_classes", num_classes)
    check_choice("rnn", rnn, RNN_TYPES)
    check_positive_int("embedding_dim", embedding_dim)
    check_positive_int("units", units)
    check_bool("bidirectional", bidirectional)
    check_rate("dropout", dropout)
    check_positive_int("bigram_buckets", bigram_buckets, allow_none=True)

    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
    )(tokens)
    x = add_bigram_embedding(x, tokens, vocabulary_size, bigram_buckets)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    if bidirectional:
        x = keras.layers.Bidirectional(
            rnn_layer(rnn, units, "rnn_cell"), name="rnn"
        )(x)
    else:
        x = rnn_layer(rnn, units, "rnn")(x)
    x = AttentionPooling(name="pooling")(x)
    x = keras.layers.Dropout(dropout, name="pooling_dropout")(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(tokens, logits, name="rnn_classifier")
