import glob
import json
import os

import pytest

from keras_attnpred.training import TrainingConfig

FULL = {
    "task": "translation",
    "train_path": ["train.en", "train.es"],
    "model": "rnn",
    "attention": "luong",
    "preset": "tiny",
    "validation_path": "valid.tsv",
    "test_path": None,
    "validation_fraction": 0.2,
    "reverse": True,
    "max_length": 32,
    "vocabulary_size": 500,
    "tokenizer": "sentencepiece",
    "epochs": 3,
    "batch_size": 8,
    "learning_rate": "transformer",
    "warmup_steps": 100,
    "label_smoothing": 0.1,
    "clipnorm": 1.0,
    "mixed_precision": "mixed_bfloat16",
    "strategy": "mirrored",
    "seed": 7,
    "early_stopping_patience": 2,
    "bucket_boundaries": [8, 16],
    "max_examples": 100,
}


def test_defaults_and_to_dict():
    config = TrainingConfig.from_dict({"task": "sentiment", "train_path": "a.csv"})
    values = config.to_dict()
    assert values["model"] == "transformer" and values["strategy"] == "auto"
    assert values["tokenizer"] == "wordpiece"
    assert TrainingConfig.from_dict(values) == config
    assert config.is_classification


def test_json_round_trip(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(FULL))
    config = TrainingConfig.from_file(str(path))
    assert config.to_dict() == {**config.to_dict(), **FULL}
    assert TrainingConfig.from_dict(config.to_dict()) == config


def test_yaml_round_trip(tmp_path):
    yaml = pytest.importorskip("yaml")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(FULL))
    config = TrainingConfig.from_file(str(path))
    assert config.train_path == ["train.en", "train.es"]
    assert config.bucket_boundaries == [8, 16]
    again = tmp_path / "again.yml"
    again.write_text(yaml.safe_dump(config.to_dict()))
    assert TrainingConfig.from_file(str(again)) == config


BAD = [
    ("task", "regression"),
    ("model", "cnn"),
    ("attention", "dot"),
    ("preset", "huge"),
    ("train_path", ""),
    ("train_path", ["only-one"]),
    ("validation_path", 3),
    ("test_path", ["a", ""]),
    ("validation_fraction", 1.0),
    ("validation_fraction", 0),
    ("text_column", -1),
    ("label_column", ""),
    ("label_names", ["a", "a"]),
    ("label_names", []),
    ("reverse", "yes"),
    ("max_length", 1),
    ("vocabulary_size", 4),
    ("tokenizer", "bpe"),
    ("tokenizer", None),
    ("epochs", 0),
    ("batch_size", 2.0),
    ("learning_rate", 0.0),
    ("learning_rate", "cosine"),
    ("warmup_steps", 0),
    ("label_smoothing", 1.0),
    ("clipnorm", -1.0),
    ("mixed_precision", "float16"),
    ("flash_attention", "no"),
    ("strategy", "parameter-server"),
    ("seed", -1),
    ("seed", True),
    ("early_stopping_patience", 0),
    ("bucket_boundaries", [16, 8]),
    ("bucket_boundaries", "manual"),
    ("max_examples", 0),
    ("bigram_buckets", 0),
    ("bigram_buckets", 2.5),
    ("mask_rate", 0.0),
    ("mask_rate", 1.0),
    ("mask_rate", "0.15"),
    ("init_from", ""),
    ("init_from", 3),
    ("warmup_steps", 2.5),
    ("delimiter", ";;"),
    ("delimiter", ""),
]


@pytest.mark.parametrize("field, value", BAD)
def test_bad_value_names_field_and_value(field, value):
    values = {"task": "translation", "train_path": "train.tsv", field: value}
    with pytest.raises(ValueError, match=f"`{field}`") as info:
        TrainingConfig.from_dict(values)
    assert f"Received: {field}={value!r}" in str(info.value)


def test_pretraining_settings_round_trip(tmp_path):
    values = {"task": "pretraining", "train_path": ("a.txt", "b.txt", "c.gz"),
              "validation_path": "v.txt", "mask_rate": 0.25, "preset": "large",
              "warmup_steps": 500, "pack_texts": True}
    config = TrainingConfig.from_dict(values)
    assert not config.is_classification and not config.is_translation
    assert config.train_path == ["a.txt", "b.txt", "c.gz"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert TrainingConfig.from_file(str(path)) == config
    fine_tuning = TrainingConfig.from_dict(
        {"task": "sentiment", "train_path": "r.csv", "init_from": "runs/mlm"}
    )
    assert fine_tuning.init_from == "runs/mlm"
    assert fine_tuning.warmup_steps is None and fine_tuning.mask_rate == 0.15


def test_pack_texts_is_for_pretraining_without_buckets():
    with pytest.raises(ValueError, match="pretraining setting.*"
                                         "pack_texts=True with task='sentiment'"):
        TrainingConfig.from_dict(
            {"task": "sentiment", "train_path": "r.csv", "pack_texts": True}
        )
    with pytest.raises(ValueError, match=r"bucket_boundaries=\[65\]"):
        TrainingConfig.from_dict(
            {"task": "pretraining", "train_path": "a.txt", "pack_texts": True,
             "bucket_boundaries": [65]}
        )
    with pytest.raises(ValueError, match="pack_texts='yes'"):
        TrainingConfig.from_dict(
            {"task": "pretraining", "train_path": "a.txt",
             "pack_texts": "yes"}
        )


def test_classification_path_must_be_one_file():
    with pytest.raises(ValueError, match="train_path"):
        TrainingConfig.from_dict(
            {"task": "classification", "train_path": ["a", "b"]}
        )


def test_unknown_and_missing_keys():
    with pytest.raises(ValueError, match="epoch=3"):
        TrainingConfig.from_dict(
            {"task": "translation", "train_path": "t.tsv", "epoch": 3}
        )
    with pytest.raises(ValueError, match="`train_path` is required"):
        TrainingConfig.from_dict({"task": "translation"})
    with pytest.raises(ValueError, match="mapping"):
        TrainingConfig.from_dict(["task"])


def test_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"task": "translation", "train_path": "t", "epochs": -2}')
    with pytest.raises(ValueError, match="bad.json.*epochs=-2"):
        TrainingConfig.from_file(str(path))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match="broken.json: not valid JSON"):
        TrainingConfig.from_file(str(broken))


def test_bigram_buckets_only_for_classifiers_with_a_small_vocabulary():
    with pytest.raises(ValueError, match="Received: bigram_buckets=64"):
        TrainingConfig.from_dict(
            {"task": "translation", "train_path": ["a", "b"],
             "bigram_buckets": 64})
    with pytest.raises(ValueError, match="Received: vocabulary_size=50000"):
        TrainingConfig.from_dict(
            {"task": "sentiment", "train_path": "a.csv",
             "bigram_buckets": 64, "vocabulary_size": 50000})
    config = TrainingConfig.from_dict(
        {"task": "sentiment", "train_path": "a.csv", "bigram_buckets": 64})
    assert TrainingConfig.from_dict(config.to_dict()).bigram_buckets == 64


EXAMPLE_CONFIGS = sorted(
    glob.glob(os.path.join(os.path.dirname(__file__), "..", "..",
                           "examples", "configs", "*.yaml"))
)


@pytest.mark.parametrize(
    "path", EXAMPLE_CONFIGS, ids=[os.path.basename(p) for p in EXAMPLE_CONFIGS]
)
def test_every_example_config_loads_and_names_itself(path, monkeypatch):
    monkeypatch.setenv("ATTNPRED_DATA", "/data")
    config = TrainingConfig.from_file(path)
    assert config.train_path is not None
    with open(path, encoding="utf-8") as f:
        header = f.read()
    # The commands in its header are the ones for this file.
    assert f"examples/configs/{os.path.basename(path)}" in header
