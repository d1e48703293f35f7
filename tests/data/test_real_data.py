"""Reads the shared datasets (`$ATTNPRED_DATA`); skipped where absent."""

import os

import numpy as np
import pytest

from keras_attnpred.data import LabeledTexts
from keras_attnpred.data import ParallelTexts
from tests.conftest import data_dir


def _path(*parts):
    path = os.path.join(data_dir(), *parts)
    if not os.path.exists(path):
        pytest.skip(f"dataset file not found: {path} (set ATTNPRED_DATA)")
    return path


def test_trec():
    data = LabeledTexts.from_csv(_path("trec", "train.csv"), "text",
                                 "coarse_label")
    assert len(data) == 5452 and data.skipped == 0
    assert data.label_names == ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    assert data.texts[0].startswith("How did serfdom develop")
    # The same classes by their integer column agree row for row.
    ids = LabeledTexts.from_csv(_path("trec", "train.csv"), "text", "coarse_id")
    assert len(ids.label_names) == 6
    mapping = {(a, b) for a, b in zip(data.labels, ids.labels)}
    assert len(mapping) == 6


def test_sst2():
    data = LabeledTexts.from_csv(_path("sst2", "train.tsv.gz"), "sentence",
                                 "label", label_names=["negative", "positive"])
    assert len(data) == 67349 and data.skipped == 0
    np.testing.assert_array_equal(np.bincount(data.labels), [29780, 37569])


def test_spa_eng():
    pairs = ParallelTexts.from_tsv(_path("spa-eng", "valid.tsv.gz"))
    assert len(pairs) == 2266 and pairs.skipped == 0
    assert pairs.sources[0] == "See you." and pairs.targets[0] == "Nos vemos."


def test_multi30k():
    pairs = ParallelTexts.from_files(
        _path("multi30k", "val.de.gz"), _path("multi30k", "val.en.gz")
    )
    assert len(pairs) == 1014 and pairs.skipped == 0
    train, valid = pairs.split((0.9, 0.1), seed=0)
    assert len(train) + len(valid) == 1014


@pytest.mark.slow
def test_imdb_and_20newsgroups():
    imdb = LabeledTexts.from_csv(_path("imdb", "train.csv.gz"), "review",
                                 "label", label_names=["negative", "positive"])
    assert len(imdb) == 25000
    np.testing.assert_array_equal(np.bincount(imdb.labels), [12500, 12500])
    news = LabeledTexts.from_csv(_path("20newsgroups", "train.csv.gz"),
                                 "text", "label_name")
    assert len(news) == 11314 and len(news.label_names) == 20
