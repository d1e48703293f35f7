import keras

from keras_attnpred.layers import AdditiveAttention
from keras_attnpred.layers import DotProductAttention
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate
from keras_attnpred.layers.dot_product_attention import SCORES
from keras_attnpred.models._model_utils import RNN_TYPES
from keras_attnpred.models._model_utils import rnn_layer

ATTENTION_TYPES = ("bahdanau", "luong")


def build_rnn_translator(
    source_vocabulary_size,
    target_vocabulary_size,
    attention="bahdanau",
    score=None,
    rnn="gru",
    embedding_dim=128,
    units=256,
    dropout=0.0,
):
    """An RNN encoder–decoder with attention for translation, as a `keras.Model`.

    Encoder: `Embedding(mask_zero=True)` → bidirectional GRU/LSTM returning
    sequences, projected to `units` features (the attention memory); its
    final forward and backward states, concatenated and projected
    (`tanh` for `h`, linear for the LSTM cell state `c`), initialise the
    decoder. Decoder: `Embedding(mask_zero=True)` → GRU/LSTM returning
    sequences; each decoder output `h_t` then queries the encoder outputs
    (`AdditiveAttention` for `"bahdanau"`, `DotProductAttention(score)` for
    `"luong"`), and Luong's attentional vector
    `h~_t = tanh(W_c [c_t; h_t])` gives the float32 next-token logits.

    Both variants attend *after* the decoder RNN step, Luong's arrangement:
    `"bahdanau"` swaps in the additive score only. The paper-exact Bahdanau
    decoder, which feeds the context into the RNN input (and Luong's
    input-feeding), is not built here; it would need a custom recurrent
    cell and rules out running the decoder over the whole target at once.

    Id 0 is padding: masks flow from both embeddings through the RNNs (which
    skip padded steps, so the encoder's final states are those of the last
    real token) and the attention (which gives padded source steps zero
    weight).

    Layers are named for step-by-step decoding: `"source_embedding"`,
    `"source_embedding_dropout"`, `"encoder_rnn"` (a `Bidirectional`),
    `"encoder_projection"` (the attention memory), `"initial_state_h"`
    (and `"initial_state_c"` for LSTM), `"target_embedding"`,
    `"target_embedding_dropout"`, `"decoder_rnn"` (one step is
    `model.get_layer("decoder_rnn").cell(x_t, states)`), `"attention"`,
    `"attention_concat"`, `"attentional_vector"`,
    `"attentional_vector_dropout"` and `"logits"`.

    Args:
        source_vocabulary_size: int, number of source ids (0 is padding).
        target_vocabulary_size: int, number of target ids (0 is padding),
            also the size of the logits.
        attention: `"bahdanau"` (additive score) or `"luong"`
            (multiplicative score).
        score: the Luong score, one of `"dot"`, `"general"`, `"concat"`,
            `"scaled_dot"`; defaults to `"general"`. Only with
            `attention="luong"`.
        rnn: `"gru"` or `"lstm"`.
        embedding_dim: int, size of the token embeddings.
        units: int, size of the decoder RNN, of each encoder direction, of
            the attention memory and of the attentional vector.
        dropout: float in [0, 1), on the embeddings and the attentional
            vector.

    Returns:
        A `keras.Model` taking `{"source": (batch, S) int32,
        "target": (batch, T) int32}` (the target shifted right, starting with
        the start id) and returning float32 logits
        `(batch, T, target_vocabulary_size)`.

    Example:

    >>> model = build_rnn_translator(8000, 8000, attention="luong",
    ...                              score="dot", rnn="lstm")
    >>> model.compile("adam", loss=MaskedSparseCategoricalCrossentropy(),
    ...               metrics=[MaskedSparseCategoricalAccuracy()])

    References:
        - [Bahdanau et al., 2015. Neural Machine Translation by Jointly
          Learning to Align and Translate](https://arxiv.org/abs/1409.0473)
        - [Luong et al., 2015. Effective Approaches to Attention-based
          Neural Machine Translation](https://arxiv.org/abs/1508.04025)
    """
    check_positive_int("source_vocabulary_size", source_vocabulary_size)
    check_positive_int("target_vocabulary_size", target_vocabulary_size)
    check_choice("attention", attention, ATTENTION_TYPES)
    if score is not None:
        check_choice("score", score, SCORES)
        if attention != "luong":
            raise ValueError(
                "`score` is only used with `attention='luong'`. "
                f"Received: score={score!r}, attention={attention!r}"
            )
    check_choice("rnn", rnn, RNN_TYPES)
    check_positive_int("embedding_dim", embedding_dim)
    check_positive_int("units", units)
    check_rate("dropout", dropout)

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
        rnn_layer(rnn, units, "encoder_rnn_cell", return_state=True),
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
    )(keras.layers.Concatenate(name="final_state_h")(
        [forward_states[0], backward_states[0]]
    ))
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
    decoded = rnn_layer(rnn, units, "decoder_rnn")(y, initial_state=initial_state)
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
