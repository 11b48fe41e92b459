"""The two leading weight axes: trials (restarts) x t_steps (parameter steps)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import deepsymreg as dsr
from deepsymreg.layers import EqlLayer, HardConcreteDense, MaskedDense


@pytest.fixture
def both():
    layer = MaskedDense(2, trials=2, t_steps=3, use_bias=True, bias_initializer="random_normal",
                        smoothness_regularizer=dsr.AdjacentSmoothness(0.5))
    layer.build((None, 4))
    return layer


def test_each_trial_and_step_has_its_own_weights(both):
    w, b = both.kernel.numpy(), both.bias.numpy()
    assert w.shape == (2, 3, 4, 2) and b.shape == (2, 3, 2)
    x_steps = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
    out = both(x_steps).numpy()  # one batch per step, shared by the trials
    assert out.shape == (2, 3, 5, 2) == both.compute_output_shape(x_steps.shape)
    for k in range(2):
        for j in range(3):
            np.testing.assert_allclose(out[k, j], x_steps[j] @ w[k, j] + b[k, j], rtol=1e-5, atol=1e-6)
    x = x_steps[0]
    shared = both(x).numpy()  # one batch for every set
    np.testing.assert_allclose(shared[1, 2], x @ w[1, 2] + b[1, 2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="weight axes"):
        both(np.zeros((2, 5, 4), "float32"))  # a trials-only batch is ambiguous here


def test_smoothness_is_adjacent_steps_within_each_trial(both):
    w = both.kernel.numpy()
    expected = 0.5 * sum(np.sum((w[k, j + 1] - w[k, j]) ** 2) for k in range(2) for j in range(2))
    parts = both.penalty_parts()
    assert set(parts) == {"smoothness"}
    np.testing.assert_allclose(float(parts["smoothness"]), expected, rtol=1e-5)
    # Never couples trials: its gradient on trial 0 ignores trial 1's weights.
    with tf.GradientTape() as tape:
        p = both.penalty()
    g = tape.gradient(p, both.kernel).numpy()
    both.kernel.assign(tf.tensor_scatter_nd_update(both.kernel, [[1]], [w[1] * 10]))
    with tf.GradientTape() as tape:
        p = both.penalty()
    np.testing.assert_allclose(tape.gradient(p, both.kernel).numpy()[0], g[0], rtol=1e-6)
    # Equal steps cost nothing.
    both.kernel.assign(np.broadcast_to(w[:, :1], w.shape))
    assert float(both.penalty()) == 0.0


def test_smoothness_needs_steps_and_an_axis():
    with pytest.raises(ValueError, match="smoothness_regularizer.*t_steps"):
        MaskedDense(2, trials=3, smoothness_regularizer=dsr.AdjacentSmoothness(1.0))
    with pytest.raises(ValueError, match="no such axis"):
        dsr.AdjacentSmoothness(1.0)(tf.ones((4,)))
    assert dsr.AdjacentSmoothness.strength_name == "smoothness"


def test_gates_and_smoothness_add_up():
    layer = HardConcreteDense(3, t_steps=4, share_gates=True, gate_regularizer=dsr.ExpectedL0(0.1),
                              smoothness_regularizer=dsr.AdjacentSmoothness(2.0), seed=0)
    layer.build((None, 2))
    parts = layer.penalty_parts()
    assert set(parts) == {"gates", "smoothness"}
    np.testing.assert_allclose(float(layer.penalty()), float(parts["gates"] + parts["smoothness"]),
                               rtol=1e-6)


def test_eql_layer_reads_one_set_by_trial_and_step():
    import sympy

    layer = EqlLayer(["identity", "square"], trials=2, t_steps=3, skip=True)
    x = np.random.default_rng(1).normal(size=(3, 6, 2)).astype("float32")
    out = layer(x).numpy()
    assert out.shape == (2, 3, 6, 4)  # 2 primitives + 2 skipped inputs
    a, b = sympy.symbols("a b")
    exprs = layer.to_sympy([a, b], trial=1, step=2)
    f = sympy.lambdify((a, b), exprs)
    got = np.array([f(*row) for row in x[2]], dtype="float64")
    np.testing.assert_allclose(out[1, 2], got, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="argument `step`"):
        layer.to_sympy([a, b], trial=1)
    with pytest.raises(ValueError, match="argument `trial`.*\\[0, 2\\)"):
        layer.to_sympy([a, b], trial=5, step=0)


def test_config_and_keras_file_keep_the_axes(both, tmp_path):
    clone = MaskedDense.from_config(both.get_config())
    assert (clone.trials, clone.t_steps) == (2, 3)
    assert isinstance(clone.smoothness_regularizer, dsr.AdjacentSmoothness)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, both(inputs))
    path = tmp_path / "axes.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.ones((5, 4), "float32")
    np.testing.assert_array_equal(loaded(x), model(x))
