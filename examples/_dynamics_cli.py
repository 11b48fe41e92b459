"""Command line shared by examples/kinematics.py and examples/sho.py."""

import argparse

from deepsymreg import experiments, reports


def main_for(system, doc, argv=None):
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short schedule (under 5 minutes)")
    parser.add_argument("--baseline", choices=["relu", "none"], default="relu",
                        help="also train the ReLU decoder (default) or not")
    parser.add_argument("--restarts", type=int, default=None,
                        help="EQL restarts; the best is kept (default: 3 kinematics, 2 SHO; quick 2 and 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default=f"{system}.png", help="where to save the figure")
    parser.add_argument("--json", dest="json_path", help="write the results here")
    parser.add_argument("--fraction", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.restarts is not None and args.restarts < 1:
        parser.error(f"argument --restarts: expected a positive integer, got {args.restarts}")
    result = experiments.run_dynamics(
        system, quick=args.quick, baseline=None if args.baseline == "none" else "relu",
        restarts=args.restarts, seed=args.seed, figure=args.figure, fraction=args.fraction,
        verbose=reports.on_terminal(args.quiet),
    )
    print(experiments.format_dynamics(result))
    if args.json_path:
        reports.write_json(args.json_path, result)
        print(f"wrote {args.json_path}")
    return 0
