"""`deepsymreg fit` / `deepsymreg predict` on CSV files: bad tables and a tiny real run."""

import json

import numpy as np
import pandas as pd
import pytest

from deepsymreg import cli


def write(path, text):
    path.write_text(text)
    return str(path)


def table(n=20, header="a,b,y"):
    rng = np.random.default_rng(0)
    rows = [f"{a:.4f},{b:.4f},{a * b:.4f}" for a, b in rng.uniform(1, 5, (n, 2))]
    return header + "\n" + "\n".join(rows) + "\n"


BAD = {
    "missing file": (None, "no such file"),
    "empty file": ("", "empty"),
    "unknown target": (table(header="a,b,z"), "no column 'y'"),
    "duplicate names": (table(header="a,a,y"), "more than once"),
    "non-numeric": (table().replace("\n", "\n1 kg,1,2\n", 1), "not a number"),
    "nan row": (table().replace("\n", "\n1,nan,2\n", 1), "--dropna"),
    "infinite cell": (table().replace("\n", "\n1,2,inf\n", 1), "--dropna"),
    "few rows": (table(n=5), "at least 10"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_tables_exit_2_with_one_line_and_no_folder(case, tmp_path, capsys):
    text, message = BAD[case]
    path = str(tmp_path / "missing.csv") if text is None else write(tmp_path / "d.csv", text)
    out = tmp_path / "out"
    assert cli.main(["fit", path, "--target", "y", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unknown_feature_and_existing_folder(tmp_path, capsys):
    path = write(tmp_path / "d.csv", table())
    assert cli.main(["fit", path, "--target", "y", "--features", "a,c", "--quiet"]) == 2
    assert "no column 'c'" in capsys.readouterr().err
    (tmp_path / "out").mkdir()
    assert cli.main(["fit", path, "--target", "y", "--out", str(tmp_path / "out")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_dropna_drops_only_the_rows_with_a_missing_nan_or_infinite_cell(tmp_path):
    from deepsymreg.tables import read_table

    lines = table(n=12).splitlines()
    lines[2], lines[5], lines[7] = "1.0,,2.0", "1.0,nan,2.0", "inf,1.0,2.0"
    path = write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    header, data = read_table(path, ["b", "y"], dropna=True)
    # The inf sits in column a, which is not read: that row stays.
    assert header == ["b", "y"] and data.shape == (10, 2) and np.isfinite(data).all()
    assert read_table(path, dropna=True, min_rows=1)[1].shape == (9, 3)
    np.testing.assert_allclose(data[0], [float(c) for c in lines[1].split(",")[1:]])


def test_fit_then_predict(tmp_path, capsys):
    path = write(tmp_path / "d.csv", table(n=60))
    # The fit reads a copy with a missing cell, dropped by --dropna (one fit for both).
    lines = table(n=60).splitlines()
    holed = write(tmp_path / "holed.csv", "\n".join([*lines[:3], "1.0,,2.0", *lines[3:]]) + "\n")
    out, js = tmp_path / "fit", tmp_path / "fit.json"
    argv = ["fit", holed, "--target", "y", "--trials", "2", "--steps", "600", "--quiet",
            "--out", str(out), "--json", str(js)]
    assert cli.main(argv) == 2 and "--dropna" in capsys.readouterr().err
    assert cli.main([*argv, "--dropna"]) == 0
    printed = capsys.readouterr().out
    assert "chosen law:  y = " in printed
    from deepsymreg.estimator import SymbolicRegressor

    written = {p.name for p in out.iterdir()}
    assert {"estimator.json", "equations.csv", "predicted_vs_measured.png",
            "residuals.png"} <= written
    # The network is saved when the chosen equation came from one (a refitted candidate,
    # e.g. a power law, has none).
    loaded = SymbolicRegressor.load(out)
    assert ("network.keras" in written) == (loaded.rows_[loaded.best_index_].get("weights")
                                            is not None)
    result = json.loads(js.read_text())
    assert result["variables"] == ["a", "b"] and result["wall_seconds"] > 0
    assert result["best_expression"] in [e["expression"] for e in result["equations"]]
    assert {"expression", "complexity", "loss", "score"} <= set(result["equations"][0])
    preds = tmp_path / "pred.csv"
    assert cli.main(["predict", str(out), path, "--out", str(preds)]) == 0
    lines = preds.read_text().splitlines()
    assert lines[0] == "y" and len(lines) == 61
    est = SymbolicRegressor.load(out)
    x = pd.read_csv(path)[["a", "b"]]  # named columns, as the estimator was fitted on
    np.testing.assert_allclose([float(v) for v in lines[1:]], est.predict(x), rtol=1e-12)
    capsys.readouterr()
    assert cli.main(["predict", str(out), holed, "--dropna"]) == 0  # to stdout, the hole dropped
    assert capsys.readouterr().out.splitlines() == lines
    assert cli.main(["predict", str(tmp_path), path]) == 2


def param_table(n_t=8, per_t=16):
    rng = np.random.default_rng(0)
    rows = [f"{x:.5f},{t:.5f},{t * x:.5f}"
            for t in np.linspace(-2, 2, n_t) for x in rng.uniform(-1, 1, per_t)]
    return "x,t,y\n" + "\n".join(rows) + "\n"


def test_fit_with_param(tmp_path, capsys, monkeypatch):
    from deepsymreg.estimator import SymbolicRegressor

    # Fitting the coefficient curves in closed form trains one regressor per curve (slow);
    # here it reports that none was found.
    def no_closed_form(self, **kwargs):
        self.closed_form_report_ = {"x": {"expression": "0", "relative_error": 1.0, "found": False}}

    monkeypatch.setattr(SymbolicRegressor, "closed_form", no_closed_form)
    path = write(tmp_path / "d.csv", param_table())
    out, js = tmp_path / "fit", tmp_path / "fit.json"
    argv = ["fit", path, "--target", "y", "--param", "t", "--param-method", "meta", "--trials", "1",
            "--steps", "100", "--quiet", "--out", str(out), "--json", str(js)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "chosen law at t = -2" in printed and "chosen law at t = 2" in printed
    assert "closed form:  none found (no closed form for the curve(s) ['x'])" in printed
    result = json.loads(js.read_text())
    assert result["param"] == "t" and result["param_method"] == "meta"
    assert result["variables"] == ["x"] and result["closed_form"] is None
    assert set(result["equations_at_t"]) == {"-2", "0", "2"}
    assert {"expression", "seed", "t", "validation_loss"} <= set(result["equations"][0])
    est = SymbolicRegressor.load(out)  # the folder reloads; meta predicts at any t
    pd = pytest.importorskip("pandas")
    assert est.predict(pd.DataFrame({"x": [0.5, 0.5], "t": [0.1, 7.0]})).shape == (2,)


@pytest.mark.parametrize("param, message", [("z", "no column 'z'"), ("y", "cannot be the parameter")])
def test_bad_param_exits_2_without_folder(param, message, tmp_path, capsys):
    path = write(tmp_path / "d.csv", param_table(n_t=4, per_t=4))
    out = tmp_path / "out"
    assert cli.main(["fit", path, "--target", "y", "--param", param, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: argument --param") and message in err[0]
    assert not out.exists()


def test_param_off_grid_with_stacked_exits_2(tmp_path, capsys):
    text = param_table(n_t=4, per_t=4).replace("0.66667", "0.5")  # t: -2, -0.667, 0.5, 2
    path = write(tmp_path / "d.csv", text)
    assert cli.main(["fit", path, "--target", "y", "--param", "t", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evenly spaced" in err[0] and "param_method='meta'" in err[0]


def test_memetic_reaches_the_estimator_and_needs_gmeql(tmp_path, capsys, monkeypatch):
    from deepsymreg.estimator import SymbolicRegressor

    path = write(tmp_path / "d.csv", table(n=20))
    assert cli.main(["fit", path, "--target", "y", "--memetic", "none", "--quiet"]) == 2
    assert "--memetic: only with --method gmeql" in capsys.readouterr().err
    seen = {}

    def stop(self, X, y, sample_weight=None):  # what is tested is the setting passed
        seen.update(self.get_params())
        raise ValueError("stopped before training")

    monkeypatch.setattr(SymbolicRegressor, "fit", stop)
    for extra, expected in (([], "screen-adopt"), (["--memetic", "none"], "none")):
        with pytest.raises(ValueError, match="stopped"):
            cli.main(["fit", path, "--target", "y", "--method", "gmeql", "--quiet", *extra])
        assert seen["method"] == "gmeql" and seen["memetic"] == expected
