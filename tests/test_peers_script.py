"""benchmarks/peers.py (pyoperon beside us) and benchmarks/unseen_laws.py, on tiny budgets."""

import collections
import importlib
import json
import pathlib
import sys

import pytest

from deepsymreg.primitives import SETS
from deepsymreg.recipes import l0_schedule

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def scripts():
    """``import_module`` with benchmarks/ on the path (peers.py imports unseen_laws.py)."""
    sys.path.insert(0, str(BENCHMARKS))
    yield importlib.import_module
    sys.path.remove(str(BENCHMARKS))
    for name in ("unseen_laws", "peers"):
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def unseen(scripts):
    return scripts("unseen_laws")


@pytest.fixture(scope="module")
def peers(scripts):
    pytest.importorskip("pyoperon")
    return scripts("peers")


def fake_benchmark(expr, var_names, trials, seed, regularization="l05", progress=None, **settings):
    """run_benchmark's result with restart 0 right and the others a look-alike."""
    restarts = [{"seed": seed + i, "expression": expr if i == 0 else "0.5*x",
                 "raw_expression": expr if i == 0 else "0.5*x + 0.01"} for i in range(trials)]
    return {"trials": restarts, "best_expression": expr, "success_rate": 1 / trials,
            "wall_seconds": 2.0, "polish": True, "refine": True}


def test_law_list_and_only(unseen):
    laws = unseen.law_list(0, 2, unlisted=True)
    assert [law["source"] for law in laws] == ["random"] * 2 + ["unlisted"] * 5
    assert [law["index"] for law in laws] == list(range(7))
    assert laws[2]["expr"] == "exp(x)" and laws[4]["vars"] == ["x", "y", "z"]
    assert unseen.parse_only("3,1,3", 7) == [1, 3]
    assert unseen.parse_only(None, 2) == [0, 1]
    for bad in ("7", "a", ""):
        with pytest.raises(ValueError, match="--only"):
            unseen.parse_only(bad, 7)


def test_unseen_laws_judges_and_resumes(unseen, tmp_path, monkeypatch, capsys):
    import deepsymreg.benchmark

    calls = []
    monkeypatch.setattr(deepsymreg.benchmark, "run_benchmark",
                        lambda *a, **k: calls.append(a) or fake_benchmark(*a, **k))
    path = tmp_path / "ours.json"
    argv = ["--n-laws", "2", "--trials", "4", "--json", str(path), "--quiet"]
    assert unseen.main(argv + ["--only", "1"]) == 0
    assert unseen.main(argv) == 0  # law 1 is not run again
    assert len(calls) == 2
    rows = json.loads(path.read_text())["laws"]
    assert [r["index"] for r in rows] == [1, 0]
    row = rows[0]
    assert set(row) >= {"expr", "vars", "n_terms", "source", "n_restarts", "run_seed", "success_rate",
                        "selected_right", "selected_expression", "judge_rate", "wall_seconds", "restarts"}
    assert row["success_rate"] == 0.25 and row["selected_right"] is True
    assert [r["right"] for r in row["restarts"]] == [True, False, False, False]
    assert row["polish"] is True and row["refine"] is True and row["regularization"] == "l0"  # the command line's default
    assert row["restarts"][1]["raw_expression"] == "0.5*x + 0.01"
    assert "| 1 | `" in capsys.readouterr().out


def test_a_lever_changes_one_setting_and_keys_its_rows(unseen, tmp_path, monkeypatch):
    import deepsymreg.benchmark

    seen = []
    monkeypatch.setattr(deepsymreg.benchmark, "run_benchmark",
                        lambda *a, **k: seen.append(k) or fake_benchmark(*a, **k))
    path = tmp_path / "ours.json"
    argv = ["--n-laws", "1", "--trials", "4", "--json", str(path), "--quiet"]
    assert unseen.main(argv) == 0
    assert unseen.main(argv + ["--lever", "lambda1e-3"]) == 0  # not the default's row
    assert unseen.main(argv + ["--lever", "init2"]) == 0
    assert len(seen) == 3
    assert "schedule" not in seen[0] and "init_stddev" not in seen[0]
    assert [p.reg_lambda for p in seen[1]["schedule"]] == [0.0, 1e-3, 0.0]
    assert seen[2]["init_stddev"] == (2.0, 0.5, 0.5)
    rows = json.loads(path.read_text())["laws"]
    assert [r["lever"] for r in rows] == [None, "lambda1e-3", "init2"]
    assert unseen.stored(rows, unseen.law_list(0, 1)[0], 4, lever="init2") is rows[2]
    assert unseen.lever_settings("rerun1") == {"rerun_poor_fits": (0.01, 1)}
    long = unseen.lever_settings("long")["schedule"]
    assert [p.steps for p in long] == [2000, 24000, 4000]
    warm = unseen.lever_settings("warm6000")["schedule"]
    assert [p.steps for p in warm] == [6000, 10000, 4000]  # same 20 000 steps
    assert [p.reg_lambda for p in warm] == [0.0, 3e-3, 0.0]
    free = unseen.lever_settings("lambda0")["schedule"]
    assert [p.reg_lambda for p in free] == [0.0, 0.0, 0.0]  # no penalty in any phase
    assert [p.threshold for p in free] == [p.threshold for p in l0_schedule()]  # same pruning
    wide = unseen.lever_settings("wide")["primitives"]
    assert len(wide) == 36 and wide[:4] == ["constant"] * 4  # each default10 unit twice, grouped
    assert collections.Counter(wide) == {k: 2 * v for k, v in collections.Counter(SETS["default10"]).items()}
    with pytest.raises(ValueError, match="`--lever`"):
        unseen.lever_settings("wider")
    with pytest.raises(SystemExit):
        unseen.main(argv + ["--lever", "init2", "--regularization", "l05"])


def test_pyoperon_recovers_x_times_y(peers):
    result = peers.run_pyoperon("x*y", ["x", "y"], seconds=1, runs=1)
    assert set(result) >= {"success_rate", "best_right", "best_model", "wall_seconds", "runs"}
    assert result["max_time"] == 1
    assert result["best_right"] and result["success_rate"] == 1.0
    assert result["runs"][0]["train_mse"] < 1e-10  # float64 data: predict agrees with fit


def test_peers_table_from_our_json(peers, unseen, tmp_path, capsys):
    law = unseen.law_list(0, 1)[0]
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"laws": [{
        **law, "n_restarts": 4, "run_seed": 0, "success_rate": 0.25, "selected_right": False,
        "selected_expression": "0.5*x", "wall_seconds": 2.0}]}))
    out = tmp_path / "peers.json"
    assert peers.main(["--n-laws", "1", "--ours", str(ours), "--runs", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result) >= {"command", "date", "pyoperon", "settings", "laws"}
    row = result["laws"][0]
    assert row["expr"] == law["expr"]
    assert row["ours"]["from"] == "--ours" and row["ours"]["success_rate"] == 0.25
    peer = row["pyoperon"]
    assert peer["budget_seconds"] == 2.0 and peer["max_time"] == 1 and len(peer["runs"]) == 2
    assert set(peer["runs"][0]) >= {"seed", "model", "train_mse", "relative_rms", "right",
                                    "wall_seconds", "generations"}
    best = min(peer["runs"], key=lambda r: r["train_mse"])
    assert peer["best_right"] == best["right"]
    assert f"| 0 | `{law['expr']}` | 0.25 | no | 2 |" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--seconds", "0.5"], ["--runs", "0"],
                                  ["--operon", "max_time=3"], ["--operon", "junk"]])
def test_bad_arguments(peers, argv):
    with pytest.raises(SystemExit):
        peers.main(["--n-laws", "1"] + argv)


def test_rows_before_the_polish_count_as_unpolished_l05(unseen):
    law = {"expr": "x*y", "vars": ["x", "y"]}
    old = {**law, "run_seed": 0, "n_restarts": 20}  # written before the "polish" key
    assert unseen.stored([old], law, 20) is None  # runs are polished by default now
    assert unseen.stored([old], law, 20, polish=False) is None  # the default is L0 now
    assert unseen.stored([old], law, 20, polish=False, regularization="l05") is old
    assert unseen.stored([old], law, polish=None, regularization=None) is old  # peers.py reads any
    assert unseen.stored([old], law, polish=False, regularization="l0") is None  # old rows: L0.5
    assert unseen.stored([old], law, polish=None, regularization=None) is old
    # Rows before the refined read-out: not what the command line runs now.
    polished = {**old, "polish": True, "regularization": "l0"}
    assert unseen.stored([polished], law, 20) is polished  # any read-out unless asked
    assert unseen.stored([polished], law, 20, refine=True) is None
    assert unseen.stored([{**polished, "refine": True}], law, 20, refine=True) is not None
