"""Reading text files strictly: local or URL, plain or gzip, UTF-8 only.

Shared by `LabeledTexts` and `ParallelTexts`. Every error is a `ValueError`
that names the file (the path or URL the caller gave) and, where it applies,
the 1-based line, so that a bad row can be found and fixed.
"""

import contextlib
import csv
import gzip
import hashlib
import itertools
import logging
import os
import re
import signal
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
import zlib

_GZIP_MAGIC = b"\x1f\x8b"
_URL_SCHEMES = ("http", "https", "ftp")
ON_ERROR_CHOICES = ("raise", "skip")
# `PATH#sha256=HEX` pins a file (a config file's way to give a hash).
_PIN = re.compile(r"#sha256=([0-9a-fA-F]{64})$")
# The largest download, unless `download_limit` says otherwise: a server
# that never ends its body must not fill the disk.
DEFAULT_MAX_DOWNLOAD_MB = 10240
_max_download_mb = DEFAULT_MAX_DOWNLOAD_MB

logger = logging.getLogger("keras_attnpred.data")


def check_path(path_or_url):
    """Raises unless `path_or_url` is a str or `os.PathLike`."""
    if (
        isinstance(path_or_url, bytes)
        or not isinstance(path_or_url, (str, os.PathLike))
        or not os.fspath(path_or_url)
    ):
        raise ValueError(
            "`path_or_url` must be a path or a URL. "
            f"Received: path_or_url={path_or_url!r}"
        )


def is_url(path_or_url):
    """Whether `path_or_url` is a URL to download rather than a local path."""
    scheme = urllib.parse.urlsplit(str(path_or_url)).scheme
    return scheme.lower() in _URL_SCHEMES


def split_pin(path_or_url):
    """`(path_or_url, sha256 or None)`: a `#sha256=HEX` suffix split off."""
    check_path(path_or_url)
    text = os.fspath(path_or_url)
    match = _PIN.search(text)
    if match is None:
        return path_or_url, None
    return text[: match.start()], match.group(1).lower()


def file_name(path_or_url):
    """The last path component, without a URL's query string or fragment
    (or a `#sha256=` pin)."""
    check_path(path_or_url)
    path_or_url, _ = split_pin(path_or_url)
    if is_url(path_or_url):
        return os.path.basename(urllib.parse.urlsplit(path_or_url).path)
    return os.path.basename(os.fspath(path_or_url))


@contextlib.contextmanager
def download_limit(max_mb):
    """Downloads inside are refused past `max_mb` megabytes (MiB), the
    default being `DEFAULT_MAX_DOWNLOAD_MB` (`attnpred --max-download-mb`).
    """
    global _max_download_mb
    if isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or (
        not 0 < max_mb < float("inf")
    ):
        raise ValueError(
            "`max_download_mb` must be a positive number. Received: "
            f"max_download_mb={max_mb!r}"
        )
    previous, _max_download_mb = _max_download_mb, max_mb
    try:
        yield
    finally:
        _max_download_mb = previous


def check_on_error(on_error):
    if on_error not in ON_ERROR_CHOICES:
        raise ValueError(
            f"`on_error` must be one of {list(ON_ERROR_CHOICES)}. "
            f"Received: on_error={on_error!r}"
        )


def _hasher(file_hash):
    # Same convention as `keras.utils.get_file`: 64 hex digits is SHA-256,
    # anything else is MD5.
    return hashlib.sha256() if len(file_hash) == 64 else hashlib.md5()


def hash_of(path, file_hash):
    """The hash of the file at `path`, in the algorithm `file_hash` uses."""
    hasher = _hasher(file_hash)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _hash_error(name, file_hash, actual):
    algorithm = "sha256" if len(file_hash) == 64 else "md5"
    return ValueError(
        f"{name}: the {algorithm} file hash does not match. "
        f"Expected: {file_hash}. Received: {actual}"
    )


def resolve(path_or_url, file_hash=None, cache_dir=None):
    """Returns a local path for `path_or_url`, downloading a URL once.

    A URL is downloaded into
    `<cache_dir or $KERAS_HOME or ~/.keras>/datasets/keras_attnpred/`;
    later calls find it there and do not download again. A download goes
    to a temporary file that is renamed into place only once complete: the
    body must have the server's `Content-Length` when it gives one, and at
    most `download_limit` megabytes (default `DEFAULT_MAX_DOWNLOAD_MB`).
    An unwritable cache folder is an error, never a fall-back to a shared
    temporary folder. With `file_hash` (SHA-256 or MD5 hex digest), or a
    `#sha256=HEX` suffix on the path or URL, the file is verified, whether
    downloaded, cached or local.

    Raises:
        ValueError: the file does not exist, is not a regular file, its
            hash does not match, or a download failed (named).
    """
    path_or_url, pinned = split_pin(path_or_url)
    if file_hash is not None:
        file_hash = str(file_hash).lower()
    if pinned is not None:
        if file_hash is not None and file_hash != pinned:
            raise ValueError(
                f"{path_or_url}: two different hashes given, "
                f"file_hash={file_hash!r} and #sha256={pinned}."
            )
        file_hash = pinned
    if not is_url(path_or_url):
        path = os.fspath(path_or_url)
        if os.path.isdir(path):
            raise ValueError(f"{path}: a directory, not a file.")
        if not os.path.exists(path):
            raise ValueError(f"{path}: no such file.")
        if not os.path.isfile(path):
            # /dev/null, a pipe, a socket: not data to read twice.
            raise ValueError(
                f"{path}: not a regular file (a device, pipe or socket); "
                "give a file."
            )
        if file_hash is not None:
            actual = hash_of(path, file_hash)
            if actual != file_hash:
                raise _hash_error(path, file_hash, actual)
        return path

    url = str(path_or_url)
    # The URL's own hash in the cache name: two URLs that end in the same
    # file name (".../en/train.gz", ".../de/train.gz") never share a file.
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    fname = f"{key}-{file_name(url) or 'download'}"
    directory = os.path.join(_cache_root(cache_dir), "datasets",
                             "keras_attnpred")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"{url}: cannot create the download cache {directory} ({error}). "
            "Give a writable `cache_dir` or set KERAS_HOME."
        ) from None
    target = os.path.join(directory, fname)
    if os.path.isfile(target) and file_hash is not None:
        if hash_of(target, file_hash) != file_hash:
            os.remove(target)  # stale or replaced: download it again
    if not os.path.isfile(target):
        _download(url, target)
    if file_hash is not None:
        actual = hash_of(target, file_hash)
        if actual != file_hash:
            # A file that failed its check must not stay in the cache.
            os.remove(target)
            raise _hash_error(url, file_hash, actual)
    return target


def _cache_root(cache_dir):
    if cache_dir is not None:
        return os.path.expanduser(os.fspath(cache_dir))
    # As Keras, without its fall-back to /tmp/.keras (world-writable: a
    # file planted there would be read as the download).
    home = os.environ.get("KERAS_HOME")
    return home or os.path.join(os.path.expanduser("~"), ".keras")


def _download(url, target):
    """Downloads `url` to `target`: a temporary file next to it, renamed
    when complete (a run killed mid-download leaves no file at `target`)."""
    directory, name = os.path.split(target)
    # Left by a run killed mid-download (SIGKILL): never read, removed now.
    for leftover in os.listdir(directory):
        if leftover.startswith(f".{name}.") and leftover.endswith(".part"):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, leftover))
    limit = int(_max_download_mb * 2**20)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{name}.", suffix=".part", dir=directory
        )
    except OSError as error:
        raise ValueError(
            f"{url}: cannot write the download cache {directory} ({error}). "
            "Give a writable `cache_dir` or set KERAS_HOME."
        ) from None
    try:
        with _sigterm_cleans_up(), os.fdopen(handle, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=60)
            except Exception as error:
                raise ValueError(f"{url}: download failed: {error}") from None
            with response:
                length = response.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
                if expected is not None and expected > limit:
                    raise _too_large(url, f"{expected:,} bytes announced")
                received = 0
                while True:
                    try:
                        chunk = response.read(1 << 20)
                    except Exception as error:
                        raise ValueError(
                            f"{url}: download failed after {received:,} "
                            f"bytes: {error!r}"
                        ) from None
                    if not chunk:
                        break
                    received += len(chunk)
                    if received > limit:
                        raise _too_large(url, f"over {limit:,} bytes so far")
                    out.write(chunk)
            if expected is not None and received != expected:
                raise ValueError(
                    f"{url}: download cut short: {received:,} of the "
                    f"{expected:,} bytes the server announced "
                    "(Content-Length). Try again."
                )
            out.flush()
            os.fsync(out.fileno())
        # mkstemp's 0600 -> what any new file gets (0644 under umask 022).
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _too_large(url, what):
    return ValueError(
        f"{url}: the download is larger than the limit of "
        f"{_max_download_mb:g} MB ({what}). Raise it with --max-download-mb "
        "(`text_file.download_limit`) if the file is meant to be that big."
    )


@contextlib.contextmanager
def _sigterm_cleans_up():
    """SIGTERM during a download exits through Python's cleanup (removing
    the partial file) instead of killing the process where it stands."""
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield  # someone else handles SIGTERM
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _decoded_lines(stream, name):
    """Yields each line of a binary stream as `str`, ending kept.

    Lines end at `\\n` only: `\\r`, `\\x85`, `\\u2028` and friends inside a
    line stay in the text, so line numbers match `wc -l` and other tools.
    """
    number = 0
    try:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{name}, line {number}: not valid UTF-8 "
                    f"(byte {raw[error.start:error.start + 1]!r} at column "
                    f"{error.start + 1})."
                ) from None
            if number == 1 and line.startswith("\ufeff"):
                line = line[1:]  # A byte-order mark is not part of the text.
            yield line
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as error:
        raise ValueError(
            f"{name}, after line {number}: unreadable or truncated gzip "
            f"data ({error})."
        ) from None


@contextlib.contextmanager
def open_lines(path_or_url, file_hash=None, cache_dir=None):
    """Opens a text file, local or URL, plain or gzip, for strict reading.

    Gzip is recognised by its magic bytes, whatever the file is called.

    Args:
        path_or_url: local path, or an `http(s)://` or `ftp://` URL.
        file_hash: optional SHA-256 or MD5 hex digest to verify.
        cache_dir: where downloads are kept; default `~/.keras`.

    Yields:
        `(name, lines)`: the name to use in messages (what the caller gave)
        and an iterator over the decoded lines, each ending in `\\n` except
        perhaps the last. Decoding errors raise a `ValueError` naming the
        file and the 1-based line.
    """
    name = str(split_pin(path_or_url)[0])
    path = resolve(path_or_url, file_hash=file_hash, cache_dir=cache_dir)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        with stream:
            yield name, _decoded_lines(stream, name)


def numbered_lines(path_or_url, file_hash=None, cache_dir=None):
    """Returns `(name, [(line_number, text), ...])`, line endings removed.

    Only `\\n` (and a `\\r` before it) ends a line; a final newline does not
    start an extra empty line.
    """
    with open_lines(path_or_url, file_hash, cache_dir) as (name, lines):
        numbered = [
            (number, line.rstrip("\n").removesuffix("\r"))
            for number, line in enumerate(lines, start=1)
        ]
    return name, numbered


@contextlib.contextmanager
def _large_csv_fields():
    # The csv module refuses fields over 128 KiB by default; long documents
    # (a 20 Newsgroups message, a book chapter) are legitimate text here.
    previous = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def delimited_rows(
    path_or_url,
    delimiter=None,
    quoted=None,
    file_hash=None,
    cache_dir=None,
):
    """Parses a CSV or TSV file into rows that know their line numbers.

    Args:
        path_or_url: local path or URL, plain or gzip.
        delimiter: one character; `None` picks a tab for names ending in
            `.tsv` or `.tsv.gz`, and otherwise detects it from the first
            line (the header): `,`, `;` or a tab, whichever it holds most of
            outside quotes, a comma when it holds none (one column).
        quoted: whether `"` quotes fields (which may then hold delimiters and
            newlines). `None`: yes for commas, no for tabs, because TSV files
            such as GLUE's or Tatoeba's hold bare `"` characters in the text.

    Returns:
        `(name, rows)` with `rows` a list of `(line_number, fields)`; the line
        number is the 1-based line on which the record starts. Blank lines
        are left out.

    Raises:
        ValueError: malformed quoting or bad UTF-8, naming file and line.
    """
    lowered = file_name(path_or_url).lower()
    if delimiter is None and (
        lowered.endswith(".tsv") or lowered.endswith(".tsv.gz")
    ):
        delimiter = "\t"
    if delimiter is not None and (
        not isinstance(delimiter, str) or len(delimiter) != 1
    ):
        raise ValueError(
            "`delimiter` must be a single character. "
            f"Received: delimiter={delimiter!r}"
        )
    with open_lines(path_or_url, file_hash, cache_dir) as (name, lines):
        return name, parse_delimited(name, lines, delimiter, quoted)


def parse_delimited(name, lines, delimiter=None, quoted=None):
    """The rows of CSV/TSV `lines` (str, endings kept), as `delimited_rows`
    returns them; `delimiter=None` detects it from the first line
    (`sniff_delimiter`). `name` is used in error messages."""
    lines = iter(lines)
    if delimiter is None:
        first = next(lines, "")
        delimiter = sniff_delimiter(first)
        lines = itertools.chain([first], lines)
    if quoted is None:
        quoted = delimiter != "\t"
    reader = csv.reader(
        lines,
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=True,
    )
    rows = []
    start = 1
    with _large_csv_fields():
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                raise ValueError(
                    f"{name}, line {start}: malformed CSV ({error})."
                ) from None
            if fields:
                rows.append((start, fields))
            start = reader.line_num + 1
    return rows


# Detected when no delimiter is given, in this order of preference on ties.
SNIFFED_DELIMITERS = (",", "\t", ";")


def sniff_delimiter(header_line):
    """The delimiter a CSV header line uses: `,`, a tab or `;`, whichever
    occurs most often outside `"`-quoted names; a comma when none does.

    Example:

    >>> sniff_delimiter('review;"stars; 1-5";label\n')
    ';'
    """
    counts = dict.fromkeys(SNIFFED_DELIMITERS, 0)
    quoted = False
    for character in header_line:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    best = max(SNIFFED_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def column_index(name, column, header, argument):
    """Resolves a column given by name or 0-based index to an index."""
    if isinstance(column, str):
        if header is None:
            raise ValueError(
                f"{name}: `{argument}={column!r}` names a column, but the "
                "file is read without a header (header=False). Pass a "
                "0-based index instead."
            )
        if column not in header:
            raise ValueError(
                f"{name}, line 1: no column named {column!r}. "
                f"Available columns: {header}"
            )
        return header.index(column)
    if isinstance(column, bool) or not isinstance(column, int) or column < 0:
        raise ValueError(
            f"`{argument}` must be a column name or a 0-based index. "
            f"Received: {argument}={column!r}"
        )
    return column


def split_header(name, rows, header, columns):
    """Drops the header row and resolves the wanted columns to indices.

    Args:
        name: the file's name, for error messages.
        rows: `(line_number, fields)` pairs, header row included if any.
        header: bool, whether the first row names the columns.
        columns: `{argument_name: column}` with each column given by name or
            0-based index.

    Returns:
        The data rows, the number of fields every row must have, and the
        column indices in the order of `columns`.
    """
    names = None
    if header:
        if not rows:
            raise ValueError(f"{name}: empty file, no header row.")
        names = [column.strip() for column in rows[0][1]]
        rows = rows[1:]
    width = len(names) if names is not None else (len(rows[0][1]) if rows else 0)
    indices = []
    for argument, column in columns.items():
        index = column_index(name, column, names, argument)
        if rows and index >= width:
            raise ValueError(
                f"{name}: `{argument}={index}` is out of range for rows "
                f"of {width} fields."
            )
        indices.append(index)
    return rows, width, indices


class RowErrors:
    """Raises the first bad row, or counts and remembers skipped ones."""

    def __init__(self, name, on_error, what="rows", unit="line"):
        check_on_error(on_error)
        self.name = name
        self.on_error = on_error
        self.what = what
        self.unit = unit
        self.messages = []

    def __call__(self, line, message):
        full = f"{self.name}, {self.unit} {line}: {message}"
        if self.on_error == "raise":
            raise ValueError(full)
        self.messages.append(full)

    @property
    def count(self):
        return len(self.messages)

    def log(self):
        if self.messages:
            shown = "; ".join(self.messages[:3])
            more = len(self.messages) - 3
            if more > 0:
                shown += f"; and {more} more"
            logger.warning(
                "Skipped %d bad %s of %s: %s",
                self.count,
                self.what,
                self.name,
                shown,
            )


def split_sizes(fractions, total):
    """Sizes of consecutive parts of `total` items in the given fractions."""
    received = fractions
    try:
        fractions = [float(f) for f in fractions]
    except (TypeError, ValueError):
        fractions = []
    if (
        not fractions
        or any(not f > 0 for f in fractions)
        or abs(sum(fractions) - 1.0) > 1e-6
    ):
        raise ValueError(
            "`fractions` must be positive numbers that sum to 1. "
            f"Received: fractions={received!r}"
        )
    bounds, running = [0], 0.0
    for fraction in fractions[:-1]:
        running += fraction
        bounds.append(int(running * total + 0.5))
    bounds.append(total)
    sizes = [b - a for a, b in zip(bounds, bounds[1:])]
    if any(size <= 0 for size in sizes):
        raise ValueError(
            f"Splitting {total} items by fractions={fractions} leaves an "
            f"empty part (sizes {sizes})."
        )
    return sizes
