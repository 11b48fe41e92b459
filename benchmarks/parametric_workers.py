"""Parametric EQL: K restarts as one graph in one process, or as two graphs of K/2 in two.

``run_parametric(workers=2)`` splits the restarts over two processes. This script
measures whether that pays on the machine at hand, in one run: the training of the
paper's f2 setting (128 t steps x 512 points, 16 points per t step in each minibatch,
``train_parametric``'s schedule) with ``--trials`` restarts, timed from the start of the
process pool to the last result (so process start-up, TensorFlow import and compilation
count, as in a real run), alternating between one process of K restarts and two of K/2,
``--repeats`` times each.

Usage:
    python benchmarks/parametric_workers.py [--method meta] [--trials 80] [--steps 2000]
        [--repeats 2] [--json PATH]

Each configuration of the defaults takes 3-5 minutes on 2 cores (about 17 minutes in
all). ``--quick`` (a smoke test): 4 restarts, 20 steps, 8 t steps, one repeat.
"""

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

F2 = "t*x**2 + 3*sin(t)*x"


def train(job):
    """Train one share of the restarts in this (worker) process; its training seconds."""
    from deepsymreg.parametric import make_parametric_data, train_parametric

    inputs, targets, _ = make_parametric_data(F2, ["x"], n_param=job["n_param"])
    start = time.perf_counter()
    train_parametric(inputs, targets, method=job["method"], trials=job["trials"],
                     seed=job["seed"], steps=job["steps"])
    return time.perf_counter() - start


def time_split(processes, method, trials, steps, n_param):
    """Wall seconds to train ``trials`` restarts split over ``processes`` processes, and
    each process's own training seconds (after its imports)."""
    shares = [trials // processes + (i < trials % processes) for i in range(processes)]
    jobs = [{"method": method, "trials": n, "steps": steps, "n_param": n_param,
             "seed": sum(shares[:i])} for i, n in enumerate(shares)]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        inner = pool.map(train, jobs)
    return time.perf_counter() - start, inner


def run(method="meta", trials=80, steps=2000, repeats=2, n_param=128, log=print):
    rows = {1: [], 2: []}
    for _ in range(repeats):
        for processes in (1, 2):  # alternating: both see the same drift of the machine
            wall, inner = time_split(processes, method, trials, steps, n_param)
            rows[processes].append({"wall_seconds": wall, "training_seconds": inner})
            log(f"  {processes} process(es): {wall:.1f} s")
    one = statistics.median(r["wall_seconds"] for r in rows[1])
    two = statistics.median(r["wall_seconds"] for r in rows[2])
    return {"method": method, "trials": trials, "steps": steps, "n_param": n_param,
            "repeats": repeats, "one_process": rows[1], "two_processes": rows[2],
            "median_one": one, "median_two": two, "speed_up": one / two}


def table(result):
    r = result
    lines = ["| method | restarts | steps | 1 process s | 2 processes s | speed-up |",
             "|---|---|---|---|---|---|",
             f"| {r['method']} | {r['trials']} | {r['steps']} | {r['median_one']:.1f} | "
             f"{r['median_two']:.1f} | {r['speed_up']:.2f}x |"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=["stacked", "meta"], default="meta")
    parser.add_argument("--trials", type=int, default=80)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a smoke test (seconds)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if min(args.trials, args.steps, args.repeats) < 1 or args.trials < 2:
        parser.error("--trials (at least 2), --steps and --repeats must be positive")
    settings = {"method": args.method, "trials": args.trials, "steps": args.steps,
                "repeats": args.repeats, "n_param": 128}
    if args.quick:
        settings.update(trials=4, steps=20, repeats=1, n_param=8)
    result = run(**settings)
    result.update(command=" ".join(["python", "benchmarks/parametric_workers.py", *(argv or sys.argv[1:])]),
                  date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  machine={"cpus": os.cpu_count(), "python": platform.python_version()})
    print(table(result))
    if args.json:
        from deepsymreg.reports import write_json  # atomic: no half-written file

        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
