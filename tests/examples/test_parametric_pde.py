"""examples/parametric_pde.py runs its quick path end to end on a tiny grid.

Checks the report (JSON keys, printed comparison with the paper's Table VII, figure) and
that the selected equation on clean Burgers data has exactly the true terms. The full
runs are recorded in docs/pde.md.
"""

import json
import math

import pytest
from tests.scripts import load_script


def _load():
    return load_script("examples/parametric_pde.py")


def test_burgers_stacked_tiny_finds_the_true_terms(tmp_path, capsys):
    out, fig = tmp_path / "r.json", tmp_path / "f.png"
    code = _load().main(["--equation", "burgers", "--method", "stacked", "--quick",
                         "--n-x", "128", "--n-t", "32", "--trials", "4", "--steps", "6000",
                         "--json", str(out), "--figure", str(fig)])
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert {"equations", "coefficients", "coefficient_rmse", "terms_found",
            "wall_seconds"} <= set(result)
    assert result["terms_found"] == ["u*u_x", "u_xx"], printed
    # Nearest grid steps (32 steps over [0, 10]) of the paper's t values.
    assert list(result["equations"]) == ["0.6452", "3.226", "5.806", "8.065"]
    assert set(result["coefficients"]) == {"u*u_x", "u_xx"}
    for curve in result["coefficients"].values():
        assert len(curve["true"]) == len(curve["learned"]) == 32
    assert set(result["coefficient_rmse"]) == {"u*u_x", "u_xx"}
    assert all(0 <= v < 0.1 for v in result["coefficient_rmse"].values())
    assert math.isfinite(result["wall_seconds"]) and result["wall_seconds"] > 0
    assert "-0.86uu_x + 0.10u_xx" in printed  # the paper's SEQL row at t = 5.647
    assert fig.stat().st_size > 10_000


def test_rejects_bad_arguments():
    module = _load()
    with pytest.raises(SystemExit):
        module.main(["--equation", "heat", "--method", "stacked"])
    with pytest.raises(SystemExit):
        module.main(["--equation", "burgers", "--method", "meta", "--trials", "0"])


def test_selection_rules():
    select = _load().select
    held = [1.0e-3, 0.9e-3, float("inf"), 2.0e-3]
    terms = [["u*u_x", "u_xx"], ["u", "u*u_x", "u_x", "u_xx"], None, ["u_xx"]]
    assert select(held, terms, "lowest") == 1
    assert select(held, terms, "simplest") == 0  # within 1.5x of the lowest, fewer terms
    with pytest.raises(RuntimeError, match="diverged"):
        select([float("inf")], [None])
