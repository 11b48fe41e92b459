"""The public API swept: config round trips, `.keras` files, training vs inference and
argument errors, for every public layer, model, regularizer, schedule, loss and callback.

The per-module tests (tests/layers/, tests/models/, test_regularizers.py,
test_schedules.py, test_callbacks.py, test_optimizers.py) already check most classes;
this file adds only what they leave out (the settings with weight axes, gates and
penalties, subclassed models, the recurrent and encoder classes, the Gumbel-max EQL's
layers and model, the errors of every constructor), and a guard that keeps every public class in these tables.
"""

import copy
import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf
from layer_checks import save_and_load

import deepsymreg as dsr
from deepsymreg import callbacks, layers, losses, models, optimizers, regularizers, schedules
from deepsymreg.callbacks import (HorizonCurriculum, MemeticRefit, NaNRecovery, OneCycle, Phase,
                                  PhasedSchedule, WeightThreshold)
from deepsymreg.layers import (
    EqlCell, EqlLayer, EqlNetwork, EqlRNN, FunctionNodes, GumbelConnection, HardConcreteDense,
    MaskedDense, MetaWeightDense, MlpCell, StackedDense, StackedEqlLayer, register_linear_kind,
)
from deepsymreg.layers import eql as eql_module
from deepsymreg.losses import HorizonMSE
from deepsymreg.models import EQL, DigitArithmetic, ParametricEQL, DigitEncoder, DynamicsEncoder, DynamicsModel, relu_mlp
from deepsymreg.models import GMEQL, GMEQLStages
from deepsymreg.optimizers import RMSprop
from deepsymreg.regularizers import L1, AdjacentSmoothness, ExpectedL0, Lq, SmoothL05, StrengthRegularizer
from deepsymreg.schedules import Constant, OneCycleRate, OneCycleStrength, Piecewise, SinSquaredRamp

_rng = np.random.default_rng(7)
X = _rng.uniform(-1, 1, (5, 3)).astype("float32")  # a batch of 5 points with 3 inputs
Z_STEP = _rng.normal(size=(4, 1)).astype("float32")  # one step's input of a cell
STATE = _rng.normal(size=(4, 2)).astype("float32")  # a cell's state (2 variables)
Z_SEQ = _rng.normal(size=(4, 5, 1)).astype("float32")  # 5 steps of input for a recurrent layer
SERIES = _rng.normal(size=(4, 12, 2)).astype("float32")  # input series of a dynamics encoder
T_GRID = np.linspace(-1, 1, 5).astype("float32")[:, None]  # one t per point of X, on a 5-step grid
XT = np.concatenate([X, T_GRID], 1)  # X with t as the last column (parametric models)
IMAGES = _rng.random((2, 2, 28, 28)).astype("float32")  # 2 examples of 2 digit images
X_RUNS = np.broadcast_to(X, (2, 5, 3))  # X for 2 runs side by side (Gumbel-max EQL layers)
# The 4 input slots of 3 sampled instances of 2 runs, for FunctionNodes(["add", "sin", "square", ...]).
SLOTS = np.random.default_rng(8).normal(size=(2, 3, 5, 4)).astype("float32")

SMALL = {"depth": 1, "primitives": ["identity", "square", "product10"]}
GM_SMALL = [["identity", "square"], ["add"]]  # a small Gumbel-max EQL (xla=False in tests: fast)


def _numpy(t):
    return keras.ops.convert_to_numpy(t)


#: How each kind of object is called on test data (``training`` passed through).
APPLY = {
    "x": lambda o, training=False: o(X, training=training),
    "xt": lambda o, training=False: o(X, context=T_GRID, training=training),
    "x_and_t": lambda o, training=False: o(XT, training=training),
    "cell": lambda o, training=False: o(Z_STEP, [STATE], training=training)[0],
    "rnn": lambda o, training=False: o(Z_SEQ, initial_state=[STATE], training=training),
    "images": lambda o, training=False: o(IMAGES[:, 0], training=training),
    "digits": lambda o, training=False: o(IMAGES, training=training),
    "series": lambda o, training=False: o(SERIES, training=training),
    "dynamics": lambda o, training=False: o((SERIES, STATE), training=training),
    "x_runs": lambda o, training=False: o(X_RUNS, training=training),
    "slots_runs": lambda o, training=False: o(SLOTS, X_RUNS, training=training),
}


# -- 1. config round trip: same config, and the same outputs after copying weights -----

CONFIG_CASES = [
    pytest.param(HardConcreteDense, lambda: HardConcreteDense(
        2, trials=2, t_steps=3, share_gates=True, use_bias=True, beta=0.5, drop_rate=0.3, seed=4,
        gate_regularizer=ExpectedL0(0.1), smoothness_regularizer=AdjacentSmoothness(0.5),
        kernel_regularizer=L1(0.2)), "x", id="HardConcreteDense-trials-t_steps-shared"),
    pytest.param(HardConcreteDense, lambda: HardConcreteDense(2, kernel_regularizer=ExpectedL0(0.3)),
                 "x", id="HardConcreteDense-l0-as-kernel-regularizer"),
    pytest.param(MaskedDense, lambda: MaskedDense(
        2, t_steps=3, smoothness_regularizer=AdjacentSmoothness(0.5),
        kernel_regularizer=Lq(0.1, q=0.3, stack_scale=[1.0, 2.0, 3.0])), "x",
        id="MaskedDense-t_steps-smoothness-stack_scale"),
    pytest.param(EqlLayer, lambda: EqlLayer(
        ["identity", "product"], linear="hard_concrete", trials=2, t_steps=3, seed=3,
        kernel_regularizer=ExpectedL0(0.1), linear_options={"share_gates": True}), "x",
        id="EqlLayer-hard_concrete-trials-t_steps"),
    pytest.param(EqlNetwork, lambda: EqlNetwork(
        n_outputs=2, primitives=[["identity", "sin"], ["square", "product"]], skip=True,
        trials=2, seed=1, reg_lambda=0.1), "x", id="EqlNetwork-trials-per-layer-primitives"),
    pytest.param(EqlNetwork, lambda: EqlNetwork(
        **SMALL, regularizer="l0", reg_lambda=0.05, seed=1, linear_options={"drop_rate": 0.2}),
        "x", id="EqlNetwork-l0"),
    pytest.param(EQL, lambda: EQL(**SMALL, trials=2, steps_per_call=3, reg_lambda=0.02, seed=1),
                 "x", id="EQL-trials"),
    pytest.param(EQL, lambda: EQL(**SMALL, regularizer="l0", reg_lambda=0.01, seed=2), "x",
                 id="EQL-l0"),
    pytest.param(StackedDense, lambda: StackedDense(
        2, t_steps=5, trials=2, smoothness=0.3, use_bias=True, seed=1,
        gate_regularizer=ExpectedL0(0.1)), "xt", id="StackedDense-trials"),
    pytest.param(StackedEqlLayer, lambda: StackedEqlLayer(
        ["identity", "sin", "product"], t_steps=5, smoothness=0.1, skip=True, trials=2, seed=1,
        kernel_regularizer=ExpectedL0(0.05)), "xt", id="StackedEqlLayer-trials-skip"),
    pytest.param(MetaWeightDense, lambda: MetaWeightDense(
        2, trials=2, hidden=[8], use_bias=True, seed=1, gate_regularizer=ExpectedL0(0.1)), "xt",
        id="MetaWeightDense-trials"),
    pytest.param(ParametricEQL, lambda: ParametricEQL(
        **SMALL, t_steps=5, trials=2, smoothness=0.1, reg_lambda=0.01, seed=1), "x_and_t",
        id="ParametricEQL-stacked"),
    pytest.param(ParametricEQL, lambda: ParametricEQL(
        **SMALL, method="meta", meta_hidden=(8,), reg_lambda=0.01, seed=1), "x_and_t",
        id="ParametricEQL-meta"),
    pytest.param(EqlCell, lambda: EqlCell(
        2, eql={**SMALL, "seed": 0, "regularizer": "l1", "reg_lambda": 0.01}, residual=True),
        "cell", id="EqlCell-residual"),
    pytest.param(EqlRNN, lambda: EqlRNN(
        EqlCell(2, eql={**SMALL, "seed": 0, "reg_lambda": 0.01}), return_sequences=True), "rnn",
        id="EqlRNN"),
    pytest.param(MlpCell, lambda: MlpCell(2, [4, 3], residual=True), "cell", id="MlpCell"),
    pytest.param(DigitArithmetic, lambda: DigitArithmetic(
        eql={**SMALL, "seed": 0, "reg_lambda": 0.01}, scale=2.0, offset=1.0), "digits",
        id="DigitArithmetic-eql"),
    pytest.param(DigitArithmetic, lambda: DigitArithmetic(head="relu", relu_widths=(4,)), "digits",
                 id="DigitArithmetic-relu"),
    pytest.param(DynamicsModel, lambda: DynamicsModel(
        horizon=3, eql={**SMALL, "seed": 0, "reg_lambda": 0.01}, constant_input=True), "dynamics",
        id="DynamicsModel-eql"),
    pytest.param(DynamicsModel, lambda: DynamicsModel(horizon=3, decoder="relu", relu_widths=(4,)),
                 "dynamics", id="DynamicsModel-relu"),
    pytest.param(DigitEncoder, lambda: DigitEncoder(2), "images", id="DigitEncoder"),
    pytest.param(DynamicsEncoder, lambda: DynamicsEncoder(
        2, filters=4, kernel_size=3, trainable_scale=True), "series", id="DynamicsEncoder"),
    pytest.param(GumbelConnection, lambda: GumbelConnection(
        3, temperature=0.5, logits_initializer=keras.initializers.RandomUniform(-2.0, 2.0),
        kernel_initializer="ones", seed=4), "x", id="GumbelConnection-temperature-initializers"),
    pytest.param(GumbelConnection, lambda: GumbelConnection(2, runs=2, seed=1), "x_runs",
                 id="GumbelConnection-runs"),
    pytest.param(FunctionNodes, lambda: FunctionNodes(
        ["add", "sin", "square", "sum", "sum"], runs=2, bound=10.0,
        kernel_initializer=keras.initializers.RandomUniform(-1.0, 1.0)), "slots_runs",
        id="FunctionNodes-runs-sums-bound"),
    pytest.param(GMEQL, lambda: GMEQL(GM_SMALL, samples=4, seed=0, xla=False), "x", id="GMEQL"),
    pytest.param(GMEQL, lambda: GMEQL(
        [["identity", "sin", "product"], ["add", "sum"], ["sqrt_abs"]], runs=2, samples=3,
        temperature=0.5, bound=100.0, repository_size=8, parent_exponent=2.0,
        resample_fraction=0.5, offline_rule="eq11", offline_samples=4, elites=False,
        learning_rates=(1e-2, 1e-3, 1e-4), gradient_bound=2.0, steps_per_call=7, seed=3,
        rank_by="relaxed", parent_law="rank", xla=False), "x", id="GMEQL-runs-settings"),
]


@pytest.mark.parametrize("cls, make, data", CONFIG_CASES)
def test_config_round_trip_gives_the_same_object(cls, make, data):
    original = make()
    assert type(original) is cls
    config = original.get_config()
    # A deep copy: keras.layers.RNN.from_config pops "cell" from the dict it is given.
    clone = cls.from_config(copy.deepcopy(config))
    assert clone.get_config() == config
    apply = APPLY[data]
    expected = _numpy(apply(original))
    apply(clone)  # build
    clone.set_weights(original.get_weights())
    np.testing.assert_array_equal(_numpy(apply(clone)), expected)
    # The penalties (their regularizers and strengths) came through the config too.
    apply(original)
    assert [float(v) for v in clone.losses] == pytest.approx([float(v) for v in original.losses], rel=1e-6)


# -- 2. `.keras` files ------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="deepsymreg_tests")
class Wrapped(keras.Model):
    """A subclassed model around one layer, saved through its config."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.saving.deserialize_keras_object(inner) if isinstance(inner, dict) else inner

    def call(self, x, training=None):
        return self.inner(x, training=training)

    def get_config(self):
        return {**super().get_config(), "inner": keras.saving.serialize_keras_object(self.inner)}


def _functional(layer):
    inputs = keras.Input((3,))
    return keras.Model(inputs, layer(inputs))


def _rnn_model():
    cell = EqlCell(2, eql={**SMALL, "seed": 0, "regularizer": "l05", "reg_lambda": 0.01})
    z_in, y0_in = keras.Input((5, 1)), keras.Input((2,))
    return keras.Model([z_in, y0_in], EqlRNN(cell, return_sequences=True)(z_in, initial_state=[y0_in]))


def _thresholded(model):
    """``model`` built on X with its weights below 0.3 closed (some, not all)."""
    model(X)
    total = sum(int(np.size(w)) for w in model.weights if w.name == "mask")
    assert 0 < callbacks.threshold_weights(model, 0.3) < total
    return model


def _gumbel_nodes_functional():
    """A connection feeding a layer of function nodes whose sum node reads the inputs."""
    inputs = keras.Input((3,))
    slots = GumbelConnection(3, seed=1)(inputs)
    return keras.Model(inputs, FunctionNodes(["add", "sin", "sum"], bound=100.0)(slots, inputs))


def _gmeql_selected():
    """A GMEQL of 2 runs with a (hand-set) selected structure, which inference reads."""
    model = GMEQL(GM_SMALL, runs=2, samples=4, seed=0, xla=False)
    model(X)
    rng = np.random.default_rng(0)
    for conn, selected in zip(model.connections, model.selected):
        selected.assign(rng.integers(0, conn.n_prev, (2, conn.slots)).astype("int32"))
    model.has_selection.assign(1)
    return model


def _dynamics_l0():
    """With rollout_steps at 2, as a horizon curriculum leaves it (a weight, so
    save_and_load compares it; the outputs past step 2 are zeros)."""
    model = DynamicsModel(horizon=3, eql={**SMALL, "seed": 0, "regularizer": "l0", "reg_lambda": 0.01})
    model((SERIES, STATE))
    model.rollout_steps.assign(2)
    assert np.all(_numpy(model((SERIES, STATE)))[:, 2:] == 0.0)
    return model


# (model factory, test data, whether training outputs repeat after loading: layers with
# `trials` draw gate noise from per-trial streams that are saved with the weights)
SAVE_CASES = [
    pytest.param(lambda: _functional(HardConcreteDense(
        2, trials=2, t_steps=3, share_gates=True, seed=4, gate_regularizer=ExpectedL0(0.1),
        smoothness_regularizer=AdjacentSmoothness(0.5))), X, True,
        id="HardConcreteDense-trials-t_steps-functional"),
    pytest.param(lambda: Wrapped(HardConcreteDense(
        2, t_steps=3, use_bias=True, seed=1, kernel_regularizer=L1(0.1),
        gate_regularizer=ExpectedL0(0.1))), X, False, id="HardConcreteDense-t_steps-subclassed"),
    pytest.param(lambda: _thresholded(Wrapped(MaskedDense(
        2, t_steps=3, kernel_regularizer="l05", smoothness_regularizer=AdjacentSmoothness(0.5)))),
        X, False, id="MaskedDense-smoothness-subclassed"),
    pytest.param(lambda: _functional(EqlLayer(
        ["identity", "product"], linear="hard_concrete", trials=2, t_steps=3, seed=2,
        kernel_regularizer=ExpectedL0(0.1), linear_options={"share_gates": True})), X, True,
        id="EqlLayer-hard_concrete-trials-t_steps-functional"),
    pytest.param(lambda: _thresholded(Wrapped(EqlNetwork(
        n_outputs=2, **SMALL, trials=2, seed=3, reg_lambda=0.01))), X, False,
        id="EqlNetwork-trials-subclassed"),
    pytest.param(lambda: _functional(EqlNetwork(**SMALL, regularizer="l0", trials=2, seed=3,
                                                reg_lambda=0.01)), X, True,
                 id="EqlNetwork-l0-trials-functional"),
    pytest.param(lambda: EQL(**SMALL, regularizer="l0", trials=2, seed=5, reg_lambda=0.01), X, True,
                 id="EQL-l0-trials"),
    pytest.param(_rnn_model, [Z_SEQ, STATE], False, id="EqlRNN-functional"),
    pytest.param(_dynamics_l0, (SERIES, STATE), False, id="DynamicsModel-l0-rollout"),
    pytest.param(lambda: DigitEncoder(1), IMAGES[:, 0], False, id="DigitEncoder"),
    pytest.param(lambda: DynamicsEncoder(2, filters=4, kernel_size=3), SERIES, False,
                 id="DynamicsEncoder"),
    pytest.param(_gumbel_nodes_functional, X, False, id="GumbelConnection-FunctionNodes-functional"),
    pytest.param(_gmeql_selected, X, False, id="GMEQL-runs-selected"),
]


@pytest.mark.parametrize("make, data, repeats_training", SAVE_CASES)
def test_keras_file_keeps_weights_outputs_and_penalties(make, data, repeats_training, tmp_path):
    model = make()
    model(data, training=True)  # builds, and moves the gate-noise streams on
    loaded = save_and_load(model, data, tmp_path)  # every weight and the outputs
    assert type(loaded) is type(model)
    strengths = [float(v.numpy()) for v in callbacks.penalty_strengths(model)]
    assert [float(v.numpy()) for v in callbacks.penalty_strengths(loaded)] == strengths
    model(data)
    loaded(data)
    assert [float(v) for v in loaded.losses] == pytest.approx([float(v) for v in model.losses], rel=1e-6)
    if repeats_training:
        first = _numpy(model(data, training=True))
        np.testing.assert_array_equal(_numpy(loaded(data, training=True)), first)
        assert not np.array_equal(_numpy(model(data, training=True)), first)  # really sampled


def test_keras_file_keeps_loss_horizon_and_schedule_of_a_compiled_model(tmp_path):
    rate = OneCycleRate(1e-2, 100)
    loss = HorizonMSE(1)
    model = keras.Sequential([keras.Input((4, 1)), keras.layers.Dense(1)])
    model.compile(optimizer=RMSprop(rate, initial_accumulator=0.5), loss=loss)
    x, y = np.ones((2, 4, 1), "float32"), np.zeros((2, 4, 1), "float32")
    model.train_on_batch(x, y)
    loss.horizon.assign(3)  # where a curriculum left it
    path = tmp_path / "compiled.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.loss) is HorizonMSE and int(loaded.loss.horizon.numpy()) == 3
    assert type(loaded.optimizer) is RMSprop and loaded.optimizer.initial_accumulator == 0.5
    restored = keras.saving.deserialize_keras_object(loaded.optimizer.get_config()["learning_rate"])
    assert type(restored) is OneCycleRate
    assert [restored.value_at(s) for s in (0, 40, 90)] == [rate.value_at(s) for s in (0, 40, 90)]
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)


# -- 3. regularizers, schedules and losses through Keras serialization ------------------

W = _rng.normal(size=(2, 3, 4, 2)).astype("float32")  # (trials, t_steps, in, out)

REGULARIZERS = [
    ExpectedL0(0.25), ExpectedL0(0.25, stack_scale=[1.0, 0.5]), AdjacentSmoothness(0.5),
    AdjacentSmoothness(0.5, axis=0), SmoothL05(0.1, a=0.05, stack_scale=[2.0, 0.0]),
    Lq(0.2, q=0.3, stack_scale=[1.0, 3.0]), L1(0.1, stack_scale=[0.5, 1.0]),
]


@pytest.mark.parametrize("reg", REGULARIZERS, ids=lambda r: f"{type(r).__name__}-{r.get_config()}")
def test_regularizer_serialization_keeps_kind_strength_and_value(reg):
    reg.reg_lambda.assign(0.375)  # a strength a callback set: it is the one saved
    serialized = keras.regularizers.serialize(reg)
    for restored in (keras.regularizers.deserialize(serialized), regularizers.get(serialized),
                     type(reg).from_config(reg.get_config())):
        assert type(restored) is type(reg)
        assert restored.get_config() == reg.get_config()
        assert float(restored.reg_lambda.numpy()) == 0.375
        assert restored.reg_lambda is not reg.reg_lambda  # its own variable
        assert restored.strength_name == reg.strength_name
        np.testing.assert_allclose(float(restored(tf.constant(W))), float(reg(tf.constant(W))), rtol=1e-6)


SCHEDULES = [
    Constant(0.5), SinSquaredRamp(0.3, 10, stretch=1.5), OneCycleRate(1e-3, 100),
    OneCycleStrength(1e-2, 100),
    Piecewise([0, 5, 20], [SinSquaredRamp(1.0, 5), Constant(0.25), OneCycleStrength(0.1, 50)]),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_schedule_serialization_keeps_kind_and_values(schedule):
    serialized = keras.saving.serialize_keras_object(schedule)
    steps = (0, 1, 4, 5, 17, 20, 60, 99, 1000)
    for restored in (keras.saving.deserialize_keras_object(serialized), schedules.get(serialized),
                     type(schedule).from_config(schedule.get_config())):
        assert type(restored) is type(schedule)
        assert restored.get_config() == schedule.get_config()
        assert [restored.value_at(s) for s in steps] == [schedule.value_at(s) for s in steps]


def test_horizon_loss_serialization_keeps_the_current_horizon():
    loss = HorizonMSE(2, name="h")
    loss.horizon.assign(4)
    y_true = np.zeros((3, 5, 2), "float32")
    y_pred = _rng.normal(size=(3, 5, 2)).astype("float32")
    for restored in (keras.losses.deserialize(keras.losses.serialize(loss)),
                     HorizonMSE.from_config(loss.get_config())):
        assert type(restored) is HorizonMSE and restored.name == "h"
        assert int(restored.horizon.numpy()) == 4 and restored.horizon is not loss.horizon
        assert restored.get_config() == loss.get_config()
        assert float(restored(y_true, y_pred)) == float(loss(y_true, y_pred))


# -- 4. training vs inference ---------------------------------------------------------


def test_hard_concrete_with_trials_and_steps_samples_only_in_training():
    layer = HardConcreteDense(2, trials=2, t_steps=3, seed=0)
    inference = _numpy(layer(X))  # training=None: inference
    w = _numpy(layer.effective_kernel)  # kernel * deterministic gates, (2, 3, 3, 2)
    np.testing.assert_allclose(inference, np.einsum("bi,ksio->ksbo", X, w), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(_numpy(layer(X, training=False)), inference)
    a, b = _numpy(layer(X, training=True)), _numpy(layer(X, training=True))
    assert a.shape == inference.shape and not np.array_equal(a, b)
    assert all(not np.array_equal(a[k], b[k]) for k in range(2))  # every trial draws anew
    step = tf.function(lambda t, training: layer(t, training=training))
    assert not np.array_equal(_numpy(step(X, True)), _numpy(step(X, True)))
    np.testing.assert_allclose(_numpy(step(X, False)), inference, rtol=1e-6, atol=1e-6)


def test_l0_eql_samples_in_the_training_step_only():
    x, y = X[:, :2], (X[:, :1] * X[:, 1:2]).astype("float32")
    model = EQL(**SMALL, regularizer="l0", seed=0)
    inference = _numpy(model(x))
    np.testing.assert_array_equal(_numpy(model(x, training=False)), inference)
    np.testing.assert_allclose(model.predict(x, verbose=0), inference, rtol=1e-6, atol=1e-6)
    assert not np.array_equal(_numpy(model(x, training=True)), _numpy(model(x, training=True)))
    # Learning rate 0: the weights stay put, so only the gate noise moves the training loss.
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    history = model.fit(x, y, batch_size=len(x), epochs=4, verbose=0, shuffle=False)
    assert len(set(history.history["data_loss"])) > 1
    first = model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)
    again = model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)
    assert first["data_loss"] == again["data_loss"]
    assert first["data_loss"] == pytest.approx(float(np.mean((inference - y) ** 2)), rel=1e-5)


def test_dense_eql_is_the_same_in_training_and_inference():
    model = EQL(**SMALL, reg_lambda=0.1, seed=0)
    np.testing.assert_array_equal(_numpy(model(X, training=True)), _numpy(model(X)))


@pytest.mark.parametrize("make, data", [
    (lambda: EqlRNN(EqlCell(2, eql={**SMALL, "regularizer": "l0", "seed": 0}),
                    return_sequences=True), "rnn"),
    (lambda: DynamicsModel(horizon=3, eql={**SMALL, "regularizer": "l0", "seed": 0}), "dynamics"),
    (lambda: DigitArithmetic(eql={**SMALL, "regularizer": "l0", "seed": 0}), "digits"),
], ids=["EqlRNN", "DynamicsModel", "DigitArithmetic"])
def test_training_flag_reaches_the_gates_inside_deep_models(make, data):
    model, apply = make(), APPLY[data]
    inference = _numpy(apply(model))
    np.testing.assert_array_equal(_numpy(apply(model)), inference)
    np.testing.assert_array_equal(_numpy(apply(model, training=False)), inference)
    # Batch norm in training mode is deterministic: only the gate noise differs.
    assert not np.array_equal(_numpy(apply(model, training=True)), _numpy(apply(model, training=True)))


def test_propagate_samples_gates_only_in_training():
    model = DynamicsModel(horizon=2, eql={**SMALL, "regularizer": "l0", "seed": 0})
    inference = _numpy(model.propagate(SERIES, STATE, 4))
    np.testing.assert_array_equal(_numpy(model.propagate(SERIES, STATE, 4)), inference)
    assert not np.array_equal(_numpy(model.propagate(SERIES, STATE, 4, training=True)),
                              _numpy(model.propagate(SERIES, STATE, 4, training=True)))


def test_gumbel_connection_samples_only_in_training():
    layer = GumbelConnection(3, seed=0)
    inference = _numpy(layer(X))  # (p=1, batch, slots): every slot's argmax, times its weight
    z, w = _numpy(layer.logits), _numpy(layer.kernel)
    np.testing.assert_allclose(inference[0], X[:, np.argmax(z, -1)] * w, rtol=1e-6)
    np.testing.assert_array_equal(_numpy(layer(X, training=False)), inference)
    a, b = _numpy(layer(X, training=True, samples=4)), _numpy(layer(X, training=True, samples=4))
    assert a.shape == (4, 5, 3) and not np.array_equal(a, b)
    step = tf.function(lambda t, training: layer(t, training=training, samples=4))
    assert not np.array_equal(_numpy(step(X, True)), _numpy(step(X, True)))
    np.testing.assert_allclose(_numpy(step(X, False)), np.repeat(inference, 4, 0), rtol=1e-6)


def test_function_nodes_are_the_same_in_training_and_inference():
    nodes = FunctionNodes(["add", "sin", "square", "sum"], runs=2)
    np.testing.assert_array_equal(_numpy(nodes(SLOTS, X_RUNS, training=True)),
                                  _numpy(nodes(SLOTS, X_RUNS)))


@pytest.mark.parametrize("runs", [None, 2])
def test_gmeql_samples_instances_in_training_and_reads_one_structure_at_inference(runs):
    model = GMEQL(GM_SMALL, runs=runs, samples=4, seed=0, xla=False)
    lead = () if runs is None else (runs,)
    inference = _numpy(model(X))  # before a selection: the argmax of every slot's logits
    assert inference.shape == ((5,) if runs is None else (5, runs))
    np.testing.assert_array_equal(_numpy(model(X, training=False)), inference)
    argmax = [np.argmax(_numpy(c.logits), -1)[:, None] for c in model.connections]  # (R, 1, slots)
    hard = _numpy(model(X, choices=argmax))  # (runs?, p=1, batch)
    np.testing.assert_allclose(hard[..., 0, :], inference.T, rtol=1e-6)
    a, b = _numpy(model(X, training=True)), _numpy(model(X, training=True))
    assert a.shape == (*lead, 4, 5) and not np.array_equal(a, b)
    # Once a structure is selected, inference reads it.
    other = [(ch + 1) % c.n_prev for ch, c in zip(argmax, model.connections)]
    for var, ch in zip(model.selected, other):
        var.assign(ch[:, 0].astype("int32"))
    model.has_selection.assign(1)
    np.testing.assert_allclose(_numpy(model(X)).T, _numpy(model(X, choices=other))[..., 0, :],
                               rtol=1e-6)


def test_gmeql_stages_start_algorithm_1s_rounds_then_stage_2():
    model = GMEQL(GM_SMALL, samples=2, seed=0, xla=False)
    model(X)
    stages = GMEQLStages(rounds=2, round_epochs=2)
    stages.set_model(model)
    seen = []
    for epoch in range(6):
        stages.on_epoch_begin(epoch)
        logs = {}
        stages.on_epoch_end(epoch, logs)
        seen.append((logs["stage"], int(model.rounds_started.numpy())))
    assert seen == [(1, 1), (1, 1), (1, 2), (1, 2), (2, 3), (2, 3)]


# -- 5. bad arguments: a ValueError naming the argument and echoing the value -----------


def _kw(target, argument, value, *args, **extra):
    """``target(*args, argument=value, **extra)`` must be rejected."""
    return pytest.param(target, lambda: target(*args, **{argument: value}, **extra), argument,
                        f"{argument}={value!r}", id=f"{target.__name__}-{argument}={value!r}")


def _call(target, call, argument, received, name):
    """``call()`` (of ``target``) must be rejected, the message echoing ``received``."""
    return pytest.param(target, call, argument, received, id=f"{target.__name__}-{name}")


_NAN = float("nan")

BAD_ARGUMENTS = [
    # layers
    _kw(MaskedDense, "t_steps", 0, 2),
    _kw(MaskedDense, "kernel_regularizer", "l2", 2),
    _kw(MaskedDense, "smoothness_regularizer", "bogus", 2, t_steps=3),
    _kw(HardConcreteDense, "units", 2.5),
    _kw(HardConcreteDense, "gamma", "a", 2),
    _kw(HardConcreteDense, "zeta", 1.0, 2),
    _kw(HardConcreteDense, "zeta", None, 2),
    _kw(HardConcreteDense, "beta", -1.0, 2),
    _kw(HardConcreteDense, "drop_rate", 0.0, 2),
    _kw(HardConcreteDense, "seed", 1.5, 2),
    _kw(HardConcreteDense, "t_steps", -1, 2),
    _kw(HardConcreteDense, "kernel_regularizer", "l2", 2),
    _kw(HardConcreteDense, "gate_regularizer", "nope", 2),
    _kw(EqlLayer, "primitives", None),
    _kw(EqlLayer, "primitives", "identity"),
    _kw(EqlLayer, "trials", 1.5, ["identity"]),
    _kw(EqlLayer, "t_steps", 0, ["identity"]),
    _kw(EqlLayer, "linear", 5, ["identity"]),
    _kw(EqlLayer, "linear_options", [("drop_rate", 0.3)], ["identity"], linear="hard_concrete"),
    _kw(EqlLayer, "linear_options", {"drop_rate": 0.3}, ["identity"], linear=MaskedDense(1)),
    _kw(EqlNetwork, "n_outputs", 0),
    _kw(EqlNetwork, "depth", 0),
    _kw(EqlNetwork, "primitives", None),
    _kw(EqlNetwork, "init_stddev", 0.5),
    _kw(EqlNetwork, "init_stddev", ("a", "b", "c")),
    _kw(EqlNetwork, "init_stddev", (0.1, _NAN, 1.0)),
    _kw(EqlNetwork, "seed", "x"),
    _kw(EqlNetwork, "seed", -1),
    _kw(EqlNetwork, "trials", 0),
    _kw(EqlNetwork, "linear", "sparse"),
    _kw(EqlNetwork, "regularizer", "l2"),
    _kw(EqlNetwork, "reg_lambda", -1.0),
    _kw(EqlNetwork, "linear_options", "drop_rate"),
    _kw(EQL, "steps_per_call", 0),
    _kw(EQL, "seed", 2.5),
    _kw(EQL, "linear", "sparse"),
    _kw(EQL, "reg_lambda", _NAN),
    _kw(EqlCell, "n_state", 1.5),
    _kw(EqlCell, "eql", "depth=1", 2),
    _kw(EqlCell, "eql", {"trials": 2}, 2),
    _call(EqlCell, lambda: EqlCell(2, eql={"seed": "x"}), "seed", "seed='x'", "eql-seed"),
    _kw(EqlRNN, "cell", None),
    _kw(MlpCell, "n_state", True),
    _kw(MlpCell, "widths", 5, 2),
    _call(register_linear_kind, lambda: register_linear_kind(5, "deepsymreg>MaskedDense"),
          "name", "name=5", "name"),
    _kw(register_linear_kind, "registered_name", "deepsymreg>Nothing", "x"),
    _kw(register_linear_kind, "registered_name", "deepsymreg>EqlLayer", "x"),
    _kw(GumbelConnection, "slots", 0),
    _kw(GumbelConnection, "runs", 0, 3),
    _kw(GumbelConnection, "temperature", 0.0, 3),
    _call(GumbelConnection, lambda: GumbelConnection(3)(X, samples=0), "samples", "samples=0",
          "call-samples"),
    _kw(FunctionNodes, "functions", "add"),
    _kw(FunctionNodes, "functions", []),
    _call(FunctionNodes, lambda: FunctionNodes(["add", "tan2"]), "functions",
          "functions=['add', 'tan2']", "functions-unknown"),
    _call(FunctionNodes, lambda: FunctionNodes(["constant"]), "functions",
          "functions=['constant']", "functions-no-input"),
    _kw(FunctionNodes, "runs", 1.5, ["add"]),
    _kw(FunctionNodes, "bound", 0.0, ["add"]),
    # models
    _kw(DigitArithmetic, "n_digits", 1.5),
    _kw(DigitArithmetic, "scale", "big"),
    _kw(DigitArithmetic, "offset", _NAN),
    _kw(DigitArithmetic, "eql", {"trials": 2}),
    _kw(DigitArithmetic, "eql", "depth=1"),
    _kw(DigitArithmetic, "relu_widths", 5, head="relu"),
    _kw(DynamicsModel, "horizon", 1.5),
    _kw(DynamicsModel, "eql", "depth=1"),
    _kw(DynamicsModel, "eql", {"trials": 2}),
    _kw(DynamicsModel, "relu_widths", 3, decoder="relu"),
    _call(DynamicsModel, lambda: DynamicsModel(decoder="relu", relu_widths=[8, 0]), "relu_widths",
          "relu_widths=0", "relu_widths-element"),
    _kw(DigitEncoder, "latent_dim", 1.5),
    _kw(DynamicsEncoder, "latent_dim", 0),
    _kw(DynamicsEncoder, "filters", 0),
    _kw(DynamicsEncoder, "kernel_size", 0),
    _kw(relu_mlp, "widths", 5),
    _kw(relu_mlp, "n_outputs", 0, [2]),
    _kw(GMEQL, "functions", ["identity", "add"]),
    _call(GMEQL, lambda: GMEQL([["identity", "cosh2"], ["add"]]), "functions",
          "functions=['identity', 'cosh2']", "functions-unknown"),
    _kw(GMEQL, "runs", 0, GM_SMALL),
    _kw(GMEQL, "samples", 0, GM_SMALL),
    _kw(GMEQL, "temperature", -1.0, GM_SMALL),
    _kw(GMEQL, "repository_size", 0, GM_SMALL),
    _kw(GMEQL, "parent_exponent", _NAN, GM_SMALL),
    _kw(GMEQL, "resample_fraction", 1.5, GM_SMALL),
    _kw(GMEQL, "offline_rule", "eq8", GM_SMALL),
    _kw(GMEQL, "offline_samples", 0, GM_SMALL),
    _kw(GMEQL, "learning_rates", (1e-3, 1e-3), GM_SMALL),
    _kw(GMEQL, "learning_rates", 1e-3, GM_SMALL),
    _kw(GMEQL, "gradient_bound", 0.0, GM_SMALL),
    _kw(GMEQL, "steps_per_call", 0, GM_SMALL),
    _kw(GMEQL, "seed", -1, GM_SMALL),
    _kw(GMEQL, "rank_by", "soft", GM_SMALL),
    _kw(GMEQL, "parent_law", "uniform", GM_SMALL),
    _call(GMEQL, lambda: GMEQL(GM_SMALL).select(X, X[:, 0], score="mse"), "score", "score='mse'",
          "select-score"),
    _call(GMEQL, lambda: GMEQL(GM_SMALL).start_stage(3), "stage", "stage=3", "start_stage-stage"),
    _kw(GMEQLStages, "rounds", -1),
    _kw(GMEQLStages, "round_epochs", 0),
    # regularizers
    _kw(StrengthRegularizer, "reg_lambda", -1.0),
    _kw(ExpectedL0, "reg_lambda", -1.0),
    _kw(ExpectedL0, "stack_scale", [_NAN]),
    _kw(AdjacentSmoothness, "reg_lambda", -0.5),
    _kw(AdjacentSmoothness, "axis", 1.5),
    _kw(AdjacentSmoothness, "axis", "0"),
    _kw(L1, "stack_scale", 3),
    _kw(L1, "stack_scale", ["a"]),
    _kw(SmoothL05, "stack_scale", "12"),
    _kw(Lq, "q", "x"),
    _call(regularizers.get, lambda: regularizers.get(5), "regularizer", "regularizer=5", "5"),
    # schedules
    _kw(Constant, "value", "x"),
    _kw(SinSquaredRamp, "peak", -1.0, steps=10),
    _kw(SinSquaredRamp, "steps", 0, 1.0),
    _kw(SinSquaredRamp, "stretch", 0.0, 1.0, 10),
    _kw(OneCycleRate, "base", 0.0, total_steps=10),
    _kw(OneCycleRate, "total_steps", 0, 1.0),
    _kw(OneCycleStrength, "base", -1.0, total_steps=10),
    _kw(OneCycleStrength, "total_steps", 1.5, 1.0),
    _kw(Piecewise, "starts", 5, pieces=[1.0]),
    _kw(Piecewise, "pieces", [1.0], [0, 5]),
    _kw(Piecewise, "pieces", 1.0, [0]),
    _call(Piecewise, lambda: Piecewise([0], ["x"]), "pieces", "pieces='x'", "pieces-element"),
    _call(schedules.get, lambda: schedules.get("fast"), "schedule", "schedule='fast'", "fast"),
    # losses and optimizers
    _kw(HorizonMSE, "horizon", 1.5),
    _kw(HorizonMSE, "horizon", True),
    _kw(RMSprop, "initial_accumulator", "x"),
    # callbacks
    _kw(Phase, "strengths", "smoothness", 10, 0.1),
    _kw(StackedDense, "t_range", (1.0, 1.0), 2),
    _kw(StackedDense, "smoothness", 0.5, 2, t_steps=1),
    _kw(StackedEqlLayer, "t_range", "ab"),
    _kw(MetaWeightDense, "t_range", (1.0, 1.0), 2),
    _kw(MetaWeightDense, "hidden", (8, 0), 2),
    _kw(MetaWeightDense, "t_steps", 4, 2),
    _kw(ParametricEQL, "method", "spline"),
    _kw(ParametricEQL, "t_steps", None),
    _kw(OneCycle, "total_steps", 0),
    _kw(OneCycle, "smoothness", -1.0, 10),
    _kw(PhasedSchedule, "phases", Phase(10, 0.1)),
    _kw(PhasedSchedule, "strengths", [0.1], [Phase(10, 0.1)]),
    _kw(WeightThreshold, "alpha", _NAN),
    _kw(WeightThreshold, "alpha", "x"),
    _kw(NaNRecovery, "seed", "x"),
    _kw(NaNRecovery, "seed", -1),
    _kw(NaNRecovery, "seed", []),
    _call(NaNRecovery, lambda: NaNRecovery(seed=[1, 2.5]), "seed", "seed=2.5", "seed-element"),
    _kw(HorizonCurriculum, "horizon", 3, schedule=[(0, 1)]),
    _kw(HorizonCurriculum, "schedule", [(0,)], HorizonMSE()),
    _kw(HorizonCurriculum, "schedule", [(0, 1.5)], HorizonMSE()),
    _kw(HorizonCurriculum, "schedule", [(0, 0)], HorizonMSE()),
    _kw(HorizonCurriculum, "schedule", 5, HorizonMSE()),
    _kw(MemeticRefit, "every", 0, None, None),
    _kw(MemeticRefit, "top", 0, None, None),
    _kw(MemeticRefit, "starts", -1, None, None),
    _kw(MemeticRefit, "learning_rate", 0.0, None, None),
    _kw(MemeticRefit, "curriculum", (2.0, 10), None, None),
    _call(callbacks.threshold_weights, lambda: callbacks.threshold_weights(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), -1.0), "alpha", "alpha=-1.0",
        "model-without-masks"),
]


@pytest.mark.parametrize("target, call, argument, received", BAD_ARGUMENTS)
def test_bad_argument_is_a_value_error_naming_it(target, call, argument, received):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert f"argument `{argument}`" in message
    assert f"Received: {received}" in message or f", {received}" in message, message


def test_a_rejected_linear_kind_is_not_registered():
    before = dict(eql_module.LINEAR_KINDS)
    with pytest.raises(ValueError, match="registered_name"):
        register_linear_kind("broken", "deepsymreg>Nothing")
    assert eql_module.LINEAR_KINDS == before
    with pytest.raises(ValueError, match="argument `linear`.*linear='broken'"):
        EqlLayer(["identity"], linear="broken")


# -- 6. the guard: every public class has rows in these tables --------------------------

_MODULES = [dsr, layers, models, regularizers, callbacks, schedules, losses, optimizers]
PUBLIC_CLASSES = {
    getattr(module, name) for module in _MODULES for name in module.__all__
    if inspect.isclass(getattr(module, name))
}
#: Public classes with no constructor arguments of their own or tested by another contract.
NOT_HERE = {
    dsr.SymbolicRegressor: "a scikit-learn estimator: arguments are checked in fit "
                           "(tests/estimator/test_symbolic_regressor.py)",
    schedules.StepSchedule: "abstract base without constructor arguments",
}
#: Serializable classes whose round trip is tested elsewhere only.
CONFIG_ELSEWHERE = {
    RMSprop: "tests/test_optimizers.py::test_config_round_trip",
    StrengthRegularizer: "abstract base (no penalty); its subclasses are in the tables",
}
_SERIALIZABLE = (keras.layers.Layer, keras.regularizers.Regularizer, keras.losses.Loss,
                 keras.optimizers.schedules.LearningRateSchedule, keras.optimizers.Optimizer)


def test_every_public_class_is_in_the_tables():
    assert PUBLIC_CLASSES >= {EQL, EqlCell, HardConcreteDense, SmoothL05, Piecewise, PhasedSchedule}
    with_errors = {p.values[0] for p in BAD_ARGUMENTS}
    with_config = ({p.values[0] for p in CONFIG_CASES} | {type(o) for o in REGULARIZERS + SCHEDULES}
                   | {HorizonMSE})  # test_horizon_loss_serialization_keeps_the_current_horizon
    missing_errors = sorted(c.__name__ for c in PUBLIC_CLASSES - set(NOT_HERE) - with_errors)
    missing_config = sorted(
        c.__name__ for c in PUBLIC_CLASSES - set(NOT_HERE) - set(CONFIG_ELSEWHERE) - with_config
        if issubclass(c, _SERIALIZABLE)
    )
    assert missing_errors == [], f"no bad-argument rows for {missing_errors}"
    assert missing_config == [], f"no config round trip for {missing_config}"
