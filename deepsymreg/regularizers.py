"""Sparsity regularizers whose strength lambda can change during ``fit``.

Each regularizer returns ``lambda * sum(penalty(w))``. Lambda lives in a non-trainable
``keras.Variable`` (``regularizer.reg_lambda``) so that callbacks such as
:class:`deepsymreg.callbacks.PhasedSchedule` can ``assign`` it while a compiled training
step runs; a Python float would be frozen into the traced graph.

References:
    Kim, Lu, Mukherjee, Gilbert, Jing, Ceperic, Soljacic (2020). Integration of neural
    network-based symbolic regression in deep learning for scientific discovery. IEEE
    TNNLS 32(9). (Smoothed L0.5, eq. 3.)
    Wu, Fan, Zhang, Wang, Zhang (2014). Batch gradient method with smoothing L1/2
    regularization for training of feedforward neural networks. Neural Networks 50.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from deepsymreg import concrete
from deepsymreg._validation import check_number

__all__ = ["StrengthRegularizer", "SmoothL05", "Lq", "L1", "ExpectedL0", "AdjacentSmoothness", "get",
           "split_gate_regularizer"]


class StrengthRegularizer(keras.regularizers.Regularizer):
    """Base class: ``reg_lambda * sum(self.penalty(w))`` with a variable lambda.

    Subclasses implement :meth:`penalty` (elementwise, same shape as ``w``). One
    instance may be shared by many layers; they then share one lambda.

    ``stack_scale`` (a list of ``K`` factors) gives weight sets stacked along a leading
    axis of size ``K`` their own strength ``reg_lambda * stack_scale[k]``: restarts
    trained together can then explore different sparsity levels.
    """

    def __init__(self, reg_lambda=0.0, stack_scale=None):
        reg_lambda = check_number("reg_lambda", reg_lambda, 0.0)
        self.reg_lambda = keras.Variable(
            reg_lambda, trainable=False, dtype="float32", name="reg_lambda"
        )
        if stack_scale is not None:
            given = stack_scale
            try:
                stack_scale = [float(v) for v in given]
            except (TypeError, ValueError):
                stack_scale = None
            # NaN fails `v >= 0`.
            if isinstance(given, str) or not stack_scale or not all(v >= 0 for v in stack_scale):
                raise ValueError(
                    "Invalid value for argument `stack_scale`: expected a non-empty list "
                    f"of numbers >= 0. Received: stack_scale={given!r}"
                )
        self.stack_scale = stack_scale

    #: The name a schedule addresses this strength by (see ``PhasedSchedule``).
    strength_name = "sparsity"

    def penalty(self, w):
        raise NotImplementedError

    def bind_schedule(self, schedule, step):
        """Take the strength from ``schedule(step)`` at every evaluation (in the graph).

        ``step`` is a step variable, normally ``optimizer.iterations``; ``reg_lambda``
        is assigned the value used, so it shows the current strength.
        :meth:`unbind_schedule` returns to ``reg_lambda``.
        """
        self._schedule, self._step = schedule, step

    def unbind_schedule(self):
        self._schedule, self._step = None, None

    def strength(self, dtype="float32"):
        """The strength now: ``reg_lambda``, or the bound schedule at the current step."""
        schedule = getattr(self, "_schedule", None)
        if schedule is None:
            return tf.cast(self.reg_lambda, dtype)
        value = schedule(self._step)
        self.reg_lambda.assign(value)
        return tf.cast(value, dtype)

    def __call__(self, w):
        return self.scaled_sum(self.penalty(w))

    def scaled_sum(self, p):
        """``reg_lambda * sum(p)``, each stacked set scaled by ``stack_scale``."""
        if self.stack_scale is not None:
            if len(p.shape) < 1 or p.shape[0] != len(self.stack_scale):
                raise ValueError(
                    f"This regularizer has stack_scale for {len(self.stack_scale)} stacked "
                    f"weight sets, but received weights of shape {tuple(p.shape)}."
                )
            per_set = tf.reduce_sum(tf.reshape(p, [p.shape[0], -1]), axis=1)
            total = tf.reduce_sum(tf.constant(self.stack_scale, p.dtype) * per_set)
        else:
            total = tf.reduce_sum(p)
        return self.strength(p.dtype) * total

    def get_config(self):
        return {"reg_lambda": float(self.reg_lambda.numpy()), "stack_scale": self.stack_scale}


@keras.saving.register_keras_serializable(package="deepsymreg")
class SmoothL05(StrengthRegularizer):
    """Smoothed L0.5 penalty (Kim et al. 2020, eq. 3).

    ``|w|^(1/2)`` for ``|w| >= a`` and ``(-w^4/(8 a^3) + 3 w^2/(4 a) + 3 a/8)^(1/2)``
    below, which removes the infinite gradient of ``|w|^(1/2)`` at 0. Both pieces and
    their first derivatives agree at ``|w| = a``.

    Args:
        reg_lambda: initial strength lambda (default 0).
        a: transition point (default 0.01, as in the paper).

    Example:

    >>> reg = SmoothL05(reg_lambda=1.0, a=0.01)
    >>> float(reg(tf.constant([0.04, -0.09])))  # 0.2 + 0.3
    0.5
    """

    def __init__(self, reg_lambda=0.0, a=0.01, stack_scale=None):
        super().__init__(reg_lambda, stack_scale)
        self.a = check_number("a", a, 0.0, strict=True)

    def penalty(self, w):
        a = tf.constant(self.a, w.dtype)
        aw = tf.abs(w)
        small = aw < a
        # The guard sits inside sqrt: a branch selected by tf.where after sqrt would
        # leak an infinite derivative at w = 0 under XLA.
        inner = tf.where(
            small, -(w**4) / (8.0 * a**3) + 3.0 * w**2 / (4.0 * a) + 3.0 * a / 8.0, aw
        )
        return tf.sqrt(inner)

    def get_config(self):
        return {**super().get_config(), "a": self.a}


@keras.saving.register_keras_serializable(package="deepsymreg")
class Lq(StrengthRegularizer):
    """``|w|^q`` penalty (``0 < q``), e.g. q = 0.3 or 0.7 as tried in the paper.

    For ``q < 1`` the gradient is infinite at ``w = 0``; weights that are exactly zero
    (thresholded, masked) get gradient 0 here instead of NaN, by evaluating the power on
    ``max(|w|, eps)`` where ``eps`` is the dtype's tiny.
    """

    def __init__(self, reg_lambda=0.0, q=0.5, stack_scale=None):
        super().__init__(reg_lambda, stack_scale)
        # q = 0 is the L0 norm: use the hard-concrete gates (ExpectedL0) for it.
        self.q = check_number("q", q, 0.0, strict=True)

    def penalty(self, w):
        aw = tf.abs(w)
        tiny = tf.constant(1e-30, w.dtype)
        powered = tf.pow(tf.maximum(aw, tiny), self.q)
        return tf.where(aw > 0, powered, tf.zeros_like(aw))

    def get_config(self):
        return {**super().get_config(), "q": self.q}


@keras.saving.register_keras_serializable(package="deepsymreg")
class L1(StrengthRegularizer):
    """``|w|`` penalty (the original EQL of Martius & Lampert 2016)."""

    def penalty(self, w):
        return tf.abs(w)


@keras.saving.register_keras_serializable(package="deepsymreg")
class ExpectedL0(StrengthRegularizer):
    """Strength of the relaxed-L0 penalty of hard-concrete gates (Louizos et al. 2018).

    Given to :class:`~deepsymreg.layers.HardConcreteDense` as ``kernel_regularizer``,
    it scales the layer's expected number of open gates. Called directly on gate
    locations ``log_alpha`` it returns
    ``reg_lambda * sum(sigmoid(log_alpha - beta * log(-gamma / zeta)))`` with the
    default ``beta = 2/3, gamma = -0.1, zeta = 1.1``.
    """

    def penalty(self, log_alpha):
        return concrete.open_probability(log_alpha)


@keras.saving.register_keras_serializable(package="deepsymreg")
class AdjacentSmoothness(StrengthRegularizer):
    """L2 smoothness between adjacent parameter steps (Zhang et al., parametric EQL, eqs. 6-7).

    For weights ``w`` with a step axis ``j = 1..N`` (``axis``, by default the third
    from the end as in every stacked kernel ``(K?, N, in, out)``) it returns
    ``theta * sum_j (w[j+1] - w[j])**2``, summed over every other axis. Differences are
    taken along the step axis only, so a leading trials axis is never coupled. The
    strength is named ``"smoothness"`` (``theta`` in the paper), so a
    :class:`~deepsymreg.callbacks.PhasedSchedule` can drive it apart from sparsity.

    Args:
        reg_lambda: the strength ``theta`` (default 0).
        axis: the step axis of the weights (default -3).

    Example:

    >>> reg = AdjacentSmoothness(reg_lambda=2.0, axis=0)
    >>> float(reg(tf.constant([0.0, 1.0, 3.0])))  # 2 * (1 + 4)
    10.0
    """

    strength_name = "smoothness"

    def __init__(self, reg_lambda=0.0, axis=-3):
        super().__init__(reg_lambda)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise ValueError(f"Invalid value for argument `axis`: expected an int. Received: axis={axis!r}")
        self.axis = int(axis)

    def penalty(self, w):
        rank = len(w.shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"AdjacentSmoothness(axis={self.axis}) received weights of shape "
                f"{tuple(w.shape)}, which have no such axis."
            )
        axis = self.axis % rank
        n = w.shape[axis]
        later = tf.gather(w, tf.range(1, n), axis=axis)
        earlier = tf.gather(w, tf.range(0, n - 1), axis=axis)
        return tf.square(later - earlier)

    def get_config(self):
        return {"reg_lambda": float(self.reg_lambda.numpy()), "axis": self.axis}


_ALIASES = {"l05": SmoothL05, "smooth_l05": SmoothL05, "l1": L1, "lq": Lq, "l0": ExpectedL0}


def get(identifier, reg_lambda=None, name="regularizer"):
    """Resolve ``None``, an alias (``"l05"``, ``"l1"``, ``"lq"``), a config or instance.

    ``name`` is the argument named in the error for anything else.
    """
    if identifier is None or isinstance(identifier, keras.regularizers.Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _ALIASES:
        cls = _ALIASES[identifier.lower()]
        return cls() if reg_lambda is None else cls(reg_lambda=reg_lambda)
    if isinstance(identifier, dict):
        return keras.regularizers.get(identifier)
    raise ValueError(
        f"Invalid value for argument `{name}`: expected None, one of "
        f"{sorted(_ALIASES)}, a config dict or a Regularizer. Received: {name}={identifier!r}"
    )


def split_gate_regularizer(kernel_regularizer, gate_regularizer):
    """``(kernel_regularizer, gate_regularizer)`` for a gated linear map.

    An :class:`ExpectedL0` given as ``kernel_regularizer`` (the name EQL layers pass
    every kind) penalizes the gates: it becomes the gate regularizer. Given both ways,
    it is a ValueError.
    """
    kernel_regularizer = get(kernel_regularizer, name="kernel_regularizer")
    if isinstance(kernel_regularizer, ExpectedL0):
        if gate_regularizer is not None:
            raise ValueError(
                "Invalid value for argument `kernel_regularizer`: an ExpectedL0 penalizes "
                "the gates; pass it once, as `gate_regularizer`. Received: "
                f"kernel_regularizer={kernel_regularizer!r}, "
                f"gate_regularizer={gate_regularizer!r}"
            )
        return None, kernel_regularizer
    return kernel_regularizer, gate_regularizer
