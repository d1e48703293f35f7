"""TensorFlow Datasets input, with a stand-in `tensorflow_datasets` module:
the real package is optional and not installed for the tests."""

import sys
import types

import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.data import LabeledTexts
from keras_attnpred.data import ParallelTexts
from keras_attnpred.data._tfds import parse_tfds_path

REVIEWS = {
    "train": ([b"A fine film.", b"Dull.", "Caf\u00e9 scene, great!".encode(),
               b"Boring plot"], [1, 0, 1, 0]),
    "test": ([b"Great!", b"Awful."], [1, 0]),
}


class ClassLabel:
    """Like `tfds.features.ClassLabel`: ids with names."""

    def __init__(self, names):
        self.names = list(names)


def fake_tfds(datasets):
    """A `tensorflow_datasets` stand-in serving `datasets`:
    name -> (features, supervised_keys, split -> column dict)."""
    module = types.ModuleType("tensorflow_datasets")
    module.calls = []

    def load(name, split, data_dir=None, with_info=False):
        module.calls.append((name, split, data_dir))
        if name not in datasets:
            raise ValueError(f"Dataset {name} not found.")
        features, supervised_keys, splits = datasets[name]
        if split not in splits:
            raise ValueError(f"Unknown split {split!r}.")
        dataset = tf.data.Dataset.from_tensor_slices(splits[split])
        info = types.SimpleNamespace(
            features=features, supervised_keys=supervised_keys
        )
        return (dataset, info) if with_info else dataset

    module.load = load
    return module


@pytest.fixture
def tfds(monkeypatch):
    module = fake_tfds({
        "reviews": (
            {"text": object(), "label": ClassLabel(["neg", "pos"])},
            ("text", "label"),
            {split: {"text": texts, "label": np.array(labels, "int64")}
             for split, (texts, labels) in REVIEWS.items()},
        ),
        "topics": (
            {"text": object(), "topic": object()},
            None,
            {"train": {"text": [b"a", b"b", b"c"],
                       "topic": [b"sport", b"art", b"sport"]}},
        ),
        "pairs/de_to_en": (
            {"de": object(), "en": object()},
            ("de", "en"),
            {"validation": {"de": [b"Hallo Welt.", b"Guten Tag."],
                            "en": [b"Hello world.", b"Good day."]}},
        ),
    })
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", module)
    return module


def test_labeled_texts_from_tfds_take_the_class_label_names(tfds):
    train = LabeledTexts.from_tfds("reviews", "train", data_dir="/tfds")
    assert train.texts == ("A fine film.", "Dull.", "Caf\u00e9 scene, great!",
                           "Boring plot")
    assert train.labels.tolist() == [1, 0, 1, 0]
    assert train.label_names == ("neg", "pos")
    assert tfds.calls == [("reviews", "train", "/tfds")]
    # Fixed class order: the ids follow the names.
    swapped = LabeledTexts.from_tfds("reviews", "test",
                                     label_names=["pos", "neg"])
    assert swapped.labels.tolist() == [0, 1]
    assert swapped.label_names == ("pos", "neg")


def test_labels_without_class_label_are_read_like_csv_labels(tfds):
    topics = LabeledTexts.from_tfds("topics", text_key="text",
                                    label_key="topic")
    assert topics.label_names == ("art", "sport")
    assert topics.labels.tolist() == [1, 0, 1]


def test_bad_examples_are_named_or_skipped(monkeypatch):
    module = fake_tfds({"bad": (
        {"text": object(), "label": ClassLabel(["a", "b"])},
        None,
        {"train": {"text": [b"good", b"\xffbad", b"  ", b"fine"],
                   "label": np.array([0, 1, 1, 1], "int64")}},
    )})
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", module)
    with pytest.raises(ValueError, match=r"tfds:bad:train, example 2: the "
                       r"text is not valid UTF-8"):
        LabeledTexts.from_tfds("bad")
    kept = LabeledTexts.from_tfds("bad", on_error="skip")
    assert kept.texts == ("good", "fine") and kept.skipped == 2


def test_unknown_names_splits_and_features_name_them(tfds):
    with pytest.raises(ValueError, match="tfds:nope:train: Dataset nope"):
        LabeledTexts.from_tfds("nope")
    with pytest.raises(ValueError, match="tfds:reviews:dev: Unknown split"):
        LabeledTexts.from_tfds("reviews", "dev")
    with pytest.raises(ValueError, match=r"`text_key` must be a feature of "
                       r"the dataset, one of \['text', 'label'\]. Received: "
                       r"text_key='review'"):
        LabeledTexts.from_tfds("reviews", text_key="review")


def test_parallel_texts_from_tfds_use_the_supervised_keys(tfds):
    pairs = ParallelTexts.from_tfds("pairs/de_to_en", "validation")
    assert pairs.sources == ("Hallo Welt.", "Guten Tag.")
    assert pairs.targets == ("Hello world.", "Good day.")
    swapped = ParallelTexts.from_tfds("pairs/de_to_en", "validation",
                                      source_key="en", target_key="de")
    assert swapped.sources == pairs.targets
    with pytest.raises(ValueError, match="no \\(source, target\\) "
                       "`supervised_keys`"):
        ParallelTexts.from_tfds("topics")


def test_missing_package_is_a_clear_error(monkeypatch):
    # None in sys.modules makes `import tensorflow_datasets` fail.
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    for read in (lambda: LabeledTexts.from_tfds("imdb_reviews"),
                 lambda: ParallelTexts.from_tfds("wmt14_translate/de-en")):
        with pytest.raises(ModuleNotFoundError,
                           match="pip install tensorflow-datasets"):
            read()


def test_tfds_paths():
    assert parse_tfds_path("tfds:imdb_reviews", "test") == (
        "imdb_reviews", "test")
    assert parse_tfds_path("tfds:imdb_reviews:train[:10%]", "test") == (
        "imdb_reviews", "train[:10%]")
    assert parse_tfds_path("tfds:ag_news:1.0.0:train", "test") == (
        "ag_news:1.0.0", "train")
    assert parse_tfds_path("tfds:wmt/de-en:train[:50%]+test[50%:]", "x") == (
        "wmt/de-en", "train[:50%]+test[50%:]")
    for bad in ("tfds:", "tfds::train", "tfds:imdb_reviews:"):
        with pytest.raises(ValueError, match="tfds:NAME:SPLIT"):
            parse_tfds_path(bad, "train")


def test_a_training_config_reads_tfds_splits(tfds):
    from keras_attnpred.training import TrainingConfig
    from keras_attnpred.training.prepare import read_parts as read_data

    config = TrainingConfig.from_dict({
        "task": "sentiment", "train_path": "tfds:reviews",
        "validation_path": "tfds:reviews:test",
        "test_path": "tfds:reviews:test",
    })
    parts = read_data(config)
    assert parts["train"].texts[0] == "A fine film."
    assert parts["validation"].texts == ("Great!", "Awful.")
    assert parts["test"].label_names == ("neg", "pos")
    assert [call[:2] for call in tfds.calls] == [
        ("reviews", "train"), ("reviews", "test"), ("reviews", "test")]
    translation = TrainingConfig.from_dict({
        "task": "translation", "train_path": "tfds:pairs/de_to_en:validation",
        "validation_path": "tfds:pairs/de_to_en", "reverse": True,
    })
    parts = read_data(translation)
    assert parts["train"].sources == ("Hello world.", "Good day.")
    assert parts["validation"].targets == ("Hallo Welt.", "Guten Tag.")
    # A column index cannot name a feature.
    config = TrainingConfig.from_dict({
        "task": "sentiment", "train_path": "tfds:reviews", "text_column": 0,
    })
    with pytest.raises(ValueError, match="`text_column` must name a feature "
                       "of tfds:reviews"):
        read_data(config)
