"""`HardConcreteDense`: a dense map with relaxed-L0 (hard-concrete) gates on every weight."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from deepsymreg import regularizers as regularizers_lib
from deepsymreg.layers import stacking
from deepsymreg.layers.linear import StackedLinear

# Uniform draws stay this far from 0 and 1: log(u) - log(1 - u) is infinite at the ends.
_EPSILON = 1e-6


@keras.saving.register_keras_serializable(package="deepsymreg")
class HardConcreteDense(StackedLinear):
    """Dense map ``x @ (W~ * z)`` whose weights are gated by hard-concrete variables.

    Each weight has a gate ``z`` in [0, 1] with a learned location ``log_alpha``
    (Louizos, Welling & Kingma 2018). While training, every step draws
    ``u ~ U(0, 1)`` and

        s = sigmoid((log u - log(1 - u) + log_alpha) / beta)
        z = clip(s * (zeta - gamma) + gamma, 0, 1)

    so gates are exactly 0 or 1 with positive probability and still differentiable in
    ``log_alpha``. At inference the gate is deterministic,
    ``clip(sigmoid(log_alpha) * (zeta - gamma) + gamma, 0, 1)``; a gate at exactly 0
    removes its weight. The expected number of open gates,

        L0 = sum sigmoid(log_alpha - beta * log(-gamma / zeta)),

    is added as a layer loss, scaled by the strength of ``kernel_regularizer`` when
    that is an :class:`~deepsymreg.regularizers.ExpectedL0` (a variable callbacks can
    set during ``fit``). Any other regularizer is applied to the deterministic
    effective weights instead.

    :meth:`threshold` ends the search for a structure: it fixes every gate at its
    deterministic value (0 where ``|W~ z| < alpha``) in the non-trainable ``mask``;
    from then on the layer computes ``x @ (W~ * mask)`` in training too, without gate
    noise or penalty, so a final phase can fine-tune the surviving weights (the
    paper's last phase, ``lambda = 0`` at a lower learning rate). Closed gates stay
    closed: their weights get no gradient.

    Args:
        units: output width.
        n_stack: ``None`` or the size ``K`` of a leading weight axis.
        share_gates: with ``n_stack``, one gate set for all ``K`` weight sets (the
            stacked EQL's group sparsity); otherwise each set has its own gates.
        use_bias: add a bias (not gated).
        kernel_initializer: initializer of ``W~`` (default truncated normal, sd 0.5).
        kernel_regularizer: an ``ExpectedL0`` (the L0 penalty) or another penalty.
        beta, gamma, zeta: hard-concrete temperature and stretch (defaults 2/3, -0.1,
            1.1, from Louizos et al.).
        drop_rate: initial probability that a gate is closed; ``log_alpha`` starts
            near ``log(1 - drop_rate) - log(drop_rate)``.
        seed: seed of the gate noise (and of ``log_alpha``'s small initial jitter).

    Call arguments:
        inputs: ``(batch, in)`` (or ``(n_stack, batch, in)``).
        training: sample gates when true; deterministic gates otherwise.

    Output shape:
        ``(batch, units)``; with ``n_stack``: ``(n_stack, batch, units)``.

    References:
        Louizos, Welling & Kingma (2018). Learning sparse neural networks through L0
        regularization. ICLR.
        Kim et al. (2020). Integration of neural network-based symbolic regression in
        deep learning for scientific discovery. IEEE TNNLS, appendix B.
    """

    def __init__(
        self,
        units,
        n_stack=None,
        share_gates=False,
        use_bias=False,
        kernel_initializer=None,
        bias_initializer="zeros",
        kernel_regularizer=None,
        beta=2 / 3,
        gamma=-0.1,
        zeta=1.1,
        drop_rate=0.5,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            n_stack=n_stack,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            **kwargs,
        )
        if not beta > 0:
            raise ValueError(f"Invalid value for argument `beta`: expected > 0. Received: beta={beta!r}")
        if not (gamma < 0 and zeta > 1):
            raise ValueError(
                "Invalid values for arguments `gamma`, `zeta`: expected gamma < 0 < 1 < "
                f"zeta. Received: gamma={gamma!r}, zeta={zeta!r}"
            )
        if not 0 < drop_rate < 1:
            raise ValueError(
                "Invalid value for argument `drop_rate`: expected 0 < drop_rate < 1. "
                f"Received: drop_rate={drop_rate!r}"
            )
        self.share_gates = bool(share_gates)
        self.beta, self.gamma, self.zeta = float(beta), float(gamma), float(zeta)
        self.drop_rate = float(drop_rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        shape = self.add_kernel_and_bias(input_shape)
        gate_shape = shape if not self.share_gates else shape[-2:]
        mean = math.log(1 - self.drop_rate) - math.log(self.drop_rate)
        self.log_alpha = self.add_weight(
            name="log_alpha",
            shape=gate_shape,
            initializer=keras.initializers.RandomNormal(mean=mean, stddev=1e-2, seed=self.seed),
        )
        # Set by `threshold`: 1 once the gates are fixed at the values held in `mask`.
        self.gates_fixed = self.add_weight(
            name="gates_fixed", shape=(), initializer="zeros", trainable=False
        )
        self.mask = self.add_weight(name="mask", shape=shape, initializer="ones", trainable=False)

    # -- gates -------------------------------------------------------------------
    def _gates_from_log_alpha(self):
        s = tf.sigmoid(self.log_alpha)
        return tf.clip_by_value(s * (self.zeta - self.gamma) + self.gamma, 0.0, 1.0)

    def _gates(self, training):
        """Sampled (training) or deterministic gates, or the fixed ones once fixed.

        Chosen with ``tf.where`` on a variable, so a compiled training step sees
        :meth:`threshold` take effect without retracing.
        """
        live = self.sample_gates() if training else self._gates_from_log_alpha()
        return tf.where(self.gates_fixed > 0, tf.convert_to_tensor(self.mask), live)

    def deterministic_gates(self):
        """``clip(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``, or the fixed gates.

        Shape: the kernel's (shared gates are broadcast over the stack axis).
        """
        return self._gates(training=False)

    def sample_gates(self):
        """One hard-concrete draw of every gate (fresh uniforms from the seed generator)."""
        u = keras.random.uniform(
            tf.shape(self.log_alpha), minval=_EPSILON, maxval=1.0 - _EPSILON,
            seed=self.seed_generator,
        )
        s = tf.sigmoid((tf.math.log(u) - tf.math.log(1.0 - u) + self.log_alpha) / self.beta)
        return tf.clip_by_value(s * (self.zeta - self.gamma) + self.gamma, 0.0, 1.0)

    def open_probabilities(self):
        """``P(z != 0)`` per gate: ``sigmoid(log_alpha - beta log(-gamma/zeta))``."""
        shift = self.beta * math.log(-self.gamma / self.zeta)
        return tf.sigmoid(self.log_alpha - shift)

    def expected_l0(self):
        """Expected number of open gates (the relaxed L0 norm)."""
        return tf.reduce_sum(self.open_probabilities())

    def penalty(self):
        """Expected-L0 penalty (with an ``ExpectedL0``), else the regularizer on ``W~ z``.

        Zero once the gates are fixed (nothing is left for the penalty to decide).
        """
        reg = self.kernel_regularizer
        if isinstance(reg, regularizers_lib.ExpectedL0):
            value = reg.scaled_sum(self.open_probabilities())
        else:
            value = super().penalty()
        return value * (1.0 - self.gates_fixed)

    @property
    def effective_kernel(self):
        """``W~ * z`` with the deterministic gates (what inference and extraction use)."""
        return self.kernel * self.deterministic_gates()

    # -- maths -------------------------------------------------------------------
    def call(self, inputs, training=None):
        w = self.kernel * self._gates(training=bool(training))
        self.add_penalty()
        return self.apply_kernel(inputs, w)

    # -- editing -----------------------------------------------------------------
    def threshold(self, alpha=0.0):
        """Fix every gate at its deterministic value, closing those with ``|W~ z| < alpha``.

        After this the layer no longer samples gates or adds a penalty; only the
        weights behind open gates keep training. Returns the number of open gates.
        """
        alpha = self.check_alpha(alpha)
        gates = self.deterministic_gates()
        keep = tf.cast(tf.abs(self.kernel * gates) >= alpha, gates.dtype)
        self.mask.assign(gates * keep)
        self.gates_fixed.assign(1.0)
        return int(tf.math.count_nonzero(self.mask))

    def reinitialize_entry(self, kernel_values, index=None):
        """Set the kernel (of stack entry ``index``, or all) and reset its gates.

        Resetting everything also frees fixed gates; a single entry re-drawn after
        the gates were fixed gets fixed gates at its fresh deterministic values.
        """
        stacking.assign_entries(self.kernel, kernel_values, index)
        mean = math.log(1 - self.drop_rate) - math.log(self.drop_rate)
        if self.share_gates or index is None:
            self.log_alpha.assign(tf.fill(self.log_alpha.shape, mean))
        else:
            stacking.assign_entries(self.log_alpha, tf.fill(self.log_alpha.shape, mean), index)
        if index is None:
            self.gates_fixed.assign(0.0)
            self.mask.assign(tf.ones_like(self.mask))
        else:
            fresh = tf.broadcast_to(self._gates_from_log_alpha(), self.mask.shape)
            stacking.assign_entries(self.mask, fresh, index)
        self.reset_bias_entry(index)

    def get_config(self):
        return {
            **super().get_config(),
            "share_gates": self.share_gates,
            "beta": self.beta,
            "gamma": self.gamma,
            "zeta": self.zeta,
            "drop_rate": self.drop_rate,
            "seed": self.seed,
        }
