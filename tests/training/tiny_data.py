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
