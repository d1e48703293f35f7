import re

# The tokenizer splits every punctuation mark into a word of its own; these
# rules put the marks back where a writer of Western European text puts them.
_NO_SPACE_BEFORE = re.compile(r" +([.,!?;:%)\]}»”’…])")
_NO_SPACE_AFTER = re.compile(r"([¿¡(\[{«“‘]) +")
_APOSTROPHE_IN_WORD = re.compile(r"(\w) ' (\w)")
_CLOSING_QUOTE = re.compile(r'"\s+([^"]*?)\s+"')


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
    text = _NO_SPACE_AFTER.sub(r"\1", text)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    text = _APOSTROPHE_IN_WORD.sub(r"\1'\2", text)
    return _CLOSING_QUOTE.sub(r'"\1"', text)
