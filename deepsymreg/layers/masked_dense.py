"""`MaskedDense`: a dense map whose weights can be thresholded and frozen."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from deepsymreg import regularizers as regularizers_lib
from deepsymreg.layers import stacking


@keras.saving.register_keras_serializable(package="deepsymreg")
class MaskedDense(keras.layers.Layer):
    """Dense map ``x @ (W * M) (+ b)`` with a non-trainable 0/1 mask ``M``.

    The mask starts at all ones. :meth:`threshold` sets ``M = 0`` where
    ``|W * M| < alpha`` and zeroes those weights: they then stay exactly 0 however the
    layer is trained later (their gradient is 0 and their effective value ``W * M`` is
    0 whatever the optimizer does to ``W``). The penalty of ``kernel_regularizer`` is
    evaluated on the effective weights and added with ``add_loss``.

    With ``n_stack=K`` the layer holds ``K`` independent weight sets (leading axis):
    independent random restarts trained in one graph, or the steps of a stacked EQL.

    Args:
        units: output width (positive int).
        n_stack: ``None`` or the size ``K`` of a leading weight axis.
        use_bias: add a bias (default False: EQL layers get constants from the
            ``constant`` primitive).
        kernel_initializer: initializer of ``W`` (default truncated normal, sd 0.5).
        bias_initializer: initializer of ``b``.
        kernel_regularizer: penalty on ``W * M``, e.g. :class:`~deepsymreg.SmoothL05`.

    Input shape:
        ``(batch, in)``; with ``n_stack`` also ``(K, batch, in)``.

    Output shape:
        ``(batch, units)``; with ``n_stack``: ``(K, batch, units)``.
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
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                "Invalid value for argument `units`: expected a positive integer. "
                f"Received: units={units!r}"
            )
        self.units = int(units)
        self.n_stack = stacking.check_n_stack(n_stack)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.TruncatedNormal(stddev=0.5)
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers_lib.get(kernel_regularizer)

    # -- weights -----------------------------------------------------------------
    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError("MaskedDense needs a known last input dimension.")
        self.input_dim = int(in_dim)
        shape = stacking.stacked_shape(self.n_stack, (self.input_dim, self.units))
        # No `regularizer=` here: the penalty must see the masked weights (add_loss).
        self.kernel = self.add_weight(
            name="kernel", shape=shape, initializer=self.kernel_initializer
        )
        self.mask = self.add_weight(
            name="mask", shape=shape, initializer="ones", trainable=False
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=stacking.stacked_shape(self.n_stack, (self.units,)),
                initializer=self.bias_initializer,
            )
        else:
            self.bias = None

    @property
    def effective_kernel(self):
        """``W * M``: the weights the layer computes with."""
        return self.kernel * self.mask

    # -- maths -------------------------------------------------------------------
    def call(self, inputs):
        w = self.effective_kernel
        if self.kernel_regularizer is not None:
            self.add_loss(self.kernel_regularizer(w))
        out = stacking.stacked_matmul(inputs, w, self.n_stack)
        if self.bias is not None:
            b = self.bias if self.n_stack is None else self.bias[:, None, :]
            out = out + b
        return out

    def compute_output_shape(self, input_shape):
        return stacking.stacked_output_shape(input_shape, self.units, self.n_stack)

    # -- editing -----------------------------------------------------------------
    def threshold(self, alpha):
        """Zero and freeze every weight with ``|W * M| < alpha``; return the count kept."""
        alpha = float(alpha)
        if not alpha >= 0:
            raise ValueError(
                f"Invalid value for argument `alpha`: expected alpha >= 0. Received: {alpha}"
            )
        w = self.effective_kernel
        keep = tf.cast(tf.abs(w) >= alpha, self.mask.dtype)
        self.mask.assign(self.mask * keep)
        self.kernel.assign(self.kernel * self.mask)
        return int(tf.reduce_sum(self.mask))

    def reinitialize_entry(self, kernel_values, index=None):
        """Set the kernel (of stack entry ``index``, or all) and reopen its mask."""
        stacking.assign_entries(self.kernel, kernel_values, index)
        stacking.assign_entries(self.mask, tf.ones_like(self.mask), index)
        if self.bias is not None:
            stacking.assign_entries(self.bias, tf.zeros_like(self.bias), index)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "n_stack": self.n_stack,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)
            if self.kernel_regularizer is not None
            else None,
        }
