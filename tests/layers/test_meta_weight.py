"""MetaWeightDense: W(t) from a meta-weight MLP, t-independent hard-concrete gates (PEQL)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import deepsymreg as dsr
from deepsymreg import EqlLayer, MetaWeightDense
from layer_checks import config_round_trip, one_training_step, save_and_load

IN, UNITS = 3, 2


def _built(units=UNITS, in_dim=IN, **kwargs):
    kwargs.setdefault("hidden", (8, 8))
    kwargs.setdefault("seed", 0)
    layer = MetaWeightDense(units, **kwargs)
    layer.build((None, in_dim))
    return layer


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _affine(layer, a, b):
    """Make a ``hidden=()`` layer's weights ``W(t) = a * tau + b`` (tau: normalized t)."""
    kernel, bias = layer.mlp_weights
    kernel.assign(np.reshape(a, kernel.shape))
    bias.assign(np.reshape(b, bias.shape))


@pytest.fixture
def x(rng):
    return rng.uniform(-1, 1, (5, IN)).astype("float32")


@pytest.fixture
def t(rng):
    return rng.uniform(-1, 1, (5, 1)).astype("float32")


# -- shapes and maths --------------------------------------------------------------
@pytest.mark.parametrize("trials", [None, 2])
@pytest.mark.parametrize("use_bias", [False, True])
def test_sample_layout_applies_each_samples_own_matrix(trials, use_bias, x, t):
    layer = _built(trials=trials, use_bias=use_bias)
    layer.log_alpha.assign(np.random.default_rng(1).normal(0, 2, layer.log_alpha.shape))
    out = _np(layer(x, context=t))
    lead = (trials,) if trials else ()
    assert out.shape == (*lead, 5, UNITS) == layer.compute_output_shape(x.shape, t.shape)
    for i in range(5):
        w, b = layer.kernel_at(float(t[i, 0]))
        assert w.shape == (*lead, IN, UNITS)
        expected = np.einsum("i,...io->...o", x[i], w) + (0 if b is None else b)
        np.testing.assert_allclose(out[..., i, :], expected, rtol=1e-5, atol=1e-6)
    if trials:  # inputs with the trial axis give each trial its own batch
        stacked = np.stack([x, 2 * x])
        np.testing.assert_allclose(_np(layer(stacked, context=t))[0], out[0], rtol=1e-6)
        if not use_bias:
            np.testing.assert_allclose(_np(layer(stacked, context=t))[1], 2 * out[1], rtol=1e-5)


@pytest.mark.parametrize("trials", [None, 2])
def test_step_layout_agrees_with_sample_layout(trials, rng):
    layer = _built(trials=trials, use_bias=True)
    n, batch = 3, 4
    xs = rng.uniform(-1, 1, (n, batch, IN)).astype("float32")
    ts = np.array([-0.7, 0.1, 0.9], "float32")
    per_step = _np(layer(xs, context=ts[:, None, None]))
    lead = (trials,) if trials else ()
    assert per_step.shape == (*lead, n, batch, UNITS)
    assert per_step.shape == layer.compute_output_shape(xs.shape, (n, 1, 1))
    per_sample = _np(layer(xs.reshape(n * batch, IN), context=np.repeat(ts, batch)[:, None]))
    np.testing.assert_allclose(per_step, per_sample.reshape(per_step.shape), rtol=1e-5, atol=1e-6)
    w, b = layer.kernel_for(ts[:, None, None])
    assert w.shape == (*lead, n, IN, UNITS) and b.shape == (*lead, n, UNITS)


def test_kernel_depends_on_t_but_gates_do_not(rng):
    layer = _built()
    log_alpha = rng.normal(0, 2, (IN, UNITS)).astype("float32")
    log_alpha[0, 1] = -10.0  # a closed gate
    layer.log_alpha.assign(log_alpha)
    ts = np.linspace(-1, 1, 6, dtype="float32")[:, None]
    gated, _ = layer.kernel_for(ts)
    raw, _ = layer._weights_at(ts)
    gates = _np(layer.deterministic_gates())
    assert gates.shape == (IN, UNITS) and gates[0, 1] == 0.0
    np.testing.assert_allclose(_np(gated), _np(raw) * gates, rtol=1e-6)  # one gate set for all t
    assert np.all(_np(gated)[:, 0, 1] == 0.0)
    assert np.ptp(_np(raw), axis=0).max() > 1e-4  # the kernel does vary with t


def test_at_init_w_is_a_nearly_constant_draw_of_the_kernel_initializer():
    layer = _built(units=20, in_dim=20, hidden=(64, 64, 256), drop_rate=0.01, seed=3)
    raw = _np(layer._weights_at(layer._reference_t())[0])
    spread = raw.mean(axis=0)
    # TruncatedNormal(stddev=0.5) (cut at 2 sd) has sd 0.44.
    assert abs(spread.mean()) < 0.05 and 0.38 < spread.std() < 0.50
    assert raw.std(axis=0).mean() < 0.1 * spread.std()
    const = _built(kernel_initializer=keras.initializers.Constant(0.7), trials=2)
    np.testing.assert_allclose(_np(const._weights_at(np.zeros((1, 1)))[0]), 0.7, rtol=1e-6)
    assert np.abs(_np(const._weights_at(const._reference_t())[0]) - 0.7).mean() < 0.1


def test_t_is_normalized_over_t_range():
    unit = _built(seed=4)
    shifted = _built(seed=4, t_range=(300.0, 400.0))
    for t_unit, t_shifted in [(-1.0, 300.0), (0.0, 350.0), (0.5, 375.0)]:
        np.testing.assert_allclose(shifted.kernel_at(t_shifted)[0], unit.kernel_at(t_unit)[0],
                                   rtol=1e-5, atol=1e-6)


def test_affine_meta_weights_by_hand():
    layer = _built(hidden=(), t_range=(0.0, 4.0), drop_rate=1e-3)
    layer.log_alpha.assign(np.full((IN, UNITS), 20.0))  # open gates: z = 1
    a, b = np.arange(6.0).reshape(1, 6), -np.arange(6.0)
    _affine(layer, a, b)
    # t = 3 -> tau = 0.5
    np.testing.assert_allclose(layer.kernel_at(3.0)[0], (0.5 * a + b).reshape(IN, UNITS), rtol=1e-6)


# -- trials ------------------------------------------------------------------------
def test_trials_are_independent(x, t):
    layer = _built(trials=2, use_bias=True,
                   kernel_regularizer=dsr.L1(0.1), gate_regularizer=dsr.ExpectedL0(0.1))
    trainable = layer.trainable_weights
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, context=t, training=True)[0] ** 2) + tf.add_n(layer.losses)
    grads = tape.gradient(loss, trainable)
    for w, g in zip(trainable, grads):
        # The penalties are per trial too, so only trial 1's own penalty reaches it.
        assert np.any(_np(g)[0] != 0), w.path
    with tf.GradientTape() as tape:
        out0 = tf.reduce_sum(layer(x, context=t, training=True)[0] ** 2)
    for w, g in zip(trainable, tape.gradient(out0, trainable)):
        assert np.all(_np(g)[1] == 0), w.path
    assert not np.allclose(_np(layer.mlp_weights[0])[0], _np(layer.mlp_weights[0])[1])


def test_initialize_entry_draws_the_untrialled_layer_of_that_seed():
    layer = _built(trials=3, use_bias=True)
    before = [_np(w) for w in layer.mlp_weights]
    layer.log_alpha.assign(np.full(layer.log_alpha.shape, 2.0))
    layer.initialize_entry(index=1, seed=7)
    single = _built(use_bias=True, seed=7)
    for w, old, ref in zip(layer.mlp_weights, before, single.mlp_weights):
        np.testing.assert_array_equal(_np(w)[1], _np(ref))
        np.testing.assert_array_equal(_np(w)[[0, 2]], old[[0, 2]])
    np.testing.assert_allclose(_np(layer.log_alpha)[1], 0.0)  # drop_rate 0.5 -> location 0
    np.testing.assert_array_equal(_np(layer.log_alpha)[[0, 2]], 2.0)
    assert list(_np(layer.noise_seeds)) == [0, 7, 2]
    # Built with seed s, trial k is what initialize_entry(k, s + k) draws.
    np.testing.assert_array_equal(_np(layer.mlp_weights[0])[2], _np(_built(seed=2).mlp_weights[0]))
    with pytest.raises(ValueError, match="argument `index`"):
        layer.initialize_entry(index=3, seed=1)
    with pytest.raises(ValueError, match="argument `index`"):
        _built().initialize_entry(index=0, seed=1)


# -- gates -------------------------------------------------------------------------
def test_training_samples_gates_inference_is_deterministic(x, t):
    for trials in (None, 2):
        layer = _built(trials=trials, drop_rate=0.5)
        np.testing.assert_array_equal(layer(x, context=t), layer(x, context=t))
        np.testing.assert_array_equal(layer(x, context=t, training=False), layer(x, context=t))
        draws = [_np(layer.kernel_for(t, training=True)[0]) for _ in range(40)]
        assert not np.array_equal(draws[0], draws[1])
        closed = np.mean([np.all(d == 0, axis=-3) for d in draws])  # a gate closes for every t
        p_closed = 1 - _np(layer.open_probabilities()).mean()  # ~0.17 at drop_rate 0.5
        assert abs(closed - p_closed) < 0.1
        assert not np.array_equal(layer(x, context=t, training=True), layer(x, context=t, training=True))


def test_threshold_closes_weak_gates_for_every_t_and_freezes():
    layer = _built(hidden=(), drop_rate=1e-3, gate_regularizer=dsr.ExpectedL0(0.1))
    layer.log_alpha.assign(np.full((IN, UNITS), 20.0))
    a = np.zeros((1, IN * UNITS), "float32")
    b = np.full(IN * UNITS, 0.5, "float32")
    a[0, 0], b[0] = 0.5, 0.0  # |W| = 0.5 |tau|: weak near tau = 0 only -> stays open
    b[3] = 1e-3  # weak at every t -> closes
    _affine(layer, a, b)
    assert layer.threshold(0.01) == IN * UNITS - 1
    mask = _np(layer.mask)
    assert mask.reshape(-1)[3] == 0 and mask.reshape(-1)[0] == 1
    assert float(layer.gates_fixed) == 1.0 and float(layer.penalty()) == 0.0
    x1, t1 = np.ones((4, IN), "float32"), np.zeros((4, 1), "float32")
    np.testing.assert_array_equal(layer(x1, context=t1, training=True), layer(x1, context=t1))
    assert np.all(_np(layer.kernel_for(np.full((3, 1), 0.4, "float32"), training=True)[0])[:, 1, 1] == 0)
    layer.reset_entry()
    assert float(layer.gates_fixed) == 0.0 and np.all(_np(layer.mask) == 1)


def test_penalty_parts():
    layer = _built(trials=2, kernel_regularizer=dsr.ExpectedL0(0.3))  # taken as the gates' penalty
    assert layer.gate_regularizer is not None and layer.kernel_regularizer is None
    log_alpha = np.random.default_rng(2).normal(0, 2, (2, IN, UNITS)).astype("float32")
    layer.log_alpha.assign(log_alpha)
    open_p = 1 / (1 + np.exp(-(log_alpha - 2 / 3 * math.log(0.1 / 1.1))))
    np.testing.assert_allclose(float(layer.penalty_parts()["gates"]), 0.3 * open_p.sum(), rtol=1e-5)
    weighted = _built(kernel_regularizer=dsr.L1(0.2), gate_regularizer=dsr.ExpectedL0(0.1))
    parts = weighted.penalty_parts()
    assert sorted(parts) == ["gates", "weights"]
    np.testing.assert_allclose(
        float(parts["weights"]), 0.2 * np.abs(_np(weighted.effective_kernel)).sum(), rtol=1e-5
    )
    assert weighted.effective_kernel.shape == (16, IN, UNITS)
    weighted(np.ones((2, IN), "float32"), context=np.zeros((2, 1), "float32"))
    np.testing.assert_allclose(float(weighted.losses[0]), float(weighted.penalty()), rtol=1e-6)


# -- Keras contract ----------------------------------------------------------------
def test_config_round_trip():
    layer = MetaWeightDense(
        4, trials=2, hidden=[8, 16], activation="tanh", t_range=(0, 5), use_bias=True,
        kernel_regularizer=dsr.L1(0.1), gate_regularizer=dsr.ExpectedL0(0.2), drop_rate=0.3,
        seed=5, name="meta",
    )
    clone = config_round_trip(layer)
    config = layer.get_config()
    assert config["hidden"] == [8, 16] and config["t_range"] == [0.0, 5.0]
    assert config["activation"] == "tanh" and "t_steps" not in config
    assert clone.hidden == (8, 16) and clone.activation is keras.activations.tanh


def _functional():
    x_in, t_in = keras.Input((IN,), name="x"), keras.Input((1,), name="t")
    meta = MetaWeightDense(UNITS, hidden=(8,), use_bias=True, t_range=(0, 10),
                           gate_regularizer=dsr.ExpectedL0(0.01), seed=1)
    return keras.Model([x_in, t_in], meta(x_in, context=t_in))


def test_keras_file_functional_two_inputs(x, tmp_path):
    model = _functional()
    t = np.linspace(0, 10, 5, dtype="float32")[:, None]
    model.layers[-1].threshold(0.2)
    loaded = save_and_load(model, [x, t], tmp_path)
    assert float(loaded.layers[-1].gates_fixed) == 1.0


def test_one_training_step_in_fit(x):
    t = np.linspace(0, 10, 5, dtype="float32")[:, None]
    one_training_step(_functional(), [x, t], np.ones((5, UNITS), "float32"))


@keras.saving.register_keras_serializable(package="test_meta_weight")
class _TwoInput(keras.Model):
    def __init__(self, units=UNITS, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.meta = MetaWeightDense(units, trials=2, hidden=(8,), use_bias=True, seed=2)

    def build(self, input_shape):
        self.meta.build(input_shape[0])

    def call(self, inputs, training=None):
        x, t = inputs
        return self.meta(x, context=t, training=training)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_keras_file_subclassed_model_with_trials(x, t, tmp_path):
    model = _TwoInput()
    model([x, t])
    save_and_load(model, [x, t], tmp_path)


def test_gradients_finite_under_xla(x, t):
    layer = _built(trials=2, use_bias=True, kernel_regularizer=dsr.SmoothL05(0.1),
                   gate_regularizer=dsr.ExpectedL0(0.1))
    layer.log_alpha.assign(np.full(layer.log_alpha.shape, -30.0))  # saturated gates
    t = t.copy()
    t[0] = 1e6  # far outside t_range

    @tf.function(jit_compile=True)
    def grads(x, t):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x, context=t, training=True) ** 2) + tf.add_n(layer.losses)
        return loss, tape.gradient(loss, layer.trainable_weights)

    loss, gs = grads(x, t)
    assert np.isfinite(float(loss))
    for w, g in zip(layer.trainable_weights, gs):
        assert np.all(np.isfinite(_np(g))), w.path


# -- errors ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, argument", [
    ({"t_range": (1.0, 1.0)}, "t_range"),
    ({"t_range": (2.0, 1.0)}, "t_range"),
    ({"t_range": (0.0, float("inf"))}, "t_range"),
    ({"t_range": (0.0,)}, "t_range"),
    ({"t_range": "ab"}, "t_range"),
    ({"hidden": (8, 0)}, "hidden"),
    ({"hidden": 64}, "hidden"),
    ({"hidden": (2.5,)}, "hidden"),
    ({"activation": "nope"}, "activation"),
    ({"t_steps": 4}, "t_steps"),
    ({"smoothness_regularizer": dsr.AdjacentSmoothness(0.1)}, "smoothness_regularizer"),
    ({"gate_regularizer": dsr.L1(0.1)}, "gate_regularizer"),
    ({"kernel_regularizer": dsr.ExpectedL0(0.1), "gate_regularizer": dsr.ExpectedL0(0.1)},
     "kernel_regularizer"),
    ({"drop_rate": 1.0}, "drop_rate"),
    ({"seed": -1}, "seed"),
    ({"trials": 0}, "trials"),
])
def test_bad_arguments_are_value_errors_naming_them(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`") as info:
        MetaWeightDense(2, **kwargs)
    assert f"{argument}={kwargs[argument]!r}" in str(info.value)  # echoes the value


def test_t_steps_message_says_t_is_continuous():
    with pytest.raises(ValueError, match="continuous t"):
        MetaWeightDense(2, t_steps=4)


def test_bad_calls_are_value_errors(x, t):
    layer = _built()
    with pytest.raises(ValueError, match="needs the parameter t as `context`"):
        layer(x)
    for bad in (t[:, 0], np.ones((5, 2), "float32"), np.ones((5, 1, 2), "float32")):
        with pytest.raises(ValueError, match="argument `context`"):
            layer(x, context=bad)
    with pytest.raises(ValueError, match=r"batch = 4"):
        layer(x, context=t[:4])
    with pytest.raises(ValueError, match="inputs of shape"):
        layer(x[None], context=t)  # (1, batch, in): no trials axis here
    for value in (np.nan, np.inf):
        bad = t.copy()
        bad[2] = value
        with pytest.raises(ValueError, match="finite"):
            layer(x, context=bad)
    with pytest.raises(ValueError, match="argument `t`"):
        layer.kernel_at(float("nan"))


# -- inside an EQL layer, and learning ----------------------------------------------
def test_eql_layer_with_meta_kind(x, rng):
    layer = EqlLayer(["identity", "sin", "product"], linear="meta",
                     linear_options={"t_range": [-3, 3], "hidden": [8]},
                     kernel_regularizer=dsr.ExpectedL0(0.1), seed=1)
    t = rng.uniform(-3, 3, (5, 1)).astype("float32")
    out = layer(x, context=t)
    assert isinstance(layer.linear, MetaWeightDense) and layer.linear.t_range == (-3.0, 3.0)
    assert out.shape == (5, 3) and len(layer.losses) == 1  # the gates' expected L0
    with pytest.raises(ValueError, match="continuous t"):
        EqlLayer(["identity"], linear="meta", t_steps=3)


def test_learns_y_equals_t_times_x(rng):
    layer = MetaWeightDense(1, hidden=(16, 16), t_range=(-2, 2), drop_rate=0.01, seed=0)
    n, batch = 8, 32
    ts = np.linspace(-2, 2, n, dtype="float32")[:, None, None]
    xs = rng.uniform(-1, 1, (n, batch, 1)).astype("float32")
    ys = ts * xs
    layer(xs, context=ts)
    optimizer = keras.optimizers.Adam(0.01)

    def mse():
        return float(tf.reduce_mean((layer(xs, context=ts) - ys) ** 2))

    @tf.function
    def steps(count):
        for _ in tf.range(count):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((layer(xs, context=ts, training=True) - ys) ** 2)
            weights = layer.trainable_weights
            optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))

    before = mse()
    steps(tf.constant(300))
    assert mse() < before / 10
