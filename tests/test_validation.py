"""Shared argument checks: Keras-style messages naming the argument and the value."""

import numpy as np
import pytest

from deepsymreg._validation import check_int, check_number


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "3", None])
def test_check_int_rejects(value):
    with pytest.raises(ValueError, match=f"argument `n`: expected a positive integer. Received: n={value!r}"):
        check_int("n", value)


def test_check_int_accepts_and_allows_none_when_asked():
    assert check_int("n", np.int64(3)) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("n", 0, minimum=0) == 0
    assert check_int("n", None, allow_none=True) is None
    with pytest.raises(ValueError, match="expected None or an integer >= 0"):
        check_int("n", -1, minimum=0, allow_none=True)


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        (-0.1, {"low": 0.0}, "a number >= 0.0"),
        (0.0, {"low": 0.0, "strict": True}, "a number > 0.0"),
        (1.0, {"low": 0.0, "high": 1.0, "strict": True}, "0.0 < x < 1.0"),
        (float("nan"), {}, "a number"),
        ("1", {}, "a number"),
        (None, {"low": 0.0}, "a number >= 0.0"),
    ],
)
def test_check_number_rejects(value, kwargs, expected):
    with pytest.raises(ValueError, match=f"argument `x`: expected {expected}. Received: x="):
        check_number("x", value, **kwargs)


def test_check_number_accepts_bounds_and_numpy_values():
    assert check_number("x", 0.0, low=0.0) == 0.0
    assert check_number("x", np.float32(0.5), low=0.0, high=1.0, strict=True) == 0.5
