"""Files written whole or not at all, and full disks named.

A file is written under a temporary name in its own folder, flushed to disk
(`fsync`) and renamed over the old one: a process killed at any moment
leaves either the old file or the new one, never a truncated one.
"""

import contextlib
import errno
import json
import os


def is_disk_full(error):
    """Whether `error` (an `OSError`, h5py's, TensorFlow's
    `ResourceExhaustedError`) says that the disk is full."""
    if getattr(error, "errno", None) == errno.ENOSPC:
        return True
    text = str(error)
    return "No space left on device" in text or "errno = 28," in text


def disk_full_error(path, note=""):
    """The `OSError` to raise instead: it names the file being written."""
    return OSError(
        errno.ENOSPC,
        f"No space left on device while writing {path}{note}",
        os.fspath(path),
    )


def write_atomically(path, write, suffix="", note=""):
    """Calls `write(temporary_path)`, then renames the result to `path`.

    Args:
        path: the file to write.
        write: a function writing the whole file at the path it is given.
        suffix: what the temporary name must end with (Keras checks
            extensions: `".weights.h5"`, `".keras"`).
        note: added to the error when the disk is full (what was kept).
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    temporary = os.path.join(
        folder, f".{name.removesuffix(suffix)}.{os.getpid()}.tmp{suffix}"
    )
    try:
        write(temporary)
        _fsync(temporary)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        if isinstance(error, Exception) and is_disk_full(error):
            raise disk_full_error(path, note) from error
        raise
    _fsync(folder or ".", directory=True)


def write_json(path, value, note=""):
    """Writes `value` as indented JSON to `path`, atomically."""

    def write(temporary):
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
            f.write("\n")

    write_atomically(path, write, note=note)


def _fsync(path, directory=False):
    """Flushes `path` to disk; a full disk can show only here. A folder
    that cannot be synced (some file systems) is left as it is."""
    if not directory:
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        return
    with contextlib.suppress(OSError):
        handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
