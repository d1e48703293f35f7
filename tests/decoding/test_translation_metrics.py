import pytest

from keras_attnpred.decoding import translation_metrics

SPANISH = [
    "El gato se sentó en la alfombra.",
    "El perro se sentó en el tronco!",
    "Un gato y un perro jugaron juntos.",
    "¿Está feliz el gato? Sí, el gato está feliz.",
]


def test_metrics_of_identical_texts():
    scores = translation_metrics(SPANISH, SPANISH)
    assert scores["bleu"] == pytest.approx(100.0)
    assert scores["chrf"] == pytest.approx(100.0)
    assert "tok:13a" in scores["bleu_signature"]
    assert "case:mixed" in scores["bleu_signature"]
    assert "nc:6" in scores["chrf_signature"]


def test_metrics_of_known_strings():
    # sacrebleu's own numbers, fixed: BLEU is cased (13a keeps case).
    scores = translation_metrics(
        ["The cat sat on the mat.", "hello"],
        ["the cat sat on a mat.", "hello there"],
    )
    assert scores["bleu"] == pytest.approx(28.539, abs=1e-3)
    assert scores["chrf"] == pytest.approx(56.848, abs=1e-3)
    lower = translation_metrics(["the cat"], ["THE CAT"])
    assert lower["bleu"] == 0.0


def test_metrics_errors():
    with pytest.raises(ValueError, match="2 hypotheses and 1 references"):
        translation_metrics(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="must not be empty"):
        translation_metrics([], [])
    with pytest.raises(ValueError, match="single string"):
        translation_metrics("a", ["a"])


def _ngrams(words, n):
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def _sentence_stats(hypothesis, reference):
    """BLEU's statistics of one pair in plain Python: lengths, and the
    clipped matches and totals of 1- to 4-grams (13a tokenization is a
    split for lowercase words without punctuation)."""
    hyp, ref = hypothesis.split(), reference.split()
    matches, totals = [], []
    for n in range(1, 5):
        counts = {}
        for gram in _ngrams(ref, n):
            counts[gram] = counts.get(gram, 0) + 1
        matched = 0
        for gram in _ngrams(hyp, n):
            if counts.get(gram, 0):
                counts[gram] -= 1
                matched += 1
        matches.append(matched)
        totals.append(len(_ngrams(hyp, n)))
    return len(hyp), len(ref), matches, totals


def _bleu(stats):
    import math

    hyp = sum(s[0] for s in stats)
    ref = sum(s[1] for s in stats)
    logs = [math.log(sum(s[2][n] for s in stats) / sum(s[3][n] for s in stats))
            for n in range(4)]
    penalty = 1.0 if hyp > ref else math.exp(1 - ref / hyp)
    return 100 * penalty * math.exp(sum(logs) / 4)


def test_length_ratio_and_bootstrap_interval_against_plain_python():
    import random

    import numpy as np

    rng = random.Random(0)
    words = "the a cat dog sat ran on under mat log big small red".split()
    references, hypotheses = [], []
    for _ in range(30):
        reference = [rng.choice(words) for _ in range(rng.randint(6, 12))]
        # Every pair shares its first five words: each resample has 4-gram
        # matches, so no smoothing enters the reference BLEU below.
        hypothesis = reference[:5] + [rng.choice(words)
                                      for _ in range(rng.randint(0, 6))]
        references.append(" ".join(reference))
        hypotheses.append(" ".join(hypothesis))
    scores = translation_metrics(hypotheses, references, n_bootstrap=1000)
    stats = [_sentence_stats(h, r) for h, r in zip(hypotheses, references)]

    assert scores["bleu"] == pytest.approx(_bleu(stats), rel=1e-9)
    assert scores["hypothesis_length"] == sum(s[0] for s in stats)
    assert scores["reference_length"] == sum(s[1] for s in stats)
    assert scores["length_ratio"] == pytest.approx(
        sum(s[0] for s in stats) / sum(s[1] for s in stats), rel=1e-12)
    # sacrebleu's resamples: NumPy's generator with its default seed draws
    # the sentence indices; the scores of the resamples are ours.
    indices = np.random.default_rng(12345).choice(
        len(stats), size=(1000, len(stats)), replace=True)
    resampled = sorted(_bleu([stats[i] for i in row.tolist()])
                       for row in indices)
    lower, upper = resampled[1000 // 40], resampled[1000 - 1000 // 40 - 1]
    bootstrap = scores["bleu_bootstrap"]
    assert bootstrap["resamples"] == 1000 and bootstrap["seed"] == "12345"
    assert bootstrap["ci95"] == pytest.approx((upper - lower) / 2, rel=1e-6)
    assert bootstrap["mean"] == pytest.approx(
        sum(resampled) / len(resampled), rel=1e-6)
    assert "bleu_bootstrap" not in translation_metrics(
        hypotheses, references, n_bootstrap=0)
    with pytest.raises(ValueError, match="`n_bootstrap` must be an integer"):
        translation_metrics(hypotheses, references, n_bootstrap=-1)
