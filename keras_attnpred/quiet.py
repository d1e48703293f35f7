"""Keeping TensorFlow's native start-up lines off the terminal.

TensorFlow's C++ code writes lines such as `oneDNN custom operations are
on` or `failed call to cuInit` straight to file descriptor 2, many of them
before `TF_CPP_MIN_LOG_LEVEL` is read. `attnpred` hides them unless
`--verbose`: it sets `TF_CPP_MIN_LOG_LEVEL=3` and imports the framework
with the descriptor pointed at `os.devnull`. Plain Python: importing this
loads nothing else.
"""

import contextlib
import logging
import os
import sys

# TensorFlow's own level: 3 leaves fatal errors only.
_SILENT_LEVEL = "3"


def tensorflow_asked_to_be_quiet():
    """Whether `TF_CPP_MIN_LOG_LEVEL` asks for fatal errors only."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == _SILENT_LEVEL


@contextlib.contextmanager
def native_stderr_silenced(silence=True):
    """Points file descriptor 2 at `os.devnull` inside the block.

    Python's own `sys.stderr` is restored with it, and an exception leaving
    the block is reported after the descriptor is back, so no traceback is
    lost. Does nothing when `silence` is false or there is no descriptor 2
    to redirect.
    """
    if not silence:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_framework_start(verbose=False):
    """Imports Keras (and with it TensorFlow or JAX) without the native
    start-up lines, and turns TensorFlow's and absl's Python loggers down to
    errors; with `verbose`, only imports. A `TF_CPP_MIN_LOG_LEVEL` set by
    the user is left as it is."""
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", _SILENT_LEVEL)
    with native_stderr_silenced(not verbose and "keras" not in sys.modules):
        import keras  # noqa: F401
    if not verbose:
        for name in ("tensorflow", "absl"):
            logging.getLogger(name).setLevel(logging.ERROR)
