"""Helpers that write small CSV, TSV and gzip files for the data tests."""

import csv
import gzip
import io


def write_rows(path, rows, delimiter=",", compress=False):
    """Writes rows with the `csv` module (quoting as needed), maybe gzip."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    write_text(path, buffer.getvalue(), compress=compress)
    return path


def write_text(path, text, compress=False):
    data = text.encode("utf-8") if isinstance(text, str) else text
    if compress:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path
