"""SymbolicRegressor: a scikit-learn estimator over the EQL restarts."""

import pickle

import numpy as np
import pytest
import sympy

from deepsymreg.estimator import SymbolicRegressor

FAST = dict(trials=2, steps=300, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"T [K]": rng.uniform(300, 400, 80), "E": rng.uniform(1, 5, 80)})
    y = pd.Series(0.01 * X["T [K]"] * X["E"], name="power")
    est = SymbolicRegressor(**{**FAST, "steps": 3000}).fit(X, y)
    assert est.best_["complexity"] > 1  # a trained restart, not the constant baseline
    return est, X, y


def test_table_names_and_units(fitted):
    est, X, y = fitted
    table = est.equations_
    assert {"equation", "complexity", "loss", "validation_loss", "score", "restarts"} <= set(table.columns)
    # Two restarts and the constant baseline; a restart counts once per form it gave
    # (its raw equation and, where different, the polished one).
    assert table["restarts"].sum() >= 2 + 1 and table["restarts"].max() <= 2
    expr = est.sympy()
    # Column names stay the user's, even those SymPy reserves (E) or cannot parse.
    assert {s.name for s in expr.free_symbols} <= {"T [K]", "E"}
    assert sympy.Symbol("E") != sympy.E
    pred = est.predict(X)
    f = sympy.lambdify(sorted(expr.free_symbols, key=lambda s: s.name != "T [K]"), expr, "numpy")
    if expr.free_symbols == {sympy.Symbol("T [K]"), sympy.Symbol("E")}:
        np.testing.assert_allclose(pred, f(X["T [K]"].to_numpy(), X["E"].to_numpy()), rtol=1e-6)
    assert est.best_["equation"] == str(expr)
    assert pred.shape == (80,) and np.all(np.isfinite(pred))
    assert est.target_names_ == ["power"]


def test_save_load_and_pickle_predict_identically(fitted, tmp_path):
    est, X, _ = fitted
    est.save(tmp_path / "fit")
    # The network of the chosen restart goes along; a row no restart gave (the constant
    # baseline, the power-law candidate) has none.
    network = ["network.keras"] if est.best_["seed"] is not None and est.best_["complexity"] > 1 else []
    assert sorted(p.name for p in (tmp_path / "fit").iterdir()) == [
        "equations.csv", "estimator.json", *network
    ]
    loaded = SymbolicRegressor.load(tmp_path / "fit")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert str(loaded.sympy()) == str(est.sympy())
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.predict(X), est.predict(X))
    with pytest.raises(ValueError, match="already exists"):
        est.save(tmp_path / "fit")


def test_network_of_the_chosen_restart(fitted):
    est, X, _ = fitted
    network = est.network_
    if est.best_["seed"] is None:  # the power-law candidate, which no restart reached
        assert network is None and est.best_["restarts"] == 0
    elif est.best_["complexity"] > 1:  # the constant baseline has no network
        x = (X.to_numpy() - est.x_center_) / est.x_scale_
        out = network.predict(x.astype("float32"), verbose=0)
        assert out.shape == (80, 1) and np.all(np.isfinite(out))


def test_constant_target_is_its_own_law():
    X = np.random.default_rng(1).normal(size=(30, 2))
    est = SymbolicRegressor(**FAST).fit(X, np.full(30, 2.5))
    assert float(est.sympy()) == 2.5
    np.testing.assert_allclose(est.predict(X), 2.5)


@pytest.mark.parametrize("name, value", [
    ("trials", 0), ("regularization", "l2"), ("model_selection", "simplest"),
    ("validation_fraction", 1.0), ("primitives", "nonsense"), ("max_seconds", -1.0),
    ("jit_compile", "yes"), ("polish", 1),
])
def test_bad_parameters_name_themselves(name, value):
    X = np.random.default_rng(1).normal(size=(20, 2))
    with pytest.raises(ValueError, match=f"argument `{name}`"):
        SymbolicRegressor(**{**FAST, name: value}).fit(X, X[:, 0])


def test_without_xla_the_same_restarts_up_to_rounding(monkeypatch):
    from deepsymreg.models.eql import EQL

    compiled = []
    compile_ = EQL.compile

    def recording_compile(self, *args, **kwargs):
        compiled.append(kwargs.get("jit_compile"))
        return compile_(self, *args, **kwargs)

    monkeypatch.setattr(EQL, "compile", recording_compile)
    # jit_compile only changes how the steps run: the same seeds train the same
    # networks (XLA fuses and orders its float32 sums differently). Short: over a few
    # hundred steps rounding can tip a weight across the freezing threshold.
    X = np.random.default_rng(2).uniform(-1, 1, (64, 2))
    y = 1.5 * X[:, 0] * X[:, 1] - X[:, 1]
    settings = dict(trials=1, steps=60, depth=1, primitives=["identity", "product"],
                    polish=False, validation_fraction=0.0)
    out = []
    for jit in (True, False):
        est = SymbolicRegressor(**settings, jit_compile=jit).fit(X, y)
        x = (X - est.x_center_) / est.x_scale_  # the inputs as the network saw them
        out.append(est.network_.predict(x.astype("float32"), verbose=0))
    assert compiled == [True, False]
    assert np.std(out[0]) > 0.1  # a trained network, not a constant
    np.testing.assert_allclose(out[1], out[0], rtol=1e-4, atol=1e-4 * np.std(y))


def test_index_out_of_range(fitted):
    est, X, _ = fitted
    with pytest.raises(ValueError, match="argument `index`"):
        est.predict(X, index=99)


def test_range_scaling_reports_the_law_in_user_units():
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 5, (60, 2))
    y = 2.0 * X[:, 0] - X[:, 1] + 1.0
    est = SymbolicRegressor(**{**FAST, "steps": 2000, "input_scaling": "range"}).fit(X, y)
    np.testing.assert_allclose(est.x_center_, (X.min(0) + X.max(0)) / 2, rtol=0.2)
    # Whatever the chosen equation, it is written in the user's variables and predicts
    # the same values as the network's training view of the data.
    assert est.sympy().free_symbols <= {sympy.Symbol("x0"), sympy.Symbol("x1")}
    if est.best_["complexity"] > 1:
        x = ((X - est.x_center_) / est.x_scale_).astype("float32")
        net = est.network_.predict(x, verbose=0)[:, 0]
        pred = est.predict(X)
        assert np.corrcoef(net, pred)[0, 1] > 0.99


def test_a_product_of_powers_on_physical_ranges_is_chosen_in_user_units():
    # n*T/V with T in kelvin: the log-log candidate (symbolic.power_law) finds the form
    # whatever the network does in its few steps; 1% noise. A small network: its raw
    # equations only have to be beaten (reading long ones is tested elsewhere).
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.uniform(1, 3, 120), rng.uniform(300, 400, 120), rng.uniform(1, 3, 120)])
    y = 0.0821 * X[:, 0] * X[:, 1] / X[:, 2]
    y = y * (1 + 0.01 * rng.normal(size=120))
    est = SymbolicRegressor(**FAST, depth=1, primitives=["identity", "sin", "product"]).fit(X, y)
    n, T, V = sympy.symbols("x0 x1 x2")
    expr = est.sympy()
    assert sympy.simplify(expr / (n * T / V)).is_number
    assert float(sympy.simplify(expr / (n * T / V))) == pytest.approx(0.0821, rel=0.01)
    assert est.best_["equation"] == str(expr)


def test_sample_weights_leave_out_rows_of_weight_zero():
    # A third of the rows are corrupted (y = 5) and weighted 0: the weighted fit chooses
    # the law of the others, with validation losses that ignore the corrupted rows.
    # 1000 steps: at 300 the thresholding phase is too short to prune to 2*x0 on every
    # CPU's numerics (seen on an AMX/AVX512-FP16 machine).
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (90, 2))
    y = 2.0 * X[:, 0]
    bad = np.arange(90) % 3 == 0
    y[bad] = 5.0
    est = SymbolicRegressor(**{**FAST, "steps": 1000}).fit(X, y, sample_weight=(~bad).astype(float))
    x0 = sympy.Symbol("x0")
    assert est.sympy().free_symbols == {x0}
    assert float(est.sympy().coeff(x0)) == pytest.approx(2.0, rel=0.01)
    assert est.best_["validation_loss"] < 1e-4
    np.testing.assert_allclose(est.predict(X[~bad]), y[~bad], atol=0.05)


@pytest.mark.parametrize("weights", [np.ones(5), -np.ones(30), np.r_[np.nan, np.ones(29)],
                                     np.zeros(30), "heavy"])
def test_bad_sample_weights_name_the_argument(weights):
    X = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    with pytest.raises(ValueError, match="argument `sample_weight`"):
        SymbolicRegressor(**FAST).fit(X, X[:, 0], sample_weight=weights)


def test_gmeql_method_reads_its_runs_into_the_table():
    # Two tiny Algorithm-1 runs in one graph; with the polish, the table holds the
    # runs' read-outs (restarts > 0) and the chosen law predicts like its expression.
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 2, (80, 2))
    y = X[:, 0] * X[:, 1] + 1.0
    functions = [["identity", "square"], ["product", "add"]]
    # Without XLA (jit_compile reaches the GMEQL model): 600 iterations do not repay
    # its compilation.
    est = SymbolicRegressor(method="gmeql", trials=2, steps=600, primitives=functions,
                            random_state=0, jit_compile=False).fit(X, y)
    table = est.equations_
    assert table["restarts"].sum() >= 2  # both runs gave an equation
    expr = est.sympy()
    x0, x1 = sympy.symbols("x0 x1")
    f = sympy.lambdify([x0, x1], expr, "numpy")
    np.testing.assert_allclose(est.predict(X), f(X[:, 0], X[:, 1]) * np.ones(80), rtol=1e-6)
    assert est.network_ is None  # GMEQL rows carry no EQL network


@pytest.mark.parametrize("kwargs, fit_kwargs, match", [
    ({"executor": "pool"}, {}, "executor"),
    ({}, {"sample_weight": np.r_[np.ones(20), np.zeros(20)]}, "sample_weight"),
])
def test_gmeql_method_refuses_what_it_cannot_do(kwargs, fit_kwargs, match):
    X = np.random.default_rng(0).uniform(0, 2, (40, 2))
    with pytest.raises(ValueError, match=match):
        SymbolicRegressor(method="gmeql", trials=1, steps=30, **kwargs).fit(X, X[:, 0], **fit_kwargs)


def test_the_table_includes_the_refined_read_out():
    # A read-out with the right structure, its frequency 0.5% off and without the linear
    # term: the polish alone cannot mend it, every number refitted can (run_gmeql's
    # refine), and that candidate is in the table.
    from deepsymreg.restarts import TrialResult

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 2, (120, 2))
    law = lambda a, b: 2.1 * a * np.cos(1.2 * b) + 1.1 * a  # noqa: E731
    y = law(X[:, 0], X[:, 1])
    est = SymbolicRegressor(method="gmeql")  # the state fit() leaves before the table
    est._internal, est.variable_names_ = sympy.symbols("_v0 _v1"), ["x0", "x1"]
    est.x_center_, est.x_scale_ = np.zeros(2), np.array([2.0, 4.0])
    # the runs' expressions are in the scaled inputs x / x_scale_
    near = TrialResult(seed=7, expression="4.18*_v0*cos(4.824*_v1)",
                       extrapolation_mse=1.0, train_mse=1.0, complexity=8, nan_reruns=0,
                       reg_scale=1.0)
    est._build_table([near], X, y[:, None], X, y[:, None])
    wide = rng.uniform(-1, 3, (500, 2))
    x0, x1 = sympy.symbols("x0 x1")
    errors = [np.sqrt(np.mean((sympy.lambdify([x0, x1], e, "numpy")(wide[:, 0], wide[:, 1])
                               - law(wide[:, 0], wide[:, 1])) ** 2))
              for e in est.equations_["sympy_format"]]
    assert min(errors) < 1e-4 * np.sqrt(np.mean(law(wide[:, 0], wide[:, 1]) ** 2))
    # EQL restarts get the same candidate (run_benchmark(refine=True) reads them so);
    # without the polish the table misses the law.
    for method, polish, found in (("eql", True, True), ("eql", False, False)):
        est.method, est.polish = method, polish
        est._build_table([near], X, y[:, None], X, y[:, None])
        errors = [np.sqrt(np.mean((sympy.lambdify([x0, x1], e, "numpy")(wide[:, 0], wide[:, 1])
                                   - law(wide[:, 0], wide[:, 1])) ** 2))
                  for e in est.equations_["sympy_format"]]
        assert (min(errors) < 1e-4 * np.sqrt(np.mean(law(wide[:, 0], wide[:, 1]) ** 2))) == found


def test_the_table_includes_the_swapped_read_out():
    # A look-alike: on [-1, 1] the sine's Taylor series imitates the cube. No refit of its
    # numbers mends it; the swap of both terms for x**3 (swap.prune_and_swap) does, and
    # that candidate is in the table, for EQL restarts without sample weights.
    from deepsymreg.restarts import TrialResult

    X = np.random.default_rng(0).uniform(-1, 1, (160, 1))
    y = -0.7 * X[:, 0] ** 3
    est = SymbolicRegressor()  # the state fit() leaves before the table
    est._internal, est.variable_names_ = sympy.symbols("_v0,"), ["x0"]
    est.x_center_, est.x_scale_ = np.zeros(1), np.ones(1)
    look_alike = TrialResult(seed=3, expression="-4.5*_v0 + 4.54*sin(0.316*pi*_v0)",
                             extrapolation_mse=1.0, train_mse=1.0, complexity=10, nan_reruns=0,
                             reg_scale=1.0)
    x0 = sympy.Symbol("x0")
    for weights, found in ((None, True), (np.ones(160), False)):
        est._build_table([look_alike], X, y[:, None], X, y[:, None], w=weights, w_val=weights)
        forms = [sympy.nsimplify(e, tolerance=1e-6, rational=True) for e in est.equations_["sympy_format"]]
        assert (sympy.Rational(-7, 10) * x0**3 in forms) == found


def test_gmeql_memetic_step_runs_at_the_scaled_interval(monkeypatch):
    """The memetic step reaches the search: its interval scaled from the paper's 12000
    of 48000 stage-2 iterations to this search's, the refits chunked, and every run's
    repository refitted during stage 2."""
    import deepsymreg.callbacks

    made = []

    class Spy(deepsymreg.callbacks.MemeticRefit):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(deepsymreg.callbacks, "MemeticRefit", Spy)
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 2, (60, 2))
    functions = [["identity", "square"], ["product", "add"]]
    est = SymbolicRegressor(method="gmeql", trials=2, steps=600, primitives=functions,
                            jit_compile=False, memetic={"top": 400, "starts": 1, "steps": 20})
    est.fit(X, X[:, 0] * X[:, 1])
    (spy,) = [m for m in made if m.x is not None]  # not the settings' check
    # steps=600: 3 rounds of 22 iterations, 534 in stage 2 -> every 134 (12000 * 534 / 48000)
    assert spy.every == 134 and spy.options["chunk"] is None and spy.options["steps"] == 20
    assert spy.refits >= 3  # the first refit refitted elites of both runs
    assert np.isfinite(spy.history[0]["refit_mae"]).any(axis=1).all()
    made.clear()
    SymbolicRegressor(method="gmeql", trials=1, steps=120, primitives=functions,
                      jit_compile=False, memetic="none").fit(X, X[:, 0])
    assert [m for m in made if m.x is not None] == []
    with pytest.raises(ValueError, match="argument `memetic`.*'often'"):
        SymbolicRegressor(method="gmeql", trials=1, steps=30, memetic="often").fit(X, X[:, 0])
