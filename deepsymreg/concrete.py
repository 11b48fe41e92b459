"""Concrete relaxations: the noise they sample and the hard-concrete gate maths.

One place for the formulas that relaxed-L0 gates (:class:`~deepsymreg.HardConcreteDense`)
and their penalty (:class:`~deepsymreg.ExpectedL0`) share, and for the noise of concrete
(Gumbel-softmax) relaxations in general:

- ``logistic_noise``: ``log u - log(1 - u)``, the noise of a binary concrete variable;
- ``gumbel_noise``: ``-log(-log u)``, the noise of a categorical concrete variable;
- the hard-concrete gate of Louizos, Welling & Kingma (2018): a binary concrete ``s`` at
  temperature ``beta``, stretched to ``(gamma, zeta)`` and clipped to [0, 1], so that it
  is exactly 0 or 1 with positive probability;
- the probability that a gate is open, whose sum is the expected L0 norm.

References:
    Maddison, Mnih & Teh (2016). The concrete distribution: a continuous relaxation of
    discrete random variables. ICLR 2017.
    Louizos, Welling & Kingma (2018). Learning sparse neural networks through L0
    regularization. ICLR.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "BETA",
    "GAMMA",
    "ZETA",
    "uniform_open",
    "stateless_uniform_open",
    "counter_uniform",
    "trial_uniforms",
    "logistic_noise",
    "gumbel_noise",
    "stretch_and_clip",
    "deterministic_gate",
    "sample_gate",
    "open_probability",
]

#: Temperature and stretch of the hard-concrete gate (Louizos et al. 2018).
BETA, GAMMA, ZETA = 2 / 3, -0.1, 1.1

# Uniform draws stay this far from 0 and 1: the logarithms of the noise are infinite at
# the ends (float32 resolves 1 - 1e-6, so both ends stay finite).
_EPSILON = 1e-6


def uniform_open(shape, seed, dtype="float32"):
    """``u ~ U(eps, 1 - eps)``: uniforms kept off 0 and 1 (see ``_EPSILON``)."""
    return keras.random.uniform(shape, minval=_EPSILON, maxval=1.0 - _EPSILON, seed=seed,
                                dtype=dtype)


def stateless_uniform_open(shape, seed, dtype="float32"):
    """``uniform_open`` from a stateless ``seed`` (two int32 scalars): the same draw for
    the same seed, wherever and with whatever else it runs."""
    return tf.random.stateless_uniform(shape, seed, minval=_EPSILON, maxval=1.0 - _EPSILON,
                                       dtype=dtype)


# Golden-ratio and odd multipliers of the counter hash below.
_MIX = (-1640531535, 0x7FEB352D, -2073254261, 1013904223)


def _hash32(k):
    """``lowbias32`` (C. Wellons' integer hash): int32 in, well-mixed int32 out."""
    k = tf.bitwise.bitwise_xor(k, tf.bitwise.right_shift(k, 16)) * _MIX[1]
    k = tf.bitwise.bitwise_xor(k, tf.bitwise.right_shift(k, 15)) * _MIX[2]
    return tf.bitwise.bitwise_xor(k, tf.bitwise.right_shift(k, 16))


def counter_uniform(shape, seeds, counter, stream=0):
    """Uniforms in (0, 1) from a counter hash: one independent stream per run.

    ``u[r, ...] = hash(seeds[r], counter[r], stream, position)``: the same numbers for
    the same ``(seed, counter, stream)`` whatever else runs in the graph, so a run's
    result does not depend on how many runs share it. Under XLA on a CPU this costs a
    fraction of ``tf.random.stateless_uniform`` (Philox), which matters when every
    step draws thousands of them (a Gumbel-max EQL search; relaxed-L0 gates of many
    restarts, see ``docs/performance.md``).

    Args:
        shape: shape of the draw for one run (a list of ints).
        seeds: int32 vector ``(runs,)``.
        counter: int32 scalar (e.g. the iteration, the same for every run) or vector
            ``(runs,)`` (each run's own count).
        stream: int, to draw several independent arrays at one counter.

    Returns:
        float32 ``(runs, *shape)``, never exactly 0 or 1 (23 random bits, offset by half
        a step: ``log u``, ``log(1 - u)`` and ``-log(-log u)`` stay finite).
    """
    size = int(np.prod(shape, dtype=np.int64))
    seeds = tf.cast(seeds, tf.int32)
    counter = tf.cast(counter, tf.int32)
    key = _hash32(_hash32(seeds * _MIX[0] + stream * _MIX[3]) + _hash32(counter + _MIX[1]))
    k = _hash32(key[:, None] + tf.range(size, dtype=tf.int32)[None, :] * _MIX[0])
    bits = tf.bitwise.right_shift(tf.bitwise.bitwise_and(k, 0x7FFFFFFF), 8)  # 23 bits
    u = (tf.cast(bits, tf.float32) + 0.5) * (1.0 / 8388608.0)
    return tf.reshape(u, tf.concat([tf.shape(seeds), tf.constant(list(shape), tf.int32)], 0))


def trial_uniforms(shape, seeds, steps, dtype="float32"):
    """One draw of uniforms of ``shape`` per trial, stacked on a new leading axis: trial
    ``k`` draws from its own stream, :func:`counter_uniform` at ``(seeds[k], steps[k])``
    (``seeds`` and ``steps``: int32 vectors, e.g. a layer's per-trial noise variables).

    Until 2026-12-03 each trial drew with ``tf.random.stateless_uniform`` (Philox), one
    op per trial: the same distribution, other numbers, and 1.21x the wall time for 20
    relaxed-L0 restarts of 20000 steps (``benchmarks/gate_noise_speed.py``)."""
    return tf.cast(counter_uniform(list(shape), seeds, steps), dtype)


def logistic_noise(shape, seed, dtype="float32", uniform=None):
    """``log u - log(1 - u)``, ``u ~ U(0, 1)``: the noise of a binary concrete variable.

    ``uniform`` gives ``u`` directly (e.g. from :func:`stateless_uniform_open`)."""
    u = uniform_open(shape, seed, dtype) if uniform is None else uniform
    return tf.math.log(u) - tf.math.log(1.0 - u)


def gumbel_noise(shape, seed, dtype="float32"):
    """``-log(-log u)``, ``u ~ U(0, 1)``: standard Gumbel noise (categorical concrete)."""
    return -tf.math.log(-tf.math.log(uniform_open(shape, seed, dtype)))


def stretch_and_clip(s, gamma=GAMMA, zeta=ZETA):
    """``clip(s (zeta - gamma) + gamma, 0, 1)``: a value in (0, 1) made a hard gate."""
    return tf.clip_by_value(s * (zeta - gamma) + gamma, 0.0, 1.0)


def deterministic_gate(log_alpha, gamma=GAMMA, zeta=ZETA):
    """The gate used at inference: ``stretch_and_clip(sigmoid(log_alpha))``."""
    return stretch_and_clip(tf.sigmoid(log_alpha), gamma, zeta)


def sample_gate(log_alpha, seed, beta=BETA, gamma=GAMMA, zeta=ZETA, uniform=None):
    """One hard-concrete draw per entry of ``log_alpha``:
    ``stretch_and_clip(sigmoid((log u - log(1 - u) + log_alpha) / beta))``
    (``uniform``: the ``u`` to use, shaped like ``log_alpha``; drawn from ``seed`` if None)."""
    noise = logistic_noise(tf.shape(log_alpha), seed, log_alpha.dtype, uniform)
    return stretch_and_clip(tf.sigmoid((noise + log_alpha) / beta), gamma, zeta)


def open_probability(log_alpha, beta=BETA, gamma=GAMMA, zeta=ZETA):
    """``P(z != 0) = sigmoid(log_alpha - beta log(-gamma / zeta))`` per gate; the sum over
    the gates is the expected L0 norm."""
    return tf.sigmoid(log_alpha - beta * math.log(-gamma / zeta))
