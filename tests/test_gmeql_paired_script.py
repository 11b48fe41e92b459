"""benchmarks/gmeql_paired.py: runs pair up by (problem, seed), and only paired runs count."""

import json

import pytest

from tests.scripts import load_script


def _file(path, memetic, runs):
    """A --json of examples/benchmark_gmeql.py: ``runs`` maps problem -> [(seed, success, mae)]."""
    records = [{"problem": p, "memetic": memetic,
                "trials": [{"seed": s, "success": ok, "mae": mae, "expression": "x1"}
                           for s, ok, mae in trials]}
               for p, trials in runs.items()]
    path.write_text(json.dumps({"runs": records}))
    return str(path)


def test_pairs_by_seed_and_counts_only_shared_runs(tmp_path, capsys):
    script = load_script("benchmarks/gmeql_paired.py")
    a = _file(tmp_path / "a.json", "screen", {
        "b1": [(0, True, 0.1), (1, False, 0.5), (2, True, 0.2)],
        "b6": [(0, False, 0.4), (1, False, 0.3)],
        "b7": [(0, True, 0.0)],  # only in a: not compared
    })
    b = _file(tmp_path / "b.json", "screen-adopt", {
        # seeds stored in another order, and a seed (5) the other file lacks
        "b1": [(2, False, 0.01), (0, True, 0.2), (5, True, 0.0), (1, True, 0.3)],
        "b6": [(1, True, 0.1), (0, False, 0.5)],
    })
    out = tmp_path / "paired.json"
    rows = script.main([a, b, "--json", str(out)])
    assert [r["problem"] for r in rows] == ["b1", "b6"]
    b1, b6 = rows
    assert b1["seeds"] == [0, 1, 2] and b1["success"] == [2, 2]
    assert b1["only"] == [[2], [1]]
    # selected = lowest training MAE among the paired seeds: a's seed 0 (right),
    # b's seed 2 (0.01, wrong; seed 5's 0.0 is not paired)
    assert b1["selected_right"] == [True, False]
    assert b6["success"] == [0, 1] and b6["only"] == [[], [1]] and b6["selected_right"] == [False, True]
    saved = json.loads(out.read_text())
    assert saved["names"] == ["screen", "screen-adopt"]
    assert saved["totals"] == {"runs": 5, "success": [2, 3], "summed_rate": [0.67, 1.17],
                               "selected_right": [1, 1]}
    text = capsys.readouterr().out
    assert "| b1 | 0-2 | 2 of 3 | 2 of 3 | 2 | 1 |" in text
    assert "| b6 | 0-1 | 0 of 2 | 1 of 2 | - | 1 |" in text


def test_files_without_a_shared_run_are_an_error(tmp_path, capsys):
    script = load_script("benchmarks/gmeql_paired.py")
    a = _file(tmp_path / "a.json", "screen", {"b1": [(0, True, 0.1)]})
    b = _file(tmp_path / "b.json", "none", {"b1": [(1, True, 0.1)]})
    with pytest.raises(SystemExit):
        script.main([a, b])
    assert "no (problem, seed) is held by both" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main([a, a, "--names", "one"])
    assert "argument --names" in capsys.readouterr().err
