"""Small synthetic datasets written to files, for the training tests."""

import random

POSITIVE = ["good", "great", "wonderful", "fine", "lovely", "superb"]
NEGATIVE = ["bad", "awful", "terrible", "boring", "dull", "poor"]
FILLER = ["the", "movie", "was", "plot", "acting", "really", "a", "film",
          "story", "music"]
# A toy "language" pair: each word maps to one other word.
LEXICON = {
    "the": "el", "cat": "gato", "dog": "perro", "eats": "come",
    "sees": "ve", "fish": "pez", "bird": "pajaro", "big": "grande",
    "small": "pequeno", "runs": "corre",
}


def write_sentiment_csv(path, size, seed=0):
    """A CSV `text,label` whose label is told by one sentiment word."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write("text,label\n")
        for i in range(size):
            label = i % 2
            words = [rng.choice(FILLER) for _ in range(rng.randint(3, 10))]
            words.append(rng.choice(POSITIVE if label else NEGATIVE))
            rng.shuffle(words)
            f.write(" ".join(words) + f",{label}\n")
    return path


def write_translation_tsv(path, size, seed=0):
    """A TSV of word-by-word translations."""
    rng = random.Random(seed)
    words = sorted(LEXICON)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(size):
            source = [rng.choice(words) for _ in range(rng.randint(2, 6))]
            target = [LEXICON[word] for word in source]
            f.write(" ".join(source) + "\t" + " ".join(target) + "\n")
    return path


def write_corpus(path, size, seed=0):
    """Unlabelled texts for pretraining, one a line: a review of the toy
    vocabulary above, or a toy sentence followed by its word-for-word
    translation (a masked word is told by its counterpart)."""
    rng = random.Random(seed)
    words = sorted(LEXICON)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(size):
            if i % 2:
                text = [rng.choice(FILLER + POSITIVE + NEGATIVE)
                        for _ in range(rng.randint(3, 10))]
            else:
                source = [rng.choice(words) for _ in range(rng.randint(2, 6))]
                text = source + [LEXICON[word] for word in source]
            f.write(" ".join(text) + "\n")
    return path


def _topic_words(seed=0):
    """Two topics of 20 made-up words each, and 10 words of both."""
    rng = random.Random(seed)
    words = set()
    while len(words) < 50:
        words.add("".join(rng.choice(c) for c in ("bdfgklmnprstvz", "aeiou")
                          * 2))
    words = sorted(words)
    rng.shuffle(words)
    return [words[:20], words[20:40]], words[40:]


def write_topic_texts(path, size, seed=0, topic_words=None, labels=False):
    """Texts of 6 to 12 words, each of one of two topics (alternating): 70%
    of the words from the topic, the rest words of both. `topic_words`
    picks the topic words used, by index (default all 20); with `labels`,
    a CSV `text,label` whose label is the topic."""
    rng = random.Random(seed)
    topics, shared = _topic_words()
    indices = range(20) if topic_words is None else topic_words
    with open(path, "w", encoding="utf-8") as f:
        if labels:
            f.write("text,label\n")
        for i in range(size):
            topic = [topics[i % 2][j] for j in indices]
            text = " ".join(
                rng.choice(topic) if rng.random() < 0.7 else rng.choice(shared)
                for _ in range(rng.randint(6, 12))
            )
            f.write(f"{text},{i % 2}\n" if labels else text + "\n")
    return path
