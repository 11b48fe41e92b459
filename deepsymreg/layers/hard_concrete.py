"""`HardConcreteDense`: a dense map with relaxed-L0 (hard-concrete) gates on every weight."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from deepsymreg import concrete
from deepsymreg import regularizers as regularizers_lib
from deepsymreg._validation import check_int, check_number
from deepsymreg.layers import stacking
from deepsymreg.layers.linear import StackedLinear


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

    scaled by the strength of ``gate_regularizer`` (an
    :class:`~deepsymreg.regularizers.ExpectedL0`, whose strength is a variable callbacks
    can set during ``fit``), is the ``"gates"`` part of the layer's penalty; a
    ``kernel_regularizer`` on the deterministic effective weights ``W~ z`` is its
    ``"weights"`` part. The layer adds their sum as a loss.

    :meth:`threshold` ends the search for a structure: it fixes every gate at its
    deterministic value (0 where ``|W~ z| < alpha``) in the non-trainable ``mask``;
    from then on the layer computes ``x @ (W~ * mask)`` in training too, without gate
    noise or penalty, so a final phase can fine-tune the surviving weights (the
    paper's last phase, ``lambda = 0`` at a lower learning rate). Closed gates stay
    closed: their weights get no gradient.

    Args:
        units: output width.
        trials: ``None`` or the number ``K`` of restarts held side by side (each has
            its own gates).
        t_steps: ``None`` or the number ``N`` of parameter steps (stacked EQL).
        share_gates: with ``t_steps``, one gate per weight for all ``N`` steps (the
            stacked EQL's group sparsity: a term is kept or dropped at every step
            together); otherwise each step has its own gates. Shared gates stay shared:
            :meth:`threshold` decides each gate once for all steps. Gates are never
            shared between trials.
        use_bias: add a bias (not gated).
        kernel_initializer: initializer of ``W~`` (default truncated normal, sd 0.5).
        kernel_regularizer: a penalty on the effective weights ``W~ z``. An
            ``ExpectedL0`` given here is taken as ``gate_regularizer`` (so that EQL
            layers can pass one regularizer to every kind).
        beta, gamma, zeta: hard-concrete temperature and stretch (defaults 2/3, -0.1,
            1.1, from Louizos et al.).
        drop_rate: initial probability that a gate is closed; ``log_alpha`` starts
            near ``log(1 - drop_rate) - log(drop_rate)``.
        seed: seed of the gate noise (and of ``log_alpha``'s small initial jitter).
            With ``trials``, every trial draws its noise from its own stream, seeded
            by :meth:`initialize_entry` (initially ``seed + k``), so a trial's noise
            does not depend on which other trials share the layer.
        gate_regularizer: an ``ExpectedL0``: the relaxed-L0 penalty on the gates.

    Call arguments:
        inputs: ``(batch, in)`` or ``(*lead, batch, in)`` (see
            :mod:`~deepsymreg.layers.stacking`).
        training: sample gates when true; deterministic gates otherwise.

    Output shape:
        ``(batch, units)``; with weight axes: ``(*lead, batch, units)``.

    References:
        Louizos, Welling & Kingma (2018). Learning sparse neural networks through L0
        regularization. ICLR.
        Kim et al. (2020). Integration of neural network-based symbolic regression in
        deep learning for scientific discovery. IEEE TNNLS, appendix B.
    """

    #: With L0 gates, a network's output layer stays an ungated, unpenalized linear map,
    #: as in the paper's reference code: the gates of the hidden layers already decide
    #: which terms exist, and noisy gates on the final sum make training erratic.
    plain_output = True

    def __init__(
        self,
        units,
        trials=None,
        t_steps=None,
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
        gate_regularizer=None,
        **kwargs,
    ):
        # An ExpectedL0 given as kernel_regularizer (the name EqlLayer and EQL pass every
        # kind) penalizes the gates, not the weights.
        kernel_regularizer, gate_regularizer = regularizers_lib.split_gate_regularizer(
            kernel_regularizer, gate_regularizer
        )
        super().__init__(
            units,
            trials=trials,
            t_steps=t_steps,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            **kwargs,
        )
        check_number("beta", beta, 0.0, strict=True)
        check_number("gamma", gamma, high=0.0, strict=True)
        check_number("zeta", zeta, low=1.0, strict=True)
        check_number("drop_rate", drop_rate, 0.0, 1.0, strict=True)
        seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.gate_regularizer = regularizers_lib.get(gate_regularizer, name="gate_regularizer")
        if self.gate_regularizer is not None and not isinstance(
            self.gate_regularizer, regularizers_lib.ExpectedL0
        ):
            raise ValueError(
                "Invalid value for argument `gate_regularizer`: expected None or an "
                f"ExpectedL0. Received: gate_regularizer={gate_regularizer!r}"
            )
        self.share_gates = bool(share_gates)
        if self.share_gates and t_steps is None:
            raise ValueError(
                "Invalid value for argument `share_gates`: gates are shared along the "
                "parameter steps and need `t_steps` (trials never share gates). Received: "
                "share_gates=True, t_steps=None"
            )
        self.beta, self.gamma, self.zeta = float(beta), float(gamma), float(zeta)
        self.drop_rate = float(drop_rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        shape = self.add_kernel_and_bias(input_shape)
        gate_shape = shape
        if self.share_gates:  # drop the step axis
            gate_shape = (*shape[: stacking.STEP_AXIS], *shape[stacking.STEP_AXIS + 1 :])
        self.log_alpha = self.add_weight(
            name="log_alpha",
            shape=gate_shape,
            initializer=keras.initializers.RandomNormal(
                mean=self._initial_log_alpha(), stddev=1e-2, seed=self.seed
            ),
        )
        # Set by `threshold`: 1 once the gates are fixed at the values held in `mask`.
        self.gates_fixed = self.add_weight(
            name="gates_fixed", shape=(), initializer="zeros", trainable=False
        )
        # Shared gates are fixed once for every step: the mask has the gates' shape.
        self.mask = self.add_weight(name="mask", shape=gate_shape, initializer="ones", trainable=False)
        if self.trials is not None:
            # One noise stream per trial: (noise_seeds[k], noise_step[k]) seeds its draws.
            base = 0 if self.seed is None else int(self.seed)
            self.noise_seeds = self.add_weight(
                name="noise_seeds", shape=(self.trials,), dtype="int32", trainable=False,
                initializer=lambda shape, dtype=None: tf.range(base, base + shape[0], dtype="int32"),
            )
            self.noise_step = self.add_weight(
                name="noise_step", shape=(self.trials,), dtype="int32", initializer="zeros",
                trainable=False,
            )

    def load_own_variables(self, store):
        # Files saved before shared gates had a compact mask hold it at the kernel's
        # shape, identical at every step: keep one step.
        if self.share_gates and "mask" in [w.name for w in self.weights]:
            index = str([w.name for w in self.weights].index("mask"))
            if index in store and tuple(store[index].shape) != tuple(self.mask.shape):
                store = {k: store[k] for k in store.keys()}
                store[index] = np.take(np.asarray(store[index]), 0, axis=stacking.STEP_AXIS)
        # Files saved by deepsymreg 0.1 have no per-trial noise streams: those keep
        # their initial values. (`weights` is what a file holds; `variables` also
        # lists the seed generator's state, which is not saved.)
        if self.trials is not None and len(store.keys()) == len(self.weights) - 2:
            for i, variable in enumerate(self.weights[:-2]):
                variable.assign(store[str(i)])
            return
        super().load_own_variables(store)

    # -- gates -------------------------------------------------------------------
    def _gates(self, training):
        """Sampled (training) or deterministic gates, or the fixed ones once fixed.

        Chosen with ``tf.where`` on a variable, so a compiled training step sees
        :meth:`threshold` take effect without retracing.
        """
        live = self.sample_gates() if training else self._gates_from_log_alpha()
        return self._per_step(tf.where(self.gates_fixed > 0, tf.convert_to_tensor(self.mask), live))

    def _per_step(self, gates):
        """Shared gates ``(K?, in, out)`` broadcast over the step axis of the kernel."""
        if not self.share_gates:
            return gates
        return tf.broadcast_to(tf.expand_dims(gates, stacking.STEP_AXIS), self.kernel.shape)

    def _gates_from_log_alpha(self):
        return concrete.deterministic_gate(self.log_alpha, self.gamma, self.zeta)

    def deterministic_gates(self):
        """``clip(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``, or the fixed gates.

        Shape: the kernel's (shared gates are broadcast over the step axis).
        """
        return self._gates(training=False)

    def sample_gates(self):
        """One hard-concrete draw of every gate: fresh uniforms from the seed generator,
        or with ``trials`` from each trial's own stream (advanced by one draw)."""
        uniform = None
        if self.trials is not None:
            step = self.noise_step.assign_add(tf.ones_like(self.noise_step))
            uniform = concrete.trial_uniforms(
                self.log_alpha.shape[1:], self.noise_seeds, step, self.log_alpha.dtype
            )
        return concrete.sample_gate(
            self.log_alpha, self.seed_generator, self.beta, self.gamma, self.zeta, uniform
        )

    def initialize_entry(self, index=None, seed=None):
        """As :meth:`StackedLinear.initialize_entry`; with ``trials``, ``seed`` also seeds
        the trial's gate noise, whose stream restarts."""
        super().initialize_entry(index, seed)
        if self.trials is not None and seed is not None:
            seeds = tf.fill([self.trials], int(seed) % (2**31 - 1))
            stacking.assign_entries(self.noise_seeds, seeds, index)
            stacking.assign_entries(self.noise_step, tf.zeros_like(self.noise_step), index)

    def open_probabilities(self):
        """``P(z != 0)`` per gate: ``sigmoid(log_alpha - beta log(-gamma/zeta))``."""
        return concrete.open_probability(self.log_alpha, self.beta, self.gamma, self.zeta)

    def expected_l0(self):
        """Expected number of open gates (the relaxed L0 norm)."""
        return tf.reduce_sum(self.open_probabilities())

    def penalty_parts(self):
        """``"gates"``: the expected-L0 penalty (with a ``gate_regularizer``);
        ``"weights"``: ``kernel_regularizer`` on ``W~ z``; ``"smoothness"`` (with a
        ``smoothness_regularizer``) on the same. Gates and weights parts are zero once
        the gates are fixed (nothing is left for a sparsity penalty to decide);
        smoothness keeps acting on the surviving weights."""
        live = 1.0 - self.gates_fixed
        parts = super().penalty_parts()
        if "weights" in parts:
            parts["weights"] = parts["weights"] * live
        if self.gate_regularizer is not None:
            parts["gates"] = self.gate_regularizer.scaled_sum(self.open_probabilities()) * live
        return parts

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
        weights behind open gates keep training. A shared gate stays open when its
        weight reaches ``alpha`` in any stack entry, so entries that share gates keep
        one structure. Returns the number of open gates (per weight).
        """
        alpha = self.check_alpha(alpha)
        fixed = float(self.gates_fixed) > 0
        gates = tf.convert_to_tensor(self.mask) if fixed else self._gates_from_log_alpha()
        strong = tf.abs(self.kernel * self._per_step(gates)) >= alpha
        if self.share_gates:  # open when strong at any step
            strong = tf.reduce_any(strong, axis=stacking.STEP_AXIS)
        self.mask.assign(gates * tf.cast(strong, gates.dtype))
        self.gates_fixed.assign(1.0)
        return int(tf.math.count_nonzero(self._per_step(tf.convert_to_tensor(self.mask))))

    def reset_entry(self, index=None):
        """Reset the gates of trial ``index`` (all when None) to their initial location.

        Resetting everything also frees fixed gates. A single trial re-drawn after the
        gates were fixed gets fixed gates at its fresh deterministic values; the other
        trials keep theirs. Gates shared along the steps are reset with their trial.
        """
        start = tf.fill(self.log_alpha.shape, self._initial_log_alpha())
        if index is None:
            self.log_alpha.assign(start)
            self.gates_fixed.assign(0.0)
            self.mask.assign(tf.ones_like(self.mask))
        else:
            stacking.assign_entries(self.log_alpha, start, index)
            stacking.assign_entries(self.mask, self._gates_from_log_alpha(), index)

    def _initial_log_alpha(self):
        return math.log(1 - self.drop_rate) - math.log(self.drop_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "share_gates": self.share_gates,
            "beta": self.beta,
            "gamma": self.gamma,
            "zeta": self.zeta,
            "drop_rate": self.drop_rate,
            "seed": self.seed,
            "gate_regularizer": (
                keras.regularizers.serialize(self.gate_regularizer)
                if self.gate_regularizer is not None else None
            ),
        }
