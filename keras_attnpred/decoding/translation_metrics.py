def translation_metrics(hypotheses, references, n_bootstrap=1000):
    """Corpus BLEU and chrF of translations, computed with sacrebleu.

    Both scores are computed on detokenized text (plain sentences, as
    `Translator.translate` returns them), against one reference per
    hypothesis. BLEU uses sacrebleu's standard `13a` tokenization and is
    case-sensitive; chrF uses character 6-grams and beta 2 (sacrebleu's
    defaults). Scores are on a 0-100 scale. Report the signatures with the
    scores: they pin down the exact settings and the sacrebleu version.

    With `n_bootstrap` > 1, BLEU also gets sacrebleu's bootstrap estimate
    (Koehn, 2004): the sentences are resampled with replacement
    `n_bootstrap` times (seeded by `SACREBLEU_SEED`, default 12345), and
    the mean of the resampled scores and the half-width of their central
    95% are reported, as `sacrebleu --confidence` prints `μ = mean ± ci`.

    Args:
        hypotheses: list of str, the system's translations.
        references: list of str, the reference translations, one per
            hypothesis, in the same order.
        n_bootstrap: int, the bootstrap resamples of BLEU; 0 or 1 for none.

    Returns:
        A dict with `"bleu"` and `"chrf"` (floats), `"bleu_signature"` and
        `"chrf_signature"` (str, e.g.
        `"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"`),
        `"length_ratio"` (the hypotheses' length over the references', in
        BLEU's tokens; BLEU's brevity penalty applies below 1),
        `"hypothesis_length"` and `"reference_length"`, and with
        `n_bootstrap` > 1 `"bleu_bootstrap"`: `{"mean", "ci95", "resamples",
        "seed"}` (`ci95` the half-width of the 95% interval).

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
        - [Koehn, 2004. Statistical Significance Tests for Machine
          Translation Evaluation](https://aclanthology.org/W04-3250/)
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
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or (
        n_bootstrap < 0
    ):
        raise ValueError(
            "`n_bootstrap` must be an integer >= 0. Received: "
            f"n_bootstrap={n_bootstrap!r}"
        )
    bleu = BLEU(tokenize="13a", lowercase=False)
    chrf = CHRF()
    # sacrebleu takes a list of reference streams, one per reference set.
    bleu_score = bleu.corpus_score(hypotheses, [references])
    chrf_score = chrf.corpus_score(hypotheses, [references])
    report = {
        "bleu": float(bleu_score.score),
        "chrf": float(chrf_score.score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "length_ratio": float(bleu_score.ratio),
        "hypothesis_length": int(bleu_score.sys_len),
        "reference_length": int(bleu_score.ref_len),
    }
    if n_bootstrap > 1:
        # Its own metric object: the bootstrap settings would otherwise
        # enter the signature of the score itself.
        resampler = BLEU(tokenize="13a", lowercase=False)
        resampled = resampler.corpus_score(
            hypotheses, [references], n_bootstrap=n_bootstrap
        )
        # sacrebleu keeps the estimate in these attributes (it prints them
        # from there); its JSON output rounds them.
        report["bleu_bootstrap"] = {
            "mean": float(resampled._mean),
            "ci95": float(resampled._ci),
            "resamples": n_bootstrap,
            "seed": resampler.seed,
        }
    return report


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
