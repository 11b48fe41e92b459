"""deepsymreg.laws: the random-law generator and the strict judge."""

import collections

import numpy as np
import pytest
import sympy

from deepsymreg import laws, primitives, symbolic


@pytest.fixture(scope="module")
def drawn():
    rejected = {}
    return laws.random_laws(30, seed=0, rejections=rejected), rejected


def test_a_seed_gives_a_fixed_list(drawn):
    assert laws.random_laws(30, seed=0) == drawn[0]
    assert [law.expr for law in laws.random_laws(5, seed=1)] != [law.expr for law in drawn[0][:5]]


def test_laws_are_distinct_by_form(drawn):
    forms = [law.form for law in drawn[0]]
    assert len(set(forms)) == len(forms)
    known = {laws.law_form(e, v) for e, v in laws.TABLE_V + laws.UNLISTED_LAWS}
    assert not known & set(forms)
    assert drawn[1].get("duplicate form", 0) + drawn[1].get("terms merge", 0) > 0


def test_form_replaces_numbers_only():
    assert laws.law_form("1.3*x**2 - 0.7*sin(1.6*pi*y)", "x,y") == laws.law_form(
        "x**2 + sin(2*pi*y)", "x,y")
    assert laws.law_form("0.6/(1 + exp(-6.5*x))", "x") == laws.law_form("1/(1 + exp(-10*x))", "x")
    assert laws.law_form("exp(-0.5*x**2)", "x") == laws.law_form("exp(-x**2)", "x")
    assert laws.law_form("exp(0.5*x)", "x") != laws.law_form("exp(0.5*x**2)", "x")


def test_laws_are_well_conditioned(drawn):
    rng = np.random.default_rng(1)
    for law in drawn[0]:
        truth, symbols = symbolic.parse(law.expr, law.variables)
        f = symbolic.to_numpy_function(truth, symbols)
        near = f(rng.uniform(-1, 1, (2000, len(symbols))))
        far = f(rng.uniform(-2, 2, (2000, len(symbols))))
        assert np.all(np.isfinite(near)) and np.all(np.isfinite(far)), law.expr
        rms = np.sqrt(np.mean(near**2))
        assert rms > 0.8 * laws.MIN_RMS and np.std(near) > 0.8 * laws.MIN_VARIATION * rms, law.expr
        assert np.max(np.abs(far)) < 1.5 * laws.MAX_GROWTH * rms, law.expr
        assert len(sympy.Add.make_args(truth)) == law.n_terms


def test_conditioning_rejects_invisible_and_constant_terms():
    x = sympy.Symbol("x")
    assert laws._rejection([2 * x, 0.01 * sympy.sin(3 * x)], [x]) == "a term is invisible"
    assert laws._rejection([1.5 + 0.0 * x, 0.05 * x], [x]) == "nearly constant"
    assert laws._rejection([0.01 * x], [x]) == "tiny"
    assert laws._rejection([sympy.exp(5 * x**2)], [x]) == "grows too fast on [-2, 2]"
    assert laws._rejection([x, sympy.sin(x)], [x]) is None


def test_laws_are_representable_by_default10(drawn):
    capacity = collections.Counter(primitives.SETS["default10"])
    for law in drawn[0]:
        assert law.variables == ("x", "y", "z")[: len(law.variables)]
        truth, symbols = symbolic.parse(law.expr, law.variables)
        assert truth.free_symbols == set(symbols), law.expr  # every variable used
        for layer in law.units:
            assert all(n <= capacity[name] for name, n in collections.Counter(layer).items()), law
        # The registry's primitives, composed as the network would, give the law.
        x = np.random.default_rng(0).uniform(-2, 2, (500, len(symbols)))
        np.testing.assert_allclose(symbolic.to_numpy_function(law.network(), symbols)(x),
                                   symbolic.to_numpy_function(truth, symbols)(x), rtol=1e-9, atol=1e-9)
        names = {type(f).__name__ for f in truth.atoms(sympy.Function)}
        assert names <= {"sin", "exp"}, law.expr


def test_variables_and_terms_follow_the_ranges():
    drawn = laws.random_laws(10, seed=3, n_vars=(2, 2), n_terms=(1, 1))
    assert {law.variables for law in drawn} == {("x", "y")}
    assert {law.n_terms for law in drawn} == {1}


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0, "seed": 0}, "`n`"),
    ({"n": 3, "seed": -1}, "`seed`"),
    ({"n": 3, "seed": 0, "n_vars": (0, 2)}, "`n_vars`"),
    ({"n": 3, "seed": 0, "n_vars": (1, 4)}, "`n_vars`"),
    ({"n": 3, "seed": 0, "n_terms": (2, 1)}, "`n_terms`"),
    ({"n": 3, "seed": 0, "n_terms": 2}, "`n_terms`"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        laws.random_laws(**kwargs)


def test_unlisted_laws_are_in_results_md():
    import pathlib

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "results.md").read_text()
    for expr, _ in laws.UNLISTED_LAWS:
        assert f"`{expr}`" in text
    assert not {e for e, _ in laws.UNLISTED_LAWS} & {e for e, _ in laws.TABLE_V}


def test_strict_judge():
    assert laws.strict_judge("1.005*x*y", "x*y", "x,y") == (True, pytest.approx(0.005))
    right, error = laws.strict_judge("x*y + 0.05*x", "x*y", ["x", "y"])
    assert not right and error > 0.02  # no term ignored
    # A look-alike that fits [-1, 1] fails on [-2, 2].
    assert not laws.strict_judge("2.35*x - 1.38*sin(0.55*pi*x)", "x**3", "x")[0]
    assert laws.strict_judge("1/x", "x", "x")[1] > 1
    assert laws.strict_judge("x + w", "x", "x") == (False, float("inf"))  # unknown variable
    with pytest.raises(ValueError, match="`tolerance`"):
        laws.strict_judge("x", "x", "x", tolerance=0)
