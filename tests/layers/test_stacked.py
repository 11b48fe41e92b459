"""StackedDense and StackedEqlLayer: one weight set per t step, shared gates, smoothness."""

import keras
import numpy as np
import pytest
import sympy
import tensorflow as tf

from deepsymreg import regularizers
from deepsymreg.layers import EqlLayer, StackedDense, StackedEqlLayer
from tests.layer_checks import config_round_trip, save_and_load

GRID = np.linspace(-3, 3, 7).astype("float32")


def _dense(**kw):
    layer = StackedDense(3, t_steps=7, t_range=(-3, 3), **kw)
    layer.build((None, 2))
    return layer


def test_step_index_on_grid_and_errors_off_it():
    layer = _dense()
    np.testing.assert_array_equal(layer.step_index(tf.constant(GRID[:, None])).numpy().ravel(), np.arange(7))
    # Within 5% of the spacing (1.0) is on the grid.
    assert int(layer.step_index(tf.constant([[1.04]]))[0, 0]) == 4
    for bad in (0.5, 3.5, np.nan, np.inf):
        with pytest.raises(ValueError, match="context"):
            layer.step_index(tf.constant([[bad]], tf.float32))


def test_each_sample_uses_its_steps_matrix():
    layer = _dense()
    layer.kernel.assign(tf.random.normal(layer.kernel.shape, seed=1))
    x = np.random.default_rng(0).normal(size=(7, 2)).astype("float32")
    out = layer(x, context=GRID[:, None]).numpy()
    w = layer.effective_kernel.numpy()
    want = np.einsum("bi,bio->bo", x, w)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    # The per-step layout gives the same numbers.
    step = layer(x[:, None, :], context=GRID[:, None, None]).numpy()[:, 0]
    np.testing.assert_allclose(step, want, rtol=1e-5, atol=1e-6)


def test_steps_start_equal_and_gates_are_shared():
    layer = StackedDense(3, t_steps=5, trials=2, seed=0)
    layer.build((None, 2))
    w = layer.kernel.numpy()
    np.testing.assert_array_equal(w[:, 0], w[:, 4])  # every step starts from one draw
    assert not np.array_equal(w[0], w[1])  # trials differ
    assert layer.log_alpha.shape == (2, 2, 3)  # one gate per weight and trial, not per step


def test_smoothness_penalty_is_theta_times_adjacent_differences_per_trial():
    layer = StackedDense(1, t_steps=3, trials=2, smoothness=0.5)
    layer.build((None, 1))
    layer.kernel.assign(np.array([[0.0, 1.0, 3.0], [5.0, 5.0, 5.0]], "float32").reshape(2, 3, 1, 1))
    layer.gates_fixed.assign(1.0)  # gates fixed open: the effective kernel is the kernel
    assert float(layer.penalty_parts()["smoothness"]) == pytest.approx(0.5 * (1 + 4))
    # Trial 1 is flat, and no difference is taken across trials (5 - 3 would add 4).


def test_threshold_keeps_a_gate_strong_at_any_step():
    layer = _dense()
    w = np.zeros((7, 2, 3), "float32")
    w[3, 0, 0] = 1.0  # strong at one step only
    w[:, 1, 1] = 0.001  # weak everywhere
    layer.kernel.assign(w)
    layer.log_alpha.assign(tf.fill(layer.log_alpha.shape, 10.0))
    kept = layer.threshold(0.01)
    mask = layer.mask.numpy()
    assert mask.shape == (2, 3)  # one mask entry per shared gate
    assert mask[0, 0] > 0 and mask[1, 1] == 0
    assert kept == 7  # the one gate, counted per step weight


def test_kernel_at_reads_one_step_and_refuses_off_grid():
    layer = _dense(use_bias=True)
    layer.kernel.assign(np.arange(7 * 6, dtype="float32").reshape(7, 2, 3))
    layer.gates_fixed.assign(1.0)
    w, b = layer.kernel_at(GRID[2])
    np.testing.assert_array_equal(w, layer.kernel.numpy()[2])
    assert b.shape == (3,)
    with pytest.raises(ValueError, match="grid"):
        layer.kernel_at(0.3)
    with pytest.raises(ValueError, match="finite"):
        layer.kernel_at(float("inf"))


@pytest.mark.parametrize("kwargs, match", [
    ({"t_steps": 0}, "t_steps"),
    ({"t_steps": 1, "smoothness": 0.1}, "smoothness"),
    ({"t_range": (1, 1)}, "t_range"),
    ({"t_range": "ab"}, "t_range"),
    ({"smoothness": -1.0}, "smoothness"),
    ({"share_gates": False}, "share_gates"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StackedDense(2, **{"t_steps": 4, **kwargs})


def test_context_of_the_wrong_shape_or_missing():
    layer = _dense()
    with pytest.raises(ValueError, match="context"):
        layer(np.ones((4, 2), "float32"), context=np.zeros((4, 2), "float32"))
    with pytest.raises(ValueError, match="needs the parameter t"):
        layer(np.ones((4, 2), "float32"))


def test_stacked_eql_layer_reads_equations_at_t():
    layer = StackedEqlLayer(["identity", "product"], t_steps=7, t_range=(-3, 3), trials=2,
                            kernel_regularizer=regularizers.ExpectedL0(0.01), seed=0)
    x = np.ones((7, 2), "float32")
    assert layer(x, context=GRID[:, None]).shape == (2, 7, 2)
    a, b = sympy.symbols("a b")
    w, _ = layer.kernel_numpy(trial=1, t=GRID[5])
    exprs = layer.to_sympy([a, b], trial=1, t=GRID[5])
    assert exprs[0] == sympy.Float(w[0, 0]) * a + sympy.Float(w[1, 0]) * b
    with pytest.raises(ValueError, match="parameter"):
        layer.kernel_numpy(trial=1, step=5)
    with pytest.raises(ValueError, match="t"):
        EqlLayer(["identity"]).kernel_numpy(t=0.0)


def test_stacked_layer_config_and_keras_file(tmp_path):
    layer = StackedEqlLayer(["identity", "sin"], t_steps=7, t_range=(-3, 3), smoothness=0.2,
                            skip=True, name="seql")
    clone = config_round_trip(layer)
    assert clone.linear.t_steps == 7 and clone.linear.t_range == (-3.0, 3.0)
    x_in = keras.Input((2,))
    t_in = keras.Input((1,))
    out = StackedEqlLayer(["identity", "sin"], t_steps=7, t_range=(-3, 3), skip=True)(x_in, context=t_in)
    model = keras.Model([x_in, t_in], out)
    x = np.random.default_rng(1).normal(size=(7, 2)).astype("float32")
    loaded = save_and_load(model, [x, GRID[:, None]], tmp_path)
    assert loaded.layers[-1].linear.smoothness_regularizer is not None


def test_gradients_finite_under_xla():
    layer = StackedEqlLayer(["identity", "square", "product"], t_steps=7, t_range=(-3, 3), trials=2,
                            smoothness=0.1, kernel_regularizer=regularizers.ExpectedL0(0.01), seed=0)
    x = tf.constant(np.random.default_rng(2).normal(size=(7, 2)).astype("float32"))
    t = tf.constant(GRID[:, None])
    layer(x, context=t)

    @tf.function(jit_compile=True)
    def grads():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x, context=t, training=True) ** 2) + tf.add_n(layer.losses)
        return tape.gradient(loss, layer.trainable_variables)

    for g in grads():
        assert np.all(np.isfinite(g.numpy()))
