"""Small trained runs shared by the export tests, built once per session.

The runs are made in memory (`TrainingRun` of a briefly fitted model and a
tokenizer learned on the toy data of `tests/training/tiny_data.py`), which is
much faster than `train`.
"""

import random

import keras
import numpy as np
import pytest

from keras_attnpred.data import RaggedIds
from keras_attnpred.models import MaskedSparseCategoricalCrossentropy
from keras_attnpred.models import build_rnn_classifier
from keras_attnpred.models import build_rnn_translator
from keras_attnpred.models import build_transformer_classifier
from keras_attnpred.models import build_transformer_translator
from keras_attnpred.text import classification_dataset
from keras_attnpred.text import tokenizer_class
from keras_attnpred.text import translation_dataset
from keras_attnpred.training import TrainingConfig
from keras_attnpred.training import TrainingRun
from tests.training.tiny_data import FILLER
from tests.training.tiny_data import LEXICON
from tests.training.tiny_data import NEGATIVE
from tests.training.tiny_data import POSITIVE

MAX_LENGTH = 16


def sentiment_texts(count, seed=0):
    """Reviews whose label is told by one sentiment word, and the labels."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 10))]
        words.append(rng.choice(POSITIVE if i % 2 else NEGATIVE))
        rng.shuffle(words)
        # Mixed case and accents: the exports must normalise like training.
        texts.append(" ".join(words).capitalize() + rng.choice([".", "!"]))
        labels.append(i % 2)
    return texts, np.array(labels)


def translation_pairs(count, seed=0):
    rng = random.Random(seed)
    words = sorted(LEXICON)
    sources, targets = [], []
    for _ in range(count):
        source = [rng.choice(words) for _ in range(rng.randint(2, 6))]
        sources.append(" ".join(source).capitalize() + ".")
        targets.append(" ".join(LEXICON[w] for w in source) + " .")
    return sources, targets


def quantized_copy(run, directory, mode="int8"):
    """A `TrainingRun` like `run` with a copy of its model quantized to
    `mode` (the session's runs are shared, so never quantized in place)."""
    path = directory / "model.keras"
    run.model.save(path)
    model = keras.models.load_model(path)
    model.quantize(mode)
    return TrainingRun(
        run.config,
        model,
        {},
        tokenizer=run.tokenizer,
        label_names=run.label_names,
        source_tokenizer=run.source_tokenizer,
        target_tokenizer=run.target_tokenizer,
    )


def _config(task, model):
    return TrainingConfig.from_dict(
        {"task": task, "model": model, "train_path": "unused.csv",
         "max_length": MAX_LENGTH}
    )


_RUNS = {}


def _classifier_run(model_kind, tokenizer_kind="wordpiece"):
    keras.utils.set_random_seed(0)
    texts, labels = sentiment_texts(256)
    tokenizer = tokenizer_class(tokenizer_kind).train(
        texts, vocabulary_size=100
    )
    if model_kind.startswith("transformer"):
        model = build_transformer_classifier(
            tokenizer.vocabulary_size, 2, MAX_LENGTH, preset="tiny",
            model_dim=32, num_heads=2, intermediate_dim=64, dropout=0.0,
            bigram_buckets=(
                97 if model_kind == "transformer_bigrams" else None
            ),
        )
    else:
        model = build_rnn_classifier(
            tokenizer.vocabulary_size, 2, embedding_dim=16, units=16
        )
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    data = classification_dataset(
        texts, labels, tokenizer, batch_size=32, max_length=MAX_LENGTH
    )
    model.fit(data, epochs=3, verbose=0)
    return TrainingRun(
        _config("sentiment", model_kind.split("_")[0]), model, {},
        tokenizer=tokenizer,
        label_names=("negative", "positive"),
    )


def _translator_run(model_kind="transformer", tokenizer_kind="wordpiece"):
    keras.utils.set_random_seed(0)
    sources, targets = translation_pairs(512)
    tokenizer = tokenizer_class(tokenizer_kind)
    source_tokenizer = tokenizer.train(sources, vocabulary_size=60)
    target_tokenizer = tokenizer.train(targets, vocabulary_size=60)
    sizes = (source_tokenizer.vocabulary_size,
             target_tokenizer.vocabulary_size)
    if model_kind == "transformer":
        model = build_transformer_translator(
            *sizes, MAX_LENGTH, preset="tiny", model_dim=32, num_heads=2,
            intermediate_dim=64, dropout=0.0,
        )
        epochs = 8
    else:
        # LSTM: two carried states; Luong: the dot-product attention.
        model = build_rnn_translator(
            *sizes, attention="luong", rnn="lstm", embedding_dim=16,
            units=32,
        )
        epochs = 4
    model.compile(
        keras.optimizers.Adam(5e-3), MaskedSparseCategoricalCrossentropy()
    )
    data = translation_dataset(
        sources, targets, source_tokenizer, target_tokenizer, batch_size=32,
        max_length=MAX_LENGTH,
    )
    model.fit(data, epochs=epochs, verbose=0)
    return TrainingRun(
        _config("translation", model_kind), model, {},
        source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer,
    )


@pytest.fixture(scope="session")
def classifier_run():
    """`classifier_run(kind, tokenizer)`: a trained "transformer",
    "transformer_bigrams" (with `HashedBigramEmbedding`) or "rnn" run with a "wordpiece" (default) or "sentencepiece" tokenizer."""

    def get(kind="transformer", tokenizer="wordpiece"):
        key = kind if tokenizer == "wordpiece" else (kind, tokenizer)
        if key not in _RUNS:
            _RUNS[key] = _classifier_run(kind, tokenizer)
        return _RUNS[key]

    return get


HEAD_TOKENS = 5


@pytest.fixture(scope="session")
def head_and_tail_run(classifier_run):
    """The "transformer" run's model, read as `head_tokens` runs read long
    texts: their first `HEAD_TOKENS` ids and their last
    `MAX_LENGTH - HEAD_TOKENS`."""
    run = classifier_run("transformer")
    config = TrainingConfig.from_dict(
        {**_config("sentiment", "transformer").to_dict(),
         "head_tokens": HEAD_TOKENS}
    )
    return TrainingRun(config, run.model, {}, tokenizer=run.tokenizer,
                       label_names=run.label_names)


def head_and_tail_probabilities(run, texts):
    """What the Keras model says of `texts` cut as in training, and the
    whole (uncut) id rows, 0-padded."""
    rows = run.tokenizer.tokenize(texts).to_list()
    ids = RaggedIds.from_rows(rows).padded(
        np.arange(len(rows)), MAX_LENGTH, HEAD_TOKENS
    )
    logits = keras.ops.convert_to_numpy(run.model.predict(ids, verbose=0))
    whole = np.zeros((len(rows), max(map(len, rows))), "int32")
    for i, row in enumerate(rows):
        whole[i, : len(row)] = row
    return keras.ops.convert_to_numpy(keras.ops.softmax(logits)), whole


@pytest.fixture(scope="session")
def translator_run():
    if "translator" not in _RUNS:
        _RUNS["translator"] = _translator_run()
    return _RUNS["translator"]


@pytest.fixture(scope="session")
def sentencepiece_translator_run():
    """The toy Transformer translator with SentencePiece tokenizers."""
    if "sentencepiece_translator" not in _RUNS:
        _RUNS["sentencepiece_translator"] = _translator_run(
            tokenizer_kind="sentencepiece"
        )
    return _RUNS["sentencepiece_translator"]


@pytest.fixture(scope="session")
def rnn_translator_run():
    """A briefly trained Luong LSTM translator run."""
    if "rnn_translator" not in _RUNS:
        _RUNS["rnn_translator"] = _translator_run("rnn")
    return _RUNS["rnn_translator"]


@pytest.fixture(scope="session")
def classifier_export(classifier_run, tmp_path_factory):
    """The transformer classifier's SavedModel: `(run, base_dir, path)`."""
    from keras_attnpred.export import export_classifier_saved_model

    run = classifier_run("transformer")
    base = tmp_path_factory.mktemp("serving") / "sentiment"
    return run, str(base), export_classifier_saved_model(run, str(base))
