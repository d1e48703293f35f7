import numpy as np

from keras_attnpred.validation import check_choice

SUFFIX_INDICATOR = "##"
# SentencePiece's mark of a piece that starts a word (U+2581).
WORD_START = "\u2581"
# Reserved tokens that are never part of a word (`[UNK]` may be).
CONTROL_TOKENS = ("[PAD]", "[START]", "[END]")
REDUCTIONS = ("sum", "mean")


def merge_subwords(tokens, weights, axis=-1, reduction="sum"):
    """Merges WordPiece or SentencePiece pieces back into words, with their
    weights.

    WordPiece: a piece starting with `"##"` continues the word before it
    (`"play", "##ing"` -> `"playing"`); any other token starts a word.
    SentencePiece (tokens of which one or more start with `"▁"`, U+2581): a
    piece starting with `"▁"` starts a word, the mark dropped
    (`"▁play", "ing"` -> `"playing"`), `[PAD]`, `[START]` and `[END]` are
    words of their own, and any other piece continues the word before it. The weights of a word's pieces along `axis` are combined by
    `reduction`:

    - `"sum"` for weights that share out a total: token importance, and the
      attention *to* tokens (the columns of an alignment or rollout). A
      distribution stays a distribution: the weight of a word is the weight
      of all its pieces.
    - `"mean"` for the attention *from* tokens (the rows): a word attends
      the way its pieces do on average, and each row still sums to 1.

    This is the convention of Clark et al. (2019); `Alignment` and
    `TextExplanation` apply it.

    Args:
        tokens: list of str, the pieces, as long as `weights` along `axis`.
        weights: float array.
        axis: int, the axis of `weights` that runs over `tokens`.
        reduction: `"sum"` or `"mean"`.

    Returns:
        A tuple `(words, merged)`: the list of words and the float32 weights
        with `len(words)` entries along `axis`.

    Example:

    >>> words, weights = merge_subwords(  # WordPiece: "##" continues
    ...     ["the", "play", "##ing", "."], [0.1, 0.3, 0.4, 0.2])
    >>> words, weights.round(3)
    (['the', 'playing', '.'], array([0.1, 0.7, 0.2], dtype=float32))
    >>> words, weights = merge_subwords(  # SentencePiece: "▁" starts
    ...     ["▁the", "▁play", "ing", "."], [0.1, 0.3, 0.4, 0.2])
    >>> words, weights.round(3)
    (['the', 'playing.'], array([0.1, 0.9], dtype=float32))

    References:
        - [Clark et al., 2019. What Does BERT Look At? An Analysis of BERT's
          Attention](https://arxiv.org/abs/1906.04341)
    """
    check_choice("reduction", reduction, REDUCTIONS)
    tokens = [str(token) for token in tokens]
    weights = np.asarray(weights, dtype="float32")
    if weights.ndim == 0 or not -weights.ndim <= axis < weights.ndim:
        raise ValueError(
            f"`axis` must be an axis of `weights` (rank {weights.ndim}). "
            f"Received: axis={axis}"
        )
    if weights.shape[axis] != len(tokens):
        raise ValueError(
            f"`tokens` must have one token per entry of `weights` along axis "
            f"{axis}. Received: {len(tokens)} tokens and "
            f"weights.shape={weights.shape}"
        )
    sentencepiece = any(token.startswith(WORD_START) for token in tokens)
    words, groups = [], []
    for index, token in enumerate(tokens):
        if sentencepiece:
            marked = token.startswith(WORD_START)
            continues = not marked and token not in CONTROL_TOKENS
            piece = token[len(WORD_START):] if marked else token
        else:
            continues = token.startswith(SUFFIX_INDICATOR)
            piece = token[len(SUFFIX_INDICATOR):]
        if continues and groups:
            words[-1] += piece
            groups[-1].append(index)
        else:
            words.append(piece if sentencepiece else token)
            groups.append([index])
    combine = np.sum if reduction == "sum" else np.mean
    moved = np.moveaxis(weights, axis, 0)
    merged = np.stack(
        [combine(moved[group], axis=0) for group in groups]
    ) if groups else moved[:0]
    return words, np.moveaxis(merged, 0, axis).astype("float32")
