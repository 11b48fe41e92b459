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
    bench.add_argument("--train-domain", default="-1,1", help="low,high (default -1,1)")
    bench.add_argument("--test-domain", default="-2,2", help="low,high (default -2,2)")
    bench.add_argument("--n-train", type=_positive_int, default=256)
    bench.add_argument("--n-test", type=_positive_int, default=1024)
    bench.add_argument(
        "--noise", type=_non_negative_float, default=0.0,
        help="Gaussian noise, as a fraction of the target's standard deviation",
    )
    bench.add_argument("--trials", type=_positive_int, default=20)
    bench.add_argument("--regularization", choices=REGULARIZATIONS, default="l05")
    bench.add_argument("--primitives", default="default10",
                       help="hidden-layer primitive set: default10 (default), default or sho")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--workers", type=_positive_int, default=1,
                       help="processes to split the restarts over (default 1; see "
                       "docs/performance.md)")
    bench.add_argument("--tolerance", type=float, default=0.05,
                       help="normalized RMSE on the test domain that counts as success")
    bench.add_argument("--json", dest="json_path", help="write the results to this file")
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0 success, 2 bad input)."""
    from deepsymreg import _startup

    args = build_parser().parse_args(argv)
    # TensorFlow's native log lines (XLA service, CUDA probing) go to a temporary
    # file while the command runs; the command's own messages still reach stderr.
    with _startup.native_stderr_to_file():
        return _run(args)


def _run(args):
    from deepsymreg.benchmark import run_benchmark
    from deepsymreg.reports import write_json

    if args.json_path:
        folder = os.path.dirname(os.path.abspath(args.json_path))
        if not os.path.isdir(folder):
            print(f"error: argument --json: folder {folder!r} does not exist", file=sys.stderr)
            return 2
    try:
        result = run_benchmark(
            args.expr,
            args.vars,
            train_domain=args.train_domain,
            test_domain=args.test_domain,
            n_train=args.n_train,
            n_test=args.n_test,
            noise=args.noise,
            trials=args.trials,
            regularization=args.regularization,
            primitives=args.primitives,
            seed=args.seed,
            workers=args.workers,
            tolerance=args.tolerance,
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for t in sorted(result["trials"], key=lambda t: t["extrapolation_mse"] or float("inf")):
        mark = "ok " if t["success"] else "   "
        mse = t["extrapolation_mse"]
        mse = f"{mse:.3g}" if mse is not None else "nan"
        print(f"{mark} seed {t['seed']:>5}  test mse {mse:>9}  {t['expression']}")
    print(f"true law:        {result['expr']}")
    print(f"selected:        {result['best_expression']}  "
          f"({'correct' if result['best_success'] else 'wrong'})")
    print(f"success rate:    {result['success_rate']:.2f} over {len(result['trials'])} restarts")
    print(f"wall time:       {result['wall_seconds']:.1f} s for {result['steps']} steps/restart")
    if args.json_path:
        write_json(args.json_path, result)
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
