"""benchmarks/polish_lever.py: every stored restart polished, judged and selected again."""

import json

import numpy as np

from deepsymreg import symbolic
from deepsymreg.benchmark import make_data
from tests.scripts import load_script

ROW = {"index": 0, "expr": "x**2 + 0.5*x", "vars": ["x"], "run_seed": 3, "restarts": [
    # a look-alike term with a small coefficient: refitted to 0 and dropped
    {"seed": 3, "expression": "0.9*x**2 + 0.5*x + 0.1*sin(x)"},
    # a structure miss the polish cannot mend (no x term to refit)
    {"seed": 4, "expression": "1.2*x**2"},
]}


def test_data_are_run_benchmarks_draws():
    lever = load_script("benchmarks/polish_lever.py")
    symbols, (x, y), (xt, yt) = lever.law_data(ROW)
    truth, _ = symbolic.parse(ROW["expr"], ["x"])
    rng = np.random.default_rng(3)  # run_benchmark: training points, then selection points
    np.testing.assert_array_equal(x, make_data(truth, symbols, (-1, 1), 256, 0.0, rng)[0])
    np.testing.assert_array_equal(xt, make_data(truth, symbols, (-2, 2), 1024, 0.0, rng)[0])


def test_polish_mends_a_near_miss_but_not_a_structure_miss(tmp_path, capsys):
    lever = load_script("benchmarks/polish_lever.py")
    out = lever.polish_row(ROW)
    assert out["success_rate"] == 0.0 and not out["selected_right"]
    assert out["polished_success_rate"] == 0.5 and out["polished_selected_right"]
    assert not symbolic.parse(out["polished"][0], ["x"])[0].has(symbolic.sympy.sin)
    source = tmp_path / "unseen.json"
    source.write_text(json.dumps({"laws": [ROW]}))
    assert lever.main([str(source), "--json", str(tmp_path / "out.json")]) == 0
    assert "0.000 -> 0.500; selected right 0 -> 1" in capsys.readouterr().out
    assert json.loads((tmp_path / "out.json").read_text())["laws"][0]["polished_selected_right"]
