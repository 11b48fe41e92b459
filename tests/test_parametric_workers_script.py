"""benchmarks/parametric_workers.py: the table, bad arguments, and (slow) a tiny run."""

import json

import pytest

from tests.scripts import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/parametric_workers.py")


def test_table_reports_the_medians_and_their_ratio(script):
    result = {"method": "meta", "trials": 80, "steps": 2000, "median_one": 250.0,
              "median_two": 200.0, "speed_up": 1.25}
    lines = script.table(result).splitlines()
    assert lines[2] == "| meta | 80 | 2000 | 250.0 | 200.0 | 1.25x |"


def test_one_restart_cannot_be_split(script):
    with pytest.raises(SystemExit):
        script.main(["--trials", "1"])


@pytest.mark.slow  # two process pools, each importing TensorFlow and compiling (~1 min)
def test_quick_run_times_both_splits(script, tmp_path, capsys):
    path = tmp_path / "w.json"
    assert script.main(["--quick", "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    assert len(result["one_process"]) == 1 and len(result["two_processes"]) == 1
    assert len(result["two_processes"][0]["training_seconds"]) == 2
    assert result["speed_up"] == pytest.approx(result["median_one"] / result["median_two"])
    assert "| meta | 4 | 20 |" in capsys.readouterr().out
