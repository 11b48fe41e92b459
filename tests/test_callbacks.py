"""Callbacks: phased schedules, thresholding, NaN recovery."""

import keras
import numpy as np
import pytest

from deepsymreg import (
    EQL, EqlLayer, MaskedDense, NaNRecovery, Phase, PhasedSchedule, SmoothL05, WeightThreshold,
    callbacks, recipes,
)
from deepsymreg.optimizers import RMSprop

PRIMS = ["constant", "identity", "square", "product"]


def small_eql(**kwargs):
    return EQL(depth=1, primitives=PRIMS, seed=1, **kwargs)


class Recorder(keras.callbacks.Callback):
    """Records, per Keras batch, what the step ran with and what the batch logs say."""

    def on_train_begin(self, logs=None):
        self.rows = []

    def on_train_batch_begin(self, batch, logs=None):
        self._lr = float(self.model.optimizer.learning_rate.numpy())
        self._lam = float(self.model.reg_lambda.numpy())

    def on_train_batch_end(self, batch, logs=None):
        closed = sum(int((layer.linear.mask.numpy() == 0).sum()) for layer in self.model.eql_layers)
        self.rows.append(
            dict(step=int(self.model.optimizer.iterations), lr=self._lr, lam=self._lam,
                 closed=closed, logs=dict(logs))
        )


# -- Phase and PhasedSchedule ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"steps": 0, "learning_rate": 0.1}, "steps"),
        ({"steps": 2.5, "learning_rate": 0.1}, "steps"),
        ({"steps": 10, "learning_rate": 0.0}, "learning_rate"),
        ({"steps": 10, "learning_rate": "fast"}, "learning_rate"),
        ({"steps": 10, "learning_rate": 0.1, "reg_lambda": -1e-3}, "reg_lambda"),
        ({"steps": 10, "learning_rate": 0.1, "threshold": -0.01}, "threshold"),
    ],
)
def test_phase_rejects_bad_values(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        Phase(**kwargs)


@pytest.mark.parametrize("phases", [[], [(10, 0.1)], None])
def test_schedule_rejects_bad_phase_lists(phases):
    with pytest.raises(ValueError, match="argument `phases`"):
        PhasedSchedule(phases if phases is not None else [None])


def test_paper_schedule():
    warm, main, final = recipes.paper_schedule()
    assert (warm.steps, warm.learning_rate, warm.reg_lambda, warm.threshold) == (
        2000, pytest.approx(0.1), 5e-3, None)
    assert (main.steps, main.learning_rate, main.reg_lambda, main.threshold) == (
        10000, 1e-2, 5e-3, 0.01)
    assert (final.steps, final.learning_rate, final.reg_lambda) == (10000, pytest.approx(1e-3), 0.0)
    assert PhasedSchedule([warm, main, final]).total_steps == 22000


def test_phase_index_and_batches_needed():
    schedule = PhasedSchedule([Phase(10, 0.1), Phase(20, 0.01), Phase(5, 0.001)])
    assert [schedule.phase_index(s) for s in (0, 9, 10, 29, 30, 34, 99)] == [0, 0, 1, 1, 2, 2, 2]
    assert schedule.batches_needed(5) == 7
    assert schedule.batches_needed(4) == 9  # rounds up
    assert schedule.batches_needed(small_eql(steps_per_call=5)) == 7


PHASES = [
    Phase(10, 1e-2, 0.0),
    Phase(10, 1e-3, 0.5, threshold=0.3),
    Phase(5, 1e-4, 0.0),
]


@pytest.fixture(scope="module")
def scheduled_run(linear_law_data, fit_full_batch):
    """A fit under PHASES with 5 steps per batch and one batch per epoch (25 steps)."""
    x, y = linear_law_data
    model = small_eql(steps_per_call=5)
    model.compile(optimizer=keras.optimizers.SGD(1e-2))
    recorder = Recorder()
    history = fit_full_batch(model, x, y, 1, epochs=100,
                             callbacks=[PhasedSchedule(PHASES), recorder])
    return model, history.history, recorder.rows


def test_schedule_stops_at_total_steps(scheduled_run):
    model, history, rows = scheduled_run
    assert int(model.optimizer.iterations) == 25
    assert [r["step"] for r in rows] == [5, 10, 15, 20, 25]
    assert len(history["loss"]) == 5


def test_schedule_sets_rate_and_lambda_per_phase(scheduled_run):
    _, _, rows = scheduled_run
    assert [r["lr"] for r in rows] == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4])
    assert [r["lam"] for r in rows] == pytest.approx([0.0, 0.0, 0.5, 0.5, 0.0])


def test_schedule_lambda_reaches_the_training_step(scheduled_run):
    _, history, _ = scheduled_run
    reg = history["reg_loss"]
    assert reg[0] == reg[1] == reg[4] == 0.0
    assert reg[2] > 0 and reg[3] > 0


def test_schedule_writes_batch_logs(scheduled_run):
    _, _, rows = scheduled_run
    assert [r["logs"]["phase"] for r in rows] == [0, 0, 1, 1, 2]
    assert [r["logs"]["reg_lambda"] for r in rows] == pytest.approx([0, 0, 0.5, 0.5, 0])
    assert [r["logs"]["learning_rate"] for r in rows] == pytest.approx(
        [1e-2, 1e-2, 1e-3, 1e-3, 1e-4])


def test_schedule_values_show_in_history(scheduled_run):
    _, history, _ = scheduled_run
    assert history.get("phase") == [0, 0, 1, 1, 2]
    assert history.get("reg_lambda") == pytest.approx([0, 0, 0.5, 0.5, 0])
    assert history.get("learning_rate") == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4])


def test_schedule_thresholds_at_the_end_of_its_phase(scheduled_run):
    model, _, rows = scheduled_run
    assert [r["closed"] > 0 for r in rows] == [False, False, False, True, True]
    for layer in model.eql_layers:
        w, m = layer.linear.effective_kernel.numpy(), layer.linear.mask.numpy()
        assert np.all(w[m == 0] == 0.0)


def test_schedule_rejects_boundaries_off_the_steps_per_call(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    model = small_eql(steps_per_call=4)
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"multiples of the optimizer steps per batch \(4\).*10"):
        fit_full_batch(model, x, y, 5, callbacks=[PhasedSchedule([Phase(10, 0.1)])])


def test_schedule_sets_explicit_strengths_only():
    strength = keras.Variable(0.0, trainable=False)
    model = small_eql(reg_lambda=0.125, steps_per_call=2)
    model.build((None, 2))
    model.compile(optimizer="sgd")
    schedule = PhasedSchedule([Phase(2, 0.1, reg_lambda=0.75)], strengths=[strength])
    schedule.set_model(model)
    schedule.on_train_begin()
    schedule.on_train_batch_begin(0)
    assert float(strength.numpy()) == 0.75
    assert float(model.reg_lambda.numpy()) == 0.125
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.1)


# -- thresholding ---------------------------------------------------------------------


def test_penalty_strengths_are_found_once_per_variable():
    shared = SmoothL05(0.1)
    inputs = keras.Input((2,))
    h = EqlLayer(["identity", "square"], kernel_regularizer=shared)(inputs)
    h = MaskedDense(3, kernel_regularizer=shared)(h)
    outputs = MaskedDense(1, kernel_regularizer="l1")(h)
    model = keras.Model(inputs, outputs)
    found = callbacks.penalty_strengths(model)
    assert len(found) == 2
    assert any(v is shared.reg_lambda for v in found)


def test_threshold_weights_covers_nested_layers():
    inputs = keras.Input((2,))
    eql = EqlLayer(["identity", "square"])
    dense = MaskedDense(1)
    model = keras.Model(inputs, dense(eql(inputs)))
    eql.linear.kernel.assign([[0.5, 0.01], [-0.02, -2.0]])
    dense.kernel.assign([[0.05], [1.0]])
    assert callbacks.threshold_weights(model, 0.1) == 3
    np.testing.assert_array_equal(eql.linear.mask.numpy(), [[1, 0], [0, 1]])
    np.testing.assert_array_equal(dense.mask.numpy(), [[0], [1]])


def test_weight_threshold_at_a_step(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    model = small_eql(steps_per_call=3, init_stddev=(0.3, 0.3, 0.3))
    model.compile(optimizer=keras.optimizers.SGD(1e-3))
    threshold = WeightThreshold(0.2, at_step=6)
    recorder = Recorder()
    fit_full_batch(model, x, y, 4, callbacks=[threshold, recorder])
    assert [r["closed"] > 0 for r in recorder.rows] == [False, True, True, True]
    assert threshold.done and threshold.kept == sum(
        int(layer.linear.mask.numpy().sum()) for layer in model.eql_layers)


def test_weight_threshold_at_the_end(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    model = small_eql(init_stddev=(0.3, 0.3, 0.3))
    model.compile(optimizer=keras.optimizers.SGD(1e-3))
    recorder = Recorder()
    fit_full_batch(model, x, y, 2, callbacks=[WeightThreshold(0.2), recorder])
    assert all(r["closed"] == 0 for r in recorder.rows)
    assert sum(int((layer.linear.mask.numpy() == 0).sum()) for layer in model.eql_layers) > 0


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"alpha": -0.1}, "alpha"), ({"alpha": 0.1, "at_step": -1}, "at_step"),
     ({"alpha": 0.1, "at_step": 2.5}, "at_step")],
)
def test_weight_threshold_rejects_bad_values(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        WeightThreshold(**kwargs)


# -- NaN recovery ----------------------------------------------------------------------


def _nan_into_trial(model, k):
    kernel = model.hidden[0].linear.kernel
    values = kernel.numpy()
    values[k] = np.nan
    kernel.assign(values)


@pytest.fixture(scope="module")
def nan_trial_runs(linear_law_data, fit_full_batch):
    """Two identical 3-restart models, one with restart 1 set to NaN, trained alike."""
    x, y = linear_law_data
    runs = {}
    for name in ("control", "broken"):
        model = small_eql(trials=3, steps_per_call=5, reg_lambda=1e-3)
        model.build(x.shape)
        model.compile(optimizer=RMSprop(1e-2))
        before = [w.numpy() for w in model.trainable_weights]
        if name == "broken":
            _nan_into_trial(model, 1)
        recovery = NaNRecovery(seed=0)
        fit_full_batch(model, x, y, 2, epochs=2, callbacks=[recovery])
        runs[name] = (model, recovery, before)
    return runs


def test_nan_trial_is_restarted_alone(nan_trial_runs):
    _, recovery, _ = nan_trial_runs["broken"]
    assert recovery.restarted == [1]
    assert recovery.restarts == 1
    _, control_recovery, _ = nan_trial_runs["control"]
    assert control_recovery.restarted == []


def test_other_trials_train_as_if_nothing_happened(nan_trial_runs):
    control, _, _ = nan_trial_runs["control"]
    broken, _, _ = nan_trial_runs["broken"]
    for a, b in zip(control.trainable_weights, broken.trainable_weights):
        np.testing.assert_array_equal(b.numpy()[[0, 2]], a.numpy()[[0, 2]])


def test_restarted_trial_is_fresh_and_finite(nan_trial_runs, linear_law_data):
    broken, _, before = nan_trial_runs["broken"]
    for w, start in zip(broken.trainable_weights, before):
        assert np.all(np.isfinite(w.numpy()[1]))
        assert not np.allclose(w.numpy()[1], start[1])
    assert np.all(np.isfinite(broken.trial_errors(*linear_law_data)))


def test_restarted_trial_gets_fresh_optimizer_slots(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    model = small_eql(trials=3, steps_per_call=5)
    model.build(x.shape)
    model.compile(optimizer=RMSprop(1e-2, initial_accumulator=1.0))
    _nan_into_trial(model, 1)
    fit_full_batch(model, x, y, 1, callbacks=[NaNRecovery(seed=0)])
    opt = model.optimizer
    shapes = {tuple(w.shape) for w in model.trainable_weights}
    slots = [v for v in opt.variables if tuple(v.shape) in shapes]
    assert slots
    for slot in slots:
        start = opt.slot_initial_value(slot)
        assert np.all(slot.numpy()[1] == start)  # restart 1: back at the start
        assert np.all(np.isfinite(slot.numpy()))
        assert not np.all(slot.numpy()[[0, 2]] == start)  # the others: trained


def test_nan_without_trials_restarts_and_resets_the_optimizer(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    model = small_eql(steps_per_call=5)
    model.compile(optimizer=RMSprop(1e-2))
    fit_full_batch(model, x, y, 2)
    assert int(model.optimizer.iterations) == 10
    kernel = model.hidden[0].linear.kernel
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    recovery = NaNRecovery(seed=0)
    fit_full_batch(model, x, y, 1, callbacks=[recovery])
    assert recovery.restarts == 1
    assert int(model.optimizer.iterations) == 0
    for w in model.trainable_weights:
        assert np.all(np.isfinite(w.numpy())), w.path


def test_nan_recovery_stops_after_max_restarts(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    y_nan = np.full_like(y, np.nan)  # every restart fails on every batch
    model = small_eql(trials=2, steps_per_call=5)
    model.compile(optimizer=RMSprop(1e-2))
    recovery = NaNRecovery(max_restarts=3, seed=0)
    fit_full_batch(model, x, y_nan, 10, callbacks=[recovery])
    assert recovery.restarts == 4  # 2 per batch; stop once more than 3
    assert int(model.optimizer.iterations) == 2 * 5


@pytest.mark.parametrize("value", [-1, 1.5])
def test_nan_recovery_rejects_bad_max_restarts(value):
    with pytest.raises(ValueError, match="argument `max_restarts`"):
        NaNRecovery(max_restarts=value)
