"""Gumbel-max EQL: does a screen of the whole elite repository change the read-out?

During the search every sampled instance shares the regression weights, so the
repository ranks structures by an error under weights that are none of theirs. The
screen (:func:`deepsymreg.gmeql.read_out` with ``screen``) gives every elite a short
refit with its own weights, then the 10 best by that a full refit, before the usual
read-out. This script measures it paired: for each problem and run seed, one search
(the paper's Algorithm 1, no memetic step) at the paper's settings (on the benchmark's data of ``--data-seed``), then the
read-out without and with the screen from the same state, each judged as
``deepsymreg benchmark --method gmeql`` judges (RMS error under 2% of the truth's RMS on
the range widened 1.5x).

    python benchmarks/gmeql_screen.py [--problems b5,b6] [--seeds 100,101]
        [--steps 1000] [--starts 1] [--learning-rate 0.01] [--iterations 48000]
        [--json PATH]

Prints one row per search: problem, seed, relative RMS without / with the screen, the
read-out seconds of each, and the expression with the screen.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import make_data  # noqa: E402
from deepsymreg.gmeql import BENCHMARKS, read_out, widened  # noqa: E402
from deepsymreg.models.gmeql import GMEQL  # noqa: E402
from deepsymreg.reports import write_json  # noqa: E402


def paired(problem, seed, screen, data_seed=0, rounds=3, round_iterations=2000,
           iterations=48000, steps_per_call=500, xla=True, **read_kwargs):
    """One search, then its read-out without and with ``screen`` from the same state.
    Returns a dict: ``search_seconds`` and, under ``"default"`` and ``"screen"``, the
    read-out row (:func:`read_out`) and its ``seconds``. ``xla``: as in :class:`GMEQL`;
    ``read_kwargs``: further :func:`read_out` arguments (``top``, ``polish_steps``)."""
    law, names, domain = BENCHMARKS[problem]
    truth, symbols = symbolic.parse(law, names)
    x, y = make_data(truth, symbols, domain, 300, 0.0, np.random.default_rng(data_seed))
    model = GMEQL(seed=seed, steps_per_call=steps_per_call, xla=xla)
    start = time.perf_counter()
    model.search(x, y, rounds=rounds, round_iterations=round_iterations, iterations=iterations)
    out = {"problem": problem, "seed": seed, "data_seed": data_seed,
           "search_seconds": time.perf_counter() - start}
    state = [v.numpy() for v in model.variables]
    for name, option in (("default", None), ("screen", screen)):
        for var, value in zip(model.variables, state):
            var.assign(value)
        start = time.perf_counter()
        row = read_out(model, truth, symbols, x, y, widened(domain), seed=seed, screen=option,
                       **read_kwargs)[0]
        out[name] = {**row, "seconds": time.perf_counter() - start}
    return out


def _judged(row):
    rel = "inf" if row["relative_rms"] is None else f"{row['relative_rms']:.3g}"
    return f"{rel} (right)" if row["success"] else rel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="b5,b6")
    parser.add_argument("--seeds", default="100,101", help="run seeds, comma-separated")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1000, help="screen: Adam steps per elite")
    parser.add_argument("--starts", type=int, default=1, help="screen: starts per elite")
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--curriculum", default="0.03,500",
                        help="screen: START,ITERATIONS or 'none'")
    parser.add_argument("--round-iterations", type=int, default=2000)
    parser.add_argument("--iterations", type=int, default=48000)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    curriculum = None if args.curriculum == "none" else tuple(
        float(v) if i == 0 else int(v) for i, v in enumerate(args.curriculum.split(",")))
    screen = {"starts": args.starts, "steps": args.steps, "learning_rate": args.learning_rate,
              "curriculum": curriculum}
    results = []
    print(f"screen: {screen}")
    print("| problem | seed | rel. RMS default | rel. RMS screen | s default / screen | expression (screen) |")
    print("|---|---|---|---|---|---|")
    for problem in args.problems.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            res = paired(problem, seed, screen, args.data_seed, round_iterations=args.round_iterations,
                         iterations=args.iterations)
            results.append(res)
            d, s = res["default"], res["screen"]
            print(f"| {problem} | {seed} | {_judged(d)} | {_judged(s)} "
                  f"| {d['seconds']:.0f} / {s['seconds']:.0f} | `{s['expression']}` |", flush=True)
            if args.json_path:
                write_json(args.json_path, {"screen": screen, "results": results})
    for name in ("default", "screen"):
        print(f"{name}: {sum(r[name]['success'] for r in results)} of {len(results)} right")


if __name__ == "__main__":
    main()
