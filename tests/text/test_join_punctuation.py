import pytest

from keras_attnpred.text import join_punctuation


@pytest.mark.parametrize(
    "spaced, joined",
    [
        ("¿ qué tal ?", "¿qué tal?"),
        ("¡ hola , amigo !", "¡hola, amigo!"),
        ("i don ' t know .", "i don't know."),
        ('él dijo : " ¡ hola ! "', 'él dijo: "¡hola!"'),
        ("es el 50 % ( más o menos ) .", "es el 50% (más o menos)."),
        ("« sí » , dijo .", "«sí», dijo."),
        ("no punctuation here", "no punctuation here"),
        ("", ""),
    ],
)
def test_joins_punctuation_onto_words(spaced, joined):
    assert join_punctuation(spaced) == joined


def test_keeps_quotes_with_the_words_they_quote():
    text = '" are these your books ? " " no , they \' re not mine . "'
    assert join_punctuation(text) == '"are these your books?" "no, they\'re not mine."'
