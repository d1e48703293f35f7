import re

# The tokenizer splits every punctuation mark into a word of its own; these
# rules put the marks back where a writer of Western European text puts them.
# (pattern, replacement) in order; also run as RE2 inside exported graphs
# (keras_attnpred.export), so only syntax both engines share.
JOIN_PUNCTUATION_RULES = (
    (r"([¿¡(\[{«“‘]) +", r"\1"),
    (r" +([.,!?;:%)\]}»”’…])", r"\1"),
    (r"(\w) ' (\w)", r"\1'\2"),
    (r'"\s+([^"]*?)\s+"', r'"\1"'),
)
_COMPILED_RULES = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in JOIN_PUNCTUATION_RULES
)


def join_punctuation(text):
    """Joins the punctuation of space-separated tokens back onto its words.

    `SubwordTokenizer.detokenize` returns words separated by single spaces,
    punctuation included (`"¿ qué tal ?"`). This gives readable text
    (`"¿qué tal?"`) and is what BLEU and chrF should score, since the
    references are written that way.

    Args:
        text: str, words and punctuation separated by spaces.

    Returns:
        The text with no space before closing marks (`. , ! ? ; : % ) ] } »`),
        none after opening marks (`¿ ¡ ( [ { «`), apostrophes inside words
        closed up (`don ' t` -> `don't`) and straight double quotes hugging
        what they quote.

    Example:

    >>> join_punctuation('él dijo : " ¡ hola ! "')
    'él dijo: "¡hola!"'
    """
    for pattern, replacement in _COMPILED_RULES:
        text = pattern.sub(replacement, text)
    return text


def readable_text(tokenizer, text):
    """`text` from `tokenizer.detokenize`, as people write it.

    `join_punctuation` for a tokenizer whose `detokenize` spaces out
    punctuation (`SPLITS_PUNCTUATION`, WordPiece); the text unchanged for
    one that gives it back as written (SentencePiece), where the rules
    could only damage it (`"a" and "b"` is not a quotation).
    """
    if getattr(tokenizer, "SPLITS_PUNCTUATION", True):
        return join_punctuation(text)
    return text
