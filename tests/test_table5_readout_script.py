"""benchmarks/table5_readout.py: Table V's stored restarts read with both read-outs."""

import json

import numpy as np

from deepsymreg import symbolic
from deepsymreg.benchmark import make_data
from tests.scripts import load_script

RESULT = {
    "expr": "exp(1.3*x) - 0.6*x", "vars": ["x"], "regularization": "l0",
    "train_domain": [-1.0, 1.0], "test_domain": [-2.0, 2.0], "n_train": 256, "noise": 0.0,
    "seed": 3, "tolerance": 0.05, "success_rate": 0.0,
    "trials": [
        # the law's exponential with its rate off and no linear term: only the refined
        # read-out (x offered as a term, the rate refitted) mends it
        {"seed": 3, "raw_expression": "1.02*exp(1.2*x)"},
        # a structure miss neither read-out mends
        {"seed": 4, "raw_expression": "1.5*x**2 + 0.3"},
    ],
}


def test_points_are_run_benchmarks_draws():
    script = load_script("benchmarks/table5_readout.py")
    _, symbols, (x, y), (xt, _) = script.law_points(RESULT)
    truth, _ = symbolic.parse(RESULT["expr"], ["x"])
    rng = np.random.default_rng(3)  # run_benchmark: training points, then selection points
    np.testing.assert_array_equal(x, make_data(truth, symbols, (-1, 1), 256, 0.0, rng)[0])
    np.testing.assert_array_equal(xt, make_data(truth, symbols, (-2, 2), 1024, 0.0, rng)[0])


def test_the_refined_read_out_mends_the_near_miss_only(tmp_path, capsys):
    script = load_script("benchmarks/table5_readout.py")
    source = tmp_path / "table5.json"
    source.write_text(json.dumps([RESULT]))
    out = tmp_path / "out.json"
    assert script.main([str(source), "--json", str(out)]) == 0
    f, = json.loads(out.read_text())["files"]
    law, = f["laws"]
    assert law["polish"]["success_rate"] == 0.0 and not law["polish"]["selected_right"]
    assert law["refined"]["success_rate"] == 0.5 and law["refined"]["selected_right"]
    assert (f["polish"]["summed_rate"], f["refined"]["summed_rate"]) == (0.0, 0.5)
    assert "summed rate 0.00 -> 0.50, selected right 0 -> 1 of 1" in capsys.readouterr().out


def test_prune_adds_a_third_read_out(tmp_path, capsys):
    script = load_script("benchmarks/table5_readout.py")
    result = {**RESULT, "trials": [
        *RESULT["trials"],
        # a look-alike of exp(1.3*x) - 0.6*x on [-1, 1] with a spare quadratic term
        {"seed": 5, "raw_expression": "0.4*x**2 + 0.9*exp(1.3*x) - 0.6*x"},
    ]}
    source = tmp_path / "table5.json"
    source.write_text(json.dumps([result]))
    out = tmp_path / "out.json"
    assert script.main([str(source), "--prune", "--json", str(out)]) == 0
    f, = json.loads(out.read_text())["files"]
    law, = f["laws"]
    assert set(law) >= {"polish", "refined", "pruned"}
    assert law["pruned"]["success_rate"] >= law["refined"]["success_rate"] >= 2 / 3
    assert "(polish, refined, pruned)" in capsys.readouterr().out


def test_the_swapped_read_out_also_mends_the_structure_miss(tmp_path):
    # --swap adds run_benchmark's default read-out: the quadratic's terms are swapped for
    # the law's exponential and linear term, which neither polish reaches.
    script = load_script("benchmarks/table5_readout.py")
    source = tmp_path / "table5.json"
    source.write_text(json.dumps([RESULT]))
    out = tmp_path / "out.json"
    assert script.main([str(source), "--swap", "--json", str(out)]) == 0
    law, = json.loads(out.read_text())["files"][0]["laws"]
    assert law["refined"]["success_rate"] == 0.5
    assert law["swapped"]["success_rate"] == 1.0 and law["swapped"]["selected_right"]
