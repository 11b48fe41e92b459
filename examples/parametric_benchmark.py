"""Reproduce Tables II and VI of Zhang et al. (2022): parametric laws f1-f4, SEQL and PEQL.

For every law and method: 512 points x in [-3, 3] at each of 128 values of t in [-3, 3],
``--trials`` restarts (the paper runs 80) trained in ``--workers`` processes, one graph
each (default 2: XLA keeps about one core busy), the restart with the lowest error on x
in [-5, 5] selected; the paper's network (``PAPER_PRIMITIVES``: no constant unit, unlike
the package's default), with the package's meta-weight widths (64, 64, 64; ``--meta-hidden
64,64,256`` for the paper's: twice the time per step, no more restarts right). Prints the selected equation at the paper's t
values beside the paper's, the closed form of the whole law (our addition), the rate of
restarts that found the law, and the time; plots the learned coefficient curves against
the true ones (the paper's Figs. 3b/4b). Results are appended to ``--json`` one run at a
time, and runs already there are skipped, so a long reproduction can be resumed. On a
terminal, one progress bar over the runs still to do stays below the printed results
(``--quiet``: none).

    python examples/parametric_benchmark.py [--quick] [--only f2,f3] [--methods stacked,meta]
        [--trials 80] [--workers 2] [--json docs/runs/parametric.json] [--figures docs/figures] [--quiet]
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

from deepsymreg.parametric import BENCHMARKS, PAPER_PRIMITIVES, REPORT_T, run_parametric  # noqa: E402
from deepsymreg.reports import (  # noqa: E402
    line_printer, on_terminal, plot_coefficient_curves, progress_bar, run_script, write_json,
)

#: The paper's selected equations at t = -2.619, -1.095, 0.381, 1.905 (Tables II and VI).
PAPER = {
    "f1": {"stacked": ["-2.62x", "-1.10x", "0.38x", "1.91x"],
           "meta": ["-2.62x - 0.02", "-1.10x", "0.38x", "1.91x"]},
    "f2": {"stacked": ["-2.62x^2 - 1.51x - 0.08", "-1.09x^2 - 2.68x - 0.08", "0.38x^2 + 1.12x + 0.01",
                       "1.90x^2 + 2.85x + 0.06"],
           "meta": ["-2.62x^2 - 1.50x + 0.01", "-1.10x^2 - 2.66x + 0.02", "0.38x^2 + 1.12x",
                    "1.90x^2 + 2.83x"]},
    "f3": {"stacked": ["-2.62x^2 - 3.00x - 0.04", "-1.10x^2 - 3.00x - 0.02", "0.38x^2 + 3.00x + 0.01",
                       "1.91x^2 + 3.00x + 0.02"],
           "meta": ["-2.63x^2 - 3.02x - 0.03", "-1.11x^2 - 3.00x - 0.01", "0.39x^2 + 3.01x",
                    "1.91x^2 + 3.02x + 0.03"]},
    "f4": {"stacked": ["sin(1.19x)", "sin(1.95x)", "sin(2.69x)", "sin(3.45x)"],
           "meta": ["sin(1.19x)", "sin(1.95x)", "sin(2.69x)", "sin(3.45x)"]},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset of f1,f2,f3,f4")
    parser.add_argument("--methods", default="stacked,meta")
    parser.add_argument("--trials", type=int, default=80)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--meta-hidden", default="64,64,64",
                        help="hidden widths of the meta-weight networks (default 64,64,64, "
                             "the package's; the paper's are 64,64,256)")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes to split the restarts over (default 2, for 2 cores)")
    parser.add_argument("--quick", action="store_true",
                        help="16 restarts of 3000 steps on 32 t values (a smoke test, not a reproduction)")
    parser.add_argument("--json", dest="json_path", help="results, appended run by run (resumable)")
    parser.add_argument("--figures", help="folder for the coefficient-curve figures")
    parser.add_argument("--no-closed-form", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"--only: unknown laws {unknown}; choose from {sorted(BENCHMARKS)}")
    settings = {"trials": args.trials, "steps": args.steps, "n_param": 128}
    if args.quick:
        settings = {"trials": 16, "steps": 3000, "n_param": 32}
    done = []
    if args.json_path and os.path.exists(args.json_path):
        with open(args.json_path) as f:
            done = json.load(f)["runs"]
    methods = args.methods.split(",")
    hidden = None
    if args.meta_hidden:
        try:
            hidden = [int(w) for w in args.meta_hidden.split(",")]
        except ValueError:
            parser.error(f"--meta-hidden: expected comma-separated widths, got {args.meta_hidden!r}")
    keys = {(name, method): {"law": name, "method": method, **settings, "seed": args.seed,
                             "meta_hidden": hidden if method == "meta" else None}
            for name in names for method in methods}

    def stored(key):
        # Runs written before the widths were recorded (None) used the paper's.
        return any(all(_widths(r) == v if k == "meta_hidden" else r.get(k) == v
                       for k, v in key.items()) for r in done)

    todo = sum(not stored(key) for key in keys.values())
    progress = progress_bar(todo * settings["trials"] * settings["steps"], on_terminal(args.quiet))
    say = line_printer(progress)  # the results above the bar
    for name in names:
        for method in methods:
            key = keys[name, method]
            tag = "_h" + "-".join(map(str, key["meta_hidden"])) if key["meta_hidden"] else ""
            if stored(key):
                say(f"{name} {method}: already in {args.json_path}, skipped")
                continue
            result = run_parametric(BENCHMARKS[name], "x", method=method, seed=args.seed,
                                    trials=settings["trials"], steps=settings["steps"],
                                    n_param=settings["n_param"], report_t=REPORT_T,
                                    closed_forms=not args.no_closed_form,
                                    workers=args.workers,
                                    meta_hidden=hidden if method == "meta" else None,
                                    primitives=PAPER_PRIMITIVES, progress=progress)
            result.update(key)
            say(f"\n{name} = {BENCHMARKS[name]}  ({method}, {settings['trials']} restarts, "
                f"{result['wall_seconds']:.0f} s)")
            say(f"  {'t':>7}  {'ours':<40} paper")
            for (t, ours), paper in zip(result["best_expressions"].items(), PAPER[name][method]):
                say(f"  {t:>7}  {ours:<40} {paper}")
            say(f"  closed form: {result['best_closed_form']}  "
                f"(true law: {result['best_closed_form_success']})")
            say(f"  restarts that found the law: {result['success_rate']:.2f}; "
                f"selected restart right: {result['best_success']}")
            if args.figures and result["coefficient_curves"]:
                os.makedirs(args.figures, exist_ok=True)
                curves = result["coefficient_curves"]
                plot_coefficient_curves(os.path.join(args.figures, f"parametric_{name}_{method}{tag}.png"),
                                        curves["t"], curves["learned"], curves["true"],
                                        title=f"{name} = {BENCHMARKS[name]} ({method})")
            done.append(result)
            if args.json_path:
                write_json(args.json_path, {"runs": done})


def _widths(run):
    if run.get("method") == "meta" and run.get("meta_hidden") is None:
        return [64, 64, 256]
    return run.get("meta_hidden")


if __name__ == "__main__":
    raise SystemExit(run_script(main))
