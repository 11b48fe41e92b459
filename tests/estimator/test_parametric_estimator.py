"""SymbolicRegressor(param=...): a parametric law y = f(x; t) from a user's table."""

import pickle

import numpy as np
import pytest
import sympy

from deepsymreg.estimator import SymbolicRegressor

GRID = np.linspace(-2, 2, 8)
#: A small network that learns t*x in a few hundred steps (the default primitives'
#: sines imitate x at small arguments and need far more steps to be pruned).
TINY = dict(depth=1, primitives=["identity", "product"], trials=2, steps=600, random_state=0)


def table(t_values=GRID, per_t=32, seed=0):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    t = np.repeat(t_values, per_t)
    x = rng.uniform(-1, 1, t.size)
    return pd.DataFrame({"x": x, "t": t}), pd.Series(t * x, name="y")


@pytest.fixture(scope="module")
def fitted():
    X, y = table()
    return SymbolicRegressor(param="t", **TINY).fit(X, y), X, y


def test_learns_t_times_x_on_the_grid(fitted):
    est, X, y = fitted
    x = sympy.Symbol("x")
    np.testing.assert_allclose(est.t_grid_, GRID)
    for t in GRID[[0, 2, 7]]:
        expr = est.sympy(t=t)
        assert expr.free_symbols == {x}
        assert float(expr.coeff(x)) == pytest.approx(t, rel=0.1)
    table_ = est.equations_
    assert len(table_) == 2 and list(table_["seed"]) == [0, 1]
    assert {"equation", "validation_loss", "loss", "t", "complexity"} <= set(table_.columns)
    assert est.best_["validation_loss"] == table_["validation_loss"].min()
    assert est.best_["t"] in GRID  # the middle of the range, read at a grid value
    t_values, curves = est.coefficient_curves()
    np.testing.assert_allclose(t_values, GRID)
    np.testing.assert_allclose(curves["x"], GRID, rtol=0.1, atol=0.02)


def test_predict_shapes_and_grid_values_only(fitted):
    est, X, y = fitted
    pred = est.predict(X)
    assert pred.shape == (len(X),) and est.score(X, y) > 0.99
    assert est.predict(X.iloc[:3], index=1).shape == (3,)
    off = X.iloc[:2].assign(t=0.1)
    with pytest.raises(ValueError, match="grid value"):
        est.predict(off)
    with pytest.raises(ValueError, match="argument `t`"):
        est.sympy(t=0.1)


def test_save_load_and_pickle(fitted, tmp_path):
    est, X, _ = fitted
    est.save(tmp_path / "fit")
    loaded = SymbolicRegressor.load(tmp_path / "fit")
    np.testing.assert_allclose(loaded.predict(X), est.predict(X), rtol=1e-6)
    assert str(loaded.sympy(t=GRID[0])) == str(est.sympy(t=GRID[0]))
    assert loaded.param_name_ == "t" and np.allclose(loaded.t_grid_, GRID)
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(clone.predict(X), est.predict(X), rtol=1e-6)


def test_closed_form_is_written_in_the_users_names(fitted, monkeypatch):
    # The curve fits are slow; here the library's closed_form answers at once, in the
    # internal symbols (_v0 = x, _v1 = t), and the estimator translates the law.
    est, _, _ = fitted
    from deepsymreg import parametric

    def fake(model, var_names, param, trial, **kwargs):
        v, t = sympy.Symbol("_v0"), sympy.Symbol(param)
        assert [s.name for s in var_names] == ["_v0"] and trial == est.best_index_
        law = t * v * float(est.x_scale_[0]) / est.y_scale_  # in the network's units
        return law, {"_v0": {"expression": f"{param}", "relative_error": 0.0, "found": True}}

    monkeypatch.setattr(parametric, "closed_form", fake)
    law = est.closed_form()
    assert sympy.simplify(law - sympy.Symbol("t") * sympy.Symbol("x")) == 0
    assert est.closed_form_report_ == {"x": {"expression": "t", "relative_error": 0.0, "found": True}}


def test_stacked_needs_an_evenly_spaced_grid():
    X, y = table(t_values=np.array([0.0, 1.0, 2.0, 4.0]), per_t=4)
    with pytest.raises(ValueError, match=r"argument `param`.*evenly spaced.*param_method='meta'"):
        SymbolicRegressor(param="t", **TINY).fit(X, y)


@pytest.mark.parametrize("kwargs, match", [
    ({"param": "z"}, "argument `param`"),
    ({"param": 5}, "argument `param`"),
    ({"param": 1.5}, "argument `param`"),
    ({"param": "t", "param_method": "spline"}, "argument `param_method`"),
    ({"param": "t", "input_scaling": "range"}, "argument `input_scaling`"),
])
def test_bad_param_settings_name_themselves(kwargs, match):
    X, y = table(per_t=2)
    with pytest.raises(ValueError, match=match):
        SymbolicRegressor(**{**TINY, **kwargs}).fit(X, y)


def test_plain_estimator_has_no_t():
    X, _ = table(per_t=2)
    est = SymbolicRegressor(trials=1).fit(X, np.full(len(X), 2.0))  # constant: no training
    with pytest.raises(ValueError, match="argument `t`"):
        est.sympy(t=1.0)
    with pytest.raises(ValueError, match="param"):
        est.coefficient_curves()
