"""ParametricEQL: layouts of t, training on a t grid, read-out at t, coefficient curves, files."""

import json

import keras
import numpy as np
import pytest
import sympy
import tensorflow as tf

from deepsymreg import ParametricEQL, symbolic
from deepsymreg.callbacks import PhasedSchedule
from deepsymreg.data import repeated
from deepsymreg.models.parametric import law_from_curves
from deepsymreg.parametric import make_parametric_data, parametric_schedule
from tests.layer_checks import save_and_load

GRID = np.linspace(-2, 2, 8)


def _model(method="stacked", **kw):
    grid = {"t_steps": 8} if method == "stacked" else {"meta_hidden": (8, 8)}
    return ParametricEQL(depth=1, primitives=["identity", "product"], method=method, t_range=(-2, 2),
                         seed=0, **grid, **kw)


@pytest.mark.parametrize("method", ["stacked", "meta"])
@pytest.mark.parametrize("default", [True, False])
def test_only_the_default_primitives_give_an_offset(method, default):
    """The paper's units (identity, square, sin, product) are all 0 at x = 0, and no layer
    has a bias: its output there is 0 for any weights, so ``x + t`` is out of reach. The
    default's constant unit gives an offset ``c(t)``."""
    from deepsymreg.parametric import PAPER_PRIMITIVES, PRIMITIVES

    grid = {"t_steps": 8} if method == "stacked" else {"meta_hidden": (8, 8)}
    model = ParametricEQL(depth=2, primitives=PRIMITIVES if default else PAPER_PRIMITIVES,
                          method=method, t_range=(-2, 2), trials=2, seed=0, **grid)
    at_zero = np.zeros((8, 4, 2), "float32")
    at_zero[..., 1] = GRID[:, None]
    out = np.abs(model(at_zero).numpy())
    assert (out.max() > 1e-3) if default else (out.max() == 0.0)
    if default:  # and the read-out holds the offset
        law = model.to_sympy(["x"], trial=0, t=GRID[0])
        assert abs(float(law.subs(sympy.Symbol("x"), 0))) > 1e-3


@pytest.mark.parametrize("method", ["stacked", "meta"])
def test_per_sample_and_per_step_layouts_agree(method):
    model = _model(method, trials=2)
    x, _, _ = make_parametric_data("t*x", "x", domain=(-1, 1), param_domain=(-2, 2), n_param=8,
                                   n_per_param=5)
    stepwise = model(x).numpy()  # (K, N, per, 1)
    flat = model(x.reshape(-1, 2)).numpy()  # (K, N*per, 1)
    assert stepwise.shape == (2, 8, 5, 1) and flat.shape == (2, 40, 1)
    np.testing.assert_allclose(stepwise.reshape(2, 40, 1), flat, rtol=1e-5, atol=1e-6)


def test_stacked_learns_t_times_x_and_reads_it_at_grid_values():
    x, y, grid = make_parametric_data("t*x", "x", domain=(-1, 1), param_domain=(-2, 2), n_param=8,
                                      n_per_param=64, seed=0)
    model = _model(trials=2, steps_per_call=50, batch_per_step=16, smoothness=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=True)
    phased = PhasedSchedule(parametric_schedule(1500))
    model.fit(repeated((x, y)), epochs=1,
              steps_per_epoch=phased.batches_needed(model), callbacks=[phased], shuffle=False, verbose=0)
    errors = model.trial_errors(x.reshape(-1, 2), y.reshape(-1, 1))
    k = int(np.argmin(errors))
    assert errors[k] < 1e-3
    xs = sympy.Symbol("x")
    for t in grid[[0, 3, 7]]:
        expr = model.to_sympy(["x"], trial=k, t=float(t))
        assert float(expr.coeff(xs)) == pytest.approx(t, abs=0.05)
    t_values, curves = model.coefficient_curves(["x"], trial=k)
    np.testing.assert_allclose(t_values, grid)
    np.testing.assert_allclose(curves["x"], grid, atol=0.05)
    with pytest.raises(ValueError, match="grid"):
        model.to_sympy(["x"], trial=k, t=0.1)
    assert model.nearest_grid_t(0.1) == pytest.approx(grid[4])


def test_minibatch_per_step_draws_rows_inside_the_step():
    model = _model(batch_per_step=3)
    x, y, _ = make_parametric_data("t*x", "x", n_param=8, n_per_param=20, param_domain=(-2, 2))
    model(x)
    data, _, per_trial = model._loss_terms(tf.constant(x), tf.constant(y))
    assert np.isfinite(float(data)) and per_trial.shape == (1,)


@pytest.mark.parametrize("method", ["stacked", "meta"])
def test_t_per_step_draws_distinct_grid_steps_each_time(method):
    model = _model(method, batch_per_step=4, t_per_step=3)
    x, y, grid = make_parametric_data("t*x", "x", n_param=8, n_per_param=20, param_domain=(-2, 2))
    drawn = []
    for _ in range(2):
        xb, yb = model.minibatch(tf.constant(x), tf.constant(y))
        assert xb.shape == (3, 4, 2) and yb.shape == (3, 4, 1)
        t = xb.numpy()[:, :, -1]
        assert np.all(t == t[:, :1])  # one t per step
        assert len(set(t[:, 0])) == 3 and set(t[:, 0]) <= set(np.float32(grid))
        np.testing.assert_allclose(yb.numpy()[..., 0], xb.numpy()[..., 0] * t, rtol=1e-6)  # rows stay paired
        drawn.append(tuple(t[:, 0]))
    assert drawn[0] != drawn[1]
    data, _, _ = model._loss_terms(tf.constant(x), tf.constant(y))
    assert np.isfinite(float(data))


@pytest.mark.parametrize("method", ["stacked", "meta"])
def test_keras_file_round_trip(method, tmp_path):
    model = _model(method, trials=2)
    x = np.stack([np.linspace(-1, 1, 8), GRID], 1).astype("float32")
    model(x)
    loaded = save_and_load(model, x, tmp_path)
    assert loaded.method == method and loaded.t_range == (-2.0, 2.0)


def test_law_from_curves_rebuilds_the_law():
    t, x = sympy.symbols("t x")
    law = law_from_curves({"x**2": t, "sin({0}*x)": 3 * sympy.sin(t), "sin({0}*x)[0]": (5 + t) / 2}, ["x"])
    assert sympy.simplify(law - (t * x**2 + 3 * sympy.sin(t) * sympy.sin((5 + t) / 2 * x))) == 0


def test_term_coefficients_keys_terms_by_form():
    out = symbolic.term_coefficients(sympy.sympify("-2.5*x**2 + 0.9*sin(1.19*x) + 0.01"))
    assert out["x**2"] == (-2.5, [])
    assert out["sin({0}*x)"] == (0.9, [1.19])
    assert out["1"] == (0.01, [])


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "spline"}, "method"),
    ({"method": "stacked", "t_steps": None}, "t_steps"),
    ({"method": "meta", "t_steps": 8}, "t_steps"),
    ({"method": "meta", "smoothness": 0.1}, "smoothness"),
    ({"method": "stacked", "t_steps": 8, "t_range": (2, -2)}, "t_range"),
    ({"method": "stacked", "t_steps": 8, "batch_per_step": 0}, "batch_per_step"),
    ({"method": "meta", "t_per_step": 0}, "t_per_step"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ParametricEQL(**kwargs)


def test_inputs_need_a_variable_and_t():
    with pytest.raises(ValueError, match="t as the last"):
        _model()(np.zeros((4, 1), "float32"))


def test_command_line_parametric_run(tmp_path, capsys):
    from deepsymreg.cli import main

    out = tmp_path / "run.json"
    code = main(["parametric", "--expr", "t*x", "--vars", "x", "--n-param", "8", "--n-per-param",
                 "32", "--param-domain=-2,2", "--trials", "2", "--steps", "300", "--report-t=-1,0.5",
                 "--no-closed-form", "--quiet", "--json", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    for key in ("expr", "method", "success_rate", "best_seed", "best_expressions", "best_closed_form",
                "wall_seconds", "steps", "trials"):
        assert key in result
    # Report t values are read at the nearest grid steps, keyed by those steps' t.
    assert set(result["best_expressions"]) == {"-0.8571", "0.2857"}
    assert {"seed", "extrapolation_mse", "success", "expressions"} <= set(result["trials"][0])
    assert "true law" in capsys.readouterr().out


def test_command_line_rejects_bad_report_t(capsys):
    from deepsymreg.cli import main

    assert main(["parametric", "--expr", "t*x", "--vars", "x", "--report-t", "a,b"]) == 2
    assert "report-t" in capsys.readouterr().err


@pytest.mark.parametrize("argv, named", [
    (["--method", "meta", "--meta-hidden", "64,a"], "--meta-hidden"),
    (["--meta-hidden", "16,16"], "meta_hidden"),  # widths belong to the meta method
])
def test_command_line_rejects_bad_meta_hidden(argv, named, capsys):
    from deepsymreg.cli import main

    assert main(["parametric", "--expr", "t*x", "--vars", "x", *argv]) == 2
    assert named in capsys.readouterr().err


class _Curves:
    """A stand-in model with known coefficient curves (closed_form reads only these)."""

    def __init__(self, curves):
        self.curves = curves

    def coefficient_curves(self, var_names, threshold=0.01, trial=None):
        return GRID, self.curves


def test_closed_form_rebuilds_the_law_from_its_curves():
    from deepsymreg.parametric import closed_form

    law, report = closed_form(_Curves({"x**2": 2.0 * GRID, "x": np.full_like(GRID, 3.0)}), ["x"],
                              trials=2, steps=3000)
    t, x = sympy.symbols("t x")
    assert report["x"]["found"] and report["x**2"]["found"]
    f = sympy.lambdify((t, x), law - (2 * t * x**2 + 3 * x))
    assert np.max(np.abs(f(GRID, 1.5))) < 0.05, law


@pytest.mark.slow  # a symbolic regression of a noisy curve (about 16 s)
def test_closed_form_reports_a_curve_without_one():
    from deepsymreg.parametric import closed_form

    rough = np.random.default_rng(0).normal(size=GRID.shape)  # noise has no closed form
    law, report = closed_form(_Curves({"x": rough}), ["x"], trials=2, steps=1000)
    assert law is None and report["x"]["found"] is False


def test_run_parametric_judges_the_closed_form_with_domains_given_as_text(monkeypatch):
    """The command line passes domains as 'low,high' text: the closed form's judge must
    read them (the closed form itself is stubbed here; it has its own tests)."""
    from deepsymreg import parametric

    t, x = sympy.symbols("t x")
    monkeypatch.setattr(parametric, "closed_form", lambda *a, **k: (t * x, {"x": {"found": True}}))
    result = parametric.run_parametric("t*x", "x", train_domain="-1,1", test_domain="-2,2",
                                       param_domain="-2,2", n_param=8, n_per_param=16, trials=1,
                                       steps=100, report_t=[0.0])
    assert result["best_closed_form"] == "t*x" and result["best_closed_form_success"] is True
    assert result["settings"]["param_domain"] == [-2.0, 2.0]


def test_polished_curves_replace_a_small_look_alike_term():
    # A model whose read-out at every t carries 0.3 sin(0.05 x) beside the linear term
    # (as a selected restart of f2 did): on the step's data the polish gives the x term back.
    from deepsymreg.parametric import polished_curves

    x_sym = sympy.Symbol("x")

    class LookAlike:
        def nearest_grid_t(self, t):
            return t

        def to_sympy(self, names, threshold, trial, *, t):
            c = 3 * np.sin(t)
            return t * x_sym**2 + (c - 0.3 * 0.05) * x_sym + 0.3 * sympy.sin(0.05 * x_sym)

    inputs, targets, grid = make_parametric_data("t*x**2 + 3*sin(t)*x", "x", n_param=6,
                                                 n_per_param=200)
    t_values, curves = polished_curves(LookAlike(), ["x"], inputs, targets)
    np.testing.assert_allclose(t_values, np.float32(grid), rtol=1e-6)
    assert set(curves) == {"x", "x**2"}
    np.testing.assert_allclose(curves["x"], 3 * np.sin(t_values), atol=1e-3)
    np.testing.assert_allclose(curves["x**2"], t_values, atol=1e-3)


def test_polished_curves_keep_one_structure_for_every_t():
    # The data carry an extra 0.05 x at two of six steps: the polish keeps x there, but a
    # term kept at no more than half of the steps is left out of every step's reading.
    from deepsymreg.parametric import polished_curves

    x_sym = sympy.Symbol("x")

    class Sine:
        def nearest_grid_t(self, t):
            return t

        def to_sympy(self, names, threshold, trial, *, t):
            return 0.98 * sympy.sin((5 + t) / 2 * x_sym)

    inputs, targets, grid = make_parametric_data("sin((5 + t)/2*x)", "x", n_param=6, n_per_param=200)
    targets = targets.copy()
    targets[:2, :, 0] += 0.05 * inputs[:2, :, 0]
    _, curves = polished_curves(Sine(), ["x"], inputs, targets)
    assert set(curves) == {"sin({0}*x)", "sin({0}*x)[0]"}
    np.testing.assert_allclose(curves["sin({0}*x)"][2:], 1.0, atol=1e-3)  # amplitude refitted
    np.testing.assert_allclose(curves["sin({0}*x)[0]"], (5 + np.float32(grid)) / 2, rtol=1e-5)


def _chunk_job(**changes):
    inputs, targets, _ = make_parametric_data("t*x", "x", domain=(-1, 1), param_domain=(-2, 2),
                                              n_param=8, n_per_param=16)
    test_inputs, test_targets, _ = make_parametric_data("t*x", "x", domain=(-2, 2),
                                                        param_domain=(-2, 2), n_param=8,
                                                        n_per_param=16, seed=1)
    job = {"seeds": [3, 4], "inputs": inputs, "targets": targets, "test_inputs": test_inputs,
           "test_targets": test_targets, "expr": "t*x", "names": ["x"], "param": "t",
           "test_domain": (-2.0, 2.0), "report_t": [0.0, 1.0], "method": "stacked", "steps": 100,
           "batch_per_step": 8, "t_per_step": None, "meta_hidden": None, "verbose": 0,
           "primitives": None, "portable": True}
    return {**job, **changes}


def test_a_chunk_from_a_worker_is_rebuilt_with_its_weights():
    # A worker process sends its chunk back as config + weights (a model cannot be
    # pickled); the rebuilt model must read exactly the equations the worker read.
    from deepsymreg.parametric import _chunk_model, _train_and_read

    job = _chunk_job()
    part = _train_and_read(job)
    assert "model" not in part and [r["seed"] for r in part["rows"]] == [3, 4]
    model = _chunk_model(part, job["inputs"].shape)
    assert model.trials == 2 and model.method == "stacked"
    for k, row in enumerate(part["rows"]):
        for key, text in row["expressions"].items():
            read = model.to_sympy(["x"], trial=k, t=model.nearest_grid_t(float(key)))
            assert str(symbolic.rounded(read, 4)) == text
    flat = job["test_inputs"].reshape(-1, 2)
    mse = np.mean((model.predict(flat, verbose=0)[..., 0] - job["test_targets"].reshape(-1)) ** 2, 1)
    np.testing.assert_allclose(mse, [r["extrapolation_mse"] for r in part["rows"]], rtol=1e-5)


def test_restarts_split_over_worker_processes_keep_their_seeds():
    from deepsymreg import parametric

    heard = []
    result = parametric.run_parametric(
        "t*x", "x", train_domain="-1,1", test_domain="-2,2", param_domain="-2,2", n_param=8,
        n_per_param=16, trials=3, seed=5, steps=100, report_t=[1.0], closed_forms=False,
        workers=2, progress=heard.append)
    assert [t["seed"] for t in result["trials"]] == [5, 6, 7]
    assert result["settings"]["workers"] == 2 and sum(heard) == 3 * 100
    best = next(t for t in result["trials"] if t["seed"] == result["best_seed"])
    assert result["best_expressions"] == best["expressions"]
    assert len(result["coefficient_curves"]["t"]) == 8  # read off the rebuilt chunk model
    for trial in result["trials"]:  # stacked: tested at the 8 grid steps
        per_t = np.array(trial["per_t_mse"])
        assert per_t.shape == (8,) and trial["extrapolation_mse"] == pytest.approx(per_t.mean())
        assert trial["worst_t_relative"] >= per_t.max() / 16.0  # (t x)**2 <= 16 there


def test_train_parametric_passes_the_meta_widths_and_rejects_them_for_stacked():
    from deepsymreg.parametric import train_parametric

    inputs, targets, _ = make_parametric_data("t*x", "x", n_param=4, n_per_param=8)
    with pytest.raises(ValueError, match="argument `meta_hidden`"):
        train_parametric(inputs, targets, method="stacked", meta_hidden=(8,), trials=1, steps=10)
    model = train_parametric(inputs, targets, method="meta", meta_hidden=(4, 4), trials=1,
                             steps=10)
    assert model.meta_hidden == (4, 4)
    widths = {tuple(w.shape) for w in model.trainable_weights if "mwu_hidden_1_kernel" in w.path}
    assert widths == {(1, 4, 4)}  # (restarts, in, out)


def test_selection_breaks_ties_by_simplicity_then_by_the_worst_t():
    from deepsymreg import parametric

    def row(seed, mean, worst, size=3):
        return {"seed": seed, "extrapolation_mse": mean, "worst_t_relative": worst, "complexity": size}

    wiggly, even = row(0, 1.0e-3, 9e-3), row(1, 1.2e-3, 2e-3)
    assert parametric.select_restart([wiggly, even])["seed"] == 1  # tied on the mean
    assert parametric.select_restart([wiggly, row(1, 1.6e-3, 2e-3)])["seed"] == 0  # not tied
    simpler = row(2, 1.4e-3, 5e-3, size=2)
    assert parametric.select_restart([wiggly, even, simpler])["seed"] == 2
    assert parametric.select_restart([row(0, float("inf"), float("inf"))]) is None
    assert parametric.select_restart([row(0, float("nan"), 1.0), even])["seed"] == 1
