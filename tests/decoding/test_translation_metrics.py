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
