"""examples/benchmark_gmeql.py: one tiny problem end to end, then resumed from its JSON."""

import functools
import json
from tests.scripts import load_script


def _load():
    return load_script("examples/benchmark_gmeql.py")


def test_tiny_run_is_written_and_resumed(tmp_path, capsys, monkeypatch):
    module = _load()
    monkeypatch.setattr(module, "QUICK", {"trials": 2, "rounds": 1, "round_iterations": 100,
                                          "iterations": 200})
    # A short read-out (3 elites, 50 polishing steps): what is tested is the record.
    cheap = functools.partial(module.run_gmeql, top=3, polish_steps=50)
    monkeypatch.setattr(module, "run_gmeql", cheap)
    out = tmp_path / "gmeql.json"
    module.main(["--quick", "--only", "b6", "--runs-per-graph", "2", "--json", str(out)])
    runs = json.loads(out.read_text())["runs"]
    assert [r["problem"] for r in runs] == ["b6"] and len(runs[0]["trials"]) == 2
    assert runs[0]["ablation"] == "none" and runs[0]["settings"]["stage1"] is True
    assert 0.0 <= runs[0]["success_rate"] <= 1.0 and runs[0]["wall_seconds"] > 0
    first = capsys.readouterr().out
    assert "| b6 |" in first and "| 1.00 |" in first  # the paper's rate for b6 beside ours

    def must_not_run(*args, **kwargs):
        raise AssertionError("a problem already in the JSON was run again")

    monkeypatch.setattr(module, "run_gmeql", must_not_run)
    module.main(["--quick", "--only", "b6", "--json", str(out)])
    assert "| b6 |" in capsys.readouterr().out
    assert len(json.loads(out.read_text())["runs"]) == 1

    # Stopped after its first run: the second call runs only the second one.
    record = json.loads(out.read_text())
    kept = record["runs"][0]["trials"][:1]
    record["runs"][0]["trials"] = kept
    out.write_text(json.dumps(record))
    calls = []

    def spy(law, variables, **kwargs):  # a stand-in run: what is tested is the merge
        calls.append((kwargs["first_trial"], kwargs["trials"]))
        rows = [{"seed": t, "success": False, "mae": 1.0, "expression": "x1"}
                for t in range(kwargs["first_trial"], kwargs["trials"])]
        return {"trials": rows, "success_rate": 0.0, "best_success": False, "wall_seconds": 1.0}

    monkeypatch.setattr(module, "run_gmeql", spy)
    module.main(["--quick", "--only", "b6", "--json", str(out)])
    assert calls == [(1, 2)]
    resumed = json.loads(out.read_text())["runs"]
    assert len(resumed) == 1 and [t["seed"] for t in resumed[0]["trials"]] == [0, 1]
    assert resumed[0]["trials"][0] == kept[0]
    rate = sum(t["success"] for t in resumed[0]["trials"]) / 2
    assert resumed[0]["success_rate"] == rate


def test_unknown_problem_is_a_usage_error(capsys):
    import pytest

    with pytest.raises(SystemExit) as exit_info:
        _load().main(["--only", "b9"])
    assert exit_info.value.code == 2 and "b9" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        _load().main(["--max-new-runs", "-1"])
    assert exit_info.value.code == 2 and "--max-new-runs" in capsys.readouterr().err


def _recording_run(seen):
    """A stand-in for run_gmeql: records its keyword arguments in ``seen``, every run right."""
    def fake_run(law, variables, **kwargs):
        seen.update(kwargs)
        rows = [{"seed": t, "success": True, "mae": 0.0, "expression": "x1"}
                for t in range(kwargs["first_trial"], kwargs["trials"])]
        return {"trials": rows, "success_rate": 1.0, "best_success": True,
                "wall_seconds": 1.0}

    return fake_run


def test_ablations_and_noise_reach_run_gmeql(tmp_path, monkeypatch):
    module = _load()
    seen = {}
    monkeypatch.setattr(module, "run_gmeql", _recording_run(seen))
    module.main(["--quick", "--only", "b2", "--ablation", "no-offline", "--noise", "0.01",
                 "--json", str(tmp_path / "a.json")])
    assert seen["offline_rule"] is None and seen["noise"] == 0.01
    assert "stage1" not in seen and "elites" not in seen


def test_max_new_runs_goes_breadth_first_and_resumes(tmp_path, monkeypatch, capsys):
    module = _load()
    calls = []

    def fake_run(law, variables, **kwargs):
        calls.append((law, kwargs["first_trial"], kwargs["trials"]))
        rows = [{"seed": t, "success": t % 2 == 0, "mae": 1.0 / (t + 1), "expression": "x1"}
                for t in range(kwargs["first_trial"], kwargs["trials"])]
        return {"trials": rows, "success_rate": 0.0, "best_success": False, "wall_seconds": 1.0}

    monkeypatch.setattr(module, "run_gmeql", fake_run)
    out = str(tmp_path / "g.json")
    module.main(["--only", "b1,b2", "--trials", "3", "--max-new-runs", "2", "--json", out])
    assert [(c[1], c[2]) for c in calls] == [(0, 1), (1, 2), (0, 1), (1, 2)]
    assert "(2 of 3 runs)" in capsys.readouterr().out
    # --max-new-runs 0: the stored table, nothing run; an unfinished table says so
    module.main(["--only", "b1,b2", "--trials", "3", "--max-new-runs", "0", "--json", out])
    assert calls[4:] == []
    text = capsys.readouterr().out
    assert "| b1 | 0.50 (2 of 3 runs) | 0.61 | no |" in text
    assert ("so far (not the full table): summed success rate 1.00 (paper 1.31) over 2 "
            "problems at 2-2 of 3 runs each; selected run right on 0") in text
    calls.clear()
    module.main(["--only", "b1,b2", "--trials", "3", "--json", out])
    assert [(c[1], c[2]) for c in calls] == [(2, 3), (2, 3)]
    records = json.loads(open(out).read())["runs"]
    assert [len(r["trials"]) for r in records] == [3, 3]
    assert records[0]["success_rate"] == 2 / 3 and records[0]["best_seed"] == 2
    assert "summed success rate 1.33" in capsys.readouterr().out


def test_noise_std_is_the_papers_absolute_noise(tmp_path, monkeypatch, capsys):
    import numpy as np
    import pytest

    from deepsymreg import symbolic
    from deepsymreg.benchmark import make_data

    module = _load()
    seen = {}
    monkeypatch.setattr(module, "run_gmeql", _recording_run(seen))
    path = tmp_path / "n.json"
    module.main(["--quick", "--only", "b2", "--noise-std", "0.5", "--json", str(path)])
    law, names, domain = module.BENCHMARKS["b2"]
    truth, symbols = symbolic.parse(law, names)
    _, clean = make_data(truth, symbols, domain, 300, 0.0, np.random.default_rng(0))
    _, noisy = make_data(truth, symbols, domain, 300, seen["noise"], np.random.default_rng(0))
    assert np.std(noisy - clean) == pytest.approx(0.5, rel=0.15)  # 300 draws of N(0, 0.5**2)
    assert seen["noise"] * np.std(clean) == pytest.approx(0.5, rel=1e-5)
    import json
    record = json.loads(path.read_text())["runs"][0]
    assert record["noise_std"] == 0.5 and record["noise"] == seen["noise"]
    for bad, text in ((["--noise-std", "-1"], "--noise-std"),
                      (["--noise-std", "0.1", "--noise", "0.01"], "give one")):
        with pytest.raises(SystemExit) as exit_info:
            module.main(["--quick", "--only", "b2", *bad])
        assert exit_info.value.code == 2 and text in capsys.readouterr().err


def test_memetic_setting_reaches_run_gmeql_and_keys_the_record(tmp_path, monkeypatch):
    """The screen with adopted weights is the default; 'none' (the paper's Algorithm 1)
    keeps the key of tables stored before the memetic step existed, so they resume."""
    module = _load()
    path = str(tmp_path / "m.json")
    expected = {None: ("screen-adopt", "screen-adopt"), "none": ("none", None),
                "": ("elites", True), "screen": ("screen", "screen")}
    for flag, (passed, key) in expected.items():
        seen = {}
        monkeypatch.setattr(module, "run_gmeql", _recording_run(seen))
        extra = [] if flag is None else ["--memetic"] + ([flag] if flag else [])
        module.main(["--quick", "--only", "b8", *extra, "--json", path])
        assert seen["memetic"] == passed
        record = json.loads(open(path).read())["runs"][-1]
        assert record.get("memetic") == key
    assert len(json.loads(open(path).read())["runs"]) == 4  # four settings, four records


def test_calls_on_disjoint_problems_share_one_json(tmp_path, monkeypatch):
    """A second call (b2) saving while the first (b1) is running: neither loses the
    other's record; a third call on b1 that started from a stale file is stopped."""
    import pytest

    module = _load()
    out = str(tmp_path / "shared.json")
    other = _load()
    monkeypatch.setattr(other, "run_gmeql", _recording_run({}))
    stale = _load()
    monkeypatch.setattr(stale, "run_gmeql", _recording_run({}))
    started = []

    def first_run(law, variables, **kwargs):
        if not started:  # while b1's first run "trains", another call does b2 ...
            started.append(True)
            other.main(["--only", "b2", "--trials", "1", "--json", out])
        return _recording_run({})(law, variables, **kwargs)

    monkeypatch.setattr(module, "run_gmeql", first_run)
    module.main(["--only", "b1", "--trials", "2", "--max-new-runs", "1", "--json", out])
    records = {r["problem"]: r for r in json.loads(open(out).read())["runs"]}
    assert sorted(records) == ["b1", "b2"] and len(records["b1"]["trials"]) == 1

    def racing_run(law, variables, **kwargs):  # ... and b1 gains a run behind its back
        if kwargs["first_trial"] == 1 and not started[1:]:
            started.append(True)
            stale.main(["--only", "b1", "--trials", "2", "--json", out])
        return _recording_run({})(law, variables, **kwargs)

    monkeypatch.setattr(module, "run_gmeql", racing_run)
    with pytest.raises(RuntimeError, match="another call added runs of b1"):
        module.main(["--only", "b1", "--trials", "2", "--json", out])
    records = {r["problem"]: r for r in json.loads(open(out).read())["runs"]}
    assert len(records["b1"]["trials"]) == 2 and "b2" in records  # the stale call lost nothing
