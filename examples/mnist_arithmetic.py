"""MNIST arithmetic: learn to read digits and to add them, end to end.

Kim et al. (2020, §IV-A, Tables I and II): two images of digits go through one shared
convolutional encoder to two scalars z1, z2; an EQL network combines them and is
trained only on the sum of the two labels. The encoder is never told which digit it
sees. The script fits z against the true digit, prints the equation read off the EQL
next to the paper's, reports MAE and accuracy, and repeats training on sums < 15 only
to test on sums >= 15 against a ReLU head (Table II).

Digits: real MNIST when it can be had (``--mnist-path``, the Keras cache, or a
download with ``--source mnist``); otherwise scikit-learn's bundled 8x8 digits
upscaled to 28x28, which every output states.

    python examples/mnist_arithmetic.py              # the paper's 2 x 10000 steps, 3 trainings
    python examples/mnist_arithmetic.py --quick      # 1500 + 300 steps of 64 pairs (~4 min)
    python examples/mnist_arithmetic.py --json mnist.json --figure mnist.png
    python examples/mnist_arithmetic.py --quick --quiet  # no progress bar (none off a terminal)
    python examples/mnist_arithmetic.py --quick --trials 1  # the paper's single EQL head
    python examples/mnist_arithmetic.py --quick --select held-out  # choose on sums 13-14
    python examples/mnist_arithmetic.py --retrains 0  # never train a poorly fitting model again

By default a portfolio of 8 EQL heads shares the encoder and Table II keeps the simplest
head within 10% of the lowest MAE on sums < 15 (docs/deep_models.md).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

from deepsymreg import experiments, reports  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true",
                        help="1500 + 300 steps of 64 pairs per training (about 4 minutes)")
    parser.add_argument("--baseline", choices=["relu", "none"], default="relu",
                        help="also train the ReLU head for Table II (default) or not")
    parser.add_argument("--source", choices=["auto", "mnist", "sklearn"], default="auto",
                        help="digit images (default: MNIST if available offline)")
    parser.add_argument("--mnist-path", help="a local mnist.npz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default="mnist_arithmetic.png", help="where to save the figure")
    parser.add_argument("--json", dest="json_path", help="write the results here")
    parser.add_argument("--fraction", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n-eval", type=int, default=None,
                        help="pairs drawn for each score (default 5000, quick 2000)")
    parser.add_argument("--trials", type=int, default=8,
                        help="a portfolio of this many EQL heads on the shared encoder "
                             "(default 8; 1: one head, the paper's)")
    parser.add_argument("--select", choices=["held-out", "simplest"], default="simplest",
                        help="with more than one head, how the Table II head is chosen: "
                             "simplest (default; trained on sums < 15, the simplest equation "
                             "within 10%% of the lowest MAE) or held-out (trained on sums < 13, "
                             "lowest MAE on sums 13-14)")
    parser.add_argument("--table-two-only", action="store_true",
                        help="skip the all-pairs training (Table I) and run only Table II, in "
                             "about half the time")
    parser.add_argument("--retrain-above", type=float, default=0.1, metavar="MAE",
                        help="train an EQL model again from a fresh seed when its best head's "
                             "MAE on its training sums is above this (default 0.1)")
    parser.add_argument("--retrains", type=int, default=1,
                        help="at most this many such re-trainings (default 1; 0: never)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error(f"argument --trials: expected a count >= 1, got {args.trials}")
    if args.retrains < 0:
        parser.error(f"argument --retrains: expected a count >= 0, got {args.retrains}")
    if not args.retrain_above > 0:
        parser.error(f"argument --retrain-above: expected a MAE > 0, got {args.retrain_above}")
    result = experiments.run_arithmetic(
        quick=args.quick, baseline=None if args.baseline == "none" else "relu",
        seed=args.seed, source=args.source, path=args.mnist_path,
        figure=None if args.table_two_only else args.figure,
        fraction=args.fraction, n_eval=args.n_eval or (2000 if args.quick else 5000),
        verbose=reports.on_terminal(args.quiet), trials=None if args.trials == 1 else args.trials,
        select_sums=(13, 15) if args.select == "held-out" else None,
        table_one=not args.table_two_only,
        retrain_above=(args.retrain_above, args.retrains) if args.retrains else None,
    )
    print(experiments.format_arithmetic(result))
    if args.json_path:
        reports.write_json(args.json_path, result)
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(reports.run_script(main))
