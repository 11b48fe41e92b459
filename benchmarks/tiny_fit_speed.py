"""Wall time of small `SymbolicRegressor` fits with and without XLA.

Every fit builds a fresh model, traces its training loop and, with
``jit_compile=True`` (the default), compiles it with XLA before the first step. For a
fit of a few dozen steps that compilation is a large share of the time; for a real
fit (thousands of steps) XLA's faster steps win. This script times both settings at
several step counts, alternating them ``--repeats`` times on the same data (the law
``1.5 x0 x1 - x1`` on 64 points, one restart, one hidden layer of identity, square and
product units: the scikit-learn common checks' estimator).

    python benchmarks/tiny_fit_speed.py [--steps 30,300,3000] [--repeats 3]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg.estimator import SymbolicRegressor  # noqa: E402

SETTINGS = dict(trials=1, depth=1, primitives=["identity", "square", "product"])


def data():
    x = np.random.default_rng(0).uniform(-1, 1, (64, 2))
    return x, 1.5 * x[:, 0] * x[:, 1] - x[:, 1]


def time_fit(steps, jit_compile):
    """Wall seconds of one fit (table and polish included)."""
    x, y = data()
    start = time.perf_counter()
    SymbolicRegressor(**SETTINGS, steps=steps, jit_compile=jit_compile).fit(x, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="30,300,3000",
                        help="comma-separated optimizer steps per fit")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        counts = [int(s) for s in args.steps.split(",")]
    except ValueError:
        parser.error(f"argument --steps: expected comma-separated integers, got {args.steps!r}")
    if not counts or min(counts) < 1:
        parser.error(f"argument --steps: every count must be at least 1, got {args.steps!r}")
    if args.repeats < 1:
        parser.error(f"argument --repeats: must be at least 1, got {args.repeats}")
    time_fit(counts[0], True)  # TensorFlow's own start-up, outside the table
    walls = {(n, jit): [] for n in counts for jit in (True, False)}
    for _ in range(args.repeats):
        for n in counts:
            for jit in (True, False):
                walls[n, jit].append(time_fit(n, jit))
    print(f"one restart, 64 points, {os.cpu_count()} CPU cores; settings alternate, "
          f"{args.repeats} fits each (median)")
    print("| steps | XLA s | no XLA s | no XLA / XLA |")
    print("|---|---|---|---|")
    for n in counts:
        on, off = (float(np.median(walls[n, jit])) for jit in (True, False))
        print(f"| {n} | {on:.2f} | {off:.2f} | {off / on:.2f} |")
    return walls


if __name__ == "__main__":
    main()
