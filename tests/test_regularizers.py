"""Sparsity penalties: the paper's formulas, a variable lambda, configs and errors.

Lambda and ``a`` are float32 (the training precision), hence rtol=1e-6 in float64 checks.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from deepsymreg import L1, Lq, SmoothL05, regularizers


def smooth_l05_by_hand(w, a):
    """Kim et al. (2020), eq. 3."""
    w = np.abs(np.asarray(w, dtype=float))
    small = np.minimum(w, a)  # the polynomial is only used (and only positive) below a
    inner = -(small**4) / (8 * a**3) + 3 * small**2 / (4 * a) + 3 * a / 8
    return np.where(w >= a, np.sqrt(w), np.sqrt(inner))


def _penalty(reg, w):
    return reg.penalty(tf.constant(w, tf.float64)).numpy()


@pytest.mark.parametrize("a", [0.01, 0.1])
def test_smooth_l05_matches_paper_on_both_sides_of_a(a):
    w = np.array([-1.7, -0.4, -a, -0.6 * a, -0.1 * a, 0.0, 0.3 * a, 0.999 * a, a, 2 * a, 0.9])
    reg = SmoothL05(reg_lambda=1.0, a=a)
    np.testing.assert_allclose(_penalty(reg, w), smooth_l05_by_hand(w, a), rtol=1e-6)
    assert np.any(np.abs(w) < a) and np.any(np.abs(w) > a)


def test_smooth_l05_value_is_lambda_times_sum():
    w = np.array([[0.04, -0.09], [0.005, 0.0]])
    reg = SmoothL05(reg_lambda=0.3)
    expected = 0.3 * smooth_l05_by_hand(w, 0.01).sum()
    np.testing.assert_allclose(float(reg(tf.constant(w, tf.float64))), expected, rtol=1e-6)


def test_smooth_l05_at_zero_is_sqrt_of_3a_over_8():
    reg = SmoothL05(reg_lambda=1.0, a=0.01)
    np.testing.assert_allclose(_penalty(reg, [0.0]), [np.sqrt(3 * 0.01 / 8)], rtol=1e-6)


def test_smooth_l05_and_its_slope_are_continuous_at_a():
    a, eps = 0.01, 1e-9
    reg = SmoothL05(reg_lambda=1.0, a=a)
    w = tf.Variable([a - eps, a + eps, -a + eps, -a - eps], dtype=tf.float64)
    with tf.GradientTape() as tape:
        p = reg.penalty(w)
    value, slope = p.numpy(), tape.jacobian(p, w).numpy().diagonal()
    np.testing.assert_allclose(value, np.sqrt(a), rtol=1e-6)
    # d sqrt(|w|) / dw = sign(w) / (2 sqrt(a)) at |w| = a on both pieces.
    np.testing.assert_allclose(slope, [5.0, 5.0, -5.0, -5.0], rtol=1e-5)


@pytest.mark.parametrize(
    "reg", [SmoothL05(1.0), Lq(1.0, q=0.5), Lq(1.0, q=0.3), L1(1.0)], ids=["l05", "l0.5", "l0.3", "l1"]
)
def test_gradient_is_finite_at_zero_under_xla(reg):
    w = tf.Variable([0.0, -0.0, 1e-12, 0.005, -0.3])

    @tf.function(jit_compile=True)
    def grad():
        with tf.GradientTape() as tape:
            loss = reg(w)
        return tape.gradient(loss, w)

    g = grad().numpy()
    assert np.all(np.isfinite(g)), g
    assert g[0] == 0.0 and g[1] == 0.0


@pytest.mark.parametrize("q", [0.3, 0.7, 2.0])
def test_lq_values(q):
    w = np.array([-1.5, -0.2, 0.0, 0.04, 3.0])
    reg = Lq(reg_lambda=0.5, q=q)
    np.testing.assert_allclose(_penalty(reg, w), np.abs(w) ** q, rtol=1e-6)
    np.testing.assert_allclose(
        float(reg(tf.constant(w, tf.float64))), 0.5 * np.sum(np.abs(w) ** q), rtol=1e-6
    )


def test_l1_value():
    w = np.array([[-1.5, 0.25], [0.0, 2.0]])
    np.testing.assert_allclose(float(L1(reg_lambda=0.1)(tf.constant(w))), 0.375, rtol=1e-6)


def test_lambda_is_a_variable_seen_by_a_traced_function():
    reg = L1(reg_lambda=1.0)
    w = tf.constant([1.0, -2.0])
    traced = tf.function(lambda: reg(w))
    assert float(traced()) == 3.0
    reg.reg_lambda.assign(0.5)
    assert float(traced()) == 1.5
    assert reg.get_config()["reg_lambda"] == 0.5


@pytest.mark.parametrize(
    "reg", [SmoothL05(0.25, a=0.05), Lq(0.5, q=0.7), L1(2.0)], ids=["l05", "lq", "l1"]
)
def test_config_round_trip(reg):
    w = tf.constant([-0.3, 0.001, 0.0, 0.8])
    clone = type(reg).from_config(reg.get_config())
    assert clone.get_config() == reg.get_config()
    restored = keras.regularizers.deserialize(keras.regularizers.serialize(reg))
    assert type(restored) is type(reg)
    for other in (clone, restored):
        assert other.reg_lambda is not reg.reg_lambda
        np.testing.assert_allclose(float(other(w)), float(reg(w)), rtol=1e-7)


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: SmoothL05(reg_lambda=-1.0), "reg_lambda"),
        (lambda: SmoothL05(reg_lambda="big"), "reg_lambda"),
        (lambda: SmoothL05(a=0.0), "a"),
        (lambda: SmoothL05(a=-0.01), "a"),
        (lambda: Lq(q=0.0), "q"),
        (lambda: Lq(q=-0.5), "q"),
        (lambda: L1(reg_lambda=None), "reg_lambda"),
    ],
)
def test_invalid_arguments_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        make()


@pytest.mark.parametrize(
    "alias, cls", [("l05", SmoothL05), ("smooth_l05", SmoothL05), ("L1", L1), ("lq", Lq)]
)
def test_get_resolves_aliases_with_lambda(alias, cls):
    reg = regularizers.get(alias, reg_lambda=0.125)
    assert type(reg) is cls
    assert float(reg.reg_lambda.numpy()) == 0.125


def test_get_passes_instances_none_and_configs():
    reg = L1(0.5)
    assert regularizers.get(reg) is reg
    assert regularizers.get(None) is None
    restored = regularizers.get(keras.regularizers.serialize(SmoothL05(0.2, a=0.05)))
    assert isinstance(restored, SmoothL05) and restored.a == 0.05


def test_get_rejects_unknown_names():
    with pytest.raises(ValueError, match="argument `regularizer`.*'l2'"):
        regularizers.get("l2")


def test_stack_scale_weights_each_stacked_set():
    w = tf.constant(np.arange(1, 13, dtype="float32").reshape(3, 2, 2))
    reg = L1(reg_lambda=0.5, stack_scale=[1.0, 0.0, 2.0])
    per_set = np.abs(w.numpy()).reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(float(reg(w)), 0.5 * (per_set[0] + 2 * per_set[2]))
    with pytest.raises(ValueError, match="stack_scale"):
        reg(tf.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="stack_scale"):
        L1(stack_scale=[-1.0])
    assert L1.from_config(reg.get_config()).stack_scale == [1.0, 0.0, 2.0]


def test_lambda_scales_cycle_over_a_log_even_grid():
    from deepsymreg.restarts import lambda_scales

    assert lambda_scales(5, 1.0) == [1.0] * 5
    scales = lambda_scales(8, 16.0)
    np.testing.assert_allclose(scales[:4], [0.25, 0.25 * 16 ** (1 / 3), 0.25 * 16 ** (2 / 3), 4.0])
    assert scales[4:] == scales[:4]
