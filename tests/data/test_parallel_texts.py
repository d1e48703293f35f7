import logging

import pytest

from keras_attnpred.data import ParallelTexts
from tests.data.files import write_text


def test_from_tsv_keeps_quotes_and_reads_gzip(tmp_path):
    text = 'Go.\tVe.\n"Hi," he said.\t"Hola", dijo.\n'
    for name, compress in (("pairs.tsv", False), ("pairs.tsv.gz", True)):
        pairs = ParallelTexts.from_tsv(
            write_text(tmp_path / name, text, compress=compress)
        )
        assert pairs.sources == ("Go.", '"Hi," he said.')
        assert pairs.targets == ("Ve.", '"Hola", dijo.')
        assert len(pairs) == 2 and pairs.skipped == 0


def test_from_tsv_columns_by_name_and_index(tmp_path):
    text = "id\ten\tes\n1\tYes.\tSí.\n2\tNo.\tNo.\n"
    path = write_text(tmp_path / "named.tsv", text)
    by_name = ParallelTexts.from_tsv(path, "es", "en", header=True)
    assert by_name.sources == ("Sí.", "No.")
    assert by_name.targets == ("Yes.", "No.")
    by_index = ParallelTexts.from_tsv(path, 1, 2, header=True)
    assert by_index.sources == ("Yes.", "No.")
    with pytest.raises(ValueError, match=r"named.tsv.*no column named 'de'"):
        ParallelTexts.from_tsv(path, "en", "de", header=True)


@pytest.mark.parametrize(
    "text, line, what",
    [
        ("a\tb\nc\td\te\nf\tg\n", 2, "expected 2 fields, found 3"),
        ("a\tb\nc\n", 2, "expected 2 fields, found 1"),
        ("a\tb\nc\t \n", 2, "empty target"),
        ("a\tb\nx\ty\n\td\n", 3, "empty source"),
    ],
)
def test_from_tsv_malformed_rows_name_file_and_line(tmp_path, text, line, what):
    path = write_text(tmp_path / "bad.tsv", text)
    with pytest.raises(ValueError, match=f"bad.tsv, line {line}: {what}"):
        ParallelTexts.from_tsv(path)


def test_from_tsv_skip_keeps_pairs_aligned(tmp_path, caplog):
    text = "a\tA\nb\tB\textra\nc\tC\n\tD\ne\tE\n"
    path = write_text(tmp_path / "messy.tsv", text)
    with caplog.at_level(logging.WARNING, logger="keras_attnpred.data"):
        pairs = ParallelTexts.from_tsv(path, on_error="skip")
    assert pairs.sources == ("a", "c", "e")
    assert pairs.targets == ("A", "C", "E")
    assert pairs.skipped == 2
    assert "Skipped 2 bad pairs" in caplog.text


def test_from_files_aligned_plain_and_gzip(tmp_path):
    # `\u2028` and a bare `\r` are not line ends: splitting on them would
    # shift every later line out of alignment.
    english = write_text(
        tmp_path / "val.en.gz", "A dog.\r\nTwo\u2028cats.\nA bird.\n",
        compress=True,
    )
    german = write_text(tmp_path / "val.de", "Ein Hund.\nZwei\rKatzen.\nVogel.")
    pairs = ParallelTexts.from_files(english, german)
    assert pairs.sources == ("A dog.", "Two\u2028cats.", "A bird.")
    assert pairs.targets == ("Ein Hund.", "Zwei\rKatzen.", "Vogel.")
    back = pairs.reversed()
    assert back.sources == pairs.targets and back.targets == pairs.sources
    assert back.reversed().sources == pairs.sources


def test_from_files_different_lengths_name_both_files_and_counts(tmp_path):
    english = write_text(tmp_path / "train.en", "a\nb\nc\n")
    german = write_text(tmp_path / "train.de", "a\nb\n")
    for on_error in ("raise", "skip"):
        with pytest.raises(
            ValueError, match=r"3 lines in .*train.en and 2 lines in .*train.de"
        ):
            ParallelTexts.from_files(english, german, on_error=on_error)


def test_from_files_empty_line_names_file_and_line(tmp_path, caplog):
    english = write_text(tmp_path / "s.en", "a\nb\nc\nd\n")
    german = write_text(tmp_path / "s.de", "A\nB\n  \nD\n")
    with pytest.raises(ValueError, match=r"s.de, line 3: empty line"):
        ParallelTexts.from_files(english, german)
    with caplog.at_level(logging.WARNING, logger="keras_attnpred.data"):
        pairs = ParallelTexts.from_files(english, german, on_error="skip")
    assert pairs.sources == ("a", "b", "d")
    assert pairs.targets == ("A", "B", "D")
    assert pairs.skipped == 1
    assert "s.de, line 3" in caplog.text


def test_from_files_bad_utf8_names_file_and_line(tmp_path):
    english = write_text(tmp_path / "u.en", b"ok\nfine\n")
    german = write_text(tmp_path / "u.de", b"gut\nsch\xf6n\n")
    with pytest.raises(ValueError, match=r"u.de, line 2: not valid UTF-8"):
        ParallelTexts.from_files(english, german)


def test_truncated_gzip_is_an_error(tmp_path):
    import gzip

    data = gzip.compress(("line\n" * 1000).encode())
    english = write_text(tmp_path / "cut.en.gz", data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut.en.gz.*gzip"):
        ParallelTexts.from_files(english, english)


def _pairs(count):
    return ParallelTexts(
        [f"s{i}" for i in range(count)], [f"t{i}" for i in range(count)]
    )


def test_split_and_shuffled_keep_pairs_together():
    pairs = _pairs(40)
    train, valid = pairs.split((0.75, 0.25), seed=5)
    assert (len(train), len(valid)) == (30, 10)
    assert train.sources == pairs.split((0.75, 0.25), seed=5)[0].sources
    assert train.sources != pairs.split((0.75, 0.25), seed=6)[0].sources
    assert not set(train.sources) & set(valid.sources)
    assert set(train.sources) | set(valid.sources) == set(pairs.sources)
    shuffled = pairs.shuffled(seed=2)
    assert shuffled.sources == pairs.shuffled(seed=2).sources
    assert shuffled.sources != pairs.sources
    for part in (train, valid, shuffled):
        assert all(s[1:] == t[1:] for s, t in zip(part.sources, part.targets))


def test_container_checks_alignment():
    with pytest.raises(ValueError, match="aligned"):
        ParallelTexts(["a", "b"], ["A"])
    with pytest.raises(AttributeError):
        _pairs(2).sources = ()
