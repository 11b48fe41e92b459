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
