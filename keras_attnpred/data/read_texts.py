from keras_attnpred.data import text_file

_DELIMITED = (".csv", ".tsv", ".csv.gz", ".tsv.gz")


def read_texts(paths, text_column="text", delimiter=None):
    """Reads unlabelled texts, e.g. a pretraining corpus, from files.

    A file whose name ends in `.csv` or `.tsv` (optionally `.gz`) is read as
    a table with a header, and gives its `text_column`; any other file
    (plain or gzip) gives one text per non-blank line.

    Args:
        paths: a path or URL, or a list of them, read in order.
        text_column: column name or 0-based index, for tables.
        delimiter: optional one character, the tables' delimiter (default:
            detected, see `text_file.delimited_rows`).

    Returns:
        A list of str.

    Raises:
        ValueError: naming the file (and the line) that could not be read,
            or that holds no text.

    Example:

    >>> with open("corpus.txt", "w") as f:
    ...     _ = f.write("a first text\\n\\na second one\\n")
    >>> read_texts("corpus.txt")
    ['a first text', 'a second one']
    """
    paths = paths if isinstance(paths, (list, tuple)) else [paths]
    texts = []
    for path in paths:
        text_file.check_path(path)
        if text_file.file_name(path).lower().endswith(_DELIMITED):
            name, rows = text_file.delimited_rows(path, delimiter=delimiter)
            rows, width, (index,) = text_file.split_header(
                name, rows, True, {"text_column": text_column}
            )
            read = []
            for line, fields in rows:
                if len(fields) != width:
                    raise ValueError(
                        f"{name}, line {line}: expected {width} fields, "
                        f"found {len(fields)}."
                    )
                if fields[index].strip():
                    read.append(fields[index])
        else:
            _, lines = text_file.numbered_lines(path)
            read = [text.strip() for _, text in lines if text.strip()]
        if not read:
            raise ValueError(f"{path}: no texts in the file.")
        texts += read
    return texts
