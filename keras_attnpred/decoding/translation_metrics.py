def translation_metrics(hypotheses, references):
    """Corpus BLEU and chrF of translations, computed with sacrebleu.

    Both scores are computed on detokenized text (plain sentences, as
    `Translator.translate` returns them), against one reference per
    hypothesis. BLEU uses sacrebleu's standard `13a` tokenization and is
    case-sensitive; chrF uses character 6-grams and beta 2 (sacrebleu's
    defaults). Scores are on a 0-100 scale. Report the signatures with the
    scores: they pin down the exact settings and the sacrebleu version.

    Args:
        hypotheses: list of str, the system's translations.
        references: list of str, the reference translations, one per
            hypothesis, in the same order.

    Returns:
        A dict with `"bleu"` and `"chrf"` (floats) and `"bleu_signature"` and
        `"chrf_signature"` (str, e.g.
        `"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"`).

    Example:

    >>> scores = translation_metrics(["the cat sat ."], ["the cat sat ."])
    >>> scores["bleu"], scores["chrf"]
    (100.00000000000004, 100.0)

    References:
        - [Papineni et al., 2002. BLEU: a Method for Automatic Evaluation of
          Machine Translation](https://aclanthology.org/P02-1040/)
        - [Popović, 2015. chrF: character n-gram F-score for automatic MT
          evaluation](https://aclanthology.org/W15-3049/)
        - [Post, 2018. A Call for Clarity in Reporting BLEU
          Scores](https://aclanthology.org/W18-6319/)
    """
    from sacrebleu.metrics import BLEU
    from sacrebleu.metrics import CHRF

    hypotheses = _as_strings("hypotheses", hypotheses)
    references = _as_strings("references", references)
    if len(hypotheses) != len(references):
        raise ValueError(
            "`hypotheses` and `references` must have the same length. "
            f"Received: {len(hypotheses)} hypotheses and "
            f"{len(references)} references"
        )
    if not hypotheses:
        raise ValueError(
            "`hypotheses` and `references` must not be empty. "
            "Received: 0 hypotheses and 0 references"
        )
    bleu = BLEU(tokenize="13a", lowercase=False)
    chrf = CHRF()
    # sacrebleu takes a list of reference streams, one per reference set.
    bleu_score = bleu.corpus_score(hypotheses, [references])
    chrf_score = chrf.corpus_score(hypotheses, [references])
    return {
        "bleu": float(bleu_score.score),
        "chrf": float(chrf_score.score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


def _as_strings(name, texts):
    if isinstance(texts, (str, bytes)):
        raise ValueError(
            f"`{name}` must be a list of strings, not a single string. "
            f"Received: {name}={texts[:50]!r}"
        )
    try:
        texts = list(texts)
    except TypeError:
        raise ValueError(
            f"`{name}` must be a list of strings. "
            f"Received: {name} of type {type(texts).__name__}"
        ) from None
    for text in texts:
        if not isinstance(text, str):
            raise ValueError(
                f"`{name}` must contain strings only. "
                f"Received: an element {text!r} of type {type(text).__name__}"
            )
    return [str(text) for text in texts]
