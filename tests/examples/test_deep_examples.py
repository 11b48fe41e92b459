"""The deep-model examples run their quick path end to end on tiny settings.

These check the plumbing and the report (JSON schema, printed comparison with the
paper, figure); the science is checked by the full and quick runs recorded in
docs/results.md.
"""

import json
import math

import numpy as np

import pytest
from tests.scripts import load_script


def _load(name):
    return load_script(f"examples/{name}.py")


def _finite(x):
    return isinstance(x, float) and math.isfinite(x)


# Kinematics without its ReLU baseline (`--baseline none`), the oscillator with both
# of its baselines: one run of each example covers the option and the baselines.
@pytest.mark.parametrize("name, options, baselines", [
    ("kinematics", ["--baseline", "none"], {"eql"}),
    ("sho", [], {"eql", "relu", "euler"}),
])
def test_dynamics_example_quick_path(name, options, baselines, tmp_path, capsys):
    out, fig = tmp_path / "r.json", tmp_path / "f.png"
    code = _load(name).main(["--quick", "--fraction", "0.002", "--restarts", "1",
                             "--json", str(out), "--figure", str(fig)] + options)
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert result["experiment"] == name and result["quick"] is True
    assert result["data_source"].startswith("generated")
    assert -1.0 <= result["latent_correlation"] <= 1.0
    assert set(result["extrapolation_mse"]) == baselines
    assert result["extrapolation_steps"] == 2 * (5 if name == "kinematics" else 25)
    assert {"true_u", "true_v", "expected_u", "expected_v", "eql_u", "eql_v", "paper_u",
            "paper_v"} <= set(result["equations"])
    assert result["equations"]["paper_u"] in printed  # printed beside ours
    assert "latent fit" in printed and fig.stat().st_size > 10_000
    if name == "sho":  # Euler needs no training: its error is a real number
        assert _finite(result["extrapolation_mse"]["euler"])


def test_dynamics_example_rejects_bad_restarts():
    with pytest.raises(SystemExit):
        _load("sho").main(["--restarts", "0"])


def test_mnist_example_quick_path(tmp_path, capsys):
    out, fig = tmp_path / "m.json", tmp_path / "m.png"
    code = _load("mnist_arithmetic").main(
        ["--quick", "--fraction", "0.01", "--n-eval", "200", "--source", "sklearn",
         "--trials", "1", "--retrains", "0", "--json", str(out), "--figure", str(fig)]
    )
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert "scikit-learn" in result["data_source"] and "scikit-learn" in printed
    assert result["steps"] == 15 + 3
    for key in ("train_digits", "test_digits"):
        assert 0.0 <= result["accuracy"][key] <= 1.0 and _finite(result["mae"][key])
    for head in ("eql", "relu"):
        assert set(result["generalization"][head]) == {"lt15", "ge15"}
        assert set(result["generalization_test_digits"][head]) == {"lt15", "ge15"}
    assert {"true", "expected", "eql", "eql_lt15", "paper"} <= set(result["equations"])
    assert "-1.809 z1 - 1.802 z2 + 9" in printed
    assert fig.stat().st_size > 10_000


def test_mnist_example_portfolio_of_heads(tmp_path, capsys):
    out = tmp_path / "m.json"
    code = _load("mnist_arithmetic").main(
        ["--quick", "--fraction", "0.01", "--n-eval", "100", "--source", "sklearn",
         "--baseline", "none", "--trials", "2", "--select", "held-out", "--retrains", "0",
         "--json", str(out),
         "--figure", str(tmp_path / "m.png")]
    )
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert result["trials"] == 2 and result["select_sums"] == [13, 15]
    for key in ("all_pairs", "lt15"):
        sel = result["selection"][key]
        maes = [m if m is not None else float("inf") for m in sel["mae"]]
        assert len(maes) == 2 and sel["trial"] == int(np.argmin(maes))
        assert len(sel["equations"]) == 2
    assert "2 heads trained on sums < 13" in printed
    with pytest.raises(ValueError, match="`select_sums`"):
        from deepsymreg.experiments import run_arithmetic
        run_arithmetic(quick=True, select_sums=(14, 16))


def test_mnist_example_defaults_to_8_heads_and_the_simplest_choice(tmp_path, capsys):
    # Table II only (the all-pairs head trains with the same defaults: the portfolio
    # test covers its selection), so the test trains 8 heads twice, not four times.
    out = tmp_path / "m.json"
    code = _load("mnist_arithmetic").main(
        ["--quick", "--fraction", "0.01", "--n-eval", "100", "--source", "sklearn",
         "--baseline", "none", "--table-two-only", "--json", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert result["trials"] == 8
    assert result["select_sums"] is None and result["select_near"] == 0.1
    assert result["retrain_above"] == [0.1, 1]  # 18 steps fit poorly: trained twice
    assert result["retrains"] == {"lt15": 1}
    assert len(result["retrain_maes_lt15"]) == 2 and "trained 2 times" in printed
    sel = result["selection"]["lt15"]
    maes = np.array([m if m is not None else np.inf for m in sel["mae"]])
    assert len(maes) == 8 and maes[sel["trial"]] <= 1.1 * maes.min()  # among the near ties
    assert "8 heads trained on sums < 15" in printed and "simplest within 0.1" in printed
    # Table II only: no latent fit, no all-pairs equation, no figure.
    assert result["table_one"] is False and "Table I: not run" in printed
    assert result["latent_fit"] is None and result["equations"]["eql"] is None
    assert result["equations"]["eql_lt15"] is not None
    assert set(result["generalization"]["eql"]) == {"lt15", "ge15"}
    for digits in ("train_digits", "test_digits"):  # the polished Table II equation
        assert all(0.0 <= v <= 1.0 for v in result["generalization_polished"][digits].values())
    assert result["equations"]["eql_lt15_polished"] and "EQL polished" in printed
    assert not (tmp_path / "mnist_arithmetic.png").exists()
    with pytest.raises(SystemExit):
        _load("mnist_arithmetic").main(["--quick", "--trials", "0"])
    from deepsymreg.experiments import run_arithmetic
    with pytest.raises(ValueError, match="`figure`"):
        run_arithmetic(quick=True, table_one=False, figure="f.png")


def test_mnist_retrains_a_poorly_fitting_model_and_keeps_the_better():
    from deepsymreg import experiments
    from deepsymreg.data.digits import digit_pairs, load_digits
    from deepsymreg.recipes import arithmetic_recipe
    from deepsymreg.models.arithmetic import DigitArithmetic

    digits = load_digits("sklearn", seed=0)
    recipe = arithmetic_recipe(1.0, (8, 2), batch_size=16)
    lines = []

    def make(s):
        return DigitArithmetic(head="eql", eql={**recipe.eql, "seed": s}, trials=2)

    # 10 steps cannot fit the sums to a MAE of 0.1: both attempts run, the better is kept.
    model, info = experiments._fit_eql_arithmetic(make, digits, recipe, 5, None, lines.append,
                                                  (0.1, 1), max_sum=15, keep=lambda t: t < 15)
    assert info["retrains"] == 1 and len(info["maes"]) == 2
    assert all(m > 0.1 for m in info["maes"]) and "training again from seed 1005" in lines[0]
    first, second, total, _, _ = digit_pairs(digits.x_train, digits.y_train, 2000, seed=12,
                                             keep=lambda t: t < 15)
    kept = float(np.min(model.trial_errors(np.stack([first, second], axis=1), total)))
    assert kept == pytest.approx(min(info["maes"]), rel=1e-5)
    # A lenient threshold: one training, no message.
    _, info = experiments._fit_eql_arithmetic(make, digits, recipe, 5, None, lines.append,
                                              (100.0, 3), max_sum=15, keep=lambda t: t < 15)
    assert info["retrains"] == 0 and len(lines) == 1
    for bad in ((0.0, 1), (0.1, -1), (0.1, 1.5), 0.1):
        with pytest.raises(ValueError, match="`retrain_above"):
            experiments.run_arithmetic(quick=True, retrain_above=bad)
    with pytest.raises(SystemExit):
        _load("mnist_arithmetic").main(["--quick", "--retrains", "-1"])
