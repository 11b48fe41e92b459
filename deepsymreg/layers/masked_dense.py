"""`MaskedDense`: a dense map whose weights can be thresholded and frozen."""

from __future__ import annotations

import keras
import tensorflow as tf

from deepsymreg import regularizers as regularizers_lib
from deepsymreg.layers.linear import StackedLinear


@keras.saving.register_keras_serializable(package="deepsymreg")
class MaskedDense(StackedLinear):
    """Dense map ``x @ (W * M) (+ b)`` with a non-trainable 0/1 mask ``M``.

    The mask starts at all ones. :meth:`threshold` sets ``M = 0`` where
    ``|W * M| < alpha`` and zeroes those weights: they then stay exactly 0 however the
    layer is trained later (their gradient is 0 and their effective value ``W * M`` is
    0 whatever the optimizer does to ``W``). The penalty of ``kernel_regularizer`` is
    evaluated on the effective weights and added with ``add_loss``.

    With ``trials=K`` the layer holds ``K`` independent weight sets (random restarts
    trained in one graph); with ``t_steps=N`` one set per parameter step (the stacked
    EQL). See :mod:`~deepsymreg.layers.stacking` for the axes.

    Args:
        units: output width (positive int).
        trials: ``None`` or the number ``K`` of restarts held side by side.
        t_steps: ``None`` or the number ``N`` of parameter steps.
        use_bias: add a bias (default False: EQL layers get constants from the
            ``constant`` primitive).
        kernel_initializer: initializer of ``W`` (default truncated normal, sd 0.5).
        bias_initializer: initializer of ``b``.
        kernel_regularizer: penalty on ``W * M``, e.g. :class:`~deepsymreg.SmoothL05`.
        smoothness_regularizer: with ``t_steps``, a penalty between adjacent steps.

    Input shape:
        ``(batch, in)``, or ``(*lead, batch, in)`` with ``lead = (K?, N?)``.

    Output shape:
        ``(*lead, batch, units)``.
    """

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        if isinstance(self.kernel_regularizer, regularizers_lib.ExpectedL0):
            raise ValueError(
                "Invalid value for argument `kernel_regularizer`: ExpectedL0 penalizes "
                "hard-concrete gates and MaskedDense has none; use HardConcreteDense "
                "(linear='hard_concrete') for the relaxed-L0 penalty. Received: "
                f"kernel_regularizer={self.kernel_regularizer!r}"
            )

    def build(self, input_shape):
        shape = self.add_kernel_and_bias(input_shape)
        self.mask = self.add_weight(name="mask", shape=shape, initializer="ones", trainable=False)

    @property
    def effective_kernel(self):
        """``W * M``: the weights the layer computes with."""
        return self.kernel * self.mask

    # -- maths -------------------------------------------------------------------
    def call(self, inputs, training=None):
        self.add_penalty()
        return self.apply_kernel(inputs, self.effective_kernel)

    # -- editing -----------------------------------------------------------------
    def threshold(self, alpha):
        """Zero and freeze every weight with ``|W * M| < alpha``; return the count kept."""
        alpha = self.check_alpha(alpha)
        w = self.effective_kernel
        keep = tf.cast(tf.abs(w) >= alpha, self.mask.dtype)
        self.mask.assign(self.mask * keep)
        self.kernel.assign(self.kernel * self.mask)
        return int(tf.reduce_sum(self.mask))
