"""Term swaps: look-alike terms replaced by one term of the depth-one library."""

import numpy as np
import pytest
import sympy

from deepsymreg import symbolic
from deepsymreg.swap import TermLibrary, swap

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
