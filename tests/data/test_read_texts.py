import pytest

from keras_attnpred.data import read_texts
from tests.data.files import write_rows
from tests.data.files import write_text


def test_plain_files_give_one_text_a_nonblank_line(tmp_path):
    path = write_text(tmp_path / "corpus.txt",
                      "  first text \n\n\t\nsecond, with a comma\r\nthird")
    assert read_texts(str(path)) == [
        "first text", "second, with a comma", "third"
    ]
    # Gzip whatever the name says, and a list of files read in order.
    packed = write_text(tmp_path / "more.txt.gz", "fourth\nfifth\n",
                        compress=True)
    assert read_texts([str(packed), path]) == [
        "fourth", "fifth", "first text", "second, with a comma", "third"
    ]


@pytest.mark.parametrize("compress", [False, True])
def test_tables_give_their_text_column(tmp_path, compress):
    suffix = ".gz" if compress else ""
    csv = write_rows(tmp_path / f"reviews.csv{suffix}",
                     [["id", "text"], ["1", "a film, long"], ["2", " "],
                      ["3", "line one\nline two"]], compress=compress)
    assert read_texts(str(csv)) == ["a film, long", "line one\nline two"]
    tsv = write_rows(tmp_path / f"notes.tsv{suffix}",
                     [["body", "n"], ["a note", "1"], ["another", "2"]],
                     delimiter="\t", compress=compress)
    assert read_texts(str(tsv), text_column="body") == ["a note", "another"]
    assert read_texts(str(tsv), text_column=1) == ["1", "2"]


def test_errors_name_the_file(tmp_path):
    blank = write_text(tmp_path / "blank.txt", "\n  \n")
    with pytest.raises(ValueError, match=f"{blank}: no texts in the file"):
        read_texts([str(write_text(tmp_path / "a.txt", "x\n")), str(blank)])
    table = write_rows(tmp_path / "t.csv", [["text"], ["a"], ["b", "c"]])
    with pytest.raises(ValueError, match="t.csv, line 3: expected 1 fields, "
                                         "found 2"):
        read_texts(str(table))
    with pytest.raises(ValueError, match="column"):
        read_texts(str(table), text_column="body")
    with pytest.raises(ValueError, match="Received: path_or_url=3"):
        read_texts(3)
