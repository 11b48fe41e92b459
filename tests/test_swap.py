"""Term swaps: look-alike terms replaced by one term of the depth-one library."""

import numpy as np
import pytest
import sympy

from deepsymreg import swap as swap_module
from deepsymreg import symbolic
from deepsymreg.swap import TermLibrary, prune_and_swap, swap

X, Y, Z = sympy.symbols("x y z")


def points(n_vars, n=256, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, n_vars))


def far_error(candidate, truth, symbols, seed=1):
    """Relative RMS error of ``candidate`` against ``truth`` on [-2, 2]."""
    x = np.random.default_rng(seed).uniform(-2, 2, size=(2000, len(symbols)))
    got = symbolic.to_numpy_function(candidate, symbols)(x)
    want = symbolic.to_numpy_function(truth, symbols)(x)
    return float(np.sqrt(np.mean((got - want) ** 2)) / np.sqrt(np.mean(want**2)))


def test_library_columns_are_its_terms_values():
    x = points(3, n=64)
    library = TermLibrary([X, Y, Z], x)
    assert library.columns.shape == (64, len(library.terms)) == (64, len(library.families))
    assert np.all(np.isfinite(library.columns))
    rng = np.random.default_rng(0)
    for j in rng.choice(len(library.terms), size=40, replace=False):
        values = symbolic.to_numpy_function(library.terms[j], [X, Y, Z])(x)
        np.testing.assert_allclose(library.columns[:, j], values, rtol=1e-9, atol=1e-12)
    text = {str(t) for t in library.terms}
    for expected in ("x**3", "x*y*z", "x**2*y", "exp(1.0*x)", "y*sin(0.5*pi*x)", "x*y*cos(1.0*pi*z)"):
        assert expected in text


def test_a_sine_look_alike_of_a_cube_becomes_the_cube():
    x = points(1)
    y = -0.7 * x[:, 0] ** 3
    # What the network returned on this law: the sine's Taylor series imitates x**3 on [-1, 1].
    look_alike = sympy.sympify("-4.5*x + 4.54*sin(0.316*pi*x)", locals={"x": X})
    look_alike = symbolic.refine(look_alike, [X], x, y)
    assert far_error(look_alike, -0.7 * X**3, [X]) > 0.02  # wrong outside [-1, 1]
    swapped = symbolic.prune(swap(look_alike, [X], x, y), [X], x, y)
    assert far_error(swapped, -0.7 * X**3, [X]) < 1e-6
    assert not swapped.has(sympy.sin)


def test_a_wrong_power_is_swapped_once_the_other_terms_numbers_move():
    # -0.45*y stands in for -0.8*y**3 while the sine's frequency is off (1.91 for 1.8):
    # only with the sine free to move does y**3 show its worth (the linearized screen).
    x = points(2)
    truth = sympy.sympify("-0.8*y**3 + 0.8*exp(1.4*x) - 0.8*sin(1.8*pi*y)", locals={"x": X, "y": Y})
    y = symbolic.to_numpy_function(truth, [X, Y])(x)
    look_alike = sympy.sympify("-0.449895*y + 0.800566*exp(1.39766*x) - 0.706847*sin(1.90773*pi*y)",
                               locals={"x": X, "y": Y})
    swapped = symbolic.prune(swap(look_alike, [X, Y], x, y), [X, Y], x, y)
    assert far_error(swapped, truth, [X, Y]) < 1e-4


def test_the_law_itself_is_left_alone():
    x = points(2)
    truth = sympy.sympify("1.7*y*sin(1.6*pi*x) - 0.9*exp(0.9*y)", locals={"x": X, "y": Y})
    y = symbolic.to_numpy_function(truth, [X, Y])(x)
    assert swap(truth, [X, Y], x, y) is truth
    assert swap(truth, [X, Y], x, y, rounds=0) is truth


def test_a_library_is_reused_and_must_match_the_points():
    x = points(1)
    y = x[:, 0] ** 2
    library = TermLibrary([X], x)
    expr = sympy.Float(0.9) * X**2 + sympy.Float(0.05) * sympy.cos(sympy.Float(1.0) * sympy.pi * X)
    assert swap(expr, [X], x, y, library=library) == swap(expr, [X], x, y)
    with pytest.raises(ValueError, match="library"):
        swap(expr, [X], x[:100], y[:100], library=library)


@pytest.mark.parametrize("kwargs, name", [
    ({"gain": 1.0}, "gain"),
    ({"tolerance": -1.0}, "tolerance"),
    ({"max_removed": 0}, "max_removed"),
    ({"tries": 0}, "tries"),
    ({"rounds": -1}, "rounds"),
])
def test_bad_arguments_are_named(kwargs, name):
    x = points(1, n=32)
    with pytest.raises(ValueError, match=name):
        swap(X, [X], x, x[:, 0], **kwargs)


def test_points_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="x"):
        swap(X, [X, Y], points(1, n=32), np.zeros(32))
    with pytest.raises(ValueError, match="x"):
        TermLibrary([X, Y], points(1, n=32))


def test_constant_points_give_an_empty_library_and_no_swap():
    x = np.zeros((16, 1))
    library = TermLibrary([X], x)
    assert library.columns.shape == (16, 0) and library.terms == []
    assert swap(sympy.Float(2.0) * X, [X], x, np.zeros(16), library=library) == sympy.Float(2.0) * X


def test_library_derivatives_are_by_one_inner_number_of_each_term():
    # Each derivative column is d(term)/d(number) for one of the term's numbers (a finite
    # difference of the term with that number moved matches it); powers have none.
    x = points(2, n=64)
    library = TermLibrary([X, Y], x)
    assert library.derivatives.shape == library.columns.shape
    rng = np.random.default_rng(1)
    checked = 0
    for j in rng.choice(len(library.terms), size=60, replace=False):
        term, derivative = library.terms[j], library.derivatives[:, j]
        numbers = sorted(term.atoms(sympy.Float), key=str)
        if not numbers:
            assert np.all(derivative == 0)
            continue
        if any(term.count(number) > 1 for number in numbers):
            continue  # one number in two places (cos(2.0*pi*y)/(exp(2.0*y) + 1)): not movable alone
        h = 1e-6
        matches = []
        for number in numbers:
            up = symbolic.to_numpy_function(term.xreplace({number: number + h}), [X, Y])(x)
            down = symbolic.to_numpy_function(term.xreplace({number: number - h}), [X, Y])(x)
            matches.append(np.allclose((up - down) / (2 * h), derivative, rtol=1e-4, atol=1e-6))
        assert any(matches), term
        checked += 1
    assert checked > 30


def test_library_compounds_hold_products_and_compositions_of_one_variable():
    x = points(1, n=64)
    with_compounds = {str(t) for t in TermLibrary([X], x).terms}
    without = {str(t) for t in TermLibrary([X], x, compounds=False).terms}
    assert without < with_compounds
    for expected in ("exp(-1.0*x)*sin(0.5*pi*x)", "exp(2.0*sin(1.0*pi*x))",
                     "sin(0.5*pi*sin(1.5*pi*x))"):
        assert expected in with_compounds - without


def test_a_missing_term_is_added_only_with_grow():
    x = points(1)
    truth = sympy.sympify("1.2*exp(-0.8*x) + 0.9*x**3", locals={"x": X})
    y = symbolic.to_numpy_function(truth, [X])(x)
    missing = sympy.sympify("1.31*exp(-0.62*x)", locals={"x": X})
    grown = swap(missing, [X], x, y)
    assert far_error(grown, truth, [X]) < 1e-4
    assert far_error(swap(missing, [X], x, y, grow=False), truth, [X]) > 0.02


def test_an_exact_equation_is_not_grown():
    # Below tolerance * var(y), no term is added: the equation already fits.
    x = points(1)
    truth = sympy.sympify("1.2*exp(-0.8*x)", locals={"x": X})
    y = symbolic.to_numpy_function(truth, [X])(x)
    assert swap(truth, [X], x, y) == truth


def test_prune_and_swap_memo_returns_the_swap_found_for_a_pruned_equation():
    x = points(1)
    y = -0.7 * x[:, 0] ** 3
    look_alike = symbolic.refine(sympy.sympify("-4.5*x + 4.54*sin(0.316*pi*x)", locals={"x": X}),
                                 [X], x, y)
    memo = {}
    first = prune_and_swap(look_alike, [X], x, y, memo=memo)
    assert len(memo) == 1 and far_error(first, -0.7 * X**3, [X]) < 1e-6
    key = next(iter(memo))
    memo[key] = sympy.Symbol("marker")  # a second call with that equation reads the memo
    assert prune_and_swap(look_alike, [X], x, y, memo=memo) == sympy.Symbol("marker")


def _look_alike_case(truth, look_alike):
    """Points of ``truth`` on [-1, 1] and a restart's ``look_alike`` refitted on them."""
    x = points(1)
    truth = sympy.sympify(truth, locals={"x": X})
    y = symbolic.to_numpy_function(truth, [X])(x)
    look_alike = symbolic.refine(sympy.sympify(look_alike, locals={"x": X}), [X], x, y)
    return truth, look_alike, x, y


def test_a_frequency_between_grid_values_is_reached_through_the_new_terms_derivative(monkeypatch):
    # A restart's equation on set seed 3: 1.4*sin(0.8*pi*x)**2 is 0.7 - 0.7*cos(1.6*pi*x),
    # between the grid's frequencies 1.5 and 2; only with the cosine's frequency moving
    # in the screen does the swap show its worth.
    truth, look_alike, x, y = _look_alike_case(
        "1.4*sin(0.8*pi*x)**2 - 1.9*sin(1.9*pi*x)",
        "1.84747*x*sin(0.690678*pi*x) + 1.10345*x*sin(1.39363*pi*x) - 1.9*sin(1.9*pi*x)")
    library = TermLibrary([X], x)
    assert far_error(prune_and_swap(look_alike, [X], x, y, library=library), truth, [X]) < 1e-6
    monkeypatch.setattr(swap_module, "_MAX_STEP", 0.0)
    assert far_error(prune_and_swap(look_alike, [X], x, y, library=library), truth, [X]) > 0.02


@pytest.mark.parametrize("truth, look_alike", [
    ("1.8*exp(-0.8*x)*sin(0.6*pi*x)",
     "-0.689163*x*sin(0.540344*pi*x) - 2.30544*exp(0.650286*x) + 4.42034"),
    ("1.1*sin(0.6*pi*x**2) + 1.7*exp(-0.7*sin(1.7*pi*x))",
     "0.434723*sin(1.7034*pi*x)**2 - 1.26885*sin(1.7034*pi*x) - 0.578416*cos(0.966359*pi*x) + 2.25295"),
])
def test_a_product_or_composition_of_one_variable_needs_the_compounds(truth, look_alike):
    # Restarts' equations on set seed 3 (the second: exp(-0.7*sin(...)) spelled by its
    # Taylor terms, and a cosine for sin(0.6*pi*x**2)).
    truth, look_alike, x, y = _look_alike_case(truth, look_alike)
    swapped = prune_and_swap(look_alike, [X], x, y, library=TermLibrary([X], x))
    assert far_error(swapped, truth, [X]) < 1e-6
    plain = prune_and_swap(look_alike, [X], x, y, library=TermLibrary([X], x, compounds=False))
    assert far_error(plain, truth, [X]) > 0.02



def test_a_family_ignores_the_outer_coefficient():
    # A term of an equation carries its coefficient, a library term does not: both have
    # one family, so a swap of a term for its own family (a refit) is not screened.
    assert swap_module._family(-1.5 * sympy.sin(sympy.Rational(3, 2) * sympy.pi * X)) == \
        swap_module._family(sympy.sin(sympy.Float(1.5) * sympy.pi * X))
    assert swap_module._family(0.5 * sympy.exp(2.0 * X)) == swap_module._family(sympy.exp(1.3 * X))
    assert swap_module._family(sympy.exp(1.3 * X)) != swap_module._family(sympy.exp(1.3 * Y))


def test_a_cosine_look_alike_of_a_square_is_swapped_beside_a_refit_of_the_same_family():
    # A restart of an unseen law (set seed 3, law 6) read 1.7*x**2 as
    # 10.55 - 10.55*cos(0.18*pi*x). Swaps that merely refit sin(3*pi*x/2) as the library's
    # sine took both tries of their size while the family check missed them for the
    # coefficient, and x**2 was never refitted.
    x = points(1)
    truth = 1.7 * X**2 + 1.9 * sympy.sin(sympy.Rational(11, 10) * sympy.pi * X) ** 2 \
        - 1.5 * sympy.sin(sympy.Rational(3, 2) * sympy.pi * X)
    y = symbolic.to_numpy_function(truth, [X])(x)
    found = sympy.sympify("1.8944*sin(1.10141*pi*x)**2 - 1.5*sin(3*pi*x/2) "
                          "- 10.5535*cos(0.182822*pi*x) + 10.5528", locals={"x": X})
    assert far_error(found, truth, [X]) > 0.02  # the look-alike fails the judge
    assert far_error(swap(found, [X], x, y), truth, [X]) < 1e-4


@pytest.mark.parametrize("rise, kept", [(swap_module._SIMPLER_RISE, True), (np.inf, False)])
def test_an_exact_fit_is_not_traded_for_a_simpler_look_alike(monkeypatch, rise, kept):
    # A restart of Table V's exp(-x**2) (smoothed L0.5) read 0.32*x**4 - 0.94*x**2 + 1.0.
    # The swap reaches 1.0*exp(-1.0*x**2) plus a vanishing x**4; without the cap on the
    # error's rise, a later round took 0.387*cos(0.714*pi*x) + 0.612 for it: one node
    # simpler, 1e-5 of the variance off, within the tolerance of 1e-4.
    from deepsymreg.benchmark import make_data

    monkeypatch.setattr(swap_module, "_SIMPLER_RISE", rise)
    truth = sympy.exp(-X**2)
    x, y = make_data(truth, [X], (-1, 1), 256, rng=np.random.default_rng(0))  # its points
    x, y = x.astype(float), y.astype(float)
    found = sympy.sympify("0.320877*x**4 - 0.943659*x**2 + 0.998163", locals={"x": X})
    read = prune_and_swap(found, [X], x, y)
    assert (far_error(read, truth, [X]) < 1e-4) == kept, read


def _derived_case():
    x = points(2, n=64)
    terms = [sympy.sympify(t, locals={"x": X, "y": Y})
             for t in ("1.5*x**2/(exp(7.0*y) + 1)", "-1.3*sin(1.8*pi*x + 0.9*pi*y)", "0.4*x**3")]
    return x, terms, swap_module.DerivedTerms(terms, [X, Y], x)


def test_derived_terms_are_the_equations_factors_times_other_variables_and_its_linear_forms():
    x, terms, derived = _derived_case()
    assert derived.columns.shape == (64, len(derived.terms)) == derived.derivatives.shape
    text = [str(derived.terms[j]) for j in range(len(derived.terms))]
    # The sigmoid of y times shapes of x (not of y, which it holds); the sine's form
    # x + 0.5*y in the grid's shapes; nothing from the polynomial x**3.
    for expected in ("exp(1.5*x)/(exp(7.0*y) + 1)", "x**2/(exp(7.0*y) + 1)",
                     "sin(1.5*pi*(1.0*x + 0.5*y))", "y**2*cos(0.5*pi*(1.0*x + 0.5*y)**2)",
                     "1/(exp(-5.0*x - 2.5*y) + 1)"):
        assert expected in text
    assert not any("exp(1.0*y)/(exp(7.0*y) + 1)" == t for t in text)
    rng = np.random.default_rng(0)
    for j in rng.choice(len(text), size=40, replace=False):
        term = derived.terms[j]
        np.testing.assert_allclose(derived.columns[:, j], symbolic.to_numpy_function(term, [X, Y])(x),
                                   rtol=1e-9, atol=1e-12)
        assert derived.families[j] == swap_module._family(term)


def test_derived_term_derivatives_are_by_the_grid_number():
    # exp(a*x) times the equation's sigmoid: d/da; sin(k*pi*L): d/dk.
    x, _, derived = _derived_case()
    text = [str(derived.terms[j]) for j in range(len(derived.terms))]
    h = 1e-6
    for name, number in (("exp(1.5*x)/(exp(7.0*y) + 1)", 1.5), ("sin(1.5*pi*(1.0*x + 0.5*y))", 1.5)):
        j = text.index(name)
        term = derived.terms[j]
        moved = [symbolic.to_numpy_function(
            term.xreplace({sympy.Float(number): sympy.Float(number + s)}), [X, Y])(x) for s in (h, -h)]
        np.testing.assert_allclose((moved[0] - moved[1]) / (2 * h), derived.derivatives[:, j],
                                   rtol=1e-4, atol=1e-6)


def test_a_quadratic_imitating_a_factor_of_another_variable_is_swapped_through_derived_terms():
    # A restart on a held-out law (set seed 5): the network found the sigmoid of y and the
    # sine's two-variable form, and imitated exp(1.4*x) beside the sigmoid by a quadratic
    # in x; the fixed library holds no exponential of x times a sigmoid of y.
    x = points(2)
    loc = {"x": X, "y": Y}
    truth = sympy.sympify("-0.9*x**2 + 1.3*sin(pi*(-1.8*x - 0.9*y)) + 1.4*exp(1.4*x)/(exp(6*y) + 1)",
                          locals=loc)
    y = symbolic.to_numpy_function(truth, [X, Y])(x)
    look_alike = symbolic.refine(sympy.sympify(
        "-0.4313*x**3*y + 0.3467*x**3 - 0.8628*x**2 + 1.514*x**2/(exp(7.015*y) + 1) "
        "+ 1.945*x/(exp(7.015*y) + 1) - 0.2346*sin(0.5977*pi*y) - 1.306*sin(1.8*pi*x + 0.9007*pi*y) "
        "+ 0.2316 + 0.918/(exp(7.015*y) + 1)", locals=loc), [X, Y], x, y)
    library = TermLibrary([X, Y], x)
    found = prune_and_swap(look_alike, [X, Y], x, y, library=library)
    assert far_error(found, truth, [X, Y]) < 1e-6
    plain = symbolic.prune(swap(symbolic.prune(look_alike, [X, Y], x, y), [X, Y], x, y,
                                library=library, derived=False), [X, Y], x, y)
    assert far_error(plain, truth, [X, Y]) > 0.02


def test_a_long_equation_is_swapped_up_to_max_terms():
    # Eleven additive terms, two of them a sine look-alike of -0.7*x**3: swapped at the
    # default max_terms (15), returned unchanged at 10.
    x = points(2)
    loc = {"x": X, "y": Y}
    rest = ("0.5*y + 0.4*x*y + 0.5*y**2 + 0.4*x**2*y + 0.2*y**3 + 0.3*x*y**2 + 0.6*x**2*y**2 "
            "+ 0.3*y**4 + 0.25*x*y**3")
    truth = sympy.sympify(f"-0.7*x**3 + {rest}", locals=loc)
    y = symbolic.to_numpy_function(truth, [X, Y])(x)
    look_alike = symbolic.refine(sympy.sympify(f"-4.5*x + 4.54*sin(0.316*pi*x) + {rest}", locals=loc),
                                 [X, Y], x, y)
    assert len(sympy.Add.make_args(look_alike)) == 11
    library = TermLibrary([X, Y], x)
    assert far_error(swap(look_alike, [X, Y], x, y, library=library), truth, [X, Y]) < 1e-6
    assert swap(look_alike, [X, Y], x, y, library=library, max_terms=10) is look_alike


def test_the_screen_through_a_spanning_basis_is_the_least_squares_cut(monkeypatch):
    # As _best_swap calls it: a basis (some of the equation's columns) expressed in the
    # orthonormal span of all of them. With the inner number held still (_MAX_STEP 0),
    # a term's screened drop is exactly how much adding it cuts the least-squares residual.
    monkeypatch.setattr(swap_module, "_MAX_STEP", 0.0)
    rng = np.random.default_rng(3)
    x = points(2, n=128)
    library = TermLibrary([X, Y], x, compounds=False)
    full = np.column_stack([np.ones(128), np.sin(2 * x[:, 0]), x[:, 1] ** 3, np.exp(x[:, 0]),
                            np.sin(2 * x[:, 0]) + 1e-3 * x[:, 1]])
    y = full @ [0.3, 1.0, -0.5, 0.7, 0.2] + 0.1 * rng.normal(size=128)
    q_full = swap_module._orthonormal(full)
    columns = np.array([0, 1, 2])
    w = swap_module._orthonormal(q_full.T @ full[:, columns])
    qy = w.T @ (q_full.T @ y)
    r = y - q_full @ (w @ qy)
    base, drop = swap_module._screen(qy, r, w.T @ (q_full.T @ library._stacked),
                                     y @ library._stacked, library)

    def residual(a):
        return float(np.sum((y - a @ np.linalg.lstsq(a, y, rcond=None)[0]) ** 2))

    assert base == pytest.approx(residual(full[:, columns]), rel=1e-10)
    for j in rng.choice(len(library.terms), size=25, replace=False):
        cut = base - residual(np.column_stack([full[:, columns], library.columns[:, j]]))
        assert drop[j] == pytest.approx(cut, rel=1e-6, abs=1e-9 * base)
