"""Would refining the Gumbel-max EQL read-out find more laws? Stored runs read again.

Reads JSON files of ``examples/benchmark_gmeql.py`` (every run keeps its read-out before
the refit, ``raw_expression``), rebuilds each problem's training points exactly as
``run_gmeql`` drew them (its ``seed``, ``n_train`` and ``noise``), and reads every run
twice: with the least-squares refit of the additive terms (``symbolic.polish``, the
read-out before 2026-12-03) and with ``symbolic.polish_refined`` (the variables and a
constant offered as terms, every number refitted by Levenberg-Marquardt, polished
again: ``run_gmeql(refine=True)``). Both are judged as ``run_gmeql`` judges (RMS error
under ``tolerance`` of the truth's RMS on the test domain), and the run with the lowest
training MAE is selected. No training: the read-out only, on runs already made.

    python benchmarks/gmeql_refine.py docs/runs/gmeql_b1_b8.json [more.json] [--prune] [--json OUT]

``--prune`` adds a third read-out: the refined one, then ``symbolic.prune`` (terms
dropped one at a time with every remaining number refitted; the EQL benchmark's read-out
since 2026-12-05).

The raw expressions are stored rounded to 4 significant digits, so the "refit" column
can differ from the stored ``success`` in rare cases; the script reports both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import make_data  # noqa: E402
from deepsymreg.gmeql import relative_rms  # noqa: E402
from deepsymreg.reports import finite_or_none, run_script, write_json  # noqa: E402


def training_points(result):
    """The truth, its symbols and ``run_gmeql``'s training points of a stored result."""
    truth, symbols = symbolic.parse(result["expr"], result["vars"])
    x, y = make_data(truth, symbols, tuple(result["train_domain"]), result["n_train"],
                     result.get("noise", 0.0), np.random.default_rng(result["seed"]))
    return truth, symbols, x.astype(float), y.astype(float)


def _pruned(expr, symbols, x, y):
    """The refined read-out, then ``symbolic.prune``."""
    return symbolic.prune(symbolic.polish_refined(expr, symbols, x, y), symbols, x, y)


#: The read-outs compared, by name.
READOUTS = {"refit": symbolic.polish, "refined": symbolic.polish_refined, "pruned": _pruned}


def read_run(result, trial, points, names=("refit", "refined")):
    """One stored run read each way of ``names`` (keys of :data:`READOUTS`): ``{"refit":
    {right, relative_rms, mae, expression}, "refined": {...}}``; ``points`` from
    :func:`training_points`."""
    truth, symbols, x, y = points
    raw, _ = symbolic.parse(trial["raw_expression"], result["vars"])
    out = {}
    for name in names:
        expr = READOUTS[name](raw, symbols, x, y)
        with np.errstate(all="ignore"):
            mae = float(np.mean(np.abs(symbolic.to_numpy_function(expr, symbols)(x) - y)))
        rel = relative_rms(expr, truth, symbols, tuple(result["test_domain"]))
        out[name] = {"right": bool(rel < result["tolerance"]), "relative_rms": finite_or_none(rel),
                     "mae": finite_or_none(mae) if np.isfinite(mae) else None,
                     "expression": str(symbolic.rounded(expr, 4))}
    return out


def read_result(result, source, names=("refit", "refined")):
    """A JSON-ready row: per run each read-out, the rates and the selected runs."""
    points = training_points(result)
    runs = [{"seed": t["seed"], "stored_success": t["success"], **read_run(result, t, points, names)}
            for t in result["trials"]]
    row = {"problem": result.get("problem", result["expr"]), "source": source,
           "memetic": bool(result.get("memetic")), "ablation": result.get("ablation", "none"),
           "noise": result.get("noise", 0.0), "runs": runs}
    for name in names:
        row[f"{name}_rate"] = float(np.mean([r[name]["right"] for r in runs]))
        best = min(runs, key=lambda r: np.inf if r[name]["mae"] is None else r[name]["mae"])
        row[f"{name}_selected_right"] = best[name]["right"]
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="JSON files of examples/benchmark_gmeql.py")
    parser.add_argument("--json", dest="json_path", help="write the rows here")
    parser.add_argument("--prune", action="store_true",
                        help="also the refined read-out with terms then pruned (symbolic.prune)")
    args = parser.parse_args(argv)
    names = ("refit", "refined", "pruned") if args.prune else ("refit", "refined")
    rows = []
    print("| problem | source | runs | " + " | ".join(f"right, {n}" for n in names)
          + " | selected right, " + " / ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names) + "---|")
    for path in args.paths:
        with open(path) as f:
            results = json.load(f)["runs"]
        for result in results:
            row = read_result(result, os.path.basename(path), names)
            rows.append(row)
            rights = " | ".join(str(sum(r[n]["right"] for r in row["runs"])) for n in names)
            selected = " / ".join("yes" if row[f"{n}_selected_right"] else "no" for n in names)
            print(f"| {row['problem']} | {row['source']} | {len(row['runs'])} | {rights} | {selected} |",
                  flush=True)
    if args.json_path:
        write_json(args.json_path, {"command": " ".join(sys.argv), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
