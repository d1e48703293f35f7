import keras

RNN_TYPES = ("gru", "lstm")


def rnn_layer(rnn, units, name, return_sequences=True, return_state=False):
    """A `keras.layers.GRU` (`rnn="gru"`) or `keras.layers.LSTM` (`"lstm"`)."""
    cls = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[rnn]
    return cls(
        units,
        return_sequences=return_sequences,
        return_state=return_state,
        name=name,
    )
