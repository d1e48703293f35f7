import os

import keras
import pytest


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
