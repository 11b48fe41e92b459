"""benchmarks/gmeql_frequency.py: the handed-over structures are the laws; a tiny run."""

import functools
import json

import numpy as np
import pytest
import sympy
from tests.scripts import load_script

from deepsymreg.models.gmeql import DEFAULT_FUNCTIONS, GMEQL


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/gmeql_frequency.py")


@pytest.mark.parametrize("problem, law", [("b5", "sin(x1) + sin(x2)"),
                                          ("b6", "sin(x1)*cos(x2)")])
def test_structures_read_as_the_laws(script, problem, law):
    model = GMEQL(DEFAULT_FUNCTIONS, runs=2, xla=False)
    model.build((None, 2))
    choices = script.structure_choices(model, problem, 2)
    assert [c.shape for c in choices] == [(2, c.slots) for c in model.connections]
    expr = model.to_sympy(["x1", "x2"], [c[1] for c in choices], run=1, weights=False)
    assert sympy.simplify(expr - sympy.sympify(law)) == 0


def test_tiny_run_writes_both_trainings(script, tmp_path, capsys, monkeypatch):
    # Four steps do not repay XLA's compilation: the record is what is tested.
    monkeypatch.setattr(script, "GMEQL", functools.partial(script.GMEQL, xla=False))
    out = tmp_path / "f.json"
    assert script.main(["--problems", "b6", "--inits", "2", "--steps", "4",
                        "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["curriculum"] for r in rows] == [None, [0.03, 2]]
    assert all(0 <= r["right"] <= 2 and np.isfinite(r["median_train_mae"]) for r in rows)
    assert capsys.readouterr().out.count("| b6 |") == 2
    with pytest.raises(SystemExit):
        script.main(["--problems", "b9"])
