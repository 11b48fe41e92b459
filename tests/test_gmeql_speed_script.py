"""benchmarks/gmeql_speed.py: one tiny timed configuration and its table."""


import pytest
from tests.scripts import load_script



@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/gmeql_speed.py")


def test_full_run_is_the_papers_iterations(script):
    assert script.FULL_RUN == 3 * 2000 + 48000


@pytest.mark.slow  # a compiled GMEQL (about 20 s): outside the default suite's budget
def test_one_tiny_configuration_and_its_table(script):
    x, y = script.b1_data(n=40)
    r = script.time_iterations(2, 20, steps_per_call=10, x=x, y=y)
    assert r["iterations"] == 20 and r["runs"] == 2 and r["best_mae_finite"]
    assert r["ms_per_run_iteration"] == pytest.approx(r["ms_per_iteration"] / 2)
    assert r["seconds_per_full_run"] == pytest.approx(r["ms_per_run_iteration"] * 54000 / 1e3)
    text = script.table([r])
    assert text.splitlines()[2].startswith("| 2 | ") and text.splitlines()[2].endswith("| 10 |")
    assert r["steps_per_call"] == 10


@pytest.mark.parametrize("argv, flag", [(["--runs", "0"], "--runs"),
                                        (["--steps-per-call", "5,x"], "--steps-per-call"),
                                        (["--steps-per-call", "0"], "--steps-per-call"),
                                        (["--repeats", "0"], "--repeats"),
                                        (["--estimator", "-1"], "--estimator"),
                                        (["--estimator-steps", "0"], "--estimator")])
def test_bad_arguments_are_usage_errors(script, capsys, argv, flag):
    with pytest.raises(SystemExit) as info:
        script.main(argv)
    assert info.value.code == 2 and flag in capsys.readouterr().err


def test_each_ablation_switches_one_part_off(script):
    from deepsymreg.models.gmeql import GMEQL

    names = [name for name, _ in script.ABLATIONS]
    assert len(set(names)) == len(names) and script.ABLATIONS[0][1] == {}
    default = GMEQL(samples=2).get_config()
    for _, kwargs in script.ABLATIONS[1:]:
        config = GMEQL(samples=2, **kwargs).get_config()
        changed = {k for k, v in config.items() if k != "name" and default[k] != v}
        assert changed == set(kwargs)


@pytest.mark.slow  # two compiled GMEQL fits
def test_estimator_rows_time_each_memetic_setting(script):
    x, y = script.b1_data(n=40)
    rows = [script.time_estimator(1, 200, setting, x, y) for setting in ("none", "screen")]
    for row, setting in zip(rows, ("none", "screen")):
        assert row["memetic"] == setting and row["wall_seconds"] > 0 and row["steps"] == 200
        assert row["success"] == (row["relative_rms"] < 0.02) and row["equation"]


def test_estimator_row_reads_the_columns_as_b1s_variables(script, monkeypatch):
    """The estimator names columns x0, x1, x2; b1's are x1, x2, x3 (renamed at once,
    not one after another)."""
    import numpy as np
    import sympy

    from deepsymreg import estimator

    class Exact:  # a stand-in fit that returns b1's law in the estimator's names
        def __init__(self, **kwargs):
            pass

        def fit(self, x, y):
            return self

        def sympy(self):
            x0, x1, x2 = sympy.symbols("x0 x1 x2")
            return 0.8 * x0**3 + 0.9 * x1**2 + 1.2 * x2

    monkeypatch.setattr(estimator, "SymbolicRegressor", Exact)
    x, y = script.b1_data(n=40)
    row = script.time_estimator(1, 10, "none", x, y)
    assert row["success"] and row["relative_rms"] < 1e-6 and np.isfinite(row["wall_seconds"])


def test_run_timer_records_each_part_and_restores_the_methods(script, monkeypatch):
    import keras
    import numpy as np

    from deepsymreg.models.gmeql import GMEQL

    def fake_refit(model, *args, **kwargs):
        return np.array([[0.5, np.inf, 0.1]])

    def fake_select(model, *args, **kwargs):
        return "selected"

    monkeypatch.setattr(GMEQL, "refit_elites", fake_refit)
    monkeypatch.setattr(GMEQL, "select", fake_select)
    monkeypatch.setattr(keras.Model, "fit", lambda model, *a, **k: "history")
    with script._RunTimer() as timer:
        assert [GMEQL.fit(None) for _ in range(3)] == ["history"] * 3
        GMEQL.refit_elites(None)
        GMEQL.refit_elites(None)
        assert GMEQL.select(None) == "selected"
    assert [n for n, _ in timer.refits] == [2, 2] and all(t >= 0 for _, t in timer.refits)
    assert len(timer.fits) == 3 and len(timer.selects) == 1
    # The inherited fit is GMEQL's own again, not a leftover class attribute.
    assert GMEQL.refit_elites is fake_refit and GMEQL.select is fake_select
    assert "fit" not in GMEQL.__dict__


def test_split_text_names_every_part(script):
    full = {"fits": [12.0, 2.5, 5.0, 140.0], "refits": [[400, 18.0], [8, 1.0]], "select": 10.6}
    text = script.split_text(full)
    assert text == ("stage 1 12.0, 2.5, 5.0 s (the first with the compile); stage 2 140 s "
                    "(of which the memetic step 19 s in 2 refits of 400, 8 elites); "
                    "read-out 10.6 s")
    assert script.split_text({"fits": [90.0], "refits": [], "select": 1.0}).startswith(
        "no stage 1; stage 2 90 s; read-out")
    full.update(wall_seconds=160.0, cpu_seconds=200.0)
    assert script.split_text(full).endswith("read-out 10.6 s; CPU 200 s, 1.25 cores on average")
