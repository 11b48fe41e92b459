"""RMSprop with TensorFlow 1's starting accumulator."""

import keras
import numpy as np
import pytest

from deepsymreg import MaskedDense
from deepsymreg.optimizers import RMSprop

GRADIENTS = [np.array([0.1, -2.0, 0.0, 1e-3], "float32"), np.array([0.5, 0.5, -1.0, 0.0], "float32")]


def _run(optimizer, gradients=GRADIENTS):
    w = keras.Variable(np.array([1.0, 2.0, -3.0, 0.5], "float32"))
    for g in gradients:
        optimizer.apply([g], [w])
    return w.numpy()


def _by_hand(initial, lr=0.01, rho=0.9, eps=1e-7, gradients=GRADIENTS):
    w = np.array([1.0, 2.0, -3.0, 0.5])
    v = np.full(4, initial)
    for g in gradients:
        v = rho * v + (1 - rho) * g.astype(float) ** 2
        w = w - lr * g / np.sqrt(v + eps)
    return w


@pytest.mark.parametrize("initial", [1.0, 0.25, 0.0])
def test_steps_follow_rmsprop_from_the_initial_accumulator(initial):
    got = _run(RMSprop(0.01, initial_accumulator=initial))
    np.testing.assert_allclose(got, _by_hand(initial), rtol=1e-5)


def test_default_starts_at_one_like_tensorflow_1():
    got = _run(RMSprop(0.01), GRADIENTS[:1])
    # First step is almost a plain gradient step: lr * g / sqrt(0.9 + 0.1 g^2).
    g = GRADIENTS[0]
    np.testing.assert_allclose(got, [1.0, 2.0, -3.0, 0.5] - 0.01 * g / np.sqrt(0.9 + 0.1 * g**2),
                               rtol=1e-5)


def test_zero_accumulator_is_keras_rmsprop():
    ours = _run(RMSprop(0.01, initial_accumulator=0.0, momentum=0.5))
    theirs = _run(keras.optimizers.RMSprop(0.01, momentum=0.5))
    np.testing.assert_array_equal(ours, theirs)


def test_slot_initial_value():
    optimizer = RMSprop(0.01, initial_accumulator=0.75, momentum=0.9)
    w = keras.Variable(np.zeros(3, "float32"))
    optimizer.build([w])
    velocity, momentum = optimizer._velocities[0], optimizer._momentums[0]
    assert optimizer.slot_initial_value(velocity) == 0.75
    np.testing.assert_array_equal(velocity.numpy(), 0.75)
    assert optimizer.slot_initial_value(momentum) == 0.0


@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_rejects_negative_accumulator(value):
    with pytest.raises(ValueError, match="argument `initial_accumulator`"):
        RMSprop(initial_accumulator=value)


def test_config_round_trip():
    optimizer = RMSprop(0.02, initial_accumulator=0.5, rho=0.8, epsilon=1e-10)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is RMSprop
    assert restored.initial_accumulator == 0.5
    assert restored.get_config() == optimizer.get_config()


def test_state_survives_a_keras_file(tmp_path, rng):
    model = keras.Sequential([keras.Input((3,)), MaskedDense(2)])
    model.compile(optimizer=RMSprop(0.01, initial_accumulator=0.5), loss="mse")
    x = rng.normal(size=(8, 3)).astype("float32")
    model.train_on_batch(x, np.ones((8, 2), "float32"))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer) is RMSprop
    assert loaded.optimizer.initial_accumulator == 0.5
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
