"""Every example runs end to end in its fast mode."""

import json

import pytest
from tests.scripts import load_script


def _load(name):
    return load_script(f"examples/{name}.py")


def test_quickstart_discovers_the_default_law(tmp_path, capsys):
    out = tmp_path / "qs.png"
    code = _load("quickstart").main(["--restarts", "2", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "recovered" in printed and out.stat().st_size > 10_000


def test_benchmark_table5_quick_writes_rows(tmp_path, capsys):
    path = tmp_path / "t5.json"
    _load("benchmark_table5").main(
        ["--quick", "--only", "x", "--trials", "2", "--workers", "1", "--json", str(path)]
    )
    rows = json.loads(path.read_text())
    assert [r["expr"] for r in rows] == ["x"]
    assert rows[0]["paper_success_rate"] == 1.0
    assert "| `x` | 1.00 |" in capsys.readouterr().out


def test_benchmark_table5_rejects_unknown_law():
    with pytest.raises(SystemExit):
        _load("benchmark_table5").main(["--only", "x**7"])


def test_parametric_benchmark_rejects_bad_meta_widths(capsys):
    with pytest.raises(SystemExit):
        _load("parametric_benchmark").main(["--only", "f1", "--meta-hidden", "64,x"])
    assert "--meta-hidden" in capsys.readouterr().err


def test_parametric_benchmark_resumes_runs_stored_without_widths(tmp_path, capsys):
    """A meta run stored before the widths were recorded used the paper's widths."""
    runs = tmp_path / "runs.json"
    old = {"law": "f1", "method": "meta", "trials": 2, "steps": 10, "n_param": 128, "seed": 0,
           "meta_hidden": None}
    runs.write_text(json.dumps({"runs": [old]}))
    script = _load("parametric_benchmark")
    assert script.main(["--only", "f1", "--methods", "meta", "--trials", "2", "--steps", "10",
                        "--meta-hidden", "64,64,256", "--json", str(runs), "--quiet"]) in (0, None)
    assert "already in" in capsys.readouterr().out
