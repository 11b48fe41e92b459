"""Domain curriculum: train on the points nearest the origin first, then on all of them.

A rate or frequency inside a function (``sin(w x)``, ``exp(w x)``) is hard to find by
gradient descent on a wide range: the error of ``sin(w x)`` on (0, 10) has a local
minimum every ~0.6 in ``w``. On a short range near the origin the error is smooth in
``w``; growing the range while training lets the value follow. A curriculum
``(start, steps)`` keeps, at step ``t``, the points whose rank by ``max_j |x_j|`` is
within the share ``start + (1 - start) * min(1, t / steps)`` of all points.

Used by :class:`deepsymreg.EQL` and :class:`deepsymreg.models.GMEQL` (``curriculum=``);
see ``benchmarks/gmeql_frequency.py`` for what it does to frequencies.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["check_curriculum", "origin_rank", "share_mask", "share_weights"]


def check_curriculum(curriculum, name="curriculum"):
    """``None`` or ``(start, steps)`` with ``0 < start <= 1`` and ``steps >= 1``, as a
    ``(float, int)`` tuple; a ValueError naming ``name`` otherwise."""
    if curriculum is None:
        return None
    ok = isinstance(curriculum, (list, tuple)) and len(curriculum) == 2
    if ok:
        start, steps = curriculum
        ok = (isinstance(start, (int, float, np.floating)) and 0.0 < start <= 1.0
              and isinstance(steps, (int, np.integer)) and not isinstance(steps, bool)
              and steps >= 1)
    if not ok:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected None or (start, steps) with "
            f"0 < start <= 1 and steps a positive integer. Received: {name}={curriculum!r}"
        )
    return (float(curriculum[0]), int(curriculum[1]))


def origin_rank(x):
    """Each point's rank by ``max_j |x_j|`` (nearest the origin first) over the number
    of points: ``x`` ``(batch, d)`` -> float32 ``(batch,)`` in [0, 1)."""
    x = tf.convert_to_tensor(x)
    size = tf.reduce_max(tf.abs(tf.reshape(x, [tf.shape(x)[0], -1])), -1)
    order = tf.argsort(tf.argsort(size, stable=True), stable=True)
    return tf.cast(order, tf.float32) / tf.cast(tf.shape(x)[0], tf.float32)


def share_weights(rank, curriculum, step):
    """0/1 weights ``(batch,)`` of the points kept at ``step`` (a scalar tensor) by
    ``curriculum`` (checked ``(start, steps)``), from :func:`origin_rank`'s ``rank``."""
    start, steps = curriculum
    return share_mask(rank, start, 1.0 - start, steps, step)


def share_mask(rank, start, span, steps, step):
    """:func:`share_weights` with the share ``start + span * min(1, step / steps)`` given
    by its parts, numbers or float32 scalar tensors (a compiled loop that takes the
    curriculum as an argument passes ``span = 1 - start`` rounded once, as a constant
    would be)."""
    done = tf.minimum(tf.cast(step, tf.float32) / tf.cast(steps, tf.float32), 1.0)
    return tf.cast(rank < start + span * done, tf.float32)
