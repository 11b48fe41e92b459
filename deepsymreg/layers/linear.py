"""`StackedLinear`: what the linear maps inside EQL layers have in common."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from deepsymreg import regularizers as regularizers_lib
from deepsymreg._validation import check_int, check_number
from deepsymreg.layers import stacking


class StackedLinear(keras.layers.Layer):
    """Base of the linear maps of EQL layers (the *linear kinds*): ``x @ W_eff (+ b)``.

    Every kind (dense, hard-concrete, and the stacked, meta-weight and Gumbel maps to
    come) honours one contract, so that EQL layers and networks use any of them without
    knowing which:

    - **initialization** of one stack entry: :meth:`initialize_entry` re-draws entry
      ``k`` (or all) from the kind's own initializer with a given seed and resets what
      else the kind keeps per entry (masks, gates);
    - **read-out**: :attr:`effective_kernel`, the weights the map computes with at
      inference, which equation extraction reads;
    - **penalties** as a sum of named parts, :meth:`penalty_parts` (e.g. ``"weights"``
      and ``"gates"``), added up by :meth:`penalty`;
    - **structure**: a non-trainable 0/1 ``mask`` and :meth:`threshold`, which zeroes
      and freezes the weights below ``alpha``;
    - class attributes saying how a network uses the kind: :attr:`plain_output` (the
      output layer of a network built from this kind is a plain dense map) and
      :attr:`takes_context` (``call`` takes a context input, e.g. a parameter ``t``).

    The base holds the arguments every kind shares, creates the kernel (and bias) in
    :meth:`add_kernel_and_bias`, applies a weight matrix in :meth:`apply_kernel` and
    serializes the shared arguments.

    Weight axes (see :mod:`deepsymreg.layers.stacking`): the kernel has shape
    ``(K?, N?, in, units)``, with ``K = trials`` independent restarts and ``N = t_steps``
    steps of a parameter grid.

    Args:
        units: output width (positive int).
        trials: ``None`` or the number ``K`` of restarts held side by side.
        t_steps: ``None`` or the number ``N`` of parameter steps (stacked EQL).
        use_bias: add a bias.
        kernel_initializer: initializer of the kernel (default truncated normal, sd 0.5).
        bias_initializer: initializer of the bias.
        kernel_regularizer: a penalty (see subclasses for what it is applied to).
        smoothness_regularizer: with ``t_steps``, a penalty on the differences between
            adjacent steps (:class:`~deepsymreg.regularizers.AdjacentSmoothness`); the
            ``"smoothness"`` part of the penalty. It never couples two trials.
    """

    def __init__(
        self,
        units,
        trials=None,
        t_steps=None,
        use_bias=False,
        kernel_initializer=None,
        bias_initializer="zeros",
        kernel_regularizer=None,
        smoothness_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.lead = stacking.check_axes(trials, t_steps)
        self.trials, self.t_steps = trials, t_steps
        self.smoothness_regularizer = regularizers_lib.get(
            smoothness_regularizer, name="smoothness_regularizer"
        )
        if self.smoothness_regularizer is not None and t_steps is None:
            raise ValueError(
                "Invalid value for argument `smoothness_regularizer`: it penalizes "
                "differences between parameter steps and needs `t_steps`. Received: "
                f"smoothness_regularizer={smoothness_regularizer!r}, t_steps=None"
            )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.TruncatedNormal(stddev=0.5)
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers_lib.get(kernel_regularizer, name="kernel_regularizer")
        # When True, `call` leaves the penalty to the owner, which adds `penalty()` once
        # (an RNN cell runs inside a loop, where per-step losses cannot escape).
        self.defer_penalty = False
        self.mask = None  # created in build by every kind

    #: The output layer of a network built from this kind is a plain dense map.
    plain_output = False
    #: ``call`` takes ``context=`` (a tensor the effective kernel depends on).
    takes_context = False

    def add_kernel_and_bias(self, input_shape):
        """Create ``kernel`` ``([K,] in, units)`` and ``bias`` (or None); return the kernel shape."""
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"{type(self).__name__} needs a known last input dimension.")
        self.input_dim = int(in_dim)
        shape = stacking.stacked_shape(self.lead, (self.input_dim, self.units))
        # No `regularizer=` here: penalties see the effective weights (add_loss in call).
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer=self.kernel_initializer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=stacking.stacked_shape(self.lead, (self.units,)),
                initializer=self.bias_initializer,
            )
        return shape

    def apply_kernel(self, inputs, w):
        """``inputs @ w (+ bias)`` for plain or stacked weights."""
        out = stacking.stacked_matmul(inputs, w, self.lead)
        if self.bias is not None:
            out = out + (self.bias[..., None, :] if self.lead else self.bias)
        return out

    # -- kernels that depend on a context (takes_context kinds) ----------------------
    def kernel_for(self, context, training=None):
        """Kernel ``(K?, S, in, out)`` and bias ``(K?, S, out)`` (or None) for the
        parameter ``context``, ``(batch, 1)`` or ``(N, 1, 1)`` (``S`` = batch or N; see
        :mod:`~deepsymreg.layers.stacking`). Only kinds with :attr:`takes_context`."""
        raise NotImplementedError(f"{type(self).__name__} takes no context.")

    def kernel_at(self, t):
        """Effective kernel ``(K?, in, out)`` and bias ``(K?, out)`` (or None) at one
        parameter value ``t``, as NumPy arrays (what equation read-out uses)."""
        if not self.takes_context:
            raise ValueError(
                f"Invalid value for argument `t`: {type(self).__name__} does not depend on a "
                f"parameter. Received: t={t!r}"
            )
        t = check_number("t", t)
        if not math.isfinite(t):
            raise ValueError(f"Invalid value for argument `t`: expected a finite number. Received: t={t!r}")
        w, b = self.kernel_for(tf.constant([[t]], tf.float32), training=False)
        w = keras.ops.convert_to_numpy(w)[..., 0, :, :]
        return w, None if b is None else keras.ops.convert_to_numpy(b)[..., 0, :]

    def penalty_parts(self):
        """The penalties of this map by name (``{"weights": ...}`` with a regularizer)."""
        parts = {}
        if self.kernel_regularizer is not None:
            parts["weights"] = self.kernel_regularizer(self.effective_kernel)
        if self.smoothness_regularizer is not None:
            parts["smoothness"] = self.smoothness_regularizer(self.effective_kernel)
        return parts

    def penalty(self):
        """The sum of :meth:`penalty_parts` (0 without any)."""
        parts = list(self.penalty_parts().values())
        return tf.add_n(parts) if parts else tf.constant(0.0)

    def add_penalty(self):
        """Add the penalty as a layer loss, unless the owner adds it (``defer_penalty``)
        or the map has none."""
        if not self.defer_penalty:
            parts = list(self.penalty_parts().values())
            if parts:
                self.add_loss(tf.add_n(parts))

    def threshold(self, alpha):
        """Zero and freeze the weights with ``|w| < alpha``; return the count kept."""
        raise NotImplementedError(f"{type(self).__name__} does not implement threshold().")

    def initialize_entry(self, index=None, seed=None):
        """Re-draw stack entry ``index`` (all entries when None) from this kind's initializer.

        ``seed`` seeds the draw: an entry drawn with seed ``s`` equals the kernel of an
        unstacked map whose ``kernel_initializer`` carries seed ``s``. The bias of the
        entry returns to zero and :meth:`reset_entry` resets the rest (masks, gates).
        """
        if index is not None and self.trials is None:
            raise ValueError(
                f"Invalid value for argument `index`: this {type(self).__name__} holds no "
                f"trials axis, so only index=None applies. Received: index={index!r}"
            )
        # One trial's shape; with index=None that trial is copied to every trial.
        shape = self.kernel.shape[1:] if self.trials else self.kernel.shape
        values = self.draw_kernel(self.seeded_initializer(seed), tuple(shape))
        stacking.assign_entries(self.kernel, values, index)
        self.reset_bias_entry(index)
        self.reset_entry(index)

    def draw_kernel(self, initializer, shape):
        """Initial kernel values of ``shape`` from ``initializer`` (kinds may tie entries)."""
        return initializer(shape)

    def reset_entry(self, index=None):
        """Reset what the kind keeps per entry besides kernel and bias (default: reopen the mask)."""
        stacking.assign_entries(self.mask, tf.ones_like(self.mask), index)

    def seeded_initializer(self, seed):
        """This map's kernel initializer with ``seed`` (unchanged if it takes no seed)."""
        init = self.kernel_initializer
        config = init.get_config()
        if "seed" not in config:
            return init
        return type(init).from_config({**config, "seed": seed})

    @staticmethod
    def check_alpha(alpha):
        """``alpha`` as a float, or a ValueError if it is not a number >= 0 (``threshold``)."""
        return check_number("alpha", alpha, 0.0)

    def reset_bias_entry(self, index=None):
        if self.bias is not None:
            stacking.assign_entries(self.bias, tf.zeros_like(self.bias), index)

    def compute_output_shape(self, input_shape):
        return stacking.stacked_output_shape(input_shape, self.units, self.lead)

    def get_config(self):
        def serialize(reg):
            return keras.regularizers.serialize(reg) if reg is not None else None

        return {
            **super().get_config(),
            "units": self.units,
            "trials": self.trials,
            "t_steps": self.t_steps,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "smoothness_regularizer": serialize(self.smoothness_regularizer),
        }

    @classmethod
    def from_config(cls, config):
        return super().from_config(stacking.upgrade_config(config))
