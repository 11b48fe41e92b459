"""Table V's stored runs read again: the polish against the refined read-out.

Reads JSON files of ``examples/benchmark_table5.py`` (every restart keeps the equation
read off its network, ``raw_expression``), rebuilds each law's training and selection
points exactly as ``run_benchmark`` drew them (its ``seed``, domains, ``n_train`` and
``noise``; 1024 selection points), and reads every restart twice with
``deepsymreg.benchmark.polish_trial``: ``refine=False`` (the read-out of Table V's runs
until 2026-12-03) and ``refine=True`` (``run_benchmark``'s default since). Each read-out
is judged as ``run_benchmark`` judges (``deepsymreg.symbolic.judge`` at the run's
``tolerance``) and the restart is selected by ``restarts.select_best``. No training.

Per law: success rate and whether the selected restart is right, both ways; per file:
the summed rates (the figure Table V reports) and the selected-right counts.

With ``--prune``, a third read-out: the refined one with terms then pruned
(``deepsymreg.symbolic.prune``). With ``--swap``, also ``run_benchmark``'s default
read-out since 2026-12-05: refined, pruned, look-alike terms swapped
(``deepsymreg.swap.prune_and_swap``) and pruned again.

    python benchmarks/table5_readout.py docs/runs/table5_l05_polish.json [more.json] [--prune] [--swap] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg import swap as swap_lib  # noqa: E402
from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import equation_errors, make_data, polish_trial  # noqa: E402
from deepsymreg.reports import run_script, write_json  # noqa: E402
from deepsymreg.restarts import TrialResult, select_best  # noqa: E402

#: ``run_benchmark``'s selection points per law (its ``n_test``, not stored in the JSON).
N_TEST = 1024


def law_points(result):
    """The truth, its symbols, and ``run_benchmark``'s training and selection points."""
    truth, symbols = symbolic.parse(result["expr"], result["vars"])
    rng = np.random.default_rng(result["seed"])
    train = make_data(truth, symbols, tuple(result["train_domain"]), result["n_train"],
                      result.get("noise", 0.0), rng)
    test = make_data(truth, symbols, tuple(result["test_domain"]), N_TEST, 0.0, rng)
    return truth, symbols, train, test


#: The read-outs compared: name -> ``polish_trial``'s ``refine``, ``prune`` and ``swap``.
READOUTS = {"polish": (False, False, False), "refined": (True, False, False),
            "pruned": (True, True, False), "swapped": (True, True, True)}


def read_out(raw, symbols, train, test, refine, prune=False, swap=False, cache=None, library=None):
    """A restart's raw equation through ``polish_trial``: a ``TrialResult`` whose errors
    and complexity describe the equation it ends with."""
    expr = symbolic.parse(raw, [s.name for s in symbols])[0]
    test_mse, train_mse = equation_errors(expr, symbols, test, train)
    trial = TrialResult(seed=0, expression=raw, extrapolation_mse=test_mse, train_mse=train_mse,
                        complexity=symbolic.complexity(expr))
    polish_trial(trial, symbols, train, test, refine=refine, prune=prune, swap=swap,
                 library=library, cache=cache)
    return trial


def read_law(result, names=("polish", "refined")):
    """One law's restarts read each way of ``names`` (keys of :data:`READOUTS`):
    ``{"polish": {...}, "refined": {...}}`` with the success rate, whether the selected
    restart is right and its equation."""
    truth, symbols, train, test = law_points(result)
    row = {"expr": result["expr"], "vars": result["vars"],
           "regularization": result.get("regularization"), "stored_success_rate": result["success_rate"]}
    for name in names:
        trials, cache = [], {}  # one law's cache, as run_benchmark's
        library = swap_lib.TermLibrary(symbols, train[0]) if READOUTS[name][2] else None
        for t in result["trials"]:
            trial = read_out(t["raw_expression"], symbols, train, test, *READOUTS[name], cache=cache,
                             library=library)
            candidate = symbolic.parse(trial.expression, [s.name for s in symbols])[0]
            trial.success = bool(symbolic.judge(candidate, truth, symbols, tuple(result["test_domain"]),
                                                tolerance=result["tolerance"])[0])
            trials.append(trial)
        best = select_best(trials)
        row[name] = {"success_rate": float(np.mean([t.success for t in trials])),
                     "selected_right": bool(best.success), "selected_expression": best.expression}
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON files of examples/benchmark_table5.py")
    parser.add_argument("--json", dest="json_path", help="write the figures here")
    parser.add_argument("--prune", action="store_true",
                        help="also the refined read-out with terms pruned (symbolic.prune; "
                        "run_benchmark's default read-out since 2026-12-05)")
    parser.add_argument("--swap", action="store_true",
                        help="also the read-out with look-alike terms swapped (swap.prune_and_swap; "
                        "run_benchmark's default since 2026-12-05)")
    args = parser.parse_args(argv)
    names = ("polish", "refined") + (("pruned",) if args.prune else ()) + (("swapped",) if args.swap else ())
    start = time.time()
    files = []
    print("| file | law | stored rate | " + " | ".join(f"{n}: rate | selected right" for n in names) + " |")
    print("|---|---|---|" + "---|---|" * len(names))
    for path in args.results:
        with open(path) as f:
            rows = [read_law(r, names) for r in json.load(f)]
        for r in rows:
            cells = " | ".join(f"{r[n]['success_rate']:.2f} | {'yes' if r[n]['selected_right'] else 'no'}"
                               for n in names)
            print(f"| {os.path.basename(path)} | `{r['expr']}` | {r['stored_success_rate']:.2f} | {cells} |",
                  flush=True)
        summary = {name: {"summed_rate": float(sum(r[name]["success_rate"] for r in rows)),
                          "selected_right": int(sum(r[name]["selected_right"] for r in rows))}
                   for name in names}
        files.append({"source": path, "laws": rows, **summary})
    for f in files:
        print(f"\n{f['source']}: summed rate " + " -> ".join(f"{f[n]['summed_rate']:.2f}" for n in names)
              + ", selected right " + " -> ".join(str(f[n]["selected_right"]) for n in names)
              + f" of {len(f['laws'])} ({', '.join(names)})")
    print(f"read in {time.time() - start:.1f} s")
    if args.json_path:
        write_json(args.json_path, {"command": " ".join(sys.argv), "files": files})
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
