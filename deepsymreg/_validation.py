"""Argument checks shared by the package (Keras-style messages)."""

from __future__ import annotations

import numpy as np


def check_int(name, value, minimum=1, allow_none=False):
    """``value`` as an int, or a ValueError naming ``name`` if it is not an int >= minimum.

    With ``allow_none``, None passes through unchanged.
    """
    if allow_none and value is None:
        return None
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if allow_none:
            expected = f"None or {expected}"
        raise ValueError(
            f"Invalid value for argument `{name}`: expected {expected}. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_number(name, value, low=None, high=None, strict=False):
    """``value`` as a float, or a ValueError naming ``name`` if it is not a number in range.

    ``low``/``high`` bound it (None: unbounded); ``strict`` makes both bounds exclusive.
    NaN and non-numbers always fail.
    """
    try:
        number = float(value)
        ok = not isinstance(value, (bool, str)) and number == number
    except (TypeError, ValueError):
        number, ok = None, False
    if ok and low is not None:
        ok = number > low if strict else number >= low
    if ok and high is not None:
        ok = number < high if strict else number <= high
    if not ok:
        lt, le = ("<", "<") if strict else ("<=", "<=")
        if low is not None and high is not None:
            expected = f"{low} {lt} {name} {le} {high}"
        elif low is not None:
            expected = f"a number {'>' if strict else '>='} {low}"
        elif high is not None:
            expected = f"a number {lt} {high}"
        else:
            expected = "a number"
        raise ValueError(
            f"Invalid value for argument `{name}`: expected {expected}. "
            f"Received: {name}={value!r}"
        )
    return number


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``, or a ValueError naming ``name``."""
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected one of {list(choices)}. "
            f"Received: {name}={value!r}"
        )
    return value


def check_saved_format(cls_name, config, current):
    """Pop ``config["format"]``; a ValueError saying how to re-save when it is not ``current``.

    Files saved before a class had a format key are of format 1 (deepsymreg 0.1).
    """
    found = config.pop("format", 1)
    if found != current:
        raise ValueError(
            f"This {cls_name} was saved in format {found} (deepsymreg 0.1), whose EQL weights "
            "sit where this version cannot place them. Re-save it as config and weights: "
            "with deepsymreg 0.1 load it and keep `model.get_config()` and "
            f"`model.get_weights()`; with this version build "
            f"`{cls_name}.from_config({{**config, 'format': {current}}})`, call it once on data and `set_weights(weights)` (the weight order is unchanged), then save."
        )
    return config


def check_rerun_rule(name, value, what):
    """None, or ``value`` as ``(threshold, count)``: a number > 0 and an integer >= 0 (a rule
    "re-run when the error is above ``threshold``, at most ``count`` times"); a ValueError
    naming ``name`` otherwise. ``what`` names the two parts in the message."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected None or {what}. "
            f"Received: {name}={value!r}"
        )
    return (check_number(f"{name}[0]", value[0], 0.0, strict=True),
            check_int(f"{name}[1]", value[1], minimum=0))
