"""benchmarks/gmeql_repository_probe.py: the trig-product test, and a tiny search."""

import pytest
import sympy

from tests.scripts import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/gmeql_repository_probe.py")


def test_trig_product_term_is_recognised(script):
    x1, x2 = sympy.symbols("x1 x2")
    assert script.has_trig_product(sympy.sin(x1) * sympy.cos(x2))
    assert script.has_trig_product(x1 + (x2 + sympy.sin(x1)) * sympy.cos(x2) / x1**6)
    assert not script.has_trig_product(sympy.sin(x1) + sympy.cos(x2))  # a sum, not a product
    assert not script.has_trig_product(sympy.sin(x1) * sympy.cos(x1))  # one variable
    assert not script.has_trig_product(sympy.sin(x1 * x2) * x1)


def test_tiny_search_lists_distinct_structures_best_first(script):
    rows, hits, seconds = script.probe("b6", seed=0, rounds=1, round_iterations=20,
                                       iterations=40, steps_per_call=20)
    maes = [m for _, m in rows]
    assert rows and maes == sorted(maes)
    assert len({sympy.srepr(e) for e, _ in rows}) == len(rows)
    assert all(script.has_trig_product(rows[i][0]) for i in hits)
    assert seconds > 0
