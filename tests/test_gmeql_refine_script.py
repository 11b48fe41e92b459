"""benchmarks/gmeql_refine.py: stored Gumbel-max EQL runs read again with the refined read-out."""

import json

from tests.scripts import load_script

B7 = "1.1*x1 + 0.9*x2 + 2.1*x1*x2*cos(1.2*x3)"
RESULT = {
    "problem": "b7", "expr": B7, "vars": ["x1", "x2", "x3"], "train_domain": [0.0, 10.0],
    "test_domain": [-2.5, 12.5], "n_train": 300, "noise": 0.0, "seed": 0, "tolerance": 0.02,
    "trials": [
        # the right structure with its frequency 0.5% off and without the linear terms
        {"seed": 0, "raw_expression": "2.073*x1*x2*cos(1.206*x3)", "success": False},
        # a wrong structure: no read-out mends it
        {"seed": 1, "raw_expression": "1.3*x1*x2*sin(1.44*x3) + 20*cos(1.16*x3)", "success": False},
    ],
}


def test_refined_read_out_mends_the_near_miss_only(tmp_path, capsys):
    script = load_script("benchmarks/gmeql_refine.py")
    source = tmp_path / "runs.json"
    source.write_text(json.dumps({"runs": [RESULT]}))
    out = tmp_path / "out.json"
    assert script.main([str(source), "--json", str(out)]) == 0
    row, = json.loads(out.read_text())["rows"]
    near, wrong = row["runs"]
    assert not near["refit"]["right"] and near["refit"]["relative_rms"] > 0.05
    assert near["refined"]["right"] and near["refined"]["relative_rms"] < 1e-4
    assert not wrong["refit"]["right"] and not wrong["refined"]["right"]
    assert (row["refit_rate"], row["refined_rate"]) == (0.0, 0.5)
    assert row["refined_selected_right"] and not row["refit_selected_right"]
    assert "| b7 | runs.json | 2 | 0 | 1 | no / yes |" in capsys.readouterr().out


def test_prune_adds_a_third_read_out(tmp_path, capsys):
    script = load_script("benchmarks/gmeql_refine.py")
    source = tmp_path / "runs.json"
    source.write_text(json.dumps({"runs": [RESULT]}))
    out = tmp_path / "out.json"
    assert script.main([str(source), "--prune", "--json", str(out)]) == 0
    row, = json.loads(out.read_text())["rows"]
    near, wrong = row["runs"]
    assert near["pruned"]["right"] and not wrong["pruned"]["right"]
    assert row["pruned_rate"] == 0.5 and row["pruned_selected_right"]
    assert "| b7 | runs.json | 2 | 0 | 1 | 1 | no / yes / yes |" in capsys.readouterr().out
