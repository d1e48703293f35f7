def check_tokenizer(name, tokenizer):
    """Raises a `ValueError` unless `tokenizer` has a callable `tokenize`.

    The check of the `tf.data` pipelines and `explain_classification`, so
    that a wrong argument fails with its name rather than deep in a graph.

    Args:
        name: str, the argument's name, for the message.
        tokenizer: a `SubwordTokenizer`, a `SentencePieceTokenizer`, or any
            object with their `tokenize`.

    Raises:
        ValueError: `tokenizer` has no callable `tokenize`.

    Example:

    >>> check_tokenizer("tokenizer", tokenizer)  # passes silently
    >>> check_tokenizer("tokenizer", "wordpiece")
    Traceback (most recent call last):
    ...
    ValueError: `tokenizer` must be a `SubwordTokenizer` (or have `tokenize`). Received: tokenizer of type str
    """
    if not callable(getattr(tokenizer, "tokenize", None)):
        raise ValueError(
            f"`{name}` must be a `SubwordTokenizer` (or have `tokenize`). "
            f"Received: {name} of type {type(tokenizer).__name__}"
        )
