from keras_attnpred.models.rnn_translator import RNNTranslator


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
    """An RNN encoder–decoder with attention for translation: an `RNNTranslator`.

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

    Step-by-step decoding goes through the model's `start_decoding` and
    `decode_step`.

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
        An `RNNTranslator` taking `{"source": (batch, S) int32,
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
    return RNNTranslator(
        source_vocabulary_size,
        target_vocabulary_size,
        attention=attention,
        score=score,
        rnn=rnn,
        embedding_dim=embedding_dim,
        units=units,
        dropout=dropout,
        name="rnn_translator",
    )
