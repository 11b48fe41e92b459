"""The `deepsymreg benchmark` command line: argument errors and a tiny real run."""

import inspect
import json

import pytest
import sympy

from deepsymreg import __version__, benchmark, cli
from deepsymreg.callbacks import Phase

BASE = ["benchmark", "--expr", "x*y", "--vars", "x,y", "--trials", "2", "--workers", "1"]


@pytest.mark.parametrize("value", ["1", "a,b", "1,-1", "0,0", "nan,1", "-1,inf"])
def test_bad_train_domain_exits_2_naming_it(value, capsys):
    assert cli.main([*BASE, f"--train-domain={value}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "train_domain" in err and value in err


def test_bad_test_domain_exits_2_naming_it(capsys):
    assert cli.main([*BASE, "--test-domain=2,-2"]) == 2
    assert "test_domain" in capsys.readouterr().err


@pytest.mark.parametrize("expr", ["x*z", "x + y + t**2"])
def test_unknown_variable_in_expr_exits_2_naming_it(expr, capsys):
    argv = [*BASE]
    argv[argv.index("x*y")] = expr
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "`expr`" in err and ("'z'" in err or "'t'" in err)


def test_unparsable_expr_exits_2(capsys):
    argv = [*BASE]
    argv[argv.index("x*y")] = "x +* y"
    assert cli.main(argv) == 2
    assert "`expr`" in capsys.readouterr().err


def test_missing_json_folder_exits_2(tmp_path, capsys):
    assert cli.main([*BASE, "--json", str(tmp_path / "nope" / "out.json")]) == 2
    assert "--json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, option",
    [
        (["--trials", "0"], "--trials"),
        (["--workers", "two"], "--workers"),
        (["--noise", "-0.1"], "--noise"),
        (["--regularization", "l3"], "--regularization"),
    ],
)
def test_argparse_errors_exit_2_naming_the_option(extra, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*BASE, *extra])
    assert exit_info.value.code == 2
    assert option in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


SHORT_SCHEDULE = [
    Phase(500, 1e-1, 5e-3),
    Phase(500, 1e-2, 5e-3, threshold=0.01),
    Phase(500, 1e-3, 0.0),
]


def _reject_constant(name):
    raise AssertionError(f"not valid JSON: {name}")


def test_tiny_real_run_writes_valid_json(tmp_path, monkeypatch, capsys):
    real_settings = benchmark.model_settings
    monkeypatch.setattr(
        benchmark, "model_settings", lambda method: (real_settings(method)[0], SHORT_SCHEDULE)
    )
    path = tmp_path / "run.json"
    argv = [*BASE, "--seed", "3", "--n-train", "128", "--n-test", "256", "--json", str(path)]
    argv[argv.index("x*y")] = "2*x - y"
    assert cli.main(argv) == 0
    assert f"wrote {path}" in capsys.readouterr().out

    result = json.loads(path.read_text(), parse_constant=_reject_constant)
    assert result["expr"] == "2*x - y"
    assert result["steps"] == 1500
    assert result["wall_seconds"] > 0
    trials = result["trials"]
    assert [t["seed"] for t in trials] == [3, 4]
    assert result["success_rate"] == pytest.approx(sum(t["success"] for t in trials) / 2)
    symbols = {"x": sympy.Symbol("x"), "y": sympy.Symbol("y")}
    expressions = [result["best_expression"]] + [t["expression"] for t in trials]
    for text in expressions:
        assert sympy.sympify(text, locals=symbols).free_symbols <= set(symbols.values())
    for t in trials:
        assert isinstance(t["success"], bool)
        assert t["extrapolation_mse"] is None or t["extrapolation_mse"] >= 0
    assert result["best_expression"] in [t["expression"] for t in trials]
    assert result["polish"] and result["refine"] and result["prune"] and result["swap"]
    for t in trials:  # the read-out's functions: the network's, or the swap library's
        raw = sympy.sympify(t["raw_expression"], locals=symbols)
        functions = sympy.sympify(t["expression"], locals=symbols).atoms(sympy.Function)
        allowed = {f.func for f in raw.atoms(sympy.Function)} | {sympy.sin, sympy.cos, sympy.exp}
        assert {f.func for f in functions} <= allowed


def test_no_polish_judges_the_equations_read_off_the_networks(monkeypatch):
    seen = {}
    monkeypatch.setattr(benchmark, "run_benchmark", lambda *a, **kw: seen.update(kw) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main([*BASE, "--no-polish", "--quiet"])
    assert seen["polish"] is False


@pytest.mark.parametrize("argument, flag, default, off", [
    ("refine", "--no-refine", True, False),  # the refined polish
    ("prune", "--no-prune", True, False),  # terms dropped with every number refitted
    ("swap", "--no-swap", True, False),  # look-alike terms swapped for one library term
    ("rerun_poor_fits", "--no-rerun", "auto", None),  # poor fits trained once more
])
def test_read_out_and_re_run_defaults_can_be_switched_off(monkeypatch, argument, flag, default, off):
    signature = inspect.signature(benchmark.run_benchmark)
    given = signature.parameters[argument].default  # the Python API's default too
    assert type(given) is type(default) and given == default
    seen = []
    monkeypatch.setattr(benchmark, "run_benchmark", lambda *a, **kw: seen.append(kw) or 1 / 0)
    for extra in ([], [flag]):
        with pytest.raises(ZeroDivisionError):
            cli.main([*BASE, "--quiet", *extra])
    assert [kw[argument] for kw in seen] == [default, off]


def test_relaxed_l0_is_the_default_and_l05_can_be_asked_for(monkeypatch):
    signature = inspect.signature(benchmark.run_benchmark)
    assert signature.parameters["regularization"].default == "l0"  # the Python API's too
    seen = []
    monkeypatch.setattr(benchmark, "run_benchmark", lambda *a, **kw: seen.append(kw) or 1 / 0)
    for extra in ([], ["--regularization", "l05"]):
        with pytest.raises(ZeroDivisionError):
            cli.main([*BASE, "--quiet", *extra])
    assert [kw["regularization"] for kw in seen] == ["l0", "l05"]


_AS_COMMAND = """
import sys
sys.argv[0] = "deepsymreg"  # what the console script's process is called
import deepsymreg
from deepsymreg import _startup, cli
with _startup.native_stderr_to_file():
    import tensorflow as tf
    tf.function(lambda a: a * 2, jit_compile=True)(tf.constant(1.0))  # XLA start-up lines
    print("python stderr still shows", file=sys.stderr)
sys.exit(cli.main(["benchmark", "--expr", "x**2", "--vars", "x", "--train-domain", "3,1"]))
"""


def test_command_prints_no_tensorflow_start_up_noise():
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TF_CPP")}
    done = subprocess.run([sys.executable, "-c", _AS_COMMAND], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "python stderr still shows"
    assert len(lines) == 2 and lines[1].startswith("error: Invalid value for argument `train_domain`")


def test_benchmark_gmeql_bad_domain_is_one_line_and_exit_2(capsys):
    from deepsymreg.cli import main

    code = main(["benchmark", "--method", "gmeql", "--expr", "x1**2", "--vars", "x1",
                 "--train-domain", "2,1", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "train_domain" in err and len(err.strip().splitlines()) == 1


def test_benchmark_memetic_needs_gmeql(capsys):
    from deepsymreg.cli import main

    code = main(["benchmark", "--expr", "x1**2", "--vars", "x1", "--memetic", "--quiet"])
    assert code == 2 and "--memetic: only with --method gmeql" in capsys.readouterr().err


_LOG_AFTER_IMPORT = """
import logging, sys
sys.argv[0] = "deepsymreg"
import deepsymreg  # TensorFlow (and absl's log handler) imported with stderr swapped
import tensorflow as tf
tf.get_logger().warning("a retracing warning")
logging.getLogger("absl").warning("an absl warning")
"""


def test_python_log_records_after_the_hidden_import_reach_stderr():
    """Handlers created while the import's stderr was swapped are pointed back at the
    terminal: no '--- Logging error ---' block, the records themselves show."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _LOG_AFTER_IMPORT], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Logging error" not in done.stderr
    assert "a retracing warning" in done.stderr and "an absl warning" in done.stderr


@pytest.mark.parametrize("extra, noise, tolerance, memetic", [
    ([], 0.0, 0.02, "screen-adopt"),
    (["--noise", "0.01", "--tolerance", "0.05", "--memetic"], 0.01, 0.05, "elites"),
    (["--memetic", "none"], 0.0, 0.02, "none")])
def test_benchmark_gmeql_passes_noise_and_tolerance(monkeypatch, extra, noise, tolerance,
                                                    memetic):
    import deepsymreg.gmeql
    from deepsymreg.cli import main

    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(deepsymreg.gmeql, "run_gmeql", fake)
    code = main(["benchmark", "--method", "gmeql", "--expr", "x1**2", "--vars", "x1", "--quiet",
                 *extra])
    assert code == 2 and seen["noise"] == noise and seen["tolerance"] == tolerance
    assert seen["memetic"] == memetic


def test_readout_workers_reach_the_benchmark(monkeypatch):
    signature = inspect.signature(benchmark.run_benchmark)
    assert signature.parameters["readout_workers"].default is None  # the cores, in both
    seen = []
    monkeypatch.setattr(benchmark, "run_benchmark", lambda *a, **kw: seen.append(kw) or 1 / 0)
    for extra in ([], ["--readout-workers", "3"]):
        with pytest.raises(ZeroDivisionError):
            cli.main([*BASE, "--quiet", *extra])
    assert [kw["readout_workers"] for kw in seen] == [None, 3]
    with pytest.raises(SystemExit):
        cli.main([*BASE, "--quiet", "--readout-workers", "0"])
