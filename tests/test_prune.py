"""symbolic.prune: additive terms dropped one at a time, every remaining number refitted."""

import numpy as np
import pytest
import sympy

from deepsymreg.symbolic import polish, prune

X0, X1 = sympy.symbols("x0 x1")
SYMBOLS = [X0, X1]
_rng = np.random.default_rng(1)
X = _rng.uniform(-1, 1, (256, 2))
GRID = np.linspace(-2, 2, 201)


def on_grid(expr):
    return sympy.lambdify(X0, expr, "numpy")(GRID) * np.ones_like(GRID)


def test_a_line_and_a_constant_give_way_as_the_exponential_moves():
    """The look-alike the linear polish cannot mend: without the line and the constant
    the exponential's rate must change too."""
    y = np.exp(X[:, 0])
    near = sympy.sympify("0.0936*x0 + 0.82*exp(1.094*x0) + 0.181")
    assert polish(near, SYMBOLS, X, y) != sympy.sympify("exp(x0)")  # the polish keeps terms
    out = prune(near, SYMBOLS, X, y)
    assert len(sympy.Add.make_args(out)) == 1
    np.testing.assert_allclose(on_grid(out), np.exp(GRID), rtol=1e-5)


def test_a_needed_term_stays():
    """Each term carries its share of the law: none can go, and the equation comes back
    as given."""
    y = np.exp(X[:, 0]) + 0.8 * np.sin(2.0 * X[:, 1])
    law = sympy.sympify("1.0*exp(x0) + 0.8*sin(2.0*x1)")
    assert prune(law, SYMBOLS, X, y) == law


def test_the_tolerance_bounds_the_rise_of_the_error():
    """A term worth about 0.3% of the target's variance goes at tolerance 1e-2, not 1e-4."""
    y = X[:, 0] ** 2 + 0.03 * X[:, 1]
    full = sympy.sympify("1.0*x0**2 + 0.03*x1")
    var = np.var(y)
    loose = prune(full, SYMBOLS, X, y, tolerance=1e-2)
    strict = prune(full, SYMBOLS, X, y, tolerance=1e-4)
    assert not loose.has(X1) and strict == full
    residual = sympy.lambdify(SYMBOLS, loose, "numpy")(X[:, 0], X[:, 1]) - y
    assert np.mean(residual**2) <= 1e-2 * var


@pytest.mark.parametrize("max_numbers", [1, None])
def test_max_numbers_limits_which_removals_are_tried(max_numbers):
    y = np.exp(X[:, 0])
    near = sympy.sympify("0.0936*x0 + 0.82*exp(1.094*x0) + 0.181")
    out = prune(near, SYMBOLS, X, y, max_numbers=max_numbers)
    # Every removal leaves at least two numbers: with a cap of 1 none is tried.
    assert (out == near) == (max_numbers == 1)


def test_only_the_cheapest_removals_are_refitted(monkeypatch):
    """``tries`` bounds the nonlinear refits per step; the linear ranking puts the term
    that can go first."""
    from deepsymreg import symbolic

    y = np.exp(X[:, 0]) + 0.8 * np.sin(2.0 * X[:, 1]) + 0.5 * X[:, 1] ** 2
    expr = sympy.sympify("1.0*exp(x0) + 0.8*sin(2.0*x1) + 0.001*x0**2 + 0.5*x1**2")
    calls = []
    original = symbolic._refine  # prune's refit (refine's, with its error)
    monkeypatch.setattr(symbolic, "_refine", lambda e, *a, **k: calls.append(e) or original(e, *a, **k))
    out = symbolic.prune(expr, SYMBOLS, X, y, tries=1)
    assert not out.has(X0**2)  # the tiny term went first, refitted
    assert calls[0] == sympy.sympify("1.0*exp(x0) + 0.8*sin(2.0*x1) + 0.5*x1**2")
    assert len(sympy.Add.make_args(out)) == 3
    assert len(calls) == 2  # one refit per step: the one kept, then one refused


@pytest.mark.parametrize("kwargs, argument", [
    ({"tolerance": -1e-4}, "tolerance"), ({"tries": 0}, "tries"), ({"max_numbers": -1}, "max_numbers"),
    ({"x": X[:10]}, "x"),
])
def test_bad_arguments_are_named(kwargs, argument):
    given = {"x": X, "y": X[:, 0] ** 2, **kwargs}
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        prune(sympy.sympify("1.0*x0**2"), SYMBOLS, **given)
