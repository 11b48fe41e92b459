"""`StackedLinear`: what the linear maps inside EQL layers have in common."""

from __future__ import annotations

import keras
import tensorflow as tf

from deepsymreg import regularizers as regularizers_lib
from deepsymreg._validation import check_int
from deepsymreg.layers import stacking


class StackedLinear(keras.layers.Layer):
    """Base of the linear maps of EQL layers: ``x @ W_eff (+ b)``, optionally stacked.

    Holds the arguments every such map shares, creates the kernel (and bias) in
    :meth:`add_kernel_and_bias`, applies a weight matrix in :meth:`apply_kernel`, and
    serializes the shared arguments. Subclasses define how the effective weights are
    formed (masks, gates, a hyper-network) and expose them as ``effective_kernel``, the
    weights EQL extraction reads.

    Args:
        units: output width (positive int).
        n_stack: ``None`` or the size ``K`` of a leading weight axis.
        use_bias: add a bias.
        kernel_initializer: initializer of the kernel (default truncated normal, sd 0.5).
        bias_initializer: initializer of the bias.
        kernel_regularizer: a penalty (see subclasses for what it is applied to).
    """

    def __init__(
        self,
        units,
        n_stack=None,
        use_bias=False,
        kernel_initializer=None,
        bias_initializer="zeros",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.n_stack = stacking.check_n_stack(n_stack)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.TruncatedNormal(stddev=0.5)
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers_lib.get(kernel_regularizer)
        # When True, `call` leaves the penalty to the owner, which adds `penalty()` once
        # (an RNN cell runs inside a loop, where per-step losses cannot escape).
        self.defer_penalty = False

    def add_kernel_and_bias(self, input_shape):
        """Create ``kernel`` ``([K,] in, units)`` and ``bias`` (or None); return the kernel shape."""
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"{type(self).__name__} needs a known last input dimension.")
        self.input_dim = int(in_dim)
        shape = stacking.stacked_shape(self.n_stack, (self.input_dim, self.units))
        # No `regularizer=` here: penalties see the effective weights (add_loss in call).
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer=self.kernel_initializer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=stacking.stacked_shape(self.n_stack, (self.units,)),
                initializer=self.bias_initializer,
            )
        return shape

    def apply_kernel(self, inputs, w):
        """``inputs @ w (+ bias)`` for plain or stacked weights."""
        out = stacking.stacked_matmul(inputs, w, self.n_stack)
        if self.bias is not None:
            out = out + (self.bias if self.n_stack is None else self.bias[:, None, :])
        return out

    def penalty(self):
        """The sparsity penalty of this map (0 without a regularizer)."""
        reg = self.kernel_regularizer
        return reg(self.effective_kernel) if reg is not None else tf.constant(0.0)

    def add_penalty(self):
        if self.kernel_regularizer is not None and not self.defer_penalty:
            self.add_loss(self.penalty())

    @staticmethod
    def check_alpha(alpha):
        """``alpha`` as a float, or a ValueError if it is not a number >= 0 (``threshold``)."""
        alpha = float(alpha)
        if not alpha >= 0:
            raise ValueError(
                f"Invalid value for argument `alpha`: expected alpha >= 0. Received: {alpha}"
            )
        return alpha

    def reset_bias_entry(self, index=None):
        if self.bias is not None:
            stacking.assign_entries(self.bias, tf.zeros_like(self.bias), index)

    def compute_output_shape(self, input_shape):
        return stacking.stacked_output_shape(input_shape, self.units, self.n_stack)

    def get_config(self):
        reg = self.kernel_regularizer
        return {
            **super().get_config(),
            "units": self.units,
            "n_stack": self.n_stack,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(reg) if reg is not None else None,
        }
