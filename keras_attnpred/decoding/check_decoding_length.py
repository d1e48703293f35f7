from keras_attnpred.validation import check_positive_int


def check_decoding_length(model, max_length):
    """Refuses a `max_length` that `model` cannot decode to.

    A Transformer decoder reads positions 0 to `max_length - 1` from a
    learned position table, which must hold them all; its
    `max_decoding_length` is the table's size. A model without that
    property, or whose property is None (an RNN decoder, a plain functional
    model), has no such bound.

    Args:
        model: the translator, e.g. a `TransformerTranslator`.
        max_length: int >= 1, the most tokens to generate.

    Returns:
        `max_length`, as an int.

    Raises:
        ValueError: naming `max_length` and its value, when it is not a
            positive int or exceeds `model.max_decoding_length`.

    Example:

    >>> model = build_transformer_translator(20, 20, max_length=16,
    ...                                      preset="tiny")
    >>> model.max_decoding_length
    16
    >>> check_decoding_length(model, 16)
    16
    >>> check_decoding_length(model, 17)
    Traceback (most recent call last):
    ValueError: `max_length` must not exceed ... sequence_length=16. Received: max_length=17
    >>> rnn = build_rnn_translator(20, 20)  # no position table
    >>> check_decoding_length(rnn, 1000)
    1000
    """
    max_length = check_positive_int("max_length", max_length)
    table = getattr(model, "max_decoding_length", None)
    if table is not None and max_length > table:
        raise ValueError(
            "`max_length` must not exceed the target position embedding's "
            f"sequence_length={table}. Received: max_length={max_length}"
        )
    return max_length
