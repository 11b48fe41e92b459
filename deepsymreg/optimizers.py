"""Optimizers."""

from __future__ import annotations

import keras

from deepsymreg._validation import check_number

__all__ = ["RMSprop"]


@keras.saving.register_keras_serializable(package="deepsymreg")
class RMSprop(keras.optimizers.RMSprop):
    """RMSprop whose squared-gradient average starts at ``initial_accumulator``.

    Keras starts the average at 0, so the first steps move every weight by about
    ``learning_rate / sqrt(1 - rho)`` whatever its gradient. TensorFlow 1's
    ``RMSPropOptimizer``, used by the EQL papers, started it at 1: early steps are then
    plain gradient steps that grow into normalized ones. ``initial_accumulator=1.0``
    reproduces that; ``0.0`` is Keras' behaviour.

    Args:
        initial_accumulator: starting value of the squared-gradient average (>= 0).
        **kwargs: as for ``keras.optimizers.RMSprop``.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator=1.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator = check_number("initial_accumulator", initial_accumulator, 0.0)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        for v in self._velocities:
            v.assign(keras.ops.full(v.shape, self.initial_accumulator, dtype=v.dtype))

    def slot_initial_value(self, variable):
        """The value an optimizer variable starts from (used to restart entries)."""
        if any(variable is v for v in self._velocities):
            return self.initial_accumulator
        return 0.0

    def get_config(self):
        return {**super().get_config(), "initial_accumulator": self.initial_accumulator}
