"""benchmarks/pde_peers.py: PySINDy's PDE-FIND routes on tiny clean Burgers data."""

import json

import pytest
from tests.scripts import load_script

pytest.importorskip("pysindy")



@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/pde_peers.py")


def test_tiny_clean_burgers(script, tmp_path, capsys):
    path = tmp_path / "peers.json"
    assert script.main(["--equation", "burgers", "--noise", "0", "--quick",
                        "--n-x", "128", "--n-t", "32", "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    assert set(result) >= {"command", "date", "pysindy", "settings", "results", "table"}
    rows = {r["method"]: r for r in result["results"]}
    assert set(rows) == {"PDE-FIND parametric", "PDE-FIND piecewise"}  # no EQL rows on a custom grid
    for row in rows.values():
        assert set(row) >= {"terms_found", "coefficient_rmse", "max_coefficient_rmse",
                            "wall_seconds", "coefficients"}
        assert set(row["coefficient_rmse"]) == {"u*u_x", "u_xx"}
        assert len(row["coefficients"]["u*u_x"]["learned"]) == 32  # one value per t
    piecewise = rows["PDE-FIND piecewise"]
    assert piecewise["terms_found"] == ["u*u_x", "u_xx"]
    assert piecewise["details"]["kept_fraction"] == {"u*u_x": 1.0, "u_xx": 1.0}
    assert piecewise["max_coefficient_rmse"] < 1e-6  # exact data, exact terms
    assert {"u*u_x", "u_xx"} <= set(rows["PDE-FIND parametric"]["terms_found"])
    out = capsys.readouterr().out
    assert "| burgers | clean | PDE-FIND piecewise | `u*u_x`, `u_xx` |" in out


def test_a_missed_term_counts_one(script):
    data = script.make_data("burgers", 64, 8)
    scored = script.score(data, {"u*u_x": data.coefficients["u*u_x"], "u": 0 * data.grid + 1})
    assert scored["terms_found"] == ["u", "u*u_x"]
    assert scored["coefficient_rmse"] == {"u*u_x": 0.0, "u_xx": 1.0}
    assert scored["coefficients"]["u"]["true"] == [0.0] * 8


@pytest.mark.parametrize("argv", [["--noise", "0.02"], ["--equation", "heat"],
                                  ["--threshold", "-1"], ["--basis", "chebyshev"]])
def test_bad_arguments(script, argv):
    with pytest.raises(SystemExit):
        script.main(argv)
