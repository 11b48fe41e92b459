"""Losses."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["HorizonMSE"]


@keras.saving.register_keras_serializable(package="deepsymreg")
class HorizonMSE(keras.losses.Loss):
    """Mean squared error over the first ``horizon`` steps of a predicted sequence.

    For ``y_true`` and ``y_pred`` of shape ``(batch, T, features)``, only steps
    ``t < horizon`` count. ``horizon`` is a non-trainable variable, so a curriculum
    (:class:`~deepsymreg.callbacks.HorizonCurriculum`) can grow the prediction horizon
    ``T_y`` during ``fit`` without retracing the compiled step.

    Steps past the horizon are dropped, not multiplied by zero: a non-finite
    prediction there (a roll-out that has blown up) leaves the loss finite.

    Args:
        horizon: initial number of steps that count (positive int).
    """

    def __init__(self, horizon=1, name="horizon_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 1:
            raise ValueError(
                "Invalid value for argument `horizon`: expected a positive integer. "
                f"Received: horizon={horizon!r}"
            )
        self.horizon = keras.Variable(int(horizon), trainable=False, dtype="int32", name="horizon")

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, y_pred.dtype)
        steps = tf.shape(y_pred)[1]
        counted = tf.range(steps) < tf.cast(self.horizon, tf.int32)  # (T,)
        # Select rather than multiply by a 0/1 mask: inf * 0 is NaN.
        counted_at = tf.reshape(counted, [1, -1] + [1] * (y_pred.shape.rank - 2))
        error = tf.where(counted_at, y_pred - y_true, tf.zeros_like(y_pred))
        squared = tf.reduce_mean(tf.square(error), axis=-1)  # (batch, T)
        n = tf.maximum(tf.reduce_sum(tf.cast(counted, y_pred.dtype)), 1.0)
        return tf.reduce_sum(squared, axis=1) / n

    def get_config(self):
        return {**super().get_config(), "horizon": int(self.horizon.numpy())}
