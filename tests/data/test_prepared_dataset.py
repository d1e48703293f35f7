import json
import math
import os

import numpy as np
import pytest

from keras_attnpred.data import PreparedDataset
from keras_attnpred.data import RaggedIds

LABELS = ["negative", "neutral", "positive"]


def _rows(lengths, seed, top=900):
    rng = np.random.default_rng(seed)
    return RaggedIds.from_rows(
        [rng.integers(4, top, int(n)).tolist() for n in lengths]
    )


def _classification(n=200, seed=0, task="classification", longest=100):
    rng = np.random.default_rng(seed)
    parts = {}
    for offset, (name, rows) in enumerate(
        [("train", n), ("validation", n // 4), ("test", n // 5)]
    ):
        lengths = rng.integers(0, longest, rows)
        parts[name] = {
            "ids": _rows(lengths, seed + offset),
            "labels": rng.integers(0, len(LABELS), rows),
        }
    return PreparedDataset(
        task,
        parts,
        label_names=LABELS,
        vocabulary_sizes={"tokenizer": 900},
        settings={"max_examples": None, "vocabulary_size": 900},
    )


def _translation(n=150, seed=0, longest=40):
    rng = np.random.default_rng(seed)
    parts = {}
    for offset, (name, rows) in enumerate([("train", n), ("validation", 30)]):
        parts[name] = {
            "source": _rows(rng.integers(0, longest, rows), seed + offset),
            "target": _rows(rng.integers(0, longest, rows), seed + 10 + offset,
                            top=70000),
        }
    return PreparedDataset(
        "translation",
        parts,
        vocabulary_sizes={"source_tokenizer": 900, "target_tokenizer": 70000},
        settings={"reverse": False},
    )


def _same_rows(a, b):
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.values.dtype == b.values.dtype


@pytest.mark.parametrize("task", ["classification", "sentiment"])
def test_classification_round_trip(tmp_path, task):
    data = _classification(task=task)
    data.save(tmp_path / "prepared")
    assert data.directory == tmp_path / "prepared"
    assert sorted(os.listdir(tmp_path / "prepared")) == sorted(
        ["prepared.json"]
        + [f"{part}.{kind}.npy" for part in ("train", "validation", "test")
           for kind in ("ids", "offsets", "labels")]
    )
    again = PreparedDataset.load(tmp_path / "prepared")
    assert again.task == task and again.is_classification
    assert again.label_names == tuple(LABELS)
    assert again.vocabulary_sizes == {"tokenizer": 900}
    assert again.tokenizer_names == ("tokenizer",)
    assert again.settings == {"max_examples": None, "vocabulary_size": 900}
    assert again.directory == tmp_path / "prepared"
    assert list(again.parts) == ["train", "validation", "test"]
    for name in data.parts:
        _same_rows(again.part(name)["ids"], data.part(name)["ids"])
        np.testing.assert_array_equal(
            again.part(name)["labels"], data.part(name)["labels"]
        )
        assert again.part(name)["labels"].dtype == np.int32
    assert again.statistics == data.statistics
    assert repr(again) == (
        f"PreparedDataset(task={task!r}, train=200, validation=50, test=40)"
    )


def test_translation_round_trip(tmp_path):
    data = _translation()
    assert data.part("train")["target"].values.dtype == np.int32
    data.save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["prepared.json"]
        + [f"{part}.{side}.{kind}.npy" for part in ("train", "validation")
           for side in ("source", "target") for kind in ("ids", "offsets")]
    )
    again = PreparedDataset.load(tmp_path, mmap=False)
    assert again.task == "translation" and not again.is_classification
    assert again.label_names is None
    assert again.tokenizer_names == ("source_tokenizer", "target_tokenizer")
    assert again.vocabulary_sizes == data.vocabulary_sizes
    assert again.settings == {"reverse": False}
    for name in ("train", "validation"):
        for side in ("source", "target"):
            _same_rows(again.part(name)[side], data.part(name)[side])
    assert again.statistics == data.statistics
    with open(tmp_path / "prepared.json", encoding="utf-8") as f:
        description = json.load(f)
    assert description["format"] == "keras_attnpred.prepared_dataset"
    assert description["format_version"] == 1
    assert description["parts"] == data.statistics


def test_loading_maps_the_ids(tmp_path):
    _classification().save(tmp_path)
    ids = PreparedDataset.load(tmp_path).part("train")["ids"].values
    while not isinstance(ids, np.memmap):
        ids = ids.base
        assert ids is not None, "the ids were read, not mapped"


def _summary(lengths):
    return {
        "min": int(np.min(lengths)),
        "median": float(np.median(lengths)),
        "p95": float(np.percentile(lengths, 95)),
        "max": int(np.max(lengths)),
        "mean": round(float(np.mean(lengths)), 1),
    }


def test_classification_statistics():
    data = _classification()
    for name in ("train", "validation", "test"):
        part = data.part(name)
        stats = data.statistics[name]
        assert stats["rows"] == len(part["labels"])
        counts = np.bincount(part["labels"], minlength=len(LABELS))
        assert stats["label_counts"] == dict(zip(LABELS, counts.tolist()))
        assert list(stats["label_counts"]) == LABELS  # In id order.
        assert stats["lengths"] == {"text": _summary(part["ids"].lengths)}


def test_translation_statistics_and_lengths():
    data = _translation()
    part = data.part("train")
    stats = data.statistics["train"]
    assert stats["rows"] == 150
    assert stats["lengths"] == {
        "source": _summary(part["source"].lengths),
        "target": _summary(part["target"].lengths),
    }
    expected = [
        max(len(part["source"].row(i)), len(part["target"].row(i)) + 1)
        for i in range(150)
    ]
    np.testing.assert_array_equal(data.lengths("train"), expected)
    # A pair with an empty target still needs a step for [END].
    one = PreparedDataset(
        "translation",
        {"train": {"source": RaggedIds.from_rows([[], [5, 6, 7], [5]]),
                   "target": RaggedIds.from_rows([[], [8], [8, 9, 10]])}},
        vocabulary_sizes={"source_tokenizer": 11, "target_tokenizer": 11},
    )
    assert one.lengths("train").tolist() == [1, 3, 4]


def test_classification_lengths_are_the_text_lengths():
    data = _classification()
    np.testing.assert_array_equal(
        data.lengths("validation"), data.part("validation")["ids"].lengths
    )
    with pytest.raises(ValueError, match=r"No part 'dev' in this prepared "
                                         r"dataset. Received: part='dev'; "
                                         r"it has \['test', 'train', "
                                         r"'validation'\]"):
        data.lengths("dev")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_default_max_length_classification(seed):
    rng = np.random.default_rng(seed)
    lengths = np.minimum(rng.lognormal(4.0, 0.8, 400).astype(int), 2000)
    data = PreparedDataset(
        "classification",
        {"train": {"ids": _rows(lengths, seed),
                   "labels": np.zeros(400, int)}},
        label_names=["only"], vocabulary_sizes={"tokenizer": 900},
    )
    expected = min(math.ceil(np.percentile(lengths, 95) / 8) * 8, 512)
    assert data.default_max_length() == expected
    assert data.default_max_length() % 8 == 0


@pytest.mark.parametrize(
    "lengths, expected",
    [
        ([3] * 10, 8),  # Rounded up to a multiple of 8.
        ([16] * 10, 16),  # A multiple of 8 already.
        ([17] * 20, 24),
        (list(range(1, 101)), 96),  # 95th percentile 95.05.
        ([2000] * 5, 512),  # Capped.
        ([0] * 4, 8),  # At least 2, rounded up.
    ],
)
def test_default_max_length_classification_cases(lengths, expected):
    data = PreparedDataset(
        "classification",
        {"train": {"ids": _rows(lengths, 0),
                   "labels": np.zeros(len(lengths), int)}},
        label_names=["only"], vocabulary_sizes={"tokenizer": 900},
    )
    assert data.default_max_length() == expected


@pytest.mark.parametrize(
    "sources, targets, expected",
    [
        ([3, 9, 1], [2, 5, 16], 24),  # Target 16 + [END] = 17.
        ([40, 2], [1, 1], 40),  # The longest pair, not a percentile.
        ([300, 2], [1, 1], 256),  # Capped.
        ([0], [0], 8),
    ],
)
def test_default_max_length_translation(sources, targets, expected):
    data = PreparedDataset(
        "translation",
        {"train": {"source": _rows(sources, 0), "target": _rows(targets, 1)}},
        vocabulary_sizes={"source_tokenizer": 900, "target_tokenizer": 900},
    )
    longest = max(max(s, t + 1) for s, t in zip(sources, targets))
    assert expected == min(math.ceil(max(longest, 2) / 8) * 8, 256)
    assert data.default_max_length() == expected


def test_cut_fraction():
    data = _classification()
    lengths = data.part("validation")["ids"].lengths
    for max_length in (1, 10, 50, 99, 100):
        assert data.cut_fraction("validation", max_length) == pytest.approx(
            np.mean(lengths > max_length)
        )
    translation = _translation()
    source = translation.part("train")["source"].lengths
    target = translation.part("train")["target"].lengths
    for max_length in (5, 20, 40):
        # A target of max_length - 1 ids fits, with [END].
        cut = (source > max_length) | (target > max_length - 1)
        assert translation.cut_fraction("train", max_length) == pytest.approx(
            cut.mean()
        )


def test_describe_classification():
    data = PreparedDataset(
        "sentiment",
        {
            "train": {"ids": _rows([5, 10, 20, 40], 0),
                      "labels": np.array([1, 0, 1, 1])},
            "validation": {"ids": _rows([3, 30], 1),
                           "labels": np.array([0, 1])},
        },
        label_names=["negative", "positive"],
        vocabulary_sizes={"tokenizer": 900},
    )
    lines = data.describe(max_length=16)
    assert lines[0] == "train: 4 rows"
    assert "  labels: negative 1 (25.0%), positive 3 (75.0%)" in lines
    assert "  text lengths (ids): min 5, median 15, p95 37, max 40, " \
           "mean 18.8" in lines
    assert "  cut at max_length=16: 50.0% of the texts" in lines
    assert "validation: 2 rows" in lines
    assert "  labels: negative 1 (50.0%), positive 1 (50.0%)" in lines
    assert "  cut at max_length=16: 50.0% of the texts" in lines[4:]
    with_head = data.describe(max_length=16, head_tokens=4)
    assert (
        "  cut at max_length=16: 50.0% of the texts (keeping the first 4 "
        "and the last 12 ids)" in with_head
    )
    assert len(data.describe(max_length=40)) == len(lines)
    assert "0.0% of the texts" in "\n".join(data.describe(max_length=40))


def test_describe_translation():
    data = _translation()
    text = "\n".join(data.describe(max_length=20))
    assert "train: 150 rows" in text and "validation: 30 rows" in text
    assert "labels" not in text
    assert "source lengths (ids)" in text and "target lengths (ids)" in text
    share = data.cut_fraction("train", 20)
    assert f"cut at max_length=20: {share:.1%} of the pairs" in text


def _edit_description(directory, **changes):
    path = os.path.join(directory, "prepared.json")
    with open(path, encoding="utf-8") as f:
        description = json.load(f)
    for key, value in changes.items():
        if value is None:
            del description[key]
        else:
            description[key] = value
    with open(path, "w", encoding="utf-8") as f:
        json.dump(description, f)
    return path


def test_a_folder_without_prepared_json(tmp_path):
    with pytest.raises(ValueError, match="is not a prepared dataset \\(no "
                                         "prepared.json\\); make one with "
                                         "`attnpred prepare`"):
        PreparedDataset.load(tmp_path)
    with pytest.raises(ValueError, match="is not a prepared dataset"):
        PreparedDataset.load(tmp_path / "missing")


def test_wrong_format_and_format_version(tmp_path):
    _classification().save(tmp_path)
    path = _edit_description(tmp_path, format="something.else")
    with pytest.raises(ValueError, match=f"Corrupt {path}: expected a JSON "
                                         "object with format="
                                         "'keras_attnpred.prepared_dataset'"):
        PreparedDataset.load(tmp_path)
    _edit_description(tmp_path, format="keras_attnpred.prepared_dataset",
                      format_version=2)
    with pytest.raises(ValueError, match=f"{path} has format_version 2; this "
                                         "version of keras_attnpred reads 1. "
                                         "Prepare the data again."):
        PreparedDataset.load(tmp_path)
    _edit_description(tmp_path, format_version=None)
    with pytest.raises(ValueError, match="has format_version None"):
        PreparedDataset.load(tmp_path)
    _edit_description(tmp_path, format_version=1, task="regression")
    with pytest.raises(ValueError, match=f"Corrupt {path}: expected a task"):
        PreparedDataset.load(tmp_path)
    with open(path, "w") as f:
        f.write("{not json")
    with pytest.raises(ValueError, match=f"Corrupt {path}: not valid JSON"):
        PreparedDataset.load(tmp_path)
    with open(path, "w") as f:
        f.write("[1, 2]")
    with pytest.raises(ValueError, match=f"Corrupt {path}: expected a JSON "
                                         "object"):
        PreparedDataset.load(tmp_path)


def test_labels_out_of_range(tmp_path):
    ids = _rows([3, 4, 5], 0)
    for labels, low, high in [([0, 3, 1], 0, 3), ([-1, 0, 2], -1, 2)]:
        with pytest.raises(ValueError, match=f"Part 'train' has a label "
                                             f"outside \\[0, 3\\). Received: "
                                             f"labels from {low} to {high}"):
            PreparedDataset(
                "classification",
                {"train": {"ids": ids, "labels": np.array(labels)}},
                label_names=LABELS, vocabulary_sizes={"tokenizer": 900},
            )
    _classification().save(tmp_path)
    labels = np.load(tmp_path / "validation.labels.npy")
    labels[0] = 7
    np.save(tmp_path / "validation.labels.npy", labels)
    with pytest.raises(ValueError, match=f"Corrupt prepared dataset "
                                         f"{tmp_path}: Part 'validation' has "
                                         f"a label outside \\[0, 3\\)"):
        PreparedDataset.load(tmp_path)


def test_parts_must_hold_train(tmp_path):
    validation = {"ids": _rows([3], 0), "labels": np.array([0])}
    with pytest.raises(ValueError, match=r"`parts` must be a dict holding a "
                                         r"'train' part. Received: parts "
                                         r"with keys \['validation'\]"):
        PreparedDataset("classification", {"validation": validation},
                        label_names=LABELS,
                        vocabulary_sizes={"tokenizer": 900})
    with pytest.raises(ValueError, match="parts with keys list"):
        PreparedDataset("classification", [validation], label_names=LABELS,
                        vocabulary_sizes={"tokenizer": 900})
    _classification().save(tmp_path)
    path = _edit_description(tmp_path)
    with open(path, encoding="utf-8") as f:
        parts = json.load(f)["parts"]
    del parts["train"]
    _edit_description(tmp_path, parts=parts)
    with pytest.raises(ValueError, match=f"Corrupt prepared dataset "
                                         f"{tmp_path}: `parts` must be a dict "
                                         f"holding a 'train' part"):
        PreparedDataset.load(tmp_path)


@pytest.mark.parametrize(
    "task, sizes",
    [
        ("classification", {"source_tokenizer": 9, "target_tokenizer": 9}),
        ("classification", {"tokenizer": 9, "extra": 9}),
        ("classification", None),
        ("translation", {"tokenizer": 9}),
        ("translation", {"source_tokenizer": 9}),
    ],
)
def test_vocabulary_sizes_keys(task, sizes):
    if task == "translation":
        part = {"source": _rows([3], 0), "target": _rows([3], 1)}
        expected = "\\['source_tokenizer', 'target_tokenizer'\\]"
    else:
        part = {"ids": _rows([3], 0), "labels": np.array([0])}
        expected = "\\['tokenizer'\\]"
    with pytest.raises(ValueError, match=f"`vocabulary_sizes` must have the "
                                         f"keys {expected}. Received: "
                                         f"vocabulary_sizes="):
        PreparedDataset(task, {"train": part}, label_names=LABELS,
                        vocabulary_sizes=sizes)


def test_vocabulary_sizes_in_the_file(tmp_path):
    _translation().save(tmp_path)
    _edit_description(tmp_path, vocabulary_sizes={"tokenizer": 900})
    with pytest.raises(ValueError, match="Corrupt prepared dataset .*"
                                         "`vocabulary_sizes` must have the "
                                         "keys"):
        PreparedDataset.load(tmp_path)
    _edit_description(
        tmp_path,
        vocabulary_sizes={"source_tokenizer": 0, "target_tokenizer": 9},
    )
    with pytest.raises(ValueError, match="`vocabulary_sizes\\['source_"
                                         "tokenizer'\\]` must be a positive "
                                         "integer"):
        PreparedDataset.load(tmp_path)


@pytest.mark.parametrize(
    "task, name",
    [
        ("classification", "validation.labels.npy"),
        ("classification", "test.ids.npy"),
        ("classification", "train.offsets.npy"),
        ("translation", "train.target.ids.npy"),
        ("translation", "validation.source.offsets.npy"),
    ],
)
def test_a_missing_npy_file_is_named(tmp_path, task, name):
    data = _classification() if task == "classification" else _translation()
    data.save(tmp_path)
    os.remove(tmp_path / name)
    with pytest.raises(ValueError, match="Missing prepared data file: "
                                         f"{tmp_path / name}"):
        PreparedDataset.load(tmp_path)


@pytest.mark.parametrize("content", [b"", b"garbage, not an array"])
def test_a_corrupt_labels_file_is_named(tmp_path, content):
    _classification().save(tmp_path)
    with open(tmp_path / "train.labels.npy", "wb") as f:
        f.write(content)
    with pytest.raises(ValueError, match="Corrupt prepared data file "
                                         f"{tmp_path / 'train.labels.npy'}"):
        PreparedDataset.load(tmp_path)


def test_part_arrays_must_fit(tmp_path):
    ids = _rows([3, 4], 0)
    with pytest.raises(ValueError, match=r"Part 'train': 'labels' must be one "
                                         r"int class id per text \(2\). "
                                         r"Received: labels of shape \(3,\)"):
        PreparedDataset("classification",
                        {"train": {"ids": ids, "labels": np.array([0, 1, 0])}},
                        label_names=LABELS,
                        vocabulary_sizes={"tokenizer": 9})
    with pytest.raises(ValueError, match="dtype float64"):
        PreparedDataset("classification",
                        {"train": {"ids": ids, "labels": np.array([0.0, 1])}},
                        label_names=LABELS,
                        vocabulary_sizes={"tokenizer": 9})
    with pytest.raises(ValueError, match=r"Part 'train' must be a dict with "
                                         r"the keys \['source', 'target'\]"):
        PreparedDataset("translation", {"train": {"ids": ids}},
                        vocabulary_sizes={"source_tokenizer": 9,
                                          "target_tokenizer": 9})
    with pytest.raises(ValueError, match="as many sources as targets are "
                                         "needed. Received: 2 and 1"):
        PreparedDataset("translation",
                        {"train": {"source": ids, "target": _rows([1], 1)}},
                        vocabulary_sizes={"source_tokenizer": 9,
                                          "target_tokenizer": 9})
    with pytest.raises(ValueError, match="`task` must be one of"):
        PreparedDataset("regression", {"train": {}})
    with pytest.raises(ValueError, match="`label_names` must be a non-empty "
                                         "list of str"):
        PreparedDataset("classification",
                        {"train": {"ids": ids, "labels": np.array([0, 1])}},
                        label_names=[], vocabulary_sizes={"tokenizer": 9})
    # The labels file must match the ids on disk too.
    _classification().save(tmp_path)
    np.save(tmp_path / "train.labels.npy", np.zeros(5, np.int32))
    with pytest.raises(ValueError, match="Corrupt prepared dataset .*'labels' "
                                         "must be one int class id per text"):
        PreparedDataset.load(tmp_path)


def _pretraining(n=120, seed=0, longest=80, word_starts=True):
    rng = np.random.default_rng(seed)
    parts = {
        name: {"ids": _rows(rng.integers(0, longest, rows), seed + offset)}
        for offset, (name, rows) in enumerate(
            [("train", n), ("validation", n // 4)]
        )
    }
    return PreparedDataset(
        "pretraining",
        parts,
        vocabulary_sizes={"tokenizer": 900},
        settings={"vocabulary_size": 900, "tokenizer": "wordpiece"},
        word_starts=(rng.random(900) < 0.7).astype(np.uint8)
        if word_starts else None,
    )


@pytest.mark.parametrize("word_starts", [True, False])
def test_pretraining_round_trip(tmp_path, word_starts):
    data = _pretraining(word_starts=word_starts)
    assert not data.is_classification and not data.is_translation
    data.save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["prepared.json"]
        + (["word_starts.npy"] if word_starts else [])
        + [f"{part}.{kind}.npy" for part in ("train", "validation")
           for kind in ("ids", "offsets")]
    )
    again = PreparedDataset.load(tmp_path)
    assert again.task == "pretraining"
    assert not again.is_classification and not again.is_translation
    assert again.label_names is None
    assert again.vocabulary_sizes == {"tokenizer": 900}
    assert again.tokenizer_names == ("tokenizer",)
    assert again.settings == data.settings
    assert list(again.parts) == ["train", "validation"]
    for name in data.parts:
        assert set(again.part(name)) == {"ids"}
        _same_rows(again.part(name)["ids"], data.part(name)["ids"])
    if word_starts:
        assert again.word_starts.dtype == np.bool_
        assert 0.6 < again.word_starts.mean() < 0.8
        np.testing.assert_array_equal(again.word_starts, data.word_starts)
    else:
        assert again.word_starts is None
    assert again.statistics == data.statistics
    lengths = data.part("train")["ids"].lengths
    assert again.statistics["train"] == {
        "rows": 120, "lengths": {"text": _summary(lengths)}
    }
    np.testing.assert_array_equal(again.lengths("train"), lengths)
    assert repr(again) == (
        "PreparedDataset(task='pretraining', train=120, validation=30)"
    )
    text = "\n".join(again.describe(max_length=32))
    assert "labels" not in text and "text lengths (ids)" in text
    assert (f"cut at max_length=32: {np.mean(lengths > 32):.1%} of the "
            "texts") in text


@pytest.mark.parametrize(
    "lengths, expected",
    [([3] * 10, 8), (list(range(1, 101)), 96), ([2000] * 5, 512)],
)
def test_default_max_length_pretraining(lengths, expected):
    # As for classification: the 95th percentile, rounded up to 8, capped.
    data = PreparedDataset(
        "pretraining", {"train": {"ids": _rows(lengths, 0)}},
        vocabulary_sizes={"tokenizer": 900},
    )
    assert data.default_max_length() == expected


def test_pretraining_errors(tmp_path):
    ids = _rows([3, 4], 0)
    with pytest.raises(ValueError, match=r"`word_starts` must be None, or "
                       r"for pretraining one bool per id of the tokenizer. "
                       r"Received: word_starts of shape \(900,\) for "
                       r"task='classification'"):
        PreparedDataset("classification",
                        {"train": {"ids": ids, "labels": np.array([0, 1])}},
                        label_names=LABELS,
                        vocabulary_sizes={"tokenizer": 900},
                        word_starts=np.ones(900, bool))
    with pytest.raises(ValueError, match="for task='translation'"):
        PreparedDataset("translation",
                        {"train": {"source": ids, "target": ids}},
                        vocabulary_sizes={"source_tokenizer": 900,
                                          "target_tokenizer": 900},
                        word_starts=np.ones(900, bool))
    with pytest.raises(ValueError, match=r"Received: word_starts of shape "
                                         r"\(899,\) for task='pretraining'"):
        PreparedDataset("pretraining", {"train": {"ids": ids}},
                        vocabulary_sizes={"tokenizer": 900},
                        word_starts=np.ones(899, bool))
    with pytest.raises(ValueError, match=r"Part 'train' must be a dict with "
                                         r"the keys \['ids'\]. Received: "
                                         r"\['ids', 'labels'\]"):
        PreparedDataset("pretraining",
                        {"train": {"ids": ids, "labels": np.array([0, 1])}},
                        vocabulary_sizes={"tokenizer": 900})
    with pytest.raises(ValueError, match="`vocabulary_sizes` must have the "
                                         "keys \\['tokenizer'\\]"):
        PreparedDataset("pretraining", {"train": {"ids": ids}},
                        vocabulary_sizes={"source_tokenizer": 9,
                                          "target_tokenizer": 9})
    # In a folder: a word_starts.npy of another vocabulary, or corrupt.
    _pretraining().save(tmp_path)
    np.save(tmp_path / "word_starts.npy", np.ones(800, bool))
    with pytest.raises(ValueError, match=f"Corrupt prepared dataset "
                                         f"{tmp_path}: `word_starts` must "
                                         f"be None"):
        PreparedDataset.load(tmp_path)
    (tmp_path / "word_starts.npy").write_bytes(b"garbage, not an array")
    with pytest.raises(ValueError, match="Corrupt prepared data file "
                                         f"{tmp_path / 'word_starts.npy'}"):
        PreparedDataset.load(tmp_path)
    os.remove(tmp_path / "train.offsets.npy")
    with pytest.raises(ValueError, match="Missing prepared data file: "
                                         f"{tmp_path / 'train.offsets.npy'}"):
        PreparedDataset.load(tmp_path)
