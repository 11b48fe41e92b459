"""Benchmark helpers: domains, data from a known law, argument checks."""

import numpy as np
import pytest

from deepsymreg import benchmark, symbolic


@pytest.mark.parametrize("text", ["-1,1", (-1, 1), [-1.0, 1.0], " -1 , 1 "])
def test_parse_domain(text):
    assert benchmark.parse_domain(text) == (-1.0, 1.0)


def test_make_data_samples_the_law_on_the_domain():
    truth, symbols = symbolic.parse("x*y + 1", "x,y")
    x, y = benchmark.make_data(truth, symbols, (-2.0, 3.0), 500, rng=0)
    assert x.shape == (500, 2) and y.shape == (500,)
    assert x.dtype == y.dtype == np.float32
    assert x.min() >= -2 and x.max() <= 3 and x.min() < -1.9 and x.max() > 2.9
    np.testing.assert_allclose(y, x[:, 0] * x[:, 1] + 1, rtol=1e-5, atol=1e-6)


def test_make_data_noise_is_relative():
    truth, symbols = symbolic.parse("10*x", "x")
    x, clean = benchmark.make_data(truth, symbols, (-1, 1), 20000, rng=1)
    _, noisy = benchmark.make_data(truth, symbols, (-1, 1), 20000, noise=0.1, rng=1)
    assert np.std(noisy - clean) == pytest.approx(0.1 * np.std(clean), rel=0.05)


def test_make_data_rejects_laws_not_finite_on_the_domain():
    truth, symbols = symbolic.parse("log(x)", "x")
    with pytest.raises(ValueError, match="argument `expr`"):
        benchmark.make_data(truth, symbols, (-1, 1), 50, rng=0)


def test_model_settings_rejects_unknown_methods():
    with pytest.raises(ValueError, match="argument `regularization`.*'l7'"):
        benchmark.model_settings("l7")


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"n_train": 0}, "n_train"), ({"n_test": 2.5}, "n_test"), ({"noise": -0.1}, "noise")],
)
def test_run_benchmark_checks_arguments_before_training(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        benchmark.run_benchmark("x", "x", **kwargs)


def test_run_benchmark_rejects_an_unknown_rerun_rule():
    with pytest.raises(ValueError, match="argument `rerun_poor_fits`.*'sometimes'"):
        benchmark.run_benchmark("x", "x", rerun_poor_fits="sometimes")


@pytest.mark.parametrize("noise, given, expected", [
    (0.0, "auto", (0.01, 1)), (0.05, "auto", (0.06, 1)), (0.0, None, None), (0.0, (0.2, 3), (0.2, 3)),
])
def test_run_benchmark_resolves_the_rerun_rule(monkeypatch, noise, given, expected):
    # "auto": poor fits are those missing the training points by 1% beyond the noise.
    seen = {}
    monkeypatch.setattr(benchmark, "fit_restarts", lambda *a, **kw: seen.update(kw) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        benchmark.run_benchmark("x", "x", noise=noise, rerun_poor_fits=given)
    if expected is None:
        assert seen["rerun_poor_fits"] is None
    else:
        assert seen["rerun_poor_fits"] == pytest.approx(expected)


def test_l0_settings_train_on_raw_targets_with_wide_first_layer():
    settings, phases = benchmark.model_settings("l0")
    assert settings["regularizer"] == "l0" and settings["standardize"] is False
    assert settings["init_stddev"] == benchmark.L0_INIT_STDDEV
    # The penalty phase ends by fixing the gates; the last phase fine-tunes without penalty.
    assert phases[1].threshold is not None and phases[-1].reg_lambda == 0.0
    l05, _ = benchmark.model_settings("l05")
    assert "standardize" not in l05  # fit_restarts' default (standardized) for L0.5


def test_restart_steps_sum_each_method_s_phases():
    from deepsymreg.recipes import restart_steps

    for method in ("l05", "l0"):
        assert restart_steps(method) == sum(p.steps for p in benchmark.model_settings(method)[1])
    assert restart_steps("l05") != restart_steps("l0")
    with pytest.raises(ValueError, match="argument `regularization`"):
        restart_steps("l1")


def _trial(expression):
    from deepsymreg.restarts import TrialResult

    return TrialResult(seed=0, expression=expression, extrapolation_mse=1.0, train_mse=1.0,
                       complexity=99)


def test_polish_trial_refits_and_drops_a_small_look_alike_term():
    truth, symbols = symbolic.parse("x**2 + 0.5*x", "x")
    rng = np.random.default_rng(0)
    train = benchmark.make_data(truth, symbols, (-1, 1), 256, rng=rng)
    test = benchmark.make_data(truth, symbols, (-2, 2), 512, rng=rng)
    trial = _trial("0.9*x**2 + 0.5*x + 0.1*sin(x)")
    benchmark.polish_trial(trial, symbols, train, test)
    polished = symbolic.parse(trial.expression, "x")[0]
    assert not polished.has(symbolic.sympy.sin)
    assert trial.extrapolation_mse < 1e-8 and trial.train_mse < 1e-8
    assert trial.complexity == symbolic.complexity(polished) < 99


def test_polish_trial_with_refine_mends_an_inner_rate():
    # The law's form with its rate 10% off: the polish refits only the outer coefficient,
    # the refined read-out (run_benchmark's default) the rate too.
    truth, symbols = symbolic.parse("0.8*exp(1.4*x) - 0.5*x", "x")
    rng = np.random.default_rng(1)
    train = benchmark.make_data(truth, symbols, (-1, 1), 256, rng=rng)
    test = benchmark.make_data(truth, symbols, (-2, 2), 512, rng=rng)
    plain, refined = _trial("0.7*exp(1.26*x) - 0.5*x"), _trial("0.7*exp(1.26*x) - 0.5*x")
    benchmark.polish_trial(plain, symbols, train, test)
    benchmark.polish_trial(refined, symbols, train, test, refine=True)
    assert refined.extrapolation_mse < 1e-8 < plain.extrapolation_mse
    assert symbolic.judge(symbolic.parse(refined.expression, "x")[0], truth, symbols, (-2, 2))[0]


def test_polish_trial_with_prune_turns_a_look_alike_into_the_law():
    # A restart's refined read-out on an unseen law (set seed 0, law 28): the law's sine
    # term, with a quadratic, a line, a constant and a fast exponential standing in for
    # its exp(0.9*y). Pruning drops them one at a time while the exponential's rate moves.
    truth, symbols = symbolic.parse("1.7*y*sin(1.6*pi*x) - 0.9*exp(0.9*y)", "x,y")
    rng = np.random.default_rng(0)
    train = benchmark.make_data(truth, symbols, (-1, 1), 256, rng=rng)
    test = benchmark.make_data(truth, symbols, (-2, 2), 1024, rng=rng)
    read = ("-0.223573*y**2 + 1.69851*y*sin(1.60093*pi*x) - 0.706859*y "
            "- 0.0515571*exp(2.14416*y) - 0.85081")
    kept, pruned = _trial(read), _trial(read)
    benchmark.polish_trial(kept, symbols, train, test, refine=True)
    benchmark.polish_trial(pruned, symbols, train, test, refine=True, prune=True)
    judged = [symbolic.judge(symbolic.parse(t.expression, "x,y")[0], truth, symbols, (-2, 2),
                             tolerance=0.02)[0] for t in (kept, pruned)]
    assert judged == [False, True]
    assert pruned.extrapolation_mse < 1e-6 < kept.extrapolation_mse
    assert pruned.complexity < kept.complexity


def test_polish_trial_leaves_an_unreadable_equation_alone():
    truth, symbols = symbolic.parse("x", "x")
    data = benchmark.make_data(truth, symbols, (-1, 1), 32, rng=0)
    trial = _trial("nan ** (")
    benchmark.polish_trial(trial, symbols, data, data)
    assert (trial.expression, trial.extrapolation_mse, trial.complexity) == ("nan ** (", 1.0, 99)
