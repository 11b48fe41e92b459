"""symbolic.polish: least-squares refit of an equation's terms, dropping those not needed."""

import numpy as np
import pytest
import sympy

from deepsymreg.symbolic import polish

A, M = sympy.symbols("a m")
_rng = np.random.default_rng(0)
X = _rng.uniform(1, 5, (300, 2))  # a variable on a physical range, as users have them
Y = X[:, 0] * X[:, 1]


def test_near_miss_becomes_the_law_on_noisy_data():
    y = Y + 0.01 * Y.std() * _rng.normal(size=Y.shape)
    out = polish(sympy.sympify("0.993766*a*m + 0.0172759*a"), [A, M], X, y)
    assert out.free_symbols == {A, M} and len(sympy.Add.make_args(out)) == 1
    assert float(out.as_coefficients_dict()[A * M]) == pytest.approx(1.0, abs=0.01)


def test_needed_terms_stay_and_get_their_coefficients():
    y = 2 * X[:, 0] * X[:, 1] + 0.5 * X[:, 0]  # the small term is 5% of the RMS: needed
    out = polish(sympy.sympify("1.9*a*m + 0.7*a + 0.01*sin(m)"), [A, M], X, y)
    coeffs = out.as_coefficients_dict()
    assert float(coeffs[A * M]) == pytest.approx(2.0, rel=1e-6)
    assert float(coeffs[A]) == pytest.approx(0.5, rel=1e-5)
    assert not out.has(sympy.sin)


def test_inner_numbers_stay_and_unusable_terms_leave_it_alone():
    y = np.sin(1.5 * X[:, 0])
    out = polish(sympy.sympify("0.8*sin(1.5*a)"), [A, M], X, y)
    assert float(out.as_coefficients_dict()[sympy.sin(1.5 * A)]) == pytest.approx(1.0)
    bad = sympy.sympify("log(a - 3)")  # not finite on the data: returned as given
    assert polish(bad, [A, M], X, Y) == bad
