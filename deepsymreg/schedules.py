"""Step-indexed schedules: curves of the optimizer step evaluated inside the compiled loop.

A schedule maps the optimizer step ``t`` (``optimizer.iterations``) to a value, with
TensorFlow ops, so it can be evaluated at every step of a compiled training loop, even
when one call runs hundreds of steps (``EQL(steps_per_call=500)``). Schedules are Keras
``LearningRateSchedule`` objects: give one to an optimizer as its learning rate, or bind
one to a penalty strength (:meth:`deepsymreg.regularizers.StrengthRegularizer.bind_schedule`).
:class:`~deepsymreg.PhasedSchedule` builds a :class:`Piecewise` curve from its phases.

- :class:`Constant`: one value.
- :class:`SinSquaredRamp`: ``peak * sin^2(pi t / (stretch * steps))``, the penalty ramp
  of the authors' MNIST code.
- :class:`OneCycleRate`, :class:`OneCycleStrength`: the one-cycle learning rate and
  penalty strength of the parametric-EQL reference code (Zhang et al. 2022, Fig. 11).
- :class:`Piecewise`: one schedule per phase, each seeing the steps since its phase began.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf

from deepsymreg._validation import check_int, check_number

__all__ = [
    "StepSchedule", "Constant", "SinSquaredRamp", "OneCycleRate", "OneCycleStrength",
    "Piecewise", "get",
]


class StepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Base: ``schedule(step)`` is a float32 tensor; :meth:`value_at` a Python float."""

    def __call__(self, step):
        return tf.cast(self.value(tf.cast(step, tf.float32)), tf.float32)

    def value(self, t):
        """The curve at float32 step ``t`` (a scalar tensor)."""
        raise NotImplementedError

    def value_at(self, step):
        """The curve at ``step`` as a Python float (eager)."""
        return float(np.asarray(self(tf.constant(int(step), tf.int64))))

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="deepsymreg")
class Constant(StepSchedule):
    """``value`` at every step."""

    def __init__(self, value):
        self.constant = check_number("value", value)

    def value(self, t):
        return tf.fill(tf.shape(t), tf.constant(self.constant, tf.float32))

    def get_config(self):
        return {"value": self.constant}


@keras.saving.register_keras_serializable(package="deepsymreg")
class SinSquaredRamp(StepSchedule):
    """``peak * sin^2(pi t / (stretch * steps))``: rises from 0 to near ``peak`` over
    ``steps`` (``stretch > 1`` stops it before the maximum, at ``sin^2(pi / stretch)``)."""

    def __init__(self, peak, steps, stretch=1.1):
        self.peak = check_number("peak", peak, 0.0)
        self.steps = check_int("steps", steps)
        self.stretch = check_number("stretch", stretch, 0.0, strict=True)

    def value(self, t):
        return self.peak * tf.sin(math.pi * t / (self.stretch * self.steps)) ** 2

    def get_config(self):
        return {"peak": self.peak, "steps": self.steps, "stretch": self.stretch}


@keras.saving.register_keras_serializable(package="deepsymreg")
class OneCycleRate(StepSchedule):
    """One-cycle learning rate over ``total_steps``, with ``r = t / total_steps``:
    ``base (5 - 9.9 |1.2 r - 0.5|)`` for ``r <= 5/6`` (up from ``0.05 base`` to
    ``5 base`` and back down), then ``1e-4 base``."""

    def __init__(self, base, total_steps):
        self.base = check_number("base", base, 0.0, strict=True)
        self.total_steps = check_int("total_steps", total_steps)

    def value(self, t):
        r = t / self.total_steps
        cycle = self.base * (5.0 - 9.9 * tf.abs(1.2 * r - 0.5))
        return tf.where(r <= 5.0 / 6.0, cycle, 1e-4 * self.base)

    def get_config(self):
        return {"base": self.base, "total_steps": self.total_steps}


@keras.saving.register_keras_serializable(package="deepsymreg")
class OneCycleStrength(StepSchedule):
    """One-cycle penalty strength over ``total_steps``, with ``r = t / total_steps``:
    ``base (2.4 r)^2`` up to ``r = 0.95 * 5/6`` (where it reaches ``1.9^2 base``), then
    linear down to ``base`` at ``r = 5/6``, then ``base``."""

    def __init__(self, base, total_steps):
        self.base = check_number("base", base, 0.0)
        self.total_steps = check_int("total_steps", total_steps)

    def value(self, t):
        r = t / self.total_steps
        knee, end = 0.95 * 5.0 / 6.0, 5.0 / 6.0
        rise = self.base * (2.4 * r) ** 2
        fall = self.base * (1.9**2 + (1.0 - 1.9**2) * (r - knee) / (end - knee))
        return tf.where(r <= knee, rise, tf.where(r <= end, fall, self.base))

    def get_config(self):
        return {"base": self.base, "total_steps": self.total_steps}


def get(value, name="schedule"):
    """A schedule from a number (:class:`Constant`), a schedule or its config.

    ``name`` is the argument named in the error for anything else.
    """
    if isinstance(value, StepSchedule):
        return value
    if isinstance(value, dict):
        return keras.saving.deserialize_keras_object(value)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return Constant(float(value))
    raise ValueError(
        f"Invalid value for argument `{name}`: expected a number or a StepSchedule. "
        f"Received: {name}={value!r}"
    )


@keras.saving.register_keras_serializable(package="deepsymreg")
class Piecewise(StepSchedule):
    """Phase ``i`` runs from ``starts[i]`` to the next start with its own schedule,
    evaluated at the steps since ``starts[i]``; the last phase runs on.

    Args:
        starts: first step of each phase, strictly increasing, beginning at 0.
        pieces: one schedule (or number) per phase.
    """

    def __init__(self, starts, pieces):
        given = starts
        try:
            starts = [check_int("starts", s, minimum=0) for s in given]
        except TypeError:  # not a list
            starts = None
        if not starts or starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError(
                "Invalid value for argument `starts`: expected strictly increasing steps "
                f"beginning at 0. Received: starts={given!r}"
            )
        values = None
        if isinstance(pieces, Iterable) and not isinstance(pieces, (str, dict)):
            values = [get(p, name="pieces") for p in pieces]
        if values is None or len(values) != len(starts):
            raise ValueError(
                f"Invalid value for argument `pieces`: expected one schedule or number per "
                f"phase ({len(starts)}). Received: pieces={pieces!r}"
            )
        self.starts, self.pieces = starts, values

    def value(self, t):
        out = self.pieces[-1](t - self.starts[-1])
        for start, end, piece in reversed(list(zip(self.starts, self.starts[1:], self.pieces))):
            out = tf.where(t < end, piece(t - start), out)
        return out

    def get_config(self):
        return {"starts": self.starts,
                "pieces": [keras.saving.serialize_keras_object(p) for p in self.pieces]}
