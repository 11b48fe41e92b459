"""Random restarts: choosing the best one, and a short end-to-end discovery."""

import math

import numpy as np
import pytest

from deepsymreg import symbolic
from deepsymreg.recipes import paper_schedule
from deepsymreg.restarts import TrialResult, fit_restarts, select_best


def trial(seed, mse, complexity):
    return TrialResult(seed=seed, expression=f"e{seed}", extrapolation_mse=mse,
                       train_mse=mse / 2, complexity=complexity)


def test_select_best_picks_the_lowest_extrapolation_error():
    results = [trial(0, 0.5, 3), trial(1, 0.01, 30), trial(2, 0.2, 5)]
    assert select_best(results).seed == 1


def test_select_best_prefers_the_simplest_among_near_ties():
    results = [trial(0, 0.010, 30), trial(1, 0.014, 7), trial(2, 0.012, 9), trial(3, 0.5, 3)]
    assert select_best(results).seed == 1


def test_select_best_tie_is_relative_to_the_best_error():
    results = [trial(0, 0.010, 30), trial(1, 0.016, 7)]  # 1.6x: not a tie
    assert select_best(results).seed == 0
    assert select_best(results, tie_factor=2.0).seed == 1


def test_select_best_breaks_equal_complexity_by_error():
    results = [trial(0, 0.012, 7), trial(1, 0.010, 7)]
    assert select_best(results).seed == 1


def test_select_best_ignores_non_finite_errors():
    results = [trial(0, math.inf, 1), trial(1, math.nan, 1), trial(2, 3.0, 50)]
    assert select_best(results).seed == 2


def test_select_best_without_finite_errors_takes_the_simplest():
    results = [trial(0, math.inf, 9), trial(1, math.nan, 4)]
    assert select_best(results).seed == 1


def test_select_best_needs_results():
    with pytest.raises(ValueError, match="argument `results`"):
        select_best([])


@pytest.mark.parametrize(
    "change, argument",
    [
        ({"x": np.zeros((5, 2))}, "`x`, `y`"),
        ({"y": np.full(8, np.nan)}, "`x`, `y`"),
        ({"trials": 0}, "`trials`"),
        ({"workers": 0}, "`workers`"),
    ],
)
def test_fit_restarts_checks_its_arguments(change, argument):
    args = dict(x=np.zeros((8, 2)), y=np.zeros(8), x_test=np.zeros((4, 2)), y_test=np.zeros(4))
    args.update(change)
    with pytest.raises(ValueError, match=f"argument[s]? {argument}"):
        fit_restarts(**args)


def test_discovers_a_linear_law_end_to_end():
    """y = 2 x0 - x1 from 256 points: 3000 XLA steps for 4 restarts, best one judged."""
    truth, symbols = symbolic.parse("2*x0 - x1", "x0,x1")
    law = symbolic.to_numpy_function(truth, symbols)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 2))
    x_test = rng.uniform(-2, 2, (512, 2))
    results = fit_restarts(
        x, law(x), x_test, law(x_test),
        trials=4, seed=0, var_names=["x0", "x1"], steps_per_call=500,
        schedule=paper_schedule(steps=(500, 1500, 1000)),
    )
    assert [r.seed for r in results] == [0, 1, 2, 3]
    best = select_best(results)
    found, _ = symbolic.parse(best.expression, "x0,x1")
    ok, nrmse = symbolic.judge(found, truth, symbols, (-2, 2))
    assert ok, (best.expression, nrmse)
    assert best.extrapolation_mse < 1e-3
    assert found.free_symbols == set(symbols)


def test_seeded_l0_restarts_repeat_exactly():
    """The gate noise is seeded too: the same call gives the same restarts."""
    from deepsymreg.callbacks import Phase

    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (64, 2))
    y = x[:, 0] * x[:, 1]
    xt = rng.uniform(-2, 2, (64, 2))

    def run(seed):
        return fit_restarts(
            x, y, xt, xt[:, 0] * xt[:, 1], trials=2, seed=seed, var_names=["a", "b"],
            regularizer="l0", steps_per_call=50,
            schedule=[Phase(100, 1e-2, 1e-2, threshold=0.01), Phase(50, 1e-3, 0.0)],
        )

    first, again = run(0), run(0)
    assert [(r.expression, r.train_mse) for r in first] == [
        (r.expression, r.train_mse) for r in again]


def _short_l0_restarts(**kwargs):
    """Two L0 restarts of 150 steps on x0 * x1: too short to fit it well (no XLA: its
    compilation for every attempt would cost more than the steps)."""
    from deepsymreg.callbacks import Phase

    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (64, 2))
    xt = rng.uniform(-2, 2, (64, 2))
    return fit_restarts(
        x, x[:, 0] * x[:, 1], xt, xt[:, 0] * xt[:, 1], trials=2, seed=0, var_names=["a", "b"],
        regularizer="l0", steps_per_call=50, jit_compile=False,
        schedule=[Phase(100, 1e-2, 1e-2, threshold=0.01), Phase(50, 1e-3, 0.0)], **kwargs)


def test_poor_fits_are_rerun_and_the_best_attempt_is_kept():
    plain = _short_l0_restarts()
    # A tolerance no 150-step fit meets: every restart is re-run twice.
    rerun = _short_l0_restarts(rerun_poor_fits=(1e-9, 2))
    assert [r.refit_reruns for r in plain] == [0, 0]
    assert [r.refit_reruns for r in rerun] == [2, 2]
    for first, best in zip(plain, rerun):
        # The first attempt is the plain restart; the kept one fits at least as well.
        assert best.train_mse <= first.train_mse
        assert best.seed == first.seed or best.train_mse < first.train_mse


def test_good_fits_are_not_rerun():
    plain = _short_l0_restarts()
    lenient = _short_l0_restarts(rerun_poor_fits=(1e6, 3))
    assert [(r.seed, r.expression, r.train_mse, r.refit_reruns) for r in lenient] == [
        (r.seed, r.expression, r.train_mse, 0) for r in plain]


@pytest.mark.parametrize("value", [(0.0, 1), (0.01,), (0.01, -1), 0.01, (0.01, 1.5)])
def test_rerun_poor_fits_is_checked(value):
    with pytest.raises(ValueError, match="rerun_poor_fits"):
        _short_l0_restarts(rerun_poor_fits=value)
