"""symbolic.polish (least-squares refit of an equation's terms, dropping those not needed) and
symbolic.power_law (a product of powers fitted in log-log space)."""

import numpy as np
import pytest
import sympy

from deepsymreg.symbolic import polish, power_law

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


@pytest.mark.parametrize("law, ranges", [
    ("a*b/c", [(1, 3), (300, 400), (1, 3)]),  # n*T/V: kelvin beside moles, scale does not matter
    ("-sqrt(a/b)/2", [(1, 5), (1, 5), (1, 5)]),  # half powers, a negative target
    ("a*b/c**2", [(1, 5), (1, 5), (1, 5)]),  # q*Q/r**2
])
def test_power_law_finds_the_monomial_on_noisy_data(law, ranges):
    symbols = sympy.symbols("a b c", positive=True)  # so that SymPy can simplify the ratio
    truth = sympy.sympify(law, locals=dict(zip("abc", symbols)))
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.uniform(lo, hi, 400) for lo, hi in ranges])
    y = sympy.lambdify(symbols, truth, "numpy")(*x.T) * np.ones(400)
    y = y * (1 + 0.01 * rng.normal(size=400))
    monomial = power_law(list(symbols), x, y)
    ratio = sympy.simplify(truth / monomial)
    assert ratio.is_number, (truth, monomial)


def test_power_law_declines_data_it_cannot_describe():
    a, m = sympy.symbols("a m")
    x = _rng.uniform(-1, 1, (200, 2))  # a sign change in the inputs
    assert power_law([a, m], x, np.abs(x[:, 0]) + 1) is None
    x = _rng.uniform(1, 5, (200, 2))
    assert power_law([a, m], x, x[:, 0] - 3) is None  # a sign change in the target
    assert power_law([a, m], x, np.full(200, 2.0)) is None  # no exponent: a constant
    assert power_law([a, m], x, np.exp(3 * x[:, 0])) is None  # powers beyond max_power
    assert power_law([a], x, x[:, 0]) is None  # a column count that does not match


def test_weights_choose_the_rows_the_refit_follows():
    # Rows weighted 0 carry another law; the weighted refit ignores them.
    y = Y.copy()
    y[::2] = 3 * X[::2, 0]
    w = np.ones(len(y))
    w[::2] = 0.0
    out = polish(sympy.sympify("0.9*a*m + 0.3*a"), [A, M], X, y, sample_weight=w)
    coeffs = out.as_coefficients_dict()
    assert float(coeffs[A * M]) == pytest.approx(1.0, rel=1e-6) and A not in coeffs
    assert power_law([A, M], X[1::2], Y[1::2]) == power_law([A, M], X, y, sample_weight=w) == A * M
