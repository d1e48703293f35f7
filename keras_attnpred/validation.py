"""Argument checks shared by the whole package.

Each raises a `ValueError` that names the argument and the value received,
Keras style: "`num_heads` must be a positive integer. Received: num_heads=0".
Plain Python and NumPy only, so any subpackage can use it.
"""

import numpy as np


def check_positive_int(name, value, allow_none=False, minimum=1):
    """`value` as an int, if it is one and at least `minimum`.

    Returns:
        `int(value)`, or None when `value` is None and `allow_none` is set.
    """
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < minimum
    ):
        what = (
            "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        )
        raise ValueError(f"`{name}` must be {what}. Received: {name}={value!r}")
    return int(value)


def check_positive_number(name, value):
    """Raises unless `value` is an int or float greater than 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not value > 0
    ):
        raise ValueError(
            f"`{name}` must be a positive number. Received: {name}={value!r}"
        )


def check_rate(name, value):
    """Raises unless `value` is a number in [0, 1)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0.0 <= value < 1.0
    ):
        raise ValueError(
            f"`{name}` must be a float in [0, 1). Received: {name}={value!r}"
        )


def check_choice(name, value, choices):
    """Raises unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}. "
            f"Received: {name}={value!r}"
        )


def check_bool(name, value):
    """Raises unless `value` is a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
