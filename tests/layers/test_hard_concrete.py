"""HardConcreteDense: gate maths, sampling statistics, gradients, saving, sparsity."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import deepsymreg as dsr
from deepsymreg.data import repeated
from deepsymreg.layers import HardConcreteDense

BETA, GAMMA, ZETA = 2 / 3, -0.1, 1.1


def _built(units=3, in_dim=4, **kwargs):
    layer = HardConcreteDense(units, **kwargs)
    layer.build((None, in_dim))
    return layer


def test_penalty_equals_formula():
    layer = _built(kernel_regularizer=dsr.ExpectedL0(reg_lambda=0.3))
    log_alpha = np.random.default_rng(0).normal(0, 2, (4, 3)).astype("float32")
    layer.log_alpha.assign(log_alpha)
    expected = np.sum(1 / (1 + np.exp(-(log_alpha - BETA * math.log(-GAMMA / ZETA)))))
    np.testing.assert_allclose(float(layer.expected_l0()), expected, rtol=1e-5)
    layer(np.ones((2, 4), "float32"))
    np.testing.assert_allclose(float(layer.losses[0]), 0.3 * expected, rtol=1e-5)


def test_deterministic_gate_formula_and_exact_zeros():
    layer = _built()
    log_alpha = np.array([[-10.0, -1.0, 0.0], [1.0, 3.0, 10.0]] * 2, "float32")
    layer.log_alpha.assign(log_alpha)
    s = 1 / (1 + np.exp(-log_alpha))
    expected = np.clip(s * (ZETA - GAMMA) + GAMMA, 0, 1)
    got = layer.deterministic_gates().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert got[0, 0] == 0.0 and got[1, 2] == 1.0  # saturated gates are exactly 0 / 1


def test_sampled_gates_match_analytic_statistics():
    layer = _built(units=2, in_dim=1, seed=3)
    layer.log_alpha.assign(np.array([[-1.0, 1.5]], "float32"))
    draws = np.stack([layer.sample_gates().numpy()[0] for _ in range(4000)])
    # P(z != 0) is exactly the L0 penalty's summand.
    np.testing.assert_allclose(
        (draws > 0).mean(axis=0), layer.open_probabilities().numpy()[0], atol=0.03
    )
    # E[z] by inverse-CDF quadrature of the hard-concrete distribution.
    u = (np.arange(200000) + 0.5) / 200000
    for j, la in enumerate([-1.0, 1.5]):
        s = 1 / (1 + np.exp(-(np.log(u) - np.log(1 - u) + la) / BETA))
        mean = np.clip(s * (ZETA - GAMMA) + GAMMA, 0, 1).mean()
        assert abs(draws[:, j].mean() - mean) < 0.03


def test_gradients_reach_kernel_and_log_alpha():
    layer = _built(kernel_regularizer=dsr.ExpectedL0(1e-2), seed=0)
    x = tf.random.normal((8, 4), seed=1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True) ** 2) + tf.add_n(layer.losses)
    g_kernel, g_alpha = tape.gradient(loss, [layer.kernel, layer.log_alpha])
    assert np.any(g_kernel.numpy() != 0) and np.any(g_alpha.numpy() != 0)
    assert np.all(np.isfinite(g_alpha.numpy()))


def test_inference_is_deterministic_training_is_not():
    layer = _built(seed=0)
    x = tf.ones((2, 4))
    np.testing.assert_array_equal(layer(x, training=False), layer(x, training=False))
    np.testing.assert_array_equal(layer(x), layer(x))  # training=None is inference
    assert not np.array_equal(layer(x, training=True), layer(x, training=True))


def test_shared_gates_over_steps_never_over_trials():
    layer = _built(t_steps=5, share_gates=True)
    assert tuple(layer.kernel.shape) == (5, 4, 3)
    assert tuple(layer.log_alpha.shape) == (4, 3)
    assert tuple(layer(tf.ones((7, 4))).shape) == (5, 7, 3)
    both = _built(trials=2, t_steps=5, share_gates=True)
    assert tuple(both.kernel.shape) == (2, 5, 4, 3)
    assert tuple(both.log_alpha.shape) == (2, 4, 3)  # one gate set per trial
    assert tuple(both(tf.ones((7, 4))).shape) == (2, 5, 7, 3)
    assert tuple(both(tf.ones((5, 7, 4))).shape) == (2, 5, 7, 3)  # a batch per step
    own = _built(trials=5)
    assert tuple(own.log_alpha.shape) == (5, 4, 3)
    with pytest.raises(ValueError, match="share_gates.*t_steps"):
        HardConcreteDense(3, trials=5, share_gates=True)


def test_config_saved_with_one_stack_axis_is_read_with_roles():
    shared = HardConcreteDense.from_config({"units": 3, "n_stack": 4, "share_gates": True})
    assert (shared.trials, shared.t_steps) == (None, 4)
    own = HardConcreteDense.from_config({"units": 3, "n_stack": 4})
    assert (own.trials, own.t_steps) == (4, None)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"units": 0}, "units"), ({"units": 2, "beta": 0.0}, "beta"),
     ({"units": 2, "gamma": 0.1}, "gamma"), ({"units": 2, "drop_rate": 1.0}, "drop_rate")],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        HardConcreteDense(**kwargs)


def test_keras_round_trip(tmp_path):
    inputs = keras.Input((4,))
    outputs = HardConcreteDense(3, kernel_regularizer=dsr.ExpectedL0(0.1), seed=1)(inputs)
    model = keras.Model(inputs, outputs)
    model.layers[1].log_alpha.assign(np.linspace(-3, 3, 12).reshape(4, 3).astype("float32"))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    path = tmp_path / "hc.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.layers[1].gate_regularizer, dsr.ExpectedL0)


def test_trained_gates_are_exactly_closed_where_unused():
    # y = 2 x0: the gates of x1 and x2 must close (exactly 0), the gate of x0 stay open.
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 3)).astype("float32")
    y = 2 * x[:, :1]
    inputs = keras.Input((3,))
    layer = HardConcreteDense(1, kernel_regularizer=dsr.ExpectedL0(0.05), seed=0,
                              kernel_initializer=keras.initializers.Constant(0.5))
    model = keras.Model(inputs, layer(inputs))
    model.compile(keras.optimizers.Adam(0.05), loss="mse")
    full_batch = repeated((x, y))  # 600 steps in one epoch
    model.fit(full_batch, epochs=1, steps_per_epoch=600, shuffle=False, verbose=0)
    gates = layer.deterministic_gates().numpy()[:, 0]
    assert gates[0] > 0.9
    assert gates[1] == 0.0 and gates[2] == 0.0
    np.testing.assert_allclose(layer.effective_kernel.numpy()[0, 0], 2.0, rtol=0.05)


def _fixed_layer(alpha, **kwargs):
    layer = _built(kernel_regularizer=dsr.ExpectedL0(0.1), seed=0, **kwargs)
    layer.kernel.assign(np.broadcast_to(np.float32([0.5, 0.005, -1.0]), layer.kernel.shape))
    layer.log_alpha.assign(np.broadcast_to(np.float32([-10.0, 2.0, 0.3]), layer.log_alpha.shape))
    before = layer.deterministic_gates().numpy()
    kept = layer.threshold(alpha)
    return layer, before, kept


def test_threshold_fixes_gates_at_their_deterministic_values():
    layer, before, kept = _fixed_layer(alpha=0.0)
    assert before[0, 0] == 0.0 and 0 < before[0, 2] < 1
    np.testing.assert_array_equal(layer.mask.numpy(), before)
    assert kept == 8  # two open gates in each of the 4 rows
    x = tf.random.normal((6, 4), seed=2)
    # No more gate noise and no penalty, in training too.
    a, b = layer(x, training=True), layer(x, training=True)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, x.numpy() @ (layer.kernel.numpy() * before), rtol=1e-5, atol=1e-6)
    assert float(layer.losses[-1]) == 0.0


def test_threshold_closes_small_effective_weights_and_keeps_them_closed():
    layer, before, kept = _fixed_layer(alpha=0.01)
    # |0.005 * gate| < 0.01: the middle column closes too.
    assert np.all(layer.mask.numpy()[:, 1] == 0) and kept == 4
    x = tf.random.normal((6, 4), seed=3)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True) ** 2)
    g_kernel, g_alpha = tape.gradient(loss, [layer.kernel, layer.log_alpha])
    g = g_kernel.numpy()
    assert np.all(g[:, :2] == 0) and np.all(g[:, 2] != 0)  # closed gates get no gradient
    assert g_alpha is None or not np.any(g_alpha.numpy())  # the gates no longer learn


def test_threshold_takes_effect_inside_a_compiled_step():
    layer = _built(seed=0)
    step = tf.function(lambda t: layer(t, training=True))
    x = tf.ones((2, 4))
    assert not np.array_equal(step(x), step(x))  # traced while sampling
    layer.threshold(0.0)
    np.testing.assert_array_equal(step(x), step(x))


def test_threshold_rejects_negative_alpha():
    layer = _built()
    with pytest.raises(ValueError, match="alpha"):
        layer.threshold(-1.0)


def test_reinitializing_frees_fixed_gates_and_fixed_gates_survive_saving(tmp_path):
    layer, before, _ = _fixed_layer(alpha=0.01, trials=2)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    path = tmp_path / "fixed.keras"
    model.save(path)
    loaded = keras.models.load_model(path).layers[1]
    np.testing.assert_array_equal(loaded.mask.numpy(), layer.mask.numpy())
    assert float(loaded.gates_fixed.numpy()) == 1.0
    np.testing.assert_array_equal(loaded(x, training=True), layer(x, training=True))
    # Re-drawing one entry gives it fresh (open) fixed gates; the other keeps its own.
    layer.initialize_entry(index=1, seed=3)
    assert np.all(layer.mask.numpy()[1] > 0)
    np.testing.assert_array_equal(layer.mask.numpy()[0], loaded.mask.numpy()[0])
    layer.initialize_entry(seed=3)
    assert float(layer.gates_fixed.numpy()) == 0.0
    assert not np.array_equal(layer(x, training=True), layer(x, training=True))


def _shared(t_steps=3, in_dim=4, units=3, trials=None):
    layer = HardConcreteDense(units, trials=trials, t_steps=t_steps, share_gates=True, seed=0)
    layer.build((None, in_dim))
    return layer


def test_threshold_keeps_shared_gates_shared():
    layer = _shared()
    layer.log_alpha.assign(np.full((4, 3), 3.0, "float32"))  # every gate open
    kernel = np.full((3, 4, 3), 0.5, "float32")
    kernel[0, 0, 0] = 1e-4  # weak at step 0 only: the shared gate must stay open
    kernel[:, 1, 2] = 1e-4  # weak at every step: the shared gate closes everywhere
    layer.kernel.assign(kernel)
    layer.threshold(0.01)
    assert layer.mask.shape == (4, 3)  # one entry per shared gate
    mask = layer.deterministic_gates().numpy()  # the fixed gates at every step
    for k in (1, 2):
        np.testing.assert_array_equal(mask[k], mask[0])
    assert mask[0, 0, 0] > 0 and mask[0, 1, 2] == 0


def test_threshold_decides_shared_gates_per_trial():
    layer = _shared(trials=2)
    layer.log_alpha.assign(np.full((2, 4, 3), 3.0, "float32"))
    kernel = np.full((2, 3, 4, 3), 0.5, "float32")
    kernel[1, :, 1, 2] = 1e-4  # weak at every step of trial 1 only
    layer.kernel.assign(kernel)
    layer.threshold(0.01)
    mask = layer.deterministic_gates().numpy()
    assert np.all(mask[0] > 0) and np.all(mask[1, :, 1, 2] == 0)
    assert np.count_nonzero(mask[1] == 0) == 3


def test_initializing_one_trial_resets_only_its_shared_gates():
    layer = _shared(trials=2)
    log_alpha = np.random.default_rng(1).normal(0, 2, (2, 4, 3)).astype("float32")
    layer.log_alpha.assign(log_alpha)
    layer.initialize_entry(index=1, seed=5)
    got = layer.log_alpha.numpy()
    np.testing.assert_array_equal(got[0], log_alpha[0])
    np.testing.assert_allclose(got[1], 0.0)  # drop_rate 0.5 -> location 0
    layer.threshold(0.0)
    fixed = layer.mask.numpy()
    layer.initialize_entry(index=1, seed=6)  # after fixing: trial 0 keeps its structure
    mask = layer.mask.numpy()
    np.testing.assert_array_equal(mask[0], fixed[0])
    for step in (1, 2):  # the fresh trial's gates are still one set for all steps
        np.testing.assert_array_equal(mask[1, step], mask[1, 0])
    assert float(layer.gates_fixed.numpy()) == 1.0


def test_index_needs_a_trials_axis():
    layer = _shared()
    with pytest.raises(ValueError, match="argument `index`"):
        layer.initialize_entry(index=0, seed=1)


def test_own_gates_reset_only_for_their_entry():
    layer = HardConcreteDense(3, trials=3, seed=0)
    layer.build((None, 4))
    log_alpha = np.random.default_rng(2).normal(0, 2, (3, 4, 3)).astype("float32")
    layer.log_alpha.assign(log_alpha)
    layer.initialize_entry(index=1, seed=5)
    got = layer.log_alpha.numpy()
    np.testing.assert_array_equal(got[[0, 2]], log_alpha[[0, 2]])
    np.testing.assert_allclose(got[1], np.log(0.5 / 0.5))  # drop_rate 0.5 -> location 0


def test_penalty_adds_gate_and_weight_parts():
    layer = HardConcreteDense(3, gate_regularizer=dsr.ExpectedL0(0.3),
                              kernel_regularizer=dsr.L1(0.2), seed=0)
    layer.build((None, 4))
    parts = layer.penalty_parts()
    assert set(parts) == {"gates", "weights"}
    np.testing.assert_allclose(float(parts["gates"]), 0.3 * float(layer.expected_l0()), rtol=1e-6)
    np.testing.assert_allclose(
        float(parts["weights"]), 0.2 * np.abs(layer.effective_kernel.numpy()).sum(), rtol=1e-6
    )
    np.testing.assert_allclose(float(layer.penalty()), float(parts["gates"] + parts["weights"]),
                               rtol=1e-6)
    layer.threshold(0.0)
    assert float(layer.penalty()) == 0.0  # fixed gates: nothing left to penalize


def test_rejects_non_l0_gate_regularizer_and_l0_on_dense():
    with pytest.raises(ValueError, match="gate_regularizer"):
        HardConcreteDense(3, gate_regularizer=dsr.L1(0.1))
    with pytest.raises(ValueError, match="kernel_regularizer.*HardConcreteDense"):
        dsr.MaskedDense(3, kernel_regularizer=dsr.ExpectedL0(0.1))
    with pytest.raises(ValueError, match="kernel_regularizer.*HardConcreteDense"):
        dsr.EQL(regularizer="l0", linear="dense")
