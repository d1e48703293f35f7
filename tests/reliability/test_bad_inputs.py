"""Every entry point against the bad inputs of `cases.py`, one test each."""

import re

import pytest

from tests.reliability.cases import CASES
from tests.reliability.cases import Exits
from tests.reliability.cases import Gives
from tests.reliability.cases import Raises


# An empty text is one padding step: Keras warns about a softmax over one.
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.entry}: {c.name}" for c in CASES])
def test_bad_input(case, env):
    if isinstance(case.expect, Raises):
        error = case.expect.error
        if isinstance(error, str):
            import tensorflow as tf

            error = getattr(tf.errors, error)
        with pytest.raises(error, match=case.expect.pattern):
            case.call(env)
    elif isinstance(case.expect, Exits):
        code, err, _ = case.call(env)
        lines = err.strip().splitlines()
        assert code == 2, err
        # One line, except argparse's own usage text before its error.
        assert len(lines) == 1 or lines[0].startswith("usage:"), err
        assert re.search(case.expect.pattern, lines[-1]), err
    else:
        assert isinstance(case.expect, Gives)
        result = case.call(env)
        assert case.expect.check(result), result


def test_every_kind_is_tried():
    from tests.reliability.cases import KINDS

    assert {c.kind for c in CASES} == set(KINDS)
    names = [(c.entry, c.name) for c in CASES]
    assert len(names) == len(set(names)), "two cases share a name"
