"""Step-indexed schedules: formulas, serialization, and values followed at every step of a
compiled loop (steps_per_call=500), read back from inside the loop."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import deepsymreg as dsr
from deepsymreg import schedules
from deepsymreg.callbacks import Phase, PhasedSchedule
from deepsymreg.data import repeated
from deepsymreg.optimizers import RMSprop

TOTAL = 1000


def one_cycle_rate(step, base=1e-3, total=TOTAL):
    r = step / total
    return base * (5 - 9.9 * abs(1.2 * r - 0.5)) if r <= 5 / 6 else 1e-4 * base


def one_cycle_strength(step, base=1e-2, total=TOTAL):
    r = step / total
    knee, end = 0.95 * 5 / 6, 5 / 6
    if r <= knee:
        return base * (2.4 * r) ** 2
    if r <= end:
        return base * (1.9**2 + (1 - 1.9**2) * (r - knee) / (end - knee))
    return base


@pytest.mark.parametrize("step", [0, 1, 250, 416, 417, 499, 500, 660, 661, 700, 833, 834, 999])
def test_one_cycle_formulas(step):
    rate = schedules.OneCycleRate(1e-3, TOTAL)
    lam = schedules.OneCycleStrength(1e-2, TOTAL)
    assert rate.value_at(step) == pytest.approx(one_cycle_rate(step), rel=1e-5)
    assert lam.value_at(step) == pytest.approx(one_cycle_strength(step), rel=1e-5, abs=1e-9)


def test_sin_squared_ramp_and_piecewise_phases():
    ramp = schedules.SinSquaredRamp(0.05, 100)
    assert ramp.value_at(0) == 0.0
    assert ramp.value_at(100) == pytest.approx(0.05 * np.sin(np.pi / 1.1) ** 2, rel=1e-5)
    curve = schedules.Piecewise([0, 100, 150], [ramp, 0.5, schedules.Constant(0.25)])
    assert curve.value_at(50) == pytest.approx(ramp.value_at(50))
    assert curve.value_at(100) == 0.5 and curve.value_at(149) == 0.5
    assert curve.value_at(150) == 0.25 and curve.value_at(10_000) == 0.25


@pytest.mark.parametrize("bad", [[1, 5], [0, 5, 5], [0, -1]])
def test_piecewise_rejects_bad_starts(bad):
    with pytest.raises(ValueError, match="starts"):
        schedules.Piecewise(bad, [1.0] * len(bad))


def test_schedules_round_trip_through_keras_serialization():
    curve = schedules.Piecewise([0, 10], [schedules.OneCycleRate(1e-3, 10), 2.0])
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(curve))
    assert [clone.value_at(s) for s in (0, 5, 12)] == [curve.value_at(s) for s in (0, 5, 12)]


class TracedL1(dsr.L1):
    """L1 that writes the strength it computes with into ``trace[step]`` (in the graph)."""

    def __init__(self, n):
        super().__init__()
        self.trace = tf.Variable(tf.fill([n], -1.0), trainable=False)

    def strength(self, dtype="float32"):
        value = dsr.regularizers.StrengthRegularizer.strength(self, dtype)
        step = tf.cast(self._step, tf.int32) if self._step is not None else 0
        self.trace.scatter_nd_update([[step]], tf.reshape(tf.cast(value, tf.float32), [1]))
        return value


@keras.saving.register_keras_serializable(package="deepsymreg_tests")
class TracedRate(schedules.StepSchedule):
    """A rate schedule that records what the optimizer asks of it, per step."""

    def __init__(self, inner, trace):
        self.inner, self.trace = inner, trace

    def __call__(self, step):
        value = self.inner(step)
        self.trace.scatter_nd_update([[tf.cast(step, tf.int32)]], tf.reshape(value, [1]))
        return value

    def get_config(self):
        return {}


def test_one_cycle_followed_at_every_step_with_500_steps_per_call():
    reg = TracedL1(TOTAL)
    model = dsr.EQL(n_outputs=1, depth=1, primitives=["identity", "square"], regularizer=reg,
                    steps_per_call=500, seed=0)
    model.compile(optimizer=RMSprop(1e-3), jit_compile=True)
    rate_trace = tf.Variable(tf.fill([TOTAL], -1.0), trainable=False)
    rate = TracedRate(schedules.OneCycleRate(1e-3, TOTAL), rate_trace)
    phased = PhasedSchedule([Phase(TOTAL, rate, schedules.OneCycleStrength(1e-2, TOTAL))])
    x = np.random.default_rng(0).uniform(-1, 1, (64, 2)).astype("float32")
    y = x[:, :1] ** 2
    model.fit(repeated((x, y)), epochs=1, steps_per_epoch=2,
              shuffle=False, callbacks=[phased], verbose=0)
    assert int(model.optimizer.iterations) == TOTAL
    lam, lr = reg.trace.numpy(), rate_trace.numpy()
    for step in range(TOTAL):  # every step, not 500-step stairs
        assert lr[step] == pytest.approx(one_cycle_rate(step), rel=1e-5), step
        assert lam[step] == pytest.approx(one_cycle_strength(step), rel=1e-5, abs=1e-9), step
    # Between batches reg_lambda shows the strength of the next step.
    assert float(model.reg_lambda.numpy()) == pytest.approx(one_cycle_strength(TOTAL - 1), rel=1e-5)


class TracedSmoothness(dsr.AdjacentSmoothness):
    """AdjacentSmoothness that records its strength per step, as TracedL1 does."""

    def __init__(self, n):
        super().__init__(axis=-3)
        self.trace = tf.Variable(tf.fill([n], -1.0), trainable=False)

    strength = TracedL1.strength


class StepsModel(keras.Model):
    def __init__(self, sparsity, smoothness):
        super().__init__()
        self.linear = dsr.MaskedDense(1, t_steps=3, kernel_regularizer=sparsity,
                                      smoothness_regularizer=smoothness)

    def call(self, x):
        return tf.reduce_mean(self.linear(x), axis=0)


def test_two_named_strengths_follow_their_own_curves():
    n1, n2 = 12, 18
    sparsity, smoothness = TracedL1(n1 + n2), TracedSmoothness(n1 + n2)
    model = StepsModel(sparsity, smoothness)
    model.compile(optimizer=RMSprop(1e-3), loss="mse", jit_compile=True)
    ramp = schedules.SinSquaredRamp(0.3, n2)
    phased = PhasedSchedule([
        Phase(n1, 1e-3, schedules.OneCycleStrength(1e-2, n1), strengths={"smoothness": 0.5}),
        Phase(n2, 1e-3, 0.0, strengths={"smoothness": ramp}),
    ])
    x = np.random.default_rng(0).uniform(-1, 1, (16, 4)).astype("float32")
    history = model.fit(x, x[:, :1], batch_size=16, epochs=n1 + n2, shuffle=False,
                        callbacks=[phased], verbose=0)
    lam, theta = sparsity.trace.numpy(), smoothness.trace.numpy()
    for step in range(n1 + n2):
        want_lam = schedules.OneCycleStrength(1e-2, n1).value_at(step) if step < n1 else 0.0
        want_theta = 0.5 if step < n1 else ramp.value_at(step - n1)
        assert lam[step] == pytest.approx(want_lam, rel=1e-5, abs=1e-9), step
        assert theta[step] == pytest.approx(want_theta, rel=1e-5, abs=1e-9), step
    assert history.history["smoothness"][-1] == pytest.approx(ramp.value_at(n2 - 1), rel=1e-5)


def test_phase_rejects_bad_strengths():
    with pytest.raises(ValueError, match="strengths"):
        Phase(10, 1e-3, strengths={"sparsity": 0.1})
    with pytest.raises(ValueError, match="smoothness"):
        Phase(10, 1e-3, strengths={"smoothness": -1.0})
    with pytest.raises(ValueError, match="quantity"):
        PhasedSchedule([Phase(10, 1e-3)]).curve("theta")


def test_one_cycle_callback_drives_any_keras_model_and_logs_per_epoch():
    """OneCycle on a plain Dense model: the optimizer's rate is the formula at every step,
    and History holds the values of each epoch's last step."""
    from deepsymreg import OneCycle

    total, per_epoch = 40, 8
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.ones((4, 2), "float32")
    cycle = OneCycle(total, base_rate=1e-2, base_lambda=1e-3, smoothness=0.5)
    data = repeated((x, x[:, :1]))
    history = model.fit(data, epochs=10, steps_per_epoch=per_epoch, callbacks=[cycle], shuffle=False,
                        verbose=0)
    assert len(history.history["learning_rate"]) == total // per_epoch  # stops at total_steps
    for epoch, lr in enumerate(history.history["learning_rate"]):
        r = ((epoch + 1) * per_epoch - 1) / total
        want = 1e-2 * (5 - 9.9 * abs(1.2 * r - 0.5)) if r <= 5 / 6 else 1e-6
        assert lr == pytest.approx(want, rel=1e-5)
    last = total - 1
    assert history.history["smoothness"][-1] == pytest.approx(0.5 * history.history["reg_lambda"][-1])
    assert history.history["reg_lambda"][-1] == pytest.approx(
        schedules.OneCycleStrength(1e-3, total).value_at(last), rel=1e-5)
    with pytest.raises(ValueError, match="total_steps"):
        OneCycle(0)
    with pytest.raises(ValueError, match="smoothness"):
        OneCycle(10, smoothness=-1.0)
