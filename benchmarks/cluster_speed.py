"""Restarts here and on a Dask LocalCluster: wall time and whether the equations agree.

Runs one benchmark law (default ``x**2 + sin(2*pi*y)``, 20 restarts, L0.5 schedule)
three ways in one process, one after another:

- ``workers=2`` process pool (2 interleaved chunks, the Table V example's default);
- the same 2 chunks on ``distributed.LocalCluster(n_workers=2, threads_per_worker=1)``
  through ``Client.get_executor()`` (cluster start-up timed apart);
- ``workers=1``: all restarts in one graph in this process.

Usage: python benchmarks/cluster_speed.py [--trials 20] [--expr ...] [--vars x,y]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from deepsymreg.benchmark import run_benchmark  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expr", default="x**2 + sin(2*pi*y)")
    parser.add_argument("--vars", default="x,y")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--regularization", default="l05")
    args = parser.parse_args()
    import distributed

    # One training per restart (no re-run of poor fits, the default since 2026-12-05):
    # the figures compare ways of distributing the same training.
    common = dict(trials=args.trials, regularization=args.regularization, seed=0,
                  rerun_poor_fits=None)
    rows = []

    result = run_benchmark(args.expr, args.vars, workers=2, **common)
    rows.append(("process pool, workers=2", result["wall_seconds"], result))

    t0 = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    client = distributed.Client(cluster)
    startup = time.perf_counter() - t0
    try:
        result = run_benchmark(args.expr, args.vars, workers=2, executor=client.get_executor(), **common)
        rows.append((f"LocalCluster, 2 chunks (+{startup:.0f} s start-up)", result["wall_seconds"], result))
    finally:
        client.close()
        cluster.close()

    result = run_benchmark(args.expr, args.vars, workers=1, **common)
    rows.append(("this process, one graph", result["wall_seconds"], result))

    reference = rows[0][2]
    print(f"| {args.trials} restarts of `{args.expr}` | wall s | success rate | selected | "
          "equations identical to the process pool |")
    print("|---|---|---|---|---|")
    for name, wall, r in rows:
        same = [t["expression"] for t in r["trials"]] == [t["expression"] for t in reference["trials"]]
        print(f"| {name} | {wall:.1f} | {r['success_rate']:.2f} | `{r['best_expression']}` | "
              f"{'yes' if same else 'no'} |")


if __name__ == "__main__":
    main()
