"""pyoperon, a genetic-programming regressor, beside our EQL on the unseen laws.

The laws are those of ``benchmarks/unseen_laws.py`` (``--seed``, ``--n-laws``,
``--unlisted``, ``--only``). Per law:

- **Data**: the training points ``run_benchmark`` draws, by the same calls
  (``deepsymreg.benchmark.make_data`` with a generator seeded by ``--run-seed``: 256
  points uniform on [-1, 1]^d, no noise), as float64 (pyoperon 0.6's ``predict``
  misreads float32 arrays).
- **pyoperon**: ``pyoperon.sklearn.SymbolicRegressor`` at its documented defaults
  (population 1000, tournament 5, objective ``r2`` with linear scaling, no local
  coefficient optimization: ``optimizer_iterations=0``, one thread), except
  ``allowed_symbols``: its default ``add,sub,mul,div,constant,variable`` plus the
  functions of our primitive set it has, ``exp,sin,square`` (without them a law with a
  sine or an exponential is out of its reach); ``random_state``: run ``r`` of ``--runs``
  (default 5) has seed ``--run-seed + r``; and the budget.
- **Budget**: ``--seconds`` of wall time per law for all runs together (default: our wall
  seconds on that law); each run gets ``max_time = seconds // runs`` (an integer, as
  pyoperon requires; at least 1). The wall clock is what bounds a run: ``generations``
  and ``max_evaluations`` are lifted to 10**9 and 10**12, since at their defaults (1000
  and 10**6) a run on 256 points stops after about 4 s whatever the budget.
  ``--operon KEY=VALUE`` overrides any other parameter (e.g. ``optimizer_iterations=10``,
  as pyoperon's example does).
- **Judging**: every run's model (pyoperon's infix string, read by SymPy) by
  ``deepsymreg.laws.strict_judge`` (RMS error under 2% of the truth's RMS on
  [-2, 2]^d, the judge of ``benchmarks/unseen_laws.py``); pyoperon's best of the runs is
  the one with the lowest training error, as a user would pick.
- **Ours**: read from ``benchmarks/unseen_laws.py``'s JSON (``--ours PATH``; the row of
  the same law and ``--run-seed``); a law not there is run (``--trials`` restarts).

One markdown table (one row per law) and ``--json``.

    python benchmarks/peers.py [--seed 0] [--n-laws 30] [--unlisted] [--only 0,3]
        [--ours PATH] [--trials 20] [--runs 5] [--seconds S] [--run-seed 0]
        [--operon KEY=VALUE ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # benchmarks/unseen_laws.py

import numpy as np  # noqa: E402

import unseen_laws  # noqa: E402
from deepsymreg import laws as laws_lib  # noqa: E402
from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import make_data  # noqa: E402
from deepsymreg.reports import finite_or_none, run_script, write_json  # noqa: E402

#: pyoperon's default symbols plus the functions of ``default10`` it has.
SYMBOLS = "add,sub,mul,div,constant,variable,exp,sin,square"
#: Lifted so that ``max_time`` bounds a run (see the module docstring).
UNBOUNDED = {"generations": 10**9, "max_evaluations": 10**12}
#: Our budget when neither --seconds nor our wall time is known (docs/results.md: about
#: 44 s per law for 20 restarts).
DEFAULT_SECONDS = 45.0


def training_data(expr, names, run_seed):
    """The training points ``run_benchmark(expr, names, seed=run_seed)`` draws."""
    truth, symbols = symbolic.parse(expr, names)
    return make_data(truth, symbols, (-1.0, 1.0), 256, 0.0, np.random.default_rng(run_seed))


def run_pyoperon(expr, names, seconds, runs=5, run_seed=0, overrides=None):
    """pyoperon's ``runs`` runs on the law's training data, judged strictly; a JSON-ready
    dict (``success_rate``, ``best_right``, ``best_model``, ``wall_seconds``, ``runs``)."""
    from pyoperon.sklearn import SymbolicRegressor

    # float64: pyoperon 0.6's predict reads float32 arrays as garbage (inf, 0).
    x, y = (a.astype("float64") for a in training_data(expr, names, run_seed))
    max_time = max(1, int(seconds // runs))
    done = []
    for r in range(runs):
        params = {"allowed_symbols": SYMBOLS, **UNBOUNDED, **(overrides or {}),
                  "max_time": max_time, "random_state": run_seed + r}
        model = SymbolicRegressor(**params)
        start = time.perf_counter()
        model.fit(x, y)
        wall = time.perf_counter() - start
        text = model.get_model_string(model.model_, precision=12, names=list(names))
        right, error = laws_lib.strict_judge(text, expr, names)
        done.append({
            "seed": run_seed + r,
            "model": text,
            "train_mse": float(np.mean((model.predict(x) - y) ** 2)),
            "relative_rms": finite_or_none(error),
            "right": right,
            "wall_seconds": wall,
            "generations": int(model.stats_["generations"]),
            "evaluations": int(model.stats_["evaluation_count"]),
        })
    best = min(done, key=lambda run: run["train_mse"])
    return {
        "success_rate": float(np.mean([run["right"] for run in done])),
        "best_right": best["right"],
        "best_model": best["model"],
        "best_relative_rms": best["relative_rms"],
        "max_time": max_time,
        "wall_seconds": float(sum(run["wall_seconds"] for run in done)),
        "runs": done,
    }


def parse_overrides(items):
    """``["optimizer_iterations=10", ...]`` -> ``{"optimizer_iterations": 10, ...}``."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"Invalid value for argument `--operon`: expected KEY=VALUE. "
                             f"Received: {item!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    if {"max_time", "random_state"} & set(out):
        raise ValueError("Invalid value for argument `--operon`: max_time and random_state "
                         f"are set by --seconds and --run-seed. Received: {sorted(out)}")
    return out


def short(text, width=80):
    """``text`` cut to ``width`` characters (the table's model column)."""
    return text if len(text) <= width else text[: width - 3] + "..."


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the law set (default 0)")
    parser.add_argument("--n-laws", type=int, default=30, help="random laws (default 30)")
    parser.add_argument("--unlisted", action="store_true", help="add the laws docs/results.md reports")
    parser.add_argument("--only", help="comma-separated indexes of the laws to run")
    parser.add_argument("--ours", help="benchmarks/unseen_laws.py's JSON with our results")
    parser.add_argument("--trials", type=int, default=20, help="our restarts for laws not in --ours")
    parser.add_argument("--runs", type=int, default=5, help="pyoperon runs per law (default 5)")
    parser.add_argument("--seconds", type=float, help="pyoperon's wall seconds per law, all runs "
                        "together (default: ours on that law)")
    parser.add_argument("--run-seed", type=int, default=0, help="seed of the data (default 0)")
    parser.add_argument("--operon", action="append", metavar="KEY=VALUE",
                        help="another SymbolicRegressor parameter (repeatable)")
    parser.add_argument("--json", dest="json_path", help="write the results to this file")
    args = parser.parse_args(argv)
    if args.n_laws < 0 or args.trials < 1 or args.runs < 1 or args.seed < 0:
        parser.error("--n-laws must be >= 0, --trials and --runs positive, --seed >= 0")
    if args.seconds is not None and not args.seconds >= 1:
        parser.error(f"--seconds: expected a number >= 1, got {args.seconds}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        pyoperon_version = version("pyoperon")
    except PackageNotFoundError:
        parser.error("pyoperon is not installed: pip install 'deepsymreg[bench]'")

    laws = unseen_laws.law_list(args.seed, args.n_laws, args.unlisted)
    try:
        overrides = parse_overrides(args.operon)
        picked = [laws[i] for i in unseen_laws.parse_only(args.only, len(laws))]
    except ValueError as err:
        parser.error(str(err))
    ours_rows = unseen_laws.read_rows(args.ours)
    print(f"| # | law | ours: success rate | ours: selected right | ours s | pyoperon: success "
          f"rate ({args.runs} runs) | pyoperon: best of {args.runs} right | pyoperon s | "
          "pyoperon's best model |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = []
    for law in picked:
        ours = unseen_laws.stored(ours_rows, law, run_seed=args.run_seed, polish=None,
                                   regularization=None)
        source = "--ours"
        if ours is None:
            ours, source = unseen_laws.measure(law, args.trials, args.run_seed), "measured"
        seconds = args.seconds if args.seconds is not None else ours["wall_seconds"] or DEFAULT_SECONDS
        peer = run_pyoperon(law["expr"], law["vars"], seconds, args.runs, args.run_seed, overrides)
        results.append({
            **law,
            "ours": {k: ours[k] for k in ("n_restarts", "success_rate", "selected_right",
                                          "selected_expression", "wall_seconds")} | {"from": source},
            "pyoperon": {**peer, "budget_seconds": seconds},
        })
        print(f"| {law['index']} | `{law['expr']}` | {ours['success_rate']:.2f} | "
              f"{'yes' if ours['selected_right'] else 'no'} | {ours['wall_seconds']:.0f} | "
              f"{peer['success_rate']:.2f} | {'yes' if peer['best_right'] else 'no'} | "
              f"{peer['wall_seconds']:.0f} | `{short(peer['best_model'])}` |", flush=True)
        if args.json_path:
            write_json(args.json_path, {
                "command": " ".join(sys.argv),
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "pyoperon": pyoperon_version,
                "settings": {"seed": args.seed, "run_seed": args.run_seed, "runs": args.runs,
                             "seconds": args.seconds, "allowed_symbols": SYMBOLS,
                             **UNBOUNDED, "overrides": overrides},
                "laws": results,
            })
    ours_right = sum(r["ours"]["selected_right"] for r in results)
    peer_right = sum(r["pyoperon"]["best_right"] for r in results)
    print(f"\n{len(results)} laws: selected restart right {ours_right} (ours) vs best of "
          f"{args.runs} right {peer_right} (pyoperon); mean success rate "
          f"{np.mean([r['ours']['success_rate'] for r in results]):.2f} vs "
          f"{np.mean([r['pyoperon']['success_rate'] for r in results]):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
