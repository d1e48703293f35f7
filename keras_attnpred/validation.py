"""Argument checks shared by the whole package.

Each raises a `ValueError` that names the argument and the value received,
Keras style: "`num_heads` must be a positive integer. Received: num_heads=0".
Plain Python and NumPy only, so any subpackage can use it.
"""

import numpy as np

# `HashedBigramEmbedding` hashes `first * vocabulary_size + second` in int32
# (JAX runs without 64-bit integers by default): vocabulary_size**2 - 1 must
# stay below 2**31.
MAX_BIGRAM_VOCABULARY_SIZE = 46340
# Rows of a hashed bigram table: 2**24 rows of 128 float32 are 8 GiB
# already; 10**12 asked for terabytes and died in the allocator.
MAX_BIGRAM_BUCKETS = 2**24
# Hypotheses per text in beam search: its memory and time grow linearly
# (with the batch, the vocabulary and the length); published systems use
# 4-12, and 100,000 asked for 147 GiB.
MAX_BEAM_WIDTH = 256


def model_vocabulary_sizes(model):
    """`{"tokenizer" | "source_tokenizer" | "target_tokenizer": rows}`: the
    embedding rows of a task model of the package (empty for others)."""
    sizes = {}
    backbone = getattr(model, "backbone", None)
    if isinstance(getattr(backbone, "vocabulary_size", None), int):
        sizes["tokenizer"] = backbone.vocabulary_size
    for side in ("source", "target"):
        size = getattr(model, f"{side}_vocabulary_size", None)
        if isinstance(size, int):
            sizes[f"{side}_tokenizer"] = size
    return sizes


def check_vocabulary_fits(model, name, tokenizer, where=""):
    """Raises when `tokenizer` (the model's `name`) gives ids past the
    model's embedding: each would fail deep in a gather, or in a TFLite
    model answer from another row."""
    rows = model_vocabulary_sizes(model).get(name)
    size = getattr(tokenizer, "vocabulary_size", None)
    if rows is None or not isinstance(size, int) or size <= rows:
        return
    raise ValueError(
        f"The {name}{where} has {size} tokens, more than the {rows} rows of "
        "the model's embedding: it is not the vocabulary the model was "
        f"trained with. Received: {name}.vocabulary_size={size}"
    )


def check_positive_int(name, value, allow_none=False, minimum=1):
    """`value` as an int, if it is one and at least `minimum`.

    Returns:
        `int(value)`, or None when `value` is None and `allow_none` is set.
    """
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < minimum
    ):
        what = (
            "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        )
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return int(value)


def check_positive_number(name, value):
    """Raises unless `value` is an int or float greater than 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not value > 0
    ):
        raise ValueError(
            f"`{name}` must be a positive number. Received: {name}={value!r}"
        )


def check_rate(name, value):
    """Raises unless `value` is a number in [0, 1)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0.0 <= value < 1.0
    ):
        raise ValueError(
            f"`{name}` must be a float in [0, 1). Received: {name}={value!r}"
        )


def check_choice(name, value, choices):
    """Raises unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}. "
            f"Received: {name}={value!r}"
        )


def check_bool(name, value):
    """Raises unless `value` is a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")


def check_texts(name, texts, allow_empty=False):
    """`texts` as a list of Python str, each valid Unicode.

    `bytes` elements are decoded as UTF-8 and NumPy strings become `str`.
    A text holding a lone surrogate (what Python makes of undecodable bytes
    in `sys.argv` or with `errors="surrogateescape"`) cannot become UTF-8
    and is refused here, by its index, rather than deep inside TensorFlow.

    Args:
        name: the argument's name, for messages.
        texts: a sequence of str or bytes (not a single str).
        allow_empty: whether an empty sequence is fine.

    Returns:
        A list of str.
    """
    if isinstance(texts, (str, bytes)):
        raise ValueError(
            f"`{name}` must be a sequence of strings, not a single string. "
            f"Received: {name}={texts[:50]!r}"
        )
    try:
        texts = list(texts)
    except TypeError:
        raise ValueError(
            f"`{name}` must be a sequence of strings. "
            f"Received: {name} of type {type(texts).__name__}"
        ) from None
    result = []
    for index, text in enumerate(texts):
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"`{name}[{index}]` is not valid UTF-8 (byte "
                    f"{text[error.start:error.start + 1]!r} at position "
                    f"{error.start}). Received: {name}[{index}]={text[:50]!r}"
                ) from None
        if isinstance(text, np.str_):
            text = str(text)
        if not isinstance(text, str):
            raise ValueError(
                f"`{name}` must contain strings only. Received: an element "
                f"{text!r} of type {type(text).__name__} at index {index}"
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"`{name}[{index}]` is not valid Unicode: it holds the lone "
                f"surrogate {text[error.start]!r} at position {error.start} "
                "(undecodable bytes read as text?). "
                f"Received: {name}[{index}]={text[:50]!r}"
            ) from None
        result.append(text)
    if not result and not allow_empty:
        raise ValueError(f"`{name}` must not be empty. Received: {name}=[]")
    return result
