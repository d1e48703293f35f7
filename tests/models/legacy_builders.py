"""The model builders of the version before the Backbone/Task classes.

Kept only to test `upgrade_legacy_model`: they make the plain functional
models, with their fixed layer names (`"embedding"`, `"encoder_0"`,
`"source_embedding"`, `"pooling"`, ...), that earlier versions saved. The
functional code is copied from `keras_attnpred/models/build_*.py` and
`_model_utils.py` at commit 3a1b4e1, without the argument checks and
presets (the tests pass every size), and it depends only on public layers so
that later changes to `keras_attnpred.models` cannot change what it builds.
"""

import keras

from keras_attnpred.layers import AdditiveAttention
from keras_attnpred.layers import AttentionPooling
from keras_attnpred.layers import DotProductAttention
from keras_attnpred.layers import HashedBigramEmbedding
from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerDecoder
from keras_attnpred.layers import TransformerEncoder
from keras_attnpred.models import FirstTokenPooling


def _rnn_layer(rnn, units, name, return_sequences=True, return_state=False):
    cls = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[rnn]
    return cls(
        units,
        return_sequences=return_sequences,
        return_state=return_state,
        name=name,
    )


def _add_bigram_embedding(embeddings, tokens, vocabulary_size, bigram_buckets):
    if not bigram_buckets:
        return embeddings
    bigrams = HashedBigramEmbedding(
        vocabulary_size,
        bigram_buckets,
        embeddings.shape[-1],
        name="bigram_embedding",
    )(tokens)
    return keras.layers.Add(name="embedding_sum")([embeddings, bigrams])


def legacy_transformer_classifier(
    vocabulary_size,
    num_classes,
    max_length,
    num_layers,
    model_dim,
    num_heads,
    intermediate_dim,
    dropout=0.0,
    pooling="attention",
    bigram_buckets=None,
    activation_dropout=None,
    tie_query_key_init=True,
):
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = TokenAndPositionEmbedding(
        vocabulary_size, max_length, model_dim, name="embedding"
    )(tokens)
    x = _add_bigram_embedding(x, tokens, vocabulary_size, bigram_buckets)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = TransformerEncoder(
            intermediate_dim,
            num_heads=num_heads,
            dropout=dropout,
            activation_dropout=activation_dropout,
            tie_query_key_init=tie_query_key_init,
            name=f"encoder_{i}",
        )(x)
    if pooling == "attention":
        x = AttentionPooling(name="pooling")(x)
    elif pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)
    else:
        x = FirstTokenPooling(name="pooling")(x)
    x = keras.layers.Dropout(dropout, name="pooling_dropout")(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(tokens, logits, name="transformer_classifier")


def legacy_rnn_classifier(
    vocabulary_size,
    num_classes,
    rnn="gru",
    embedding_dim=128,
    units=128,
    bidirectional=True,
    dropout=0.0,
    bigram_buckets=None,
):
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
    )(tokens)
    x = _add_bigram_embedding(x, tokens, vocabulary_size, bigram_buckets)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    if bidirectional:
        x = keras.layers.Bidirectional(
            _rnn_layer(rnn, units, "rnn_cell"), name="rnn"
        )(x)
    else:
        x = _rnn_layer(rnn, units, "rnn")(x)
    x = AttentionPooling(name="pooling")(x)
    x = keras.layers.Dropout(dropout, name="pooling_dropout")(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return keras.Model(tokens, logits, name="rnn_classifier")


def legacy_transformer_translator(
    source_vocabulary_size,
    target_vocabulary_size,
    max_length,
    num_layers,
    model_dim,
    num_heads,
    intermediate_dim,
    dropout=0.0,
    normalize_first=False,
    activation_dropout=None,
    tie_query_key_init=True,
):
    dim, rate = model_dim, dropout
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target = keras.Input(shape=(None,), dtype="int32", name="target")
    x = TokenAndPositionEmbedding(
        source_vocabulary_size, max_length, dim, name="source_embedding"
    )(source)
    x = keras.layers.Dropout(rate, name="source_embedding_dropout")(x)
    for i in range(num_layers):
        x = TransformerEncoder(
            intermediate_dim,
            num_heads=num_heads,
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
    for i in range(num_layers):
        y = TransformerDecoder(
            intermediate_dim,
            num_heads=num_heads,
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


def legacy_rnn_translator(
    source_vocabulary_size,
    target_vocabulary_size,
    attention="bahdanau",
    score=None,
    rnn="gru",
    embedding_dim=128,
    units=256,
    dropout=0.0,
):
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target = keras.Input(shape=(None,), dtype="int32", name="target")
    # --- encoder -------------------------------------------------------------
    x = keras.layers.Embedding(
        source_vocabulary_size,
        embedding_dim,
        mask_zero=True,
        name="source_embedding",
    )(source)
    x = keras.layers.Dropout(dropout, name="source_embedding_dropout")(x)
    encoded = keras.layers.Bidirectional(
        _rnn_layer(rnn, units, "encoder_rnn_cell", return_state=True),
        name="encoder_rnn",
    )(x)
    # GRU: [sequences, h_fwd, h_bwd]; LSTM: [sequences, h_fwd, c_fwd, h_bwd,
    # c_bwd].
    sequences, states = encoded[0], encoded[1:]
    memory = keras.layers.Dense(units, name="encoder_projection")(sequences)
    half = len(states) // 2
    forward_states, backward_states = states[:half], states[half:]
    initial_h = keras.layers.Dense(
        units, activation="tanh", name="initial_state_h"
    )(
        keras.layers.Concatenate(name="final_state_h")(
            [forward_states[0], backward_states[0]]
        )
    )
    initial_state = [initial_h]
    if rnn == "lstm":
        initial_c = keras.layers.Dense(units, name="initial_state_c")(
            keras.layers.Concatenate(name="final_state_c")(
                [forward_states[1], backward_states[1]]
            )
        )
        initial_state.append(initial_c)
    # --- decoder -------------------------------------------------------------
    y = keras.layers.Embedding(
        target_vocabulary_size,
        embedding_dim,
        mask_zero=True,
        name="target_embedding",
    )(target)
    y = keras.layers.Dropout(dropout, name="target_embedding_dropout")(y)
    decoded = _rnn_layer(rnn, units, "decoder_rnn")(
        y, initial_state=initial_state
    )
    if attention == "bahdanau":
        attend = AdditiveAttention(units=units, name="attention")
    else:
        attend = DotProductAttention(score=score or "general", name="attention")
    context = attend(decoded, memory)
    combined = keras.layers.Concatenate(name="attention_concat")(
        [context, decoded]
    )
    attentional = keras.layers.Dense(
        units, activation="tanh", use_bias=False, name="attentional_vector"
    )(combined)
    attentional = keras.layers.Dropout(
        dropout, name="attentional_vector_dropout"
    )(attentional)
    logits = keras.layers.Dense(
        target_vocabulary_size, dtype="float32", name="logits"
    )(attentional)
    return keras.Model(
        {"source": source, "target": target}, logits, name="rnn_translator"
    )
