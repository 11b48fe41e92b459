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
        mask = tf.cast(tf.range(steps) < tf.cast(self.horizon, tf.int32), y_pred.dtype)
        squared = tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)  # (batch, T)
        return tf.reduce_sum(squared * mask, axis=1) / tf.maximum(tf.reduce_sum(mask), 1.0)

    def get_config(self):
        return {**super().get_config(), "horizon": int(self.horizon.numpy())}
