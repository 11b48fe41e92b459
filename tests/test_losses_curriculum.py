"""HorizonMSE and HorizonCurriculum: the horizon really changes what is trained."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from deepsymreg.callbacks import HorizonCurriculum
from deepsymreg.losses import HorizonMSE


def test_only_steps_within_the_horizon_count():
    y_true = np.zeros((2, 4, 3), "float32")
    y_pred = np.zeros((2, 4, 3), "float32")
    y_pred[:, 2:] = 10.0  # errors only from step 2 on
    loss = HorizonMSE(horizon=2)
    assert float(loss(y_true, y_pred)) == 0.0
    loss.horizon.assign(4)
    np.testing.assert_allclose(float(loss(y_true, y_pred)), 100.0 * 2 / 4)


def test_blown_up_steps_past_the_horizon_leave_the_loss_finite():
    y_true = np.ones((2, 4, 1), "float32")
    y_pred = tf.Variable(np.ones((2, 4, 1), "float32") * 3.0)
    y_pred[:, 3].assign(tf.fill((2, 1), np.inf))
    y_pred[:, 2].assign(tf.fill((2, 1), np.nan))
    loss = HorizonMSE(horizon=2)
    with tf.GradientTape() as tape:
        value = loss(y_true, y_pred)
    np.testing.assert_allclose(float(value), 4.0)  # (3 - 1)^2 on the two counted steps
    grad = tape.gradient(value, y_pred).numpy()
    assert np.all(np.isfinite(grad)) and np.all(grad[:, 2:] == 0.0)
    loss.horizon.assign(3)
    assert np.isnan(float(loss(y_true, y_pred)))  # a counted NaN is not hidden


def test_curriculum_grows_the_horizon_during_fit():
    loss = HorizonMSE(horizon=1)
    model = keras.Sequential([keras.Input((4, 1)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.0), loss=loss, jit_compile=True)
    x = np.ones((8, 4, 1), "float32")
    y = np.zeros((8, 4, 1), "float32")
    y[:, 1:] = 5.0  # only steps beyond the first are hard
    curriculum = HorizonCurriculum(loss, [(0, 1), (3, 4)])
    history = model.fit(x, y, batch_size=8, epochs=6, verbose=0, callbacks=[curriculum])
    assert history.history["horizon"] == [1, 1, 1, 4, 4, 4]
    losses = history.history["loss"]
    assert losses[3] > losses[2] + 1.0  # the longer horizon adds the hard steps to the loss


def test_curriculum_rejects_bad_schedules():
    loss = HorizonMSE()
    with pytest.raises(ValueError, match="schedule"):
        HorizonCurriculum(loss, [(5, 2)])
    with pytest.raises(ValueError, match="horizon"):
        HorizonCurriculum(tf.Variable(1), [(0, 1)])
    with pytest.raises(ValueError, match="horizon"):
        HorizonMSE(horizon=0)
