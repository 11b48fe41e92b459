"""`MetaWeightDense`: a dense map whose weights are a learned function ``W(t)`` (PEQL)."""

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

#: Number of evenly spaced parameter values of ``t_range`` at which the weights are read
#: for penalties, :attr:`MetaWeightDense.effective_kernel` and thresholding.
N_REFERENCE = 16

#: Scale of the meta-weight unit's last kernel: glorot-uniform scaled by this factor (in
#: standard deviation), so that ``W(t)`` starts nearly constant in ``t``.
OUTPUT_KERNEL_SCALE = 0.1


@keras.saving.register_keras_serializable(package="deepsymreg")
class MetaWeightDense(StackedLinear):
    """Dense map ``x @ (W(t) * z) (+ b(t))`` with weights produced from a parameter ``t``.

    The *meta-weight unit* (MWU) of the parametric EQL (PEQL): a small fully connected
    network of the scalar ``t`` outputs the kernel (and, with ``use_bias``, the bias)
    of the map,

        tau = 2 (t - lo) / (hi - lo) - 1                 (t_range = (lo, hi))
        [vec W(t), b(t)] = MLP(tau)

    so one layer describes a whole family of linear maps along ``t``, at any ``t``,
    without a grid. Each kernel entry has a hard-concrete gate ``z`` (Louizos et al.
    2018) that does **not** depend on ``t``: a term is kept or dropped for every ``t``
    together, which is the group sparsity a parametric equation needs. The gates work
    as in :class:`~deepsymreg.HardConcreteDense`: sampled while training, deterministic
    (``clip(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``) at inference, fixed by
    :meth:`threshold`; the expected number of open gates, scaled by
    ``gate_regularizer``, is the ``"gates"`` part of the penalty.

    ``t`` only enters through ``tau``, its position in ``t_range`` mapped to [-1, 1], so
    a parameter in [300, 400] trains as well as one in [-1, 1]. At initialization the
    MLP's last kernel is small and its bias is set so that ``W`` at mid-range ``t`` is
    exactly a draw of ``kernel_initializer``: ``W(t)`` starts as one ordinary random
    kernel, nearly constant in ``t``, and the layer learns how it varies. Where weights are read without a ``t`` (:attr:`effective_kernel`, the
    ``"weights"`` penalty, :meth:`threshold`), they are read at ``16`` evenly spaced
    values of ``t_range``.

    With ``trials=K`` the layer holds ``K`` independent restarts (every MLP weight and
    gate has a leading ``K`` axis); no penalty or gate couples two of them.

    Args:
        units: output width (positive int).
        trials: ``None`` or the number ``K`` of restarts held side by side.
        hidden: widths of the MLP's hidden layers (default ``(64, 64, 256)``, the
            paper's reference setting); ``()`` makes ``W`` affine in ``t``.
        activation: activation of the hidden layers (default ``"relu"``).
        t_range: ``(lo, hi)``, the range of ``t`` the layer is meant for (two finite
            numbers, ``lo < hi``); it sets the normalization of ``t`` and the reference
            values. ``t`` outside it is allowed (extrapolation).
        use_bias: the MLP also outputs a bias ``b(t)`` (not gated).
        kernel_initializer: distribution of ``W(t)`` at initialization (default
            truncated normal, sd 0.5): ``W`` at mid-range ``t`` starts as a draw of it.
        bias_initializer: initial value of ``b(t)`` (default zeros).
        kernel_regularizer: a penalty on the gated weights at the reference ``t``
            (the ``"weights"`` part). An ``ExpectedL0`` given here is taken as
            ``gate_regularizer`` (EQL layers pass one regularizer to every kind).
        gate_regularizer: an ``ExpectedL0``: the relaxed-L0 penalty on the gates.
        beta, gamma, zeta: hard-concrete temperature and stretch (defaults 2/3, -0.1,
            1.1, from Louizos et al.).
        drop_rate: initial probability that a gate is closed.
        seed: seed of the MLP's initial weights, the gate noise and ``log_alpha``'s
            jitter. With ``trials``, trial ``k`` is drawn as
            ``initialize_entry(k, seed + k)`` would draw it and has its own noise stream.

    Call arguments:
        inputs: ``(K?, batch, in)`` with a per-sample ``context``, ``(K?, N, batch,
            in)`` with a per-step one; inputs without the ``K`` axis are shared by
            every trial.
        context: the parameter ``t``: ``(batch, 1)`` (one ``t`` per sample) or
            ``(N, 1, 1)`` (one ``t`` per step ``j`` of inputs ``(N, batch, in)``, the
            fast layout of gridded data). Required.
        training: sample the gates when true; deterministic gates otherwise.

    Input shape:
        ``(batch, in)`` or ``(K, batch, in)`` (per sample); ``(N, batch, in)`` or
        ``(K, N, batch, in)`` (per step).

    Output shape:
        ``(K?, batch, units)`` (per sample); ``(K?, N, batch, units)`` (per step), with
        the ``K`` axis when the layer has ``trials``.

    Example:

    >>> layer = MetaWeightDense(2, hidden=(16,), t_range=(0.0, 10.0), seed=0)
    >>> x = np.ones((5, 3), "float32")
    >>> t = np.linspace(0.0, 10.0, 5, dtype="float32")[:, None]
    >>> layer(x, context=t).shape
    TensorShape([5, 2])
    >>> layer.kernel_at(2.5)[0].shape  # W(2.5) with the deterministic gates
    (3, 2)

    References:
        Zhang, Kim, Lu & Soljacic (2022). Deep learning and symbolic regression for
        discovering parametric equations. arXiv:2207.00529, section II-E.
        Louizos, Welling & Kingma (2018). Learning sparse neural networks through L0
        regularization. ICLR.
        Ha, Dai & Le (2016). Hypernetworks. arXiv:1609.09106.
    """

    takes_context = True
    plain_output = False

    def __init__(
        self,
        units,
        trials=None,
        hidden=(64, 64, 256),
        activation="relu",
        t_range=(-1.0, 1.0),
        use_bias=False,
        kernel_initializer=None,
        bias_initializer="zeros",
        kernel_regularizer=None,
        gate_regularizer=None,
        beta=2 / 3,
        gamma=-0.1,
        zeta=1.1,
        drop_rate=0.5,
        seed=None,
        **kwargs,
    ):
        t_steps = kwargs.pop("t_steps", None)
        if t_steps is not None:
            raise ValueError(
                "Invalid value for argument `t_steps`: meta weights take a continuous t, "
                "W(t), not a grid of steps; pass t as `context` when calling the layer "
                f"(a grid goes in as context of shape (N, 1, 1)). Received: t_steps={t_steps!r}"
            )
        smoothness = kwargs.pop("smoothness_regularizer", None)
        if smoothness is not None:
            raise ValueError(
                "Invalid value for argument `smoothness_regularizer`: it penalizes "
                "differences between parameter steps, and meta weights have no steps (W(t) "
                f"is smooth by construction). Received: smoothness_regularizer={smoothness!r}"
            )
        # As in HardConcreteDense: an ExpectedL0 passed as kernel_regularizer (the name
        # EqlLayer gives every kind) penalizes the gates.
        kernel_regularizer, gate_regularizer = regularizers_lib.split_gate_regularizer(
            kernel_regularizer, gate_regularizer
        )
        super().__init__(
            units,
            trials=trials,
            t_steps=None,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            **kwargs,
        )
        self.hidden = _check_hidden(hidden)
        try:
            self.activation = keras.activations.get(activation)
        except (ValueError, TypeError):
            raise ValueError(
                "Invalid value for argument `activation`: expected the name of a Keras "
                f"activation or a callable. Received: activation={activation!r}"
            ) from None
        self.t_range = _check_t_range(t_range)
        check_number("beta", beta, 0.0, strict=True)
        check_number("gamma", gamma, high=0.0, strict=True)
        check_number("zeta", zeta, low=1.0, strict=True)
        check_number("drop_rate", drop_rate, 0.0, 1.0, strict=True)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.gate_regularizer = regularizers_lib.get(gate_regularizer, name="gate_regularizer")
        if self.gate_regularizer is not None and not isinstance(
            self.gate_regularizer, regularizers_lib.ExpectedL0
        ):
            raise ValueError(
                "Invalid value for argument `gate_regularizer`: expected None or an "
                f"ExpectedL0. Received: gate_regularizer={gate_regularizer!r}"
            )
        self.beta, self.gamma, self.zeta = float(beta), float(gamma), float(zeta)
        self.drop_rate = float(drop_rate)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    # -- weights -----------------------------------------------------------------
    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError("MetaWeightDense needs a known last input dimension.")
        self.input_dim = int(in_dim)
        # One draw per trial (initializers compute fans from the last two axes, so a
        # stacked shape cannot be drawn in one call).
        seeds = [None if self.seed is None else self.seed + k for k in range(self.trials or 1)]
        draws = [self._draw_mlp(s) for s in seeds]
        values = [tf.stack(v) if self.trials else v[0] for v in zip(*draws)]
        names = [f"mwu_hidden_{j}_{part}" for j in range(len(self.hidden)) for part in ("kernel", "bias")]
        names += ["mwu_out_kernel", "mwu_out_bias"]
        self.mlp_weights = [
            self.add_weight(name=name, shape=tuple(value.shape), initializer=_constant(value))
            for name, value in zip(names, values)
        ]
        gate_shape = stacking.stacked_shape(self.lead, (self.input_dim, self.units))
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
        self.mask = self.add_weight(name="mask", shape=gate_shape, initializer="ones", trainable=False)
        if self.trials is not None:
            # One noise stream per trial, as in HardConcreteDense.
            base = 0 if self.seed is None else self.seed
            self.noise_seeds = self.add_weight(
                name="noise_seeds", shape=(self.trials,), dtype="int32", trainable=False,
                initializer=lambda shape, dtype=None: tf.range(base, base + shape[0], dtype="int32"),
            )
            self.noise_step = self.add_weight(
                name="noise_step", shape=(self.trials,), dtype="int32", initializer="zeros",
                trainable=False,
            )

    @property
    def n_outputs(self):
        """Outputs of the MLP: ``in * units`` kernel entries (then ``units`` bias entries)."""
        return self.input_dim * self.units + (self.units if self.use_bias else 0)

    def _draw_mlp(self, seed):
        """Initial MLP weights of one trial, in ``mlp_weights`` order, drawn from ``seed``.

        Hidden layers: He-uniform kernels and biases ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``
        (PyTorch's default): on the first layer (fan-in 1) the biases spread the ReLU
        kinks over the normalized ``t`` range; zero biases would put them all at
        ``t = mid-range`` and make the MLP piecewise linear with a single kink. Output
        layer: glorot-uniform scaled by ``OUTPUT_KERNEL_SCALE``, and the bias that makes
        the output at mid-range ``t`` exactly a draw of ``kernel_initializer`` (then of
        ``bias_initializer`` for ``b(t)``).
        """
        if seed is None:  # from Keras' global generator (keras.utils.set_random_seed)
            seed = int(keras.random.randint((), 0, 2**31 - 1))
        seeds = [int(s) & 0x7FFFFFFF for s in np.random.SeedSequence(seed).generate_state(
            2 * len(self.hidden) + 2)]
        values, fan_in = [], 1
        for j, width in enumerate(self.hidden):
            limit = 1.0 / math.sqrt(fan_in)
            values.append(keras.initializers.HeUniform(seed=seeds[2 * j])((fan_in, width)))
            values.append(keras.initializers.RandomUniform(-limit, limit, seed=seeds[2 * j + 1])((width,)))
            fan_in = width
        values.append(keras.initializers.VarianceScaling(
            OUTPUT_KERNEL_SCALE**2, mode="fan_avg", distribution="uniform", seed=seeds[-2]
        )((fan_in, self.n_outputs)))
        values = [tf.cast(v, "float32") for v in values]
        target = [tf.reshape(self.seeded_initializer(seeds[-1])((self.input_dim, self.units)), [-1])]
        if self.use_bias:
            target.append(tf.reshape(self.bias_initializer((self.units,)), [-1]))
        # The output bias makes the MLP output at mid-range (tau = 0) exactly the draw.
        at_mid = self._mlp(tf.zeros((1, 1)), [*values, tf.zeros((self.n_outputs,))])[0]
        values.append(tf.cast(tf.concat(target, 0), "float32") - at_mid)
        return values

    def _weights_at(self, t):
        """Ungated kernel ``(K?, S, in, units)`` and bias ``(K?, S, units)`` (or None) at
        the parameter values ``t`` ``(S, 1)``."""
        lo, hi = self.t_range
        tau = (tf.cast(t, self.compute_dtype) - (lo + hi) / 2) / ((hi - lo) / 2)
        h = self._mlp(tau, self.mlp_weights)
        n = self.input_dim * self.units
        kernel = tf.reshape(h[..., :n], [*self.lead, -1, self.input_dim, self.units])
        return kernel, (h[..., n:] if self.use_bias else None)

    def _mlp(self, tau, weights):
        """The MLP with ``weights`` (``mlp_weights`` order) on ``tau`` ``(S, 1)``:
        ``(K?, S, n_outputs)``."""
        h, last = tau, len(weights) // 2 - 1
        for j in range(last + 1):
            kernel, bias = weights[2 * j], weights[2 * j + 1]
            # (S, d) or (K?, S, d) @ (K?, d, o): BatchMatMul broadcasts the trial axis.
            h = tf.matmul(h, kernel) + tf.expand_dims(bias, -2)
            if j < last:
                h = self.activation(h)
        return h

    def _reference_t(self):
        """The ``N_REFERENCE`` evenly spaced values of ``t_range``, shape ``(16, 1)``."""
        lo, hi = self.t_range
        return tf.reshape(tf.linspace(lo, hi, N_REFERENCE), (N_REFERENCE, 1))

    def kernel_for(self, context, training=None):
        """Gated kernel ``(K?, S, in, units)`` and bias ``(K?, S, units)`` (or None) at the
        parameter ``context``: ``(batch, 1)`` (``S = batch``) or ``(N, 1, 1)``
        (``S = N``). The gates are sampled when ``training`` is true."""
        context = tf.convert_to_tensor(context)
        stacking.context_layout(context)
        kernel, bias = self._weights_at(tf.reshape(context, (-1, 1)))
        return kernel * tf.expand_dims(self._gates(bool(training)), -3), bias

    @property
    def effective_kernel(self):
        """``W(t) * z`` with the deterministic gates at ``16`` evenly spaced ``t`` of
        ``t_range``: shape ``(K?, 16, in, units)``."""
        kernel, _ = self._weights_at(self._reference_t())
        return kernel * tf.expand_dims(self.deterministic_gates(), -3)

    # -- gates -------------------------------------------------------------------
    def _gates(self, training):
        """Sampled (training) or deterministic gates ``(K?, in, units)``, or the fixed
        ones once fixed (chosen in the graph: :meth:`threshold` needs no retracing)."""
        live = self.sample_gates() if training else self._gates_from_log_alpha()
        return tf.where(self.gates_fixed > 0, tf.convert_to_tensor(self.mask), live)

    def _gates_from_log_alpha(self):
        return concrete.deterministic_gate(self.log_alpha, self.gamma, self.zeta)

    def deterministic_gates(self):
        """``clip(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``, or the fixed gates."""
        return self._gates(training=False)

    def sample_gates(self):
        """One hard-concrete draw of every gate: from the seed generator, or with
        ``trials`` from each trial's own stream (advanced by one draw)."""
        uniform = None
        if self.trials is not None:
            step = self.noise_step.assign_add(tf.ones_like(self.noise_step))
            uniform = concrete.trial_uniforms(
                self.log_alpha.shape[1:], self.noise_seeds, step, self.log_alpha.dtype
            )
        return concrete.sample_gate(
            self.log_alpha, self.seed_generator, self.beta, self.gamma, self.zeta, uniform
        )

    def open_probabilities(self):
        """``P(z != 0)`` per gate: ``sigmoid(log_alpha - beta log(-gamma/zeta))``."""
        return concrete.open_probability(self.log_alpha, self.beta, self.gamma, self.zeta)

    def expected_l0(self):
        """Expected number of open gates (the relaxed L0 norm)."""
        return tf.reduce_sum(self.open_probabilities())

    def penalty_parts(self):
        """``"gates"``: the expected-L0 penalty (with a ``gate_regularizer``);
        ``"weights"``: ``kernel_regularizer`` on :attr:`effective_kernel`. Both are zero
        once the gates are fixed, as in :class:`~deepsymreg.HardConcreteDense`."""
        live = 1.0 - self.gates_fixed
        parts = super().penalty_parts()
        if "weights" in parts:
            parts["weights"] = parts["weights"] * live
        if self.gate_regularizer is not None:
            parts["gates"] = self.gate_regularizer.scaled_sum(self.open_probabilities()) * live
        return parts

    # -- maths -------------------------------------------------------------------
    def call(self, inputs, context=None, training=None):
        if context is None:
            raise ValueError(
                "MetaWeightDense needs the parameter t as `context`: call it as "
                "`layer(x, context=t)` with t of shape (batch, 1), or (N, 1, 1) for inputs "
                "(N, batch, in). Received: context=None"
            )
        context = tf.cast(context, self.compute_dtype)
        layout = stacking.context_layout(context)
        self._check_inputs(inputs, context, layout)
        # A graph cannot raise on values; eagerly, a non-finite t is an error.
        if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(context))):
            raise ValueError(
                "Invalid value for argument `context`: expected finite values of the "
                f"parameter t. Received: context={context.numpy().ravel()!r}"
            )
        kernel, bias = self.kernel_for(context, training=training)
        self.add_penalty()
        return stacking.context_matmul(inputs, kernel, bias, layout)

    def _check_inputs(self, inputs, context, layout):
        """ValueError unless ``inputs`` fits ``context`` in ``layout`` (static shapes)."""
        shape = tuple(inputs.shape)
        base = 2 if layout == "sample" else 3
        ranks = (base, base + 1) if self.trials else (base,)
        expected = "(batch, in)" if layout == "sample" else "(N, batch, in)"
        if self.trials:
            expected += f" or ({self.trials}, {expected[1:]}"
        ok = len(shape) in ranks and (len(shape) == base or shape[0] in (None, self.trials))
        size = shape[-2] if layout == "sample" else (shape[-3] if ok else None)
        if ok and None not in (size, context.shape[0]) and size != context.shape[0]:
            ok = False
        if not ok:
            what = "one t per sample" if layout == "sample" else "one t per step"
            raise ValueError(
                f"With a context of shape {tuple(context.shape)} ({what}), MetaWeightDense "
                f"takes inputs of shape {expected}, with "
                f"{'batch' if layout == 'sample' else 'N'} = {context.shape[0]}. "
                f"Received input shape {shape}"
            )

    def compute_output_shape(self, inputs_shape, context_shape=None):
        inputs_shape = tuple(inputs_shape)
        rank = len(inputs_shape)
        if self.trials is None:
            return (*inputs_shape[:-1], self.units)
        if context_shape is not None:
            has_trials = rank == (2 if len(context_shape) == 2 else 3) + 1
        else:  # rank 3 is (K, batch, in) or (N, batch, in): tell by the size
            has_trials = rank == 4 or (rank == 3 and inputs_shape[0] == self.trials)
        lead = () if has_trials else (self.trials,)
        return (*lead, *inputs_shape[:-1], self.units)

    # -- editing -----------------------------------------------------------------
    def threshold(self, alpha=0.0):
        """Fix every gate at its deterministic value, closing those with
        ``|W(t) z| < alpha`` at all ``16`` reference ``t``.

        After this the layer no longer samples gates or adds a penalty; the MLP keeps
        training behind the open gates. Returns the number of open gates.
        """
        alpha = self.check_alpha(alpha)
        gates = self.deterministic_gates()
        kernel, _ = self._weights_at(self._reference_t())
        strong = tf.reduce_any(tf.abs(kernel * tf.expand_dims(gates, -3)) >= alpha, axis=-3)
        self.mask.assign(gates * tf.cast(strong, gates.dtype))
        self.gates_fixed.assign(1.0)
        return int(tf.math.count_nonzero(self.mask))

    def initialize_entry(self, index=None, seed=None):
        """Re-draw trial ``index``'s MLP (every trial when None, all from the same draw)
        and reset its gates.

        ``seed`` seeds the draw: a trial drawn with seed ``s`` gets the MLP weights of an
        untrialled layer built with ``seed=s``; with ``trials`` it also restarts the
        trial's gate-noise stream from ``s``.
        """
        if index is not None:
            if self.trials is None:
                raise ValueError(
                    "Invalid value for argument `index`: this MetaWeightDense holds no "
                    f"trials axis, so only index=None applies. Received: index={index!r}"
                )
            index = check_int("index", index, minimum=0)
            if index >= self.trials:
                raise ValueError(
                    f"Invalid value for argument `index`: expected an integer in [0, "
                    f"{self.trials}). Received: index={index!r}"
                )
        seed = check_int("seed", seed, minimum=0, allow_none=True)
        for variable, value in zip(self.mlp_weights, self._draw_mlp(seed)):
            stacking.assign_entries(variable, value, index)
        self.reset_entry(index)
        if self.trials is not None and seed is not None:
            seeds = tf.fill([self.trials], seed % (2**31 - 1))
            stacking.assign_entries(self.noise_seeds, seeds, index)
            stacking.assign_entries(self.noise_step, tf.zeros_like(self.noise_step), index)

    def reset_entry(self, index=None):
        """Reset the gates of trial ``index`` (all when None) to their initial location.

        Resetting everything also frees fixed gates; a single trial reset after the
        gates were fixed gets fixed gates at its fresh deterministic values.
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
        config = super().get_config()
        del config["t_steps"], config["smoothness_regularizer"]
        return {
            **config,
            "hidden": list(self.hidden),
            "activation": keras.activations.serialize(self.activation),
            "t_range": list(self.t_range),
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


def _constant(value):
    """An initializer returning ``value`` (weights drawn before ``add_weight``)."""
    return lambda shape, dtype=None: tf.cast(value, dtype or "float32")


def _check_hidden(hidden):
    """``hidden`` as a tuple of positive ints, or a ValueError naming it."""
    ok = isinstance(hidden, (list, tuple))
    if ok:
        try:
            widths = tuple(check_int("hidden", h) for h in hidden)
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(
            "Invalid value for argument `hidden`: expected a list of positive integers "
            f"(the widths of the meta-weight MLP's hidden layers). Received: hidden={hidden!r}"
        )
    return widths


def _check_t_range(t_range):
    """``t_range`` as ``(lo, hi)`` floats, finite with ``lo < hi``, or a ValueError."""
    ok = isinstance(t_range, (list, tuple)) and len(t_range) == 2
    if ok:
        try:
            lo, hi = (check_number("t_range", v) for v in t_range)
        except ValueError:
            ok = False
    if ok:
        ok = math.isfinite(lo) and math.isfinite(hi) and lo < hi
    if not ok:
        raise ValueError(
            "Invalid value for argument `t_range`: expected two finite numbers (lo, hi) "
            f"with lo < hi. Received: t_range={t_range!r}"
        )
    return (lo, hi)


__all__ = ["MetaWeightDense"]
