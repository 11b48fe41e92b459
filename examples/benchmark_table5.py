"""Reproduce Table V of Kim et al. (2020): EQL success rates on ten known laws.

For every law: 256 points on [-1, 1]^d, 20 restarts with the paper's schedule, each
restart judged against the true law (deepsymreg.symbolic.judge), and the restart with
the lowest error on [-2, 2]^d selected. Prints our per-restart success rate next to the
paper's and whether the selected restart is the true law. On a terminal, one progress
bar runs below the table over all the laws (``--quiet``: none).

    python examples/benchmark_table5.py [--regularization l05] [--trials 20]
        [--workers 2] [--only "x**3,exp(-x**2)"] [--json table5.json] [--quiet]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

from deepsymreg.benchmark import REGULARIZATIONS, model_settings, run_benchmark  # noqa: E402
from deepsymreg.reports import (  # noqa: E402
    line_printer, on_terminal, progress_bar, run_script, write_json,
)

#: (law, variables, paper's success rate with L0.5, with L0) — Table V.
TABLE_V = [
    ("x", "x", 1.0, 1.0),
    ("x**2", "x", 0.6, 0.75),
    ("x**3", "x", 0.3, 0.05),
    ("sin(2*pi*x)", "x", 0.45, 0.85),
    ("x*y", "x,y", 0.8, 1.0),
    ("1/(1 + exp(-10*x))", "x", 0.3, 0.55),
    ("x*y/2 + z/2", "x,y,z", 0.05, 0.95),
    ("exp(-x**2)", "x", 0.05, 0.15),
    ("x**2 + sin(2*pi*y)", "x,y", 0.2, 0.8),
    ("x**2 + y - 2*z", "x,y,z", 0.6, 0.9),
]


def _quick_schedule(regularization):
    from deepsymreg.callbacks import Phase

    _, phases = model_settings(regularization)
    return [Phase(p.steps // 10, p.learning_rate, p.reg_lambda, p.threshold) for p in phases]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regularization", choices=REGULARIZATIONS, default="l05")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", help="address of a Dask scheduler; the restarts of "
                        "each law run there in --workers chunks (docs/scaling.md)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--primitives", default="default10",
                        help="primitive set: default10 (product x10, default) or default")
    parser.add_argument("--only", help="comma-separated subset of the laws (as written above)")
    parser.add_argument("--json", dest="json_path", help="write all results here")
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the schedule (a smoke test, not a reproduction)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    rows = TABLE_V
    if args.only:
        wanted = {w.replace(" ", "") for w in args.only.split(",")}
        rows = [r for r in rows if r[0].replace(" ", "") in wanted]
        if not rows:
            parser.error(f"--only matched none of the laws: {args.only!r}")
    column = 2 if args.regularization == "l05" else 3
    executor = None
    if args.scheduler:
        import distributed  # the [dask] extra

        executor = distributed.Client(args.scheduler).get_executor()
    quick = _quick_schedule(args.regularization) if args.quick else None
    steps = sum(p.steps for p in quick or model_settings(args.regularization)[1])
    progress = progress_bar(len(rows) * args.trials * steps, on_terminal(args.quiet))
    say = line_printer(progress)  # the table's lines above the bar
    start = time.perf_counter()
    results = []
    # "no extra f" counts the successes that apply no function the law lacks (a
    # stricter reading: look-alikes such as x**2 + c - c*exp(-b*x**2) drop out).
    say(f"| law | paper ({args.regularization}) | ours | no extra f | selected restart | "
        f"selected equation | wall s |")
    say("|---|---|---|---|---|---|---|")
    for row in rows:
        law, names = row[0], row[1]
        r = run_benchmark(
            law, names, trials=args.trials, workers=args.workers,
            regularization=args.regularization, seed=args.seed,
            primitives=args.primitives,
            schedule=quick, executor=executor, progress=progress,
        )
        r["paper_success_rate"] = row[column]
        results.append(r)
        verdict = "true law" if r["best_success"] else "wrong"
        say(f"| `{law}` | {row[column]:.2f} | {r['success_rate']:.2f} | "
            f"{r['same_functions_rate']:.2f} | {verdict} | "
            f"`{r['best_expression']}` | {r['wall_seconds']:.0f} |")
    ours = sum(r["success_rate"] for r in results)
    strict = sum(r["same_functions_rate"] for r in results)
    paper = sum(r["paper_success_rate"] for r in results)
    right = sum(r["best_success"] for r in results)
    say(f"\nsummed success rate: ours {ours:.2f} ({strict:.2f} without extra functions), "
        f"paper {paper:.2f}; selected restart is "
        f"the true law for {right} of {len(results)} laws; "
        f"{time.perf_counter() - start:.0f} s in all")
    if args.json_path:
        write_json(args.json_path, results)


if __name__ == "__main__":
    raise SystemExit(run_script(main))
