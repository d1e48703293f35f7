from keras_attnpred.text._utils import read_tokenizer_config
from keras_attnpred.text.sentence_piece_tokenizer import SentencePieceTokenizer
from keras_attnpred.text.subword_tokenizer import SubwordTokenizer

# The tokenizer classes by their "kind" (`TrainingConfig.tokenizer`).
TOKENIZERS = {
    SubwordTokenizer.KIND: SubwordTokenizer,
    SentencePieceTokenizer.KIND: SentencePieceTokenizer,
}


def tokenizer_class(kind):
    """The tokenizer class of `kind`: `"wordpiece"` or `"sentencepiece"`.

    `kind` is a `TrainingConfig.tokenizer`, and the `KIND` of each class.

    Example:

    >>> tokenizer_class("sentencepiece").__name__
    'SentencePieceTokenizer'
    >>> tokenizer_class(SubwordTokenizer.KIND) is SubwordTokenizer
    True
    """
    if kind not in TOKENIZERS:
        raise ValueError(
            f"`kind` must be one of {sorted(TOKENIZERS)}. Received: "
            f"kind={kind!r}"
        )
    return TOKENIZERS[kind]


def load_tokenizer(directory):
    """Reads a tokenizer saved by `SubwordTokenizer` or
    `SentencePieceTokenizer`, whichever wrote `directory`.

    The `"kind"` in `directory/tokenizer.json` picks the class; a directory
    written before there were two kinds has none and holds WordPiece.

    Args:
        directory: str, a folder written by a tokenizer's `save`.

    Returns:
        A `SubwordTokenizer` or a `SentencePieceTokenizer`.

    Raises:
        ValueError: naming the file, when `tokenizer.json` is missing,
            corrupt or of an unknown kind, or the files of that kind are.

    Example:

    >>> texts = ["The cat sat.", "The dog sat on the cat!"]
    >>> SentencePieceTokenizer.train(texts, vocabulary_size=40).save("sp")
    >>> load_tokenizer("sp")
    SentencePieceTokenizer(vocabulary_size=..., lowercase=True, ...)
    >>> tokenizer.save("wordpiece")  # a SubwordTokenizer
    >>> load_tokenizer("wordpiece")
    SubwordTokenizer(vocabulary_size=..., lowercase=True, strip_accents=False)
    """
    config_path, config = read_tokenizer_config(directory)
    kind = config.get("kind", SubwordTokenizer.KIND)
    if kind not in TOKENIZERS:
        raise ValueError(
            f"Corrupt tokenizer settings file {config_path}: `kind` must be "
            f"one of {sorted(TOKENIZERS)}. Received: kind={kind!r}"
        )
    return TOKENIZERS[kind].load(directory)
