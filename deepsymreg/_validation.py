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
