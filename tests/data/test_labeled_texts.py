import logging

import numpy as np
import pytest

from keras_attnpred.data import LabeledTexts
from tests.data.files import write_rows
from tests.data.files import write_text

ROWS = [
    ["review", "sentiment", "label"],
    ["Great film, would watch again.", "positive", "1"],
    ['He said "meh",\nand left.', "negative", "0"],
    ["Fine.", "positive", "1"],
]


@pytest.fixture
def reviews_csv(tmp_path):
    return write_rows(tmp_path / "reviews.csv", ROWS)


def test_columns_by_name_with_quoted_commas_and_newlines(reviews_csv):
    data = LabeledTexts.from_csv(reviews_csv, "review", "sentiment")
    assert data.texts == (
        "Great film, would watch again.",
        'He said "meh",\nand left.',
        "Fine.",
    )
    assert data.label_names == ("negative", "positive")  # sorted
    np.testing.assert_array_equal(data.labels, [1, 0, 1])
    assert data.labels.dtype == np.int32
    assert data.skipped == 0
    assert len(data) == 3


def test_columns_by_index_without_header(tmp_path):
    path = write_rows(tmp_path / "plain.csv", ROWS[1:])
    data = LabeledTexts.from_csv(path, 0, 2, header=False)
    assert data.texts[1] == 'He said "meh",\nand left.'
    np.testing.assert_array_equal(data.labels, [1, 0, 1])
    assert data.label_names == ("0", "1")


def test_columns_by_index_skip_the_header(reviews_csv):
    data = LabeledTexts.from_csv(reviews_csv, 0, 1)
    assert len(data) == 3 and "review" not in data.texts


def test_integer_labels_are_class_ids(tmp_path):
    rows = [["t", "y"], ["a", "2"], ["b", "0"], ["c", "1"]]
    path = write_rows(tmp_path / "ids.csv", rows)
    data = LabeledTexts.from_csv(path, "t", "y")
    np.testing.assert_array_equal(data.labels, [2, 0, 1])
    assert data.label_names == ("0", "1", "2")
    # Without class 1 the ids leave a gap: an error, not an empty class.
    path = write_rows(tmp_path / "gap.csv", rows[:3])
    with pytest.raises(ValueError, match=r"gap.csv, line 2: label '2' "
                       r"leaves a gap .* no row has label 1"):
        LabeledTexts.from_csv(path, "t", "y")


def test_label_names_fix_the_classes_by_name_or_index(reviews_csv):
    names = ["positive", "negative"]  # not sorted: the given order holds
    by_name = LabeledTexts.from_csv(
        reviews_csv, "review", "sentiment", label_names=names
    )
    np.testing.assert_array_equal(by_name.labels, [0, 1, 0])
    assert by_name.label_names == ("positive", "negative")
    by_index = LabeledTexts.from_csv(
        reviews_csv, "review", "label", label_names=["negative", "positive"]
    )
    np.testing.assert_array_equal(by_index.labels, [1, 0, 1])


def test_gzip_and_tab_delimiter_detected(tmp_path):
    # GLUE-style TSV: no quoting, a bare `"` is part of the text.
    text = 'sentence\tlabel\na "quoted" word\t1\n"plain\t0\n'
    path = write_text(tmp_path / "train.tsv.gz", text, compress=True)
    data = LabeledTexts.from_csv(path, "sentence", "label")
    assert data.texts == ('a "quoted" word', '"plain')
    np.testing.assert_array_equal(data.labels, [1, 0])


def test_gzip_detected_by_bytes_not_name(tmp_path):
    path = write_rows(tmp_path / "no_extension", ROWS, compress=True)
    data = LabeledTexts.from_csv(path, "review", "sentiment")
    assert len(data) == 3


def test_explicit_delimiter_and_bom_and_blank_lines(tmp_path):
    text = "\ufefftext;label\r\nfirst;a\r\n\r\nsecond;b\r\n"
    path = write_text(tmp_path / "semicolons.txt", text)
    data = LabeledTexts.from_csv(path, "text", "label", delimiter=";")
    assert data.texts == ("first", "second")
    assert data.label_names == ("a", "b")


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiter_detected_from_the_header(tmp_path, delimiter):
    """A `.csv` of `;` (as spreadsheets write it in many locales) or tabs
    reads without being told; a delimiter in the text does not confuse it."""
    other = "," if delimiter != "," else ";"
    rows = [["review", "stars"], [f"first{other} really", "good"],
            [f"second{other} no", "bad"]]
    path = write_rows(tmp_path / "reviews.csv", rows, delimiter=delimiter)
    data = LabeledTexts.from_csv(path, "review", "stars")
    assert data.texts == (f"first{other} really", f"second{other} no")
    assert data.label_names == ("bad", "good")


def test_quoted_header_names_do_not_count_and_explicit_delimiter_wins(
        tmp_path):
    text = 'text;"liked, 0-1"\nfirst, yes;1\nsecond;0\n'
    path = write_text(tmp_path / "reviews.csv", text)
    data = LabeledTexts.from_csv(path, "text", "liked, 0-1")
    assert data.texts == ("first, yes", "second")
    # Told otherwise, the comma splits the header into other columns.
    with pytest.raises(ValueError, match="no column named 'text'"):
        LabeledTexts.from_csv(path, "text", "label", delimiter=",")


def test_read_texts_and_the_training_data_detect_it_too(tmp_path):
    from keras_attnpred.data import read_texts
    from keras_attnpred.training import TrainingConfig
    from keras_attnpred.training.prepare import read_parts

    path = write_text(tmp_path / "corpus.csv",
                      "id;text\n1;a first, long text\n2;a second\n")
    assert read_texts(str(path)) == ["a first, long text", "a second"]
    reviews = write_text(tmp_path / "reviews.txt", "text|label\n" + "".join(
        f"text {i}, with a comma|{i % 2}\n" for i in range(20)))
    config = TrainingConfig.from_dict({
        "task": "sentiment", "train_path": str(reviews), "delimiter": "|"})
    parts = read_parts(config)
    assert len(parts["train"]) + len(parts["validation"]) == 20
    assert parts["train"].texts[0].endswith(", with a comma")


# Each malformed file, and the 1-based line the error must name.
MALFORMED = {
    "too_many_fields": ("text,label\nok,1\nbad,1,extra\nok,0\n", 3, "fields"),
    "too_few_fields": ("text,label\nok,1\nok,0\nbad\n", 4, "fields"),
    "empty_text": ("text,label\nok,1\n  ,0\nok,0\n", 3, "empty text"),
    "empty_label": ("text,label\nok,1\nok,\n", 3, "empty label"),
    # The record on line 2 spans lines 2-3, so the bad one starts on line 4.
    "after_multiline": ('text,label\n"a\nb",1\nbad,1,2\n', 4, "fields"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_rows_name_file_and_line(tmp_path, case):
    text, line, what = MALFORMED[case]
    path = write_text(tmp_path / f"{case}.csv", text)
    with pytest.raises(ValueError, match=f"{case}.csv, line {line}: .*{what}"):
        LabeledTexts.from_csv(path, "text", "label")


def test_unknown_label_names_file_and_line(tmp_path):
    path = write_text(tmp_path / "labels.csv", "t,y\na,pos\nb,neutral\n")
    with pytest.raises(ValueError, match=r"labels.csv, line 3: unknown label"):
        LabeledTexts.from_csv(path, "t", "y", label_names=["neg", "pos"])


def test_class_id_outside_label_names_is_an_error(tmp_path):
    path = write_text(tmp_path / "ids.csv", "t,y\na,0\nb,1\nc,2\n")
    with pytest.raises(ValueError, match=r"ids.csv, line 4: unknown label"):
        LabeledTexts.from_csv(path, "t", "y", label_names=["neg", "pos"])


def test_bad_utf8_names_file_and_line(tmp_path):
    data = b"text,label\nok,1\ncaf\xe9,0\n"
    path = write_text(tmp_path / "latin1.csv", data)
    with pytest.raises(ValueError, match=r"latin1.csv, line 3: not valid"):
        LabeledTexts.from_csv(path, "text", "label")
    gz = write_text(tmp_path / "latin1.csv.gz", data, compress=True)
    with pytest.raises(ValueError, match=r"latin1.csv.gz, line 3: not valid"):
        LabeledTexts.from_csv(gz, "text", "label", on_error="skip")


def test_unterminated_quote_is_an_error(tmp_path):
    text = 'text,label\nok,1\n"open,1\nx,0\n'
    path = write_text(tmp_path / "quote.csv", text)
    with pytest.raises(ValueError, match=r"quote.csv, line 3: malformed CSV"):
        LabeledTexts.from_csv(path, "text", "label")


def test_missing_column_lists_the_available_ones(reviews_csv):
    with pytest.raises(ValueError, match=r"reviews.csv.*no column named "
                       r"'text'.*\['review', 'sentiment', 'label'\]"):
        LabeledTexts.from_csv(reviews_csv, "text", "label")


def test_column_name_without_header_is_an_error(reviews_csv):
    with pytest.raises(ValueError, match="header=False"):
        LabeledTexts.from_csv(reviews_csv, "review", 1, header=False)


def test_column_index_out_of_range(reviews_csv):
    with pytest.raises(ValueError, match=r"text_column=7.* 3 fields"):
        LabeledTexts.from_csv(reviews_csv, 7, 1)


def test_skip_counts_bad_rows_and_keeps_alignment(tmp_path, caplog):
    text = (
        "text,label\n"
        "one,1\n"  # line 2
        "two,0,extra\n"  # line 3: wrong number of fields
        "three,0\n"  # line 4
        ",1\n"  # line 5: empty text
        "four,\n"  # line 6: empty label
        "five,neutral\n"  # line 7: unknown label
        "six,1\n"  # line 8
    )
    path = write_text(tmp_path / "messy.csv", text)
    with caplog.at_level(logging.WARNING, logger="keras_attnpred.data"):
        data = LabeledTexts.from_csv(
            path, "text", "label", on_error="skip",
            label_names=["0", "1"],
        )
    assert data.texts == ("one", "three", "six")
    np.testing.assert_array_equal(data.labels, [1, 0, 1])
    assert data.skipped == 4
    assert "Skipped 4 bad rows" in caplog.text
    assert "messy.csv, line 3" in caplog.text


def test_clean_file_logs_nothing(reviews_csv, caplog):
    with caplog.at_level(logging.WARNING, logger="keras_attnpred.data"):
        LabeledTexts.from_csv(reviews_csv, "review", "sentiment",
                              on_error="skip")
    assert caplog.text == ""


def test_bad_arguments(reviews_csv, tmp_path):
    with pytest.raises(ValueError, match="on_error"):
        LabeledTexts.from_csv(reviews_csv, 0, 1, on_error="ignore")
    with pytest.raises(ValueError, match="no such file"):
        LabeledTexts.from_csv(tmp_path / "missing.csv", 0, 1)
    with pytest.raises(ValueError, match="label_names"):
        LabeledTexts.from_csv(reviews_csv, 0, 1, label_names=["a", "a"])


def test_local_file_hash_is_verified(reviews_csv):
    import hashlib

    digest = hashlib.sha256(reviews_csv.read_bytes()).hexdigest()
    data = LabeledTexts.from_csv(reviews_csv, 0, 1, file_hash=digest)
    assert len(data) == 3
    md5 = hashlib.md5(reviews_csv.read_bytes()).hexdigest()
    assert len(LabeledTexts.from_csv(reviews_csv, 0, 1, file_hash=md5)) == 3
    with pytest.raises(ValueError, match="reviews.csv: the sha256 file hash"):
        LabeledTexts.from_csv(reviews_csv, 0, 1, file_hash="0" * 64)


def test_container_is_immutable_and_checked():
    data = LabeledTexts(["a", "b"], [0, 1], ["x", "y"])
    with pytest.raises(ValueError):
        data.labels[0] = 1
    with pytest.raises(AttributeError):
        data.texts = ("c",)
    with pytest.raises(ValueError, match="aligned"):
        LabeledTexts(["a"], [0, 1], ["x", "y"])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        LabeledTexts(["a"], [2], ["x", "y"])


def _numbered(count):
    return LabeledTexts(
        [f"text {i}" for i in range(count)], np.arange(count) % 3, "abc"
    )


def test_split_is_deterministic_disjoint_and_complete():
    data = _numbered(100)
    train, valid = data.split((0.9, 0.1), seed=0)
    assert (len(train), len(valid)) == (90, 10)
    again = data.split((0.9, 0.1), seed=0)
    assert again[0].texts == train.texts and again[1].texts == valid.texts
    other = data.split((0.9, 0.1), seed=1)
    assert other[1].texts != valid.texts
    assert not set(train.texts) & set(valid.texts)
    assert set(train.texts) | set(valid.texts) == set(data.texts)
    # Labels travel with their texts.
    for part in (train, valid):
        for text, label in zip(part.texts, part.labels):
            assert int(text.split()[1]) % 3 == label
    assert train.label_names == data.label_names


def test_split_three_ways_and_bad_fractions():
    parts = _numbered(10).split((0.5, 0.3, 0.2), seed=3)
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="sum to 1"):
        _numbered(10).split((0.5, 0.4))
    with pytest.raises(ValueError, match="empty part"):
        _numbered(3).split((0.9, 0.1))


def test_shuffled_is_deterministic_and_a_permutation():
    data = _numbered(50)
    first, second = data.shuffled(seed=7), data.shuffled(seed=7)
    assert first.texts == second.texts
    assert first.texts != data.texts
    assert first.texts != data.shuffled(seed=8).texts
    assert sorted(first.texts) == sorted(data.texts)
    for text, label in zip(first.texts, first.labels):
        assert int(text.split()[1]) % 3 == label
