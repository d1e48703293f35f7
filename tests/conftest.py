import os

import keras
import pytest

# The folders whose modules train the most, longest first. pytest-xdist's
# `--dist loadfile` (the Makefile's) hands whole modules to the workers in
# collection order, and tests/training/ comes last alphabetically, where
# it left one worker training while the other had nothing left (the suite
# took 22 min 51 s with this order, 23 min 33 s without, on 2 cores).
_LONGEST_FIRST = (
    "tests/training/",
    "tests/reliability/",
    "tests/test_cli.py",
    "tests/test_readme.py",
    "tests/export/",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid
        for position, prefix in enumerate(_LONGEST_FIRST):
            if path.startswith(prefix):
                return position
        return len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: a module's tests keep their order


def data_dir():
    """The shared datasets folder: `$ATTNPRED_DATA`, default `../shared/data`."""
    return os.environ.get(
        "ATTNPRED_DATA",
        os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"),
    )


@pytest.fixture(autouse=True)
def fresh_keras_state():
    """Every test starts from the same seed and an empty Keras session."""
    # Without a full garbage collection per test: it cost ~0.4 s each.
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(1337)
    yield


@pytest.fixture
def dtype_policy():
    """Sets a global dtype policy for one test and restores the old one."""
    previous = keras.config.dtype_policy()
    yield keras.config.set_dtype_policy
    keras.config.set_dtype_policy(previous)
