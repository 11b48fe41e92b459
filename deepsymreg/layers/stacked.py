"""Stacked EQL (SEQL): one weight set per step of a parameter grid, gates shared by all steps.

- :class:`StackedDense`, the stacked linear kind (registered as ``"stacked"``): a
  hard-concrete gated map with kernel ``(K?, N, in, out)``, one matrix per step
  ``t_1 .. t_N`` of an evenly spaced grid over ``t_range``, gates shared by the steps
  (group sparsity), and the smoothness penalty between adjacent steps.
- :class:`StackedEqlLayer`: an :class:`~deepsymreg.layers.EqlLayer` built on it.

Reference: Zhang, Kim, Lu & Soljačić (2022), Deep learning and symbolic regression for
discovering parametric equations, §II-D (eqs. 6-7).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from deepsymreg import primitives as primitives_lib
from deepsymreg import regularizers as regularizers_lib
from deepsymreg._validation import check_int, check_number
from deepsymreg.layers import stacking
from deepsymreg.layers.eql import EqlLayer
from deepsymreg.layers.hard_concrete import HardConcreteDense

__all__ = ["StackedDense", "StackedEqlLayer", "check_t_range"]

#: A parameter value within this fraction of the grid spacing of a step is on that step.
GRID_TOLERANCE = 0.05


def check_t_range(t_range, name="t_range"):
    """``t_range`` as two finite floats ``lo < hi``, or a ValueError naming ``name``."""
    try:
        lo, hi = (float(v) for v in t_range)
        ok = math.isfinite(lo) and math.isfinite(hi) and lo < hi and not isinstance(t_range, str)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected two finite numbers lo < hi. "
            f"Received: {name}={t_range!r}"
        )
    return lo, hi


@keras.saving.register_keras_serializable(package="deepsymreg")
class StackedDense(HardConcreteDense):
    """Stacked linear map: one gated weight matrix per step of a parameter grid.

    The grid is ``t_j = lo + (j - 1) (hi - lo) / (N - 1)``, ``j = 1..N``, over
    ``t_range = (lo, hi)`` (``N = t_steps``; one step sits at ``lo``). Step ``j``
    computes ``x @ (W~_j * z)`` with hard-concrete gates ``z`` shared by every step
    (one gate per weight: a term is kept or dropped for all ``t`` together), and the
    penalty adds the paper's smoothness ``theta * sum_j (W_{j+1} - W_j)^2`` (an
    :class:`~deepsymreg.regularizers.AdjacentSmoothness` of strength ``smoothness``,
    named ``"smoothness"`` so schedules can drive it). Neither gates nor smoothness
    couple two trials.

    Unlike plain hard-concrete maps, the output layer of a network of this kind is
    stacked and gated too (the paper's ``(L+1) N`` weight matrices and ``L+1`` gate
    matrices).

    Args:
        units: output width.
        t_steps: number ``N`` of grid steps (>= 1; smoothness needs 2).
        t_range: ``(lo, hi)``, the first and last grid values.
        smoothness: initial strength ``theta`` of the smoothness penalty (default 0).
        trials, use_bias, kernel_initializer, kernel_regularizer, beta, gamma, zeta,
            drop_rate, seed, gate_regularizer: as :class:`HardConcreteDense`.

    Call arguments:
        inputs: ``(K?, batch, in)`` with a per-sample ``context``; ``(K?, N, batch,
            in)`` with a per-step context or none (steps in grid order).
        context: the parameter ``t``: ``(batch, 1)`` or ``(N, 1, 1)``. Each value must
            lie on the grid (within 5% of the spacing); off-grid values raise a
            ValueError when run eagerly (inside a compiled graph they are snapped to
            the nearest step; check data before training).
        training: sample the gates when true.

    Output shape:
        ``(K?, batch, units)`` or ``(K?, N, batch, units)``, as the inputs.
    """

    plain_output = False
    takes_context = True

    def __init__(self, units, t_steps=2, t_range=(-1.0, 1.0), smoothness=0.0, share_gates=True,
                 smoothness_regularizer=None, **kwargs):
        t_steps = check_int("t_steps", t_steps)
        smoothness = check_number("smoothness", smoothness, 0.0)
        if not share_gates:
            raise ValueError(
                "Invalid value for argument `share_gates`: the stacked map shares its gates "
                "along the steps (use HardConcreteDense(t_steps=...) for per-step gates). "
                f"Received: share_gates={share_gates!r}"
            )
        if smoothness_regularizer is None and t_steps > 1:
            smoothness_regularizer = regularizers_lib.AdjacentSmoothness(smoothness)
        elif smoothness_regularizer is not None and t_steps == 1:
            raise ValueError(
                "Invalid value for argument `smoothness_regularizer`: with t_steps=1 there "
                "are no adjacent steps to smooth. Received: t_steps=1"
            )
        elif smoothness and t_steps == 1:
            raise ValueError(
                "Invalid value for argument `smoothness`: with t_steps=1 there are no "
                f"adjacent steps to smooth. Received: smoothness={smoothness}, t_steps=1"
            )
        super().__init__(units, t_steps=t_steps, share_gates=True,
                         smoothness_regularizer=smoothness_regularizer, **kwargs)
        self.t_range = check_t_range(t_range)

    def build(self, input_shape):
        super().build(input_shape)
        # Every step starts from the same draw: one structure, zero smoothness penalty.
        self.kernel.assign(self.draw_kernel(self.kernel_initializer, tuple(self.kernel.shape)))

    def draw_kernel(self, initializer, shape):
        """One draw per trial, copied to every step (the step axis is ``-3``)."""
        one = (*shape[:-3], 1, *shape[-2:])
        return tf.broadcast_to(initializer(one), shape)

    # -- the grid ----------------------------------------------------------------
    @property
    def grid(self):
        """The ``N`` grid values, as a NumPy array."""
        return np.linspace(*self.t_range, self.t_steps)

    def step_index(self, t):
        """Grid step of each parameter value in ``t`` (a tensor), nearest step.

        Eagerly, a value off the grid (further than 5% of the spacing from every step)
        or not finite is a ValueError."""
        lo, hi = self.t_range
        spacing = (hi - lo) / max(self.t_steps - 1, 1)
        t = tf.cast(t, tf.float32)
        position = (t - lo) / spacing if self.t_steps > 1 else tf.zeros_like(t)
        index = tf.clip_by_value(tf.round(position), 0.0, self.t_steps - 1.0)
        if tf.executing_eagerly():
            values = np.asarray(t)
            off = np.abs(np.asarray(position) - np.asarray(index)) > GRID_TOLERANCE
            if self.t_steps == 1:
                off = np.abs(values - lo) > GRID_TOLERANCE * max(abs(lo), 1.0)
            if not np.all(np.isfinite(values)) or np.any(off):
                bad = values[~np.isfinite(values) | off].ravel()[:3]
                raise ValueError(
                    f"Invalid value for argument `context`: {type(self).__name__} "
                    f"{self.name!r} holds weights for {self.t_steps} parameter steps on "
                    f"[{lo:g}, {hi:g}] (spacing {spacing:.6g}); t values must lie on that "
                    f"grid. Received t off the grid: {bad.tolist()}"
                )
        return tf.cast(index, tf.int32)

    # -- maths -------------------------------------------------------------------
    def kernel_for(self, context, training=None):
        layout = stacking.context_layout(context)
        index = tf.reshape(self.step_index(context), [-1])
        step_axis = 1 if self.trials is not None else 0
        w = tf.gather(self.kernel * self._gates(training=bool(training)), index, axis=step_axis)
        b = None if self.bias is None else tf.gather(self.bias, index, axis=step_axis)
        del layout  # both layouts gather one matrix per context entry
        return w, b

    def call(self, inputs, context=None, training=None):
        if context is None:
            if inputs.shape.rank == 2:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} needs the parameter t: pass "
                    "`context` (t of shape (batch, 1) or (N, 1, 1)), or inputs laid out by "
                    f"steps ({self.t_steps}, batch, in). Received inputs of shape "
                    f"{tuple(inputs.shape)} and no context."
                )
            return super().call(inputs, training=training)  # inputs laid out by steps
        layout = stacking.context_layout(context)
        w, b = self.kernel_for(context, training=training)
        self.add_penalty()
        return stacking.context_matmul(inputs, w, b, layout)

    def compute_output_shape(self, input_shape):
        # Per-sample inputs (batch, in) or (K, batch, in) keep their batch; inputs laid
        # out by steps (K?, N, batch, in) keep their steps.
        shape = (*tuple(input_shape)[:-1], self.units)
        if self.trials and (len(shape) == 2 or (len(shape) == 3 and shape[0] != self.trials)):
            shape = (self.trials, *shape)
        return shape

    def get_config(self):
        config = super().get_config()
        config.pop("share_gates", None)
        reg = self.smoothness_regularizer
        config["smoothness"] = 0.0 if reg is None else float(keras.ops.convert_to_numpy(reg.reg_lambda))
        if isinstance(reg, regularizers_lib.AdjacentSmoothness) and reg.axis == -3:
            config["smoothness_regularizer"] = None  # rebuilt from `smoothness`
        config["t_range"] = list(self.t_range)
        return config


@keras.saving.register_keras_serializable(package="deepsymreg")
class StackedEqlLayer(EqlLayer):
    """A stacked EQL hidden layer (SEQL): :class:`EqlLayer` on a :class:`StackedDense`.

    One weight set per step of the parameter grid ``t_range`` (``t_steps`` values),
    relaxed-L0 gates shared by the steps, the smoothness penalty ``smoothness`` between
    adjacent steps, and the primitives applied as in any EQL layer.

    Args:
        primitives: as :class:`EqlLayer`.
        t_steps: number of grid steps ``N``.
        t_range: ``(lo, hi)`` of the grid.
        smoothness: strength ``theta`` of the adjacent-step penalty.
        skip: DenseNet-style skip connection (``h = [f(g), x]``).
        trials: ``None`` or the number of restarts held side by side.
        kernel_regularizer: the sparsity penalty (an ``ExpectedL0`` for the paper's
            relaxed L0 on the gates).
        seed: seed of the gate noise.
        linear_options: further :class:`StackedDense` arguments (e.g. ``drop_rate``).

    Call arguments:
        inputs: ``(K?, batch, in)`` or ``(K?, N, batch, in)``.
        context: the parameter ``t``, ``(batch, 1)`` or ``(N, 1, 1)`` (see
            :class:`StackedDense`); may be omitted with inputs laid out by steps.

    Example:

    >>> layer = StackedEqlLayer(["identity", "product"], t_steps=8, t_range=(-3, 3))
    >>> t = np.linspace(-3, 3, 8, dtype="float32")
    >>> layer(np.ones((8, 2), "float32"), context=t[:, None]).shape
    TensorShape([8, 2])
    """

    def __init__(self, primitives=primitives_lib.DEFAULT, t_steps=2, t_range=(-1.0, 1.0),
                 smoothness=0.0, skip=False, trials=None, kernel_initializer=None,
                 kernel_regularizer=None, seed=None, linear_options=None, linear=None, **kwargs):
        options = dict(linear_options or {})
        if linear is None:  # built from the arguments (a restored config names its layer)
            options.update(t_steps=t_steps, t_range=list(check_t_range(t_range)),
                           smoothness=smoothness)
            linear = "stacked"
        super().__init__(primitives, linear=linear, skip=skip, trials=trials,
                         kernel_initializer=kernel_initializer,
                         kernel_regularizer=kernel_regularizer, seed=seed,
                         linear_options=options if linear == "stacked" else linear_options,
                         **kwargs)

    @property
    def grid(self):
        """The parameter grid of the layer's weight sets."""
        return self.linear.grid
