import hashlib
import os

import pytest

from keras_attnpred.data import LabeledTexts
from keras_attnpred.data import ParallelTexts
from tests.data.files import write_rows
from tests.data.files import write_text


@pytest.fixture
def served_csv(http_server):
    path = write_rows(
        http_server.root / "reviews.csv.gz",
        [["text", "label"], ["good, really", "pos"], ["bad", "neg"]],
        compress=True,
    )
    return http_server.url("reviews.csv.gz"), path


def test_url_is_downloaded_once(http_server, served_csv, tmp_path):
    url, _ = served_csv
    cache = str(tmp_path / "cache")
    first = LabeledTexts.from_csv(url, "text", "label", cache_dir=cache)
    assert first.texts == ("good, really", "bad")
    assert len(http_server.requests) == 1
    second = LabeledTexts.from_csv(url, "text", "label", cache_dir=cache)
    assert second.texts == first.texts
    assert len(http_server.requests) == 1  # served from the cache


def test_download_lands_in_the_given_cache_dir_even_if_missing(
    served_csv, tmp_path
):
    url, _ = served_csv
    cache = tmp_path / "not" / "there" / "yet"
    LabeledTexts.from_csv(url, "text", "label", cache_dir=str(cache))
    saved = list((cache / "datasets" / "keras_attnpred").iterdir())
    assert [path.name.endswith("reviews.csv.gz") for path in saved] == [True]


def test_url_with_right_hash(http_server, served_csv, tmp_path):
    url, path = served_csv
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    data = LabeledTexts.from_csv(
        url, "text", "label", file_hash=digest, cache_dir=str(tmp_path / "c")
    )
    assert data.label_names == ("neg", "pos")


def test_url_with_wrong_hash_is_an_error_and_not_cached(
    http_server, served_csv, tmp_path
):
    url, path = served_csv
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"reviews.csv.gz: the sha256 file "
                       r"hash does not match"):
        LabeledTexts.from_csv(
            url, "text", "label", file_hash="0" * 64, cache_dir=str(cache)
        )
    left = [files for _, _, files in os.walk(cache)]
    assert not any(left)  # the bad download was removed
    with pytest.raises(ValueError, match="md5 file hash does not match"):
        LabeledTexts.from_csv(
            url, "text", "label", file_hash="0" * 32, cache_dir=str(cache)
        )


def test_url_errors_name_the_url(http_server, tmp_path):
    write_text(http_server.root / "bad.csv", "text,label\nok,1\nbad\n")
    url = http_server.url("bad.csv")
    with pytest.raises(ValueError, match=f"{url}, line 3"):
        LabeledTexts.from_csv(url, 0, 1, cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="missing.csv: download failed"):
        LabeledTexts.from_csv(
            http_server.url("missing.csv"), 0, 1,
            cache_dir=str(tmp_path / "c"),
        )


def test_parallel_urls_with_the_same_file_name(http_server, tmp_path):
    # Two URLs ending in the same name must not share a cached file.
    (http_server.root / "en").mkdir()
    (http_server.root / "de").mkdir()
    write_text(http_server.root / "en" / "val.gz", "A dog.\n", compress=True)
    write_text(http_server.root / "de" / "val.gz", "Ein Hund.\n", compress=True)
    cache = str(tmp_path / "cache")
    pairs = ParallelTexts.from_files(
        http_server.url("en/val.gz"), http_server.url("de/val.gz"),
        cache_dir=cache,
    )
    assert pairs.sources == ("A dog.",) and pairs.targets == ("Ein Hund.",)
    tsv = write_text(http_server.root / "p.tsv", "Go.\tVe.\n")
    digest = hashlib.md5(tsv.read_bytes()).hexdigest()
    pairs = ParallelTexts.from_tsv(
        http_server.url("p.tsv"), file_hash=digest, cache_dir=cache
    )
    assert pairs.targets == ("Ve.",)
