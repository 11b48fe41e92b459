"""The ``deepsymreg`` command line."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main"]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _params_per_step(text):
    """``"auto"``, None (``"all"``) or a positive int."""
    if text in ("auto", "all"):
        return None if text == "all" else text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, 'all' or 'auto', got {text!r}") from None


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def build_parser():
    from deepsymreg import __version__
    from deepsymreg.benchmark import REGULARIZATIONS
    from deepsymreg.gmeql import DEFAULT_MEMETIC, MEMETIC_PRESETS

    memetic_choices = ["none", *MEMETIC_PRESETS]

    parser = argparse.ArgumentParser(
        prog="deepsymreg", description="Neural-network symbolic regression (EQL)."
    )
    parser.add_argument("--version", action="version", version=f"deepsymreg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser(
        "benchmark",
        help="recover a known law from generated data with random restarts",
        description="Generate data from EXPR, train EQL restarts, pick the best by "
        "extrapolation error and judge every restart against the true law.",
    )
    bench.add_argument("--expr", required=True, help='true law, e.g. "x**2 + sin(2*pi*y)"')
    bench.add_argument("--vars", required=True, help="comma-separated variables, e.g. x,y")
    bench.add_argument("--train-domain", default=None,
                       help="low,high (default -1,1; with --method gmeql 0,2)")
    bench.add_argument("--test-domain", default=None,
                       help="low,high (default -2,2; with --method gmeql the training range "
                       "widened 1.5x about its centre)")
    bench.add_argument("--n-train", type=_positive_int, default=None,
                       help="training points (default 256; 300 with --method gmeql, as its paper)")
    bench.add_argument("--n-test", type=_positive_int, default=1024)
    bench.add_argument(
        "--noise", type=_non_negative_float, default=0.0,
        help="Gaussian noise, as a fraction of the target's standard deviation",
    )
    bench.add_argument("--method", choices=["eql", "gmeql"], default="eql",
                       help="eql (default) or gmeql: Gumbel-Max EQL (Chen et al.), 300 points by "
                       "default and selection by the lowest training MAE")
    bench.add_argument("--trials", type=_positive_int, default=20)
    bench.add_argument("--regularization", choices=REGULARIZATIONS, default="l0",
                       help="sparsity method: l0 (default, relaxed L0) or l05 (smoothed L0.5)")
    bench.add_argument("--primitives", default="default10",
                       help="hidden-layer primitive set: default10 (default), default or sho")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--workers", type=_positive_int, default=1,
                       help="processes to split the restarts over (default 1; see "
                       "docs/performance.md)")
    bench.add_argument("--scheduler", help="address of a Dask scheduler to run the restarts "
                       "on (in --workers chunks)")
    bench.add_argument("--readout-workers", type=_positive_int, default=None,
                       help="processes that read the restarts' equations out (default: the "
                       "cores this process may use)")
    # The read-out's and the re-run's defaults, each switched off by a --no-... flag.
    for name, what in (
        ("polish", "judge the equations as read off the networks (default: each restart's "
                   "equation refitted by least squares, terms not needed dropped"),
        ("refine", "polish without refitting inner numbers (default: the variables and a "
                   "constant offered as terms, every number of a short equation refitted by "
                   "nonlinear least squares"),
        ("prune", "keep every term the polish keeps (default: terms dropped one at a time "
                  "with every remaining number refitted, while the training error allows"),
        ("swap", "keep look-alike terms (default: one to three terms replaced by one term of "
                 "a depth-one grammar when that fits better or simpler, e.g. -4.5*x + "
                 "4.54*sin(0.316*pi*x) -> -0.7*x**3"),
        ("rerun", "train every restart once (default: a restart missing the training points "
                  "by more than 1%% beyond --noise is re-run once from fresh weights, the "
                  "better attempt kept"),
    ):
        bench.add_argument(f"--no-{name}", action="store_true", help=f"{what}; eql only)")
    bench.add_argument("--memetic", nargs="?", const="elites",
                       choices=memetic_choices,
                       help="gmeql only: the memetic step, elites refitted with their own "
                            "weights during the search (deepsymreg.callbacks.MemeticRefit): "
                            "'screen' every new elite from one start; 'elites' "
                            "(alone: --memetic) the 10 best from 4 starts; 'screen-adopt' the "
                            "screen with the shared weights set to the best refit's; 'none' "
                            f"the paper's Algorithm 1 (default: {DEFAULT_MEMETIC})")
    bench.add_argument("--tolerance", type=float, default=None,
                       help="error on the test domain that counts as success: normalized "
                            "RMSE for eql (default 0.05), RMS error relative to the truth's "
                            "RMS for gmeql (default 0.02, the GMEQL paper's)")
    bench.add_argument("--json", dest="json_path", help="write the results to this file")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")

    fit = sub.add_parser(
        "fit",
        help="find the law behind a CSV table of measurements",
        description="Fit a SymbolicRegressor to the columns of a CSV file (a header row, "
        "numeric cells) and print the candidate equations and the chosen law.",
    )
    fit.add_argument("csv", help="the data: a CSV file with a header row")
    fit.add_argument("--target", required=True, help="the column to explain")
    fit.add_argument("--features", help="comma-separated input columns (default: all others)")
    fit.add_argument("--method", choices=["eql", "gmeql"], default="eql",
                     help="eql (default) or gmeql (Gumbel-max EQL; one target)")
    fit.add_argument("--memetic", choices=memetic_choices, default=None,
                     help="with --method gmeql: the memetic step as in 'deepsymreg "
                          f"benchmark' (default: {DEFAULT_MEMETIC}; 'none': the paper's "
                          "Algorithm 1)")
    fit.add_argument("--regularization", choices=REGULARIZATIONS, default="l05")
    fit.add_argument("--trials", type=_positive_int, default=10)
    fit.add_argument("--steps", type=_positive_int, default=None,
                     help="optimizer steps per restart (default: the recipe's; 20000 with "
                     "--param, whose closed-form curve fits also get --steps)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--input-scaling", choices=["max", "range"], default="max",
                     help="divide inputs by their largest magnitude (default) or map "
                     "their range onto [-1, 1] (docs/estimator.md)")
    fit.add_argument("--dropna", action="store_true", help="drop rows with missing, NaN or inf cells")
    fit.add_argument("--param", help="a column holding a parameter t: find one law y = f(x; t) "
                     "whose coefficients vary with t (docs/estimator.md, 'Parametric laws')")
    fit.add_argument("--param-method", choices=["stacked", "meta"], default="stacked",
                     help="with --param: stacked (t on an evenly spaced grid; default) or meta "
                     "(any t)")
    fit.add_argument("--no-closed-form", action="store_true",
                     help="with --param: skip fitting the coefficient curves in closed form")
    fit.add_argument("--out", help="write the fitted estimator, equations.csv and plots to this new folder")
    fit.add_argument("--json", dest="json_path", help="write the result to this file")
    fit.add_argument("--scheduler", help="address of a Dask scheduler to run the restarts on")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")

    par = sub.add_parser(
        "parametric",
        help="find a parametric law y = f(x; t) from data on a t grid (Zhang et al. 2022)",
        description="Train restarts of a parametric EQL (stacked or meta-weight) on data drawn "
        "from a known law with a parameter, select one, and read its equation at chosen t.",
    )
    par.add_argument("--expr", required=True, help='true law, e.g. "t*x**2 + 3*sign(t)*x"')
    par.add_argument("--vars", required=True, help="comma-separated variables, e.g. x")
    par.add_argument("--param", default="t", help="the parameter's name (default t)")
    par.add_argument("--train-domain", default="-3,3", help="low,high of the variables (default -3,3)")
    par.add_argument("--test-domain", default="-5,5", help="low,high for selection and judging (default -5,5)")
    par.add_argument("--param-domain", default="-3,3", help="low,high of the t grid, ends included")
    par.add_argument("--n-param", type=_positive_int, default=128, help="grid steps of t (default 128)")
    par.add_argument("--n-per-param", type=_positive_int, default=512, help="points per t (default 512)")
    par.add_argument("--method", choices=["stacked", "meta"], default="stacked")
    par.add_argument("--trials", type=_positive_int, default=16)
    par.add_argument("--steps", type=_positive_int, default=10000, help="optimizer steps per restart (default 10000)")
    par.add_argument("--batch-per-param", type=_positive_int, default=16,
                     help="points per t in each optimizer step's minibatch (default 16)")
    par.add_argument("--params-per-step", type=_params_per_step, default="auto",
                     help="t values in each optimizer step's minibatch: a number, 'all', or "
                          "'auto' (the default: all, for both methods)")
    par.add_argument("--meta-hidden", help="hidden widths of the meta-weight networks, e.g. "
                     "64,64,256, the paper's (--method meta only; default: 64,64,64, "
                     "deepsymreg.parametric.META_HIDDEN)")
    par.add_argument("--seed", type=int, default=0)
    par.add_argument("--workers", type=_positive_int, default=1,
                     help="processes to split the restarts over (default 1; 2 trained 80 "
                          "restarts 1.3-1.5x faster on 2 cores, see docs/performance.md)")
    par.add_argument("--report-t", default="-2.619,-1.095,0.381,1.905",
                     help="comma-separated t values to print the equation at")
    par.add_argument("--no-closed-form", action="store_true",
                     help="skip fitting the coefficient curves in closed form")
    par.add_argument("--json", dest="json_path", help="write the results to this file")
    par.add_argument("--quiet", action="store_true", help="no progress bar")

    predict = sub.add_parser("predict", help="evaluate a fitted law (from `fit --out`) on a CSV")
    predict.add_argument("folder", help="a folder written by `deepsymreg fit --out`")
    predict.add_argument("csv", help="a CSV file holding the law's input columns")
    predict.add_argument("--out", help="write the predictions here (default: standard output)")
    predict.add_argument("--dropna", action="store_true")
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0 success, 2 bad input)."""
    from deepsymreg import _startup

    args = build_parser().parse_args(argv)
    # TensorFlow's native log lines (XLA service, CUDA probing) go to a temporary
    # file while the command runs; the command's own messages still reach stderr.
    with _startup.native_stderr_to_file():
        try:
            return {"benchmark": _run, "fit": _fit, "predict": _predict,
                    "parametric": _parametric}[args.command](args)
        except _UsageError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2


class _UsageError(Exception):
    """Bad input of the command: one line on stderr, exit code 2."""


def _check_json_folder(path):
    if path:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise _UsageError(f"argument --json: folder {folder!r} does not exist")


def _fit(args):
    from deepsymreg.tables import TableError, read_table

    _check_json_folder(args.json_path)
    if args.out and os.path.exists(args.out):
        raise _UsageError(f"argument --out: {args.out!r} already exists")
    try:
        need_header = not args.features or args.param
        header, _ = read_table(args.csv, dropna=True, min_rows=0) if need_header else (None, None)
        features = (
            [c.strip() for c in args.features.split(",") if c.strip()] if args.features
            else [c for c in header if c != args.target]
        )
        if args.target in features:
            raise _UsageError(f"argument --features: the target {args.target!r} cannot be a feature")
        if not features:
            raise _UsageError(f"{args.csv}: no column besides the target {args.target!r}")
        if args.param:
            if args.param == args.target:
                raise _UsageError(f"argument --param: the target {args.target!r} cannot be the parameter")
            if args.param not in header:
                raise _UsageError(f"argument --param: no column {args.param!r} in the header {header}")
            if args.scheduler or args.input_scaling != "max":
                raise _UsageError("argument --param: not available with --scheduler or --input-scaling range")
            features = [*[c for c in features if c != args.param], args.param]
            if len(features) < 2:
                raise _UsageError(f"argument --param: no variable besides the parameter {args.param!r}")
        columns, data = read_table(args.csv, [*features, args.target], dropna=args.dropna)
    except TableError as err:
        raise _UsageError(str(err)) from None
    if args.memetic is not None and args.method != "gmeql":
        raise _UsageError("argument --memetic: only with --method gmeql")
    executor = _executor(args.scheduler)
    from deepsymreg.estimator import SymbolicRegressor

    est = SymbolicRegressor(
        method=args.method, regularization=args.regularization, trials=args.trials,
        steps=args.steps, random_state=args.seed if args.seed >= 0 else None,
        input_scaling=args.input_scaling,
        executor=executor, verbose=0 if args.quiet or not sys.stdout.isatty() else 1,
        param=args.param or None, param_method=args.param_method,
        **({"memetic": args.memetic} if args.memetic else {}),
    )
    x, y = data[:, :-1], data[:, -1]
    if args.param:
        try:  # the parameter's values are checked before any training
            est.fit(_frame(x, features), _series(y, args.target))
        except ValueError as err:
            raise _UsageError(str(err)) from None
        print(f"{'seed':>6}  {'loss':>10}  {'val. loss':>10}  equation at {args.param} = {est.best_['t']:.6g}")
        for i, r in enumerate(est.rows_):
            mark = "*" if i == est.best_index_ else " "
            print(f"{mark}{r['seed']:>5}  {r['loss']:>10.3g}  {r['validation_loss']:>10.3g}  {r['equation']}")
        lo, hi = est.t_range_
        at_t = {}
        for tv in (lo, est.best_["t"], hi):
            at_t[f"{tv:.6g}"] = str(est.sympy(t=tv))
            print(f"chosen law at {args.param} = {tv:<8.6g}  {args.target} = {at_t[f'{tv:.6g}']}")
        closed = None
        if not args.no_closed_form:
            closed = est.closed_form(steps=args.steps)
            closed = None if closed is None else str(closed)
            if closed is None:
                missing = [k for k, r in est.closed_form_report_.items() if not r["found"]]
                print(f"closed form:  none found (no closed form for the curve(s) {missing})")
            else:
                print(f"closed form:  {args.target} = {closed}")
    else:
        est.fit(_frame(x, features), _series(y, args.target))
        _print_table(est)
        print(f"chosen law:  {args.target} = {est.sympy()}")
    if args.out:
        _write_folder(est, args.out, x, y, features, args.target)
        print(f"wrote {args.out}")
    if args.json_path:
        from deepsymreg.reports import write_json

        rows = est.rows_
        extra = ("score", "restarts") if not args.param else ("seed", "t")
        result = {
            "best_expression": str(est.sympy()),
            "target": args.target,
            "variables": [c for c in features if c != args.param],
            "equations": [
                {"expression": r["equation"], "complexity": r["complexity"], "loss": r["loss"],
                 "validation_loss": r["validation_loss"], **{k: r[k] for k in extra}}
                for r in rows
            ],
            "wall_seconds": est.wall_seconds_,
        }
        if args.param:
            result.update(param=args.param, param_method=args.param_method,
                          equations_at_t=at_t, closed_form=closed)
        write_json(args.json_path, result)
        print(f"wrote {args.json_path}")
    return 0


def _frame(x, names):
    try:
        import pandas as pd
    except ImportError:
        return x
    return pd.DataFrame(x, columns=names)


def _series(y, name):
    try:
        import pandas as pd
    except ImportError:
        return y
    return pd.Series(y, name=name)


def _executor(address):
    if not address:
        return None
    try:
        import distributed
    except ImportError:
        raise _UsageError("argument --scheduler needs Dask: pip install 'deepsymreg[dask]'") from None
    try:
        return distributed.Client(address, timeout="10s").get_executor()
    except (OSError, TimeoutError) as err:
        raise _UsageError(f"argument --scheduler: cannot reach {address!r}: {err}") from None


def _progress(args, total_steps):
    """One progress bar over the run, on a terminal and without --quiet."""
    from deepsymreg.reports import progress_bar

    return progress_bar(total_steps, not args.quiet and sys.stdout.isatty())


def _print_table(est):
    print(f"{'complexity':>10}  {'loss':>10}  {'val. loss':>10}  {'score':>7}  {'restarts':>8}  equation")
    for i, r in enumerate(est.rows_):
        mark = "*" if i == est.best_index_ else " "
        print(f"{mark}{r['complexity']:>9}  {r['loss']:>10.3g}  {r['validation_loss']:>10.3g}  "
              f"{r['score']:>7.3f}  {r['restarts']:>8}  {r['equation']}")


def _write_folder(est, out, x, y, features, target):
    """The saved estimator plus predicted-vs-measured and residual plots, written
    atomically: ``out`` appears complete or not at all."""
    import shutil
    import tempfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parent = os.path.dirname(os.path.abspath(out))
    tmp = tempfile.mkdtemp(prefix=".deepsymreg-fit-", dir=parent)
    try:
        folder = os.path.join(tmp, "fit")
        est.save(folder)
        pred = est.predict(_frame(x, features))
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(y, pred, s=6)
        lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlabel(f"measured {target}")
        ax.set_ylabel(f"predicted {target}")
        ax.set_title(f"{target} = {est.sympy()}"[:80], fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "predicted_vs_measured.png"), dpi=120)
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.scatter(pred, y - pred, s=6)
        ax.axhline(0.0, color="k", lw=1)
        ax.set_xlabel(f"predicted {target}")
        ax.set_ylabel("residual (measured - predicted)")
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "residuals.png"), dpi=120)
        plt.close(fig)
        os.replace(folder, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _predict(args):
    from deepsymreg.estimator import SymbolicRegressor
    from deepsymreg.tables import TableError, read_table

    if not os.path.isfile(os.path.join(args.folder, "estimator.json")):
        raise _UsageError(f"{args.folder}: not a folder written by `deepsymreg fit --out`")
    est = SymbolicRegressor.load(args.folder)
    try:
        names, x = read_table(args.csv, est.variable_names_, dropna=args.dropna, min_rows=1)
    except TableError as err:
        raise _UsageError(str(err)) from None
    try:
        pred = est.predict(_frame(x, names))
    except ValueError as err:  # e.g. a parameter value off a stacked fit's grid
        raise _UsageError(f"{args.csv}: {err}") from None
    lines = [est.target_names_[0]] + [repr(float(v)) for v in pred]
    text = "\n".join(lines) + "\n"
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _run(args):
    from deepsymreg import recipes
    from deepsymreg.benchmark import run_benchmark

    _check_json_folder(args.json_path)
    if args.method == "gmeql":
        return _run_gmeql(args)
    if args.memetic is not None:
        raise _UsageError("argument --memetic: only with --method gmeql")
    try:
        result = run_benchmark(
            args.expr,
            args.vars,
            train_domain=args.train_domain or "-1,1",
            test_domain=args.test_domain or "-2,2",
            n_train=args.n_train or 256,
            n_test=args.n_test,
            noise=args.noise,
            trials=args.trials,
            regularization=args.regularization,
            primitives=args.primitives,
            seed=args.seed,
            workers=args.workers,
            tolerance=0.05 if args.tolerance is None else args.tolerance,
            polish=not args.no_polish,
            refine=not args.no_refine,
            prune=not args.no_prune,
            swap=not args.no_swap,
            rerun_poor_fits=None if args.no_rerun else "auto",
            readout_workers=args.readout_workers,
            executor=_executor(args.scheduler),
            progress=_progress(args, args.trials * recipes.restart_steps(args.regularization)),
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return _report(args, result, "extrapolation_mse", "test mse", "restarts",
                   f" for {result['steps']} steps/restart")


def _report(args, result, error_key, error_label, runs_word, wall_suffix=""):
    """Print a benchmark's runs (best error first) and summary; write ``--json``."""
    def error(t):
        return t.get(error_key) if t.get(error_key) is not None else float("inf")

    for t in sorted(result["trials"], key=error):
        value = t.get(error_key)
        value = f"{value:.3g}" if value is not None else "nan"
        print(f"{'ok ' if t['success'] else '   '} seed {t['seed']:>5}  {error_label} {value:>9}  "
              f"{t['expression']}")
    print(f"true law:        {result['expr']}")
    print(f"selected:        {result['best_expression']}  "
          f"({'correct' if result['best_success'] else 'wrong'})")
    print(f"success rate:    {result['success_rate']:.2f} over {len(result['trials'])} {runs_word}")
    print(f"wall time:       {result['wall_seconds']:.1f} s{wall_suffix}")
    if args.json_path:
        from deepsymreg.reports import write_json

        write_json(args.json_path, result)
        print(f"wrote {args.json_path}")
    return 0


def _run_gmeql(args):
    from deepsymreg.gmeql import DEFAULT_MEMETIC, run_gmeql

    n_train = args.n_train or 300
    try:
        result = run_gmeql(args.expr, args.vars, train_domain=args.train_domain or "0,2",
                           test_domain=args.test_domain, n_train=n_train, trials=args.trials,
                           seed=args.seed, noise=args.noise,
                           tolerance=0.02 if args.tolerance is None else args.tolerance,
                           memetic=args.memetic or DEFAULT_MEMETIC)
    except ValueError as err:
        raise _UsageError(str(err)) from None
    return _report(args, result, "mae", "train MAE", "runs")


def _parametric(args):
    from deepsymreg.parametric import run_parametric
    from deepsymreg.reports import write_json

    _check_json_folder(args.json_path)
    try:
        report_t = [float(v) for v in args.report_t.split(",") if v.strip()]
    except ValueError:
        raise _UsageError(f"argument --report-t: expected comma-separated numbers, got {args.report_t!r}") from None
    meta_hidden = None
    if args.meta_hidden is not None:
        try:
            meta_hidden = [int(w) for w in args.meta_hidden.split(",")]
        except ValueError:
            raise _UsageError("argument --meta-hidden: expected comma-separated widths, "
                              f"got {args.meta_hidden!r}") from None
    try:
        result = run_parametric(
            args.expr, args.vars, param=args.param, train_domain=args.train_domain,
            test_domain=args.test_domain, param_domain=args.param_domain, n_param=args.n_param,
            n_per_param=args.n_per_param, method=args.method, trials=args.trials, seed=args.seed,
            steps=args.steps, batch_per_step=args.batch_per_param,
            t_per_step=args.params_per_step, report_t=report_t,
            closed_forms=not args.no_closed_form, workers=args.workers, meta_hidden=meta_hidden,
            progress=_progress(args, args.trials * args.steps),
        )
    except ValueError as err:
        raise _UsageError(str(err)) from None
    for t in sorted(result["trials"], key=lambda t: t["extrapolation_mse"] or float("inf")):
        mse = t["extrapolation_mse"]
        mse = f"{mse:.3g}" if mse is not None else "nan"
        first = next(iter(t["expressions"].values()), "(diverged)")
        print(f"{'ok ' if t['success'] else '   '} seed {t['seed']:>5}  test mse {mse:>9}  "
              f"at {args.param}={next(iter(t['expressions']), '?')}: {first}")
    print(f"true law:        {result['expr']}")
    print(f"selected seed {result['best_seed']} "
          f"({'correct' if result['best_success'] else 'wrong'} at every report {args.param}):")
    for tv, e in result["best_expressions"].items():
        print(f"  {args.param} = {tv:>8}:  {e}")
    if not args.no_closed_form:
        law = result["best_closed_form"]
        if law is None:
            missing = [k for k, r in result["closed_form_report"].items() if not r["found"]]
            print(f"closed form:     none found (no closed form for the curve(s) {missing})")
        else:
            print(f"closed form:     {law}  ({'correct' if result['best_closed_form_success'] else 'wrong'})")
    print(f"success rate:    {result['success_rate']:.2f} over {len(result['trials'])} restarts")
    print(f"wall time:       {result['wall_seconds']:.1f} s for {result['steps']} steps/restart")
    if args.json_path:
        write_json(args.json_path, result)
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
