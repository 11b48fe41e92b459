"""Argument checks shared by the package (Keras-style messages)."""

from __future__ import annotations

import numpy as np


def check_int(name, value, minimum=1):
    """``value`` as an int, or a ValueError naming ``name`` if it is not an int >= minimum."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(
            f"Invalid value for argument `{name}`: expected {expected}. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``, or a ValueError naming ``name``."""
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected one of {list(choices)}. "
            f"Received: {name}={value!r}"
        )
    return value
