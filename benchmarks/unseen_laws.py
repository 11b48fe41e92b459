"""Our EQL on random laws nobody tuned for (``deepsymreg.laws.random_laws``).

Per law, ``deepsymreg.benchmark.run_benchmark`` at the defaults ``deepsymreg benchmark``
uses: 256 training points uniform on [-1, 1]^d, 1024 points on [-2, 2]^d to select the
restart, relaxed L0 with its schedule (``--regularization l05``: smoothed L0.5 with the
paper's), primitives ``default10``; ``--trials`` restarts
(default 20), the data and the first restart seeded by ``--run-seed`` (default 0).
Every restart's equation, and the selected one, is judged strictly by
``deepsymreg.laws.strict_judge``: RMS error under 2% of the truth's RMS on [-2, 2]^d,
no term ignored (``benchmarks/peers.py`` judges pyoperon with the same function). Per
law: the strict success rate over the restarts, whether the selected restart is right,
the package judge's rate (``deepsymreg.symbolic.judge``, which forgives small terms and
judges further out too; for reference) and the wall seconds.

The laws: ``random_laws(--n-laws, --seed)`` (indexes 0..n-1), then with ``--unlisted``
the laws outside Table V that docs/results.md reports on (``deepsymreg.laws.UNLISTED_LAWS``).
``--only 0,3,7`` runs a subset (indexes into that list).

**Tune on seed 0's set, report on seed 1's set you did not look at**: any change to the
method or its defaults is measured on ``--seed 0`` only; ``--seed 1`` (same ``--n-laws``)
is run once the change is settled, and its figures are the ones to report. Do not print
or read seed 1's laws while tuning. Seed 1's set was reported on 2026-12-02; a change
tuned after that is reported on seed 2's set, and so on.

``--json`` is resumable: rows are written law by law, and a law already there (same
law, restarts, ``--run-seed``, ``--regularization``, lever and read-out) is not run again.

    python benchmarks/unseen_laws.py [--seed 0] [--n-laws 30] [--trials 20] [--unlisted]
        [--only 0,3,7] [--run-seed 0] [--regularization l0] [--lever NAME] [--json PATH]
        [--quiet]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

import numpy as np  # noqa: E402
import sympy  # noqa: E402

from deepsymreg import laws as laws_lib  # noqa: E402
from deepsymreg.reports import (  # noqa: E402
    finite_or_none, line_printer, on_terminal, progress_bar, run_script, write_json,
)


def law_list(seed, n_laws, unlisted=False):
    """The laws to run: ``[{"index", "expr", "vars", "n_terms", "source"}, ...]``."""
    rows = [{"expr": law.expr, "vars": list(law.variables), "n_terms": law.n_terms, "source": "random"}
            for law in (laws_lib.random_laws(n_laws, seed) if n_laws else [])]
    for expr, names in laws_lib.UNLISTED_LAWS if unlisted else ():
        terms = len(sympy.Add.make_args(sympy.sympify(expr)))
        rows.append({"expr": expr, "vars": names.split(","), "n_terms": terms, "source": "unlisted"})
    return [{"index": i, **row} for i, row in enumerate(rows)]


def parse_only(text, count):
    """``"0,3,7"`` -> ``[0, 3, 7]``, each below ``count``; None -> all."""
    if text is None:
        return list(range(count))
    try:
        picked = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        picked = None
    if not picked or any(not 0 <= i < count for i in picked):
        raise ValueError(f"Invalid value for argument `--only`: expected comma-separated "
                         f"indexes in 0..{count - 1}. Received: {text!r}")
    return sorted(set(picked))


#: Training levers: one change each to the relaxed-L0 recipe
#: (:func:`deepsymreg.recipes.l0_schedule`, :data:`deepsymreg.recipes.L0_INIT_STDDEV`):
#: fields of its sparsity :class:`~deepsymreg.callbacks.Phase`, the first layer's
#: initial standard deviation, or ``rerun_poor_fits`` (passed to ``run_benchmark``).
LEVERS = {
    "lambda1e-3": {"reg_lambda": 1e-3},  # the sparsity phase's penalty (default 3e-3)
    "lambda1e-2": {"reg_lambda": 1e-2},
    "lambda0": {"reg_lambda": 0.0},  # no penalty at all: how well the network fits alone
    "init2": {"first_stddev": 2.0},  # first-layer initial standard deviation (default 1.0)
    "long": {"steps": 24000},  # sparsity phase length (default 14 000)
    # a restart fitting the training points worse than 1% relative RMS is re-run once
    "rerun1": {"rerun_poor_fits": (0.01, 1)},
    "rerun2": {"rerun_poor_fits": (0.01, 2)},
    # every hidden-layer primitive of default10 twice (36 units per layer instead of 18)
    "wide": {"copies": 2},
    # the penalty-free first phase 6000 steps instead of 2000 (20 000 steps in all kept)
    "warm6000": {"warm_steps": 6000},
}


def lever_settings(name):
    """``run_benchmark`` keyword arguments of a lever in :data:`LEVERS` (relaxed L0)."""
    from deepsymreg.recipes import L0_INIT_STDDEV, l0_schedule

    if name not in LEVERS:
        raise ValueError(f"Invalid value for argument `--lever`: expected one of "
                         f"{sorted(LEVERS)}. Received: {name!r}")
    change = LEVERS[name]
    if "rerun_poor_fits" in change:
        return dict(change)
    if "copies" in change:
        from deepsymreg.primitives import SETS

        return {"primitives": [p for p in SETS["default10"] for _ in range(change["copies"])]}
    if "first_stddev" in change:
        return {"init_stddev": (change["first_stddev"],) + tuple(L0_INIT_STDDEV[1:])}
    warm, sparse, final = l0_schedule()
    if "warm_steps" in change:
        shift = change["warm_steps"] - warm.steps
        return {"schedule": [dataclasses.replace(warm, steps=warm.steps + shift),
                             dataclasses.replace(sparse, steps=sparse.steps - shift), final]}
    return {"schedule": [warm, dataclasses.replace(sparse, **change), final]}


def measure(law, trials, run_seed, progress=None, regularization="l0", curriculum=None,
            lever=None):
    """Our restarts on one law, judged strictly; a JSON-ready row."""
    from deepsymreg.benchmark import run_benchmark

    extra = {} if curriculum is None else {"curriculum": tuple(curriculum)}
    if lever is not None:
        extra.update(lever_settings(lever))
    result = run_benchmark(law["expr"], law["vars"], trials=trials, seed=run_seed,
                           regularization=regularization, progress=progress, **extra)
    restarts = []
    for t in result["trials"]:
        right, error = laws_lib.strict_judge(t["expression"], law["expr"], law["vars"])
        restarts.append({"seed": t["seed"], "expression": t["expression"], "right": right,
                         "relative_rms": finite_or_none(error),
                         "raw_expression": t["raw_expression"],
                         "refit_reruns": t.get("refit_reruns", 0)})
    right, error = laws_lib.strict_judge(result["best_expression"], law["expr"], law["vars"])
    return {
        **law,
        "n_restarts": trials,
        "run_seed": run_seed,
        "polish": result["polish"],
        "refine": result["refine"],
        "prune": result.get("prune"),
        "swap": result.get("swap"),
        "regularization": regularization,
        "curriculum": None if curriculum is None else list(curriculum),
        "lever": lever,
        "success_rate": float(np.mean([r["right"] for r in restarts])),
        "selected_right": right,
        "selected_expression": result["best_expression"],
        "selected_relative_rms": finite_or_none(error),
        "judge_rate": result["success_rate"],
        "wall_seconds": result["wall_seconds"],
        "readout_seconds": result.get("readout_seconds"),
        "restarts": restarts,
    }


def stored(rows, law, trials=None, run_seed=0, polish=True, regularization="l0",
           curriculum=None, lever=None, refine=None):
    """The row of ``rows`` for ``law`` (same law and run seed; the same polish setting,
    regularization, restarts and refined read-out, each unless given as None; the same
    curriculum), or None. Rows written before those keys existed were not polished,
    used L0.5, no curriculum and no refined read-out."""
    for row in rows:
        if (row["expr"], row["vars"], row["run_seed"]) == (law["expr"], law["vars"], run_seed) and (
                trials is None or row["n_restarts"] == trials) and (
                polish is None or row.get("polish", False) == polish) and (
                regularization is None or row.get("regularization", "l05") == regularization) and (
                row.get("curriculum") == (None if curriculum is None else list(curriculum))) and (
                row.get("lever") == lever) and (
                refine is None or row.get("refine", False) == refine):
            return row
    return None


def read_rows(path):
    """The rows of a JSON file this script wrote ([] when there is none)."""
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["laws"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the law set (default 0)")
    parser.add_argument("--n-laws", type=int, default=30, help="random laws (default 30)")
    parser.add_argument("--trials", type=int, default=20, help="restarts per law (default 20)")
    parser.add_argument("--unlisted", action="store_true", help="add the laws docs/results.md reports")
    parser.add_argument("--only", help="comma-separated indexes of the laws to run")
    parser.add_argument("--run-seed", type=int, default=0, help="seed of the data and restarts (default 0)")
    parser.add_argument("--regularization", choices=["l05", "l0"], default="l0",
                        help="sparsity method of the restarts (default l0, the command line's)")
    parser.add_argument("--json", dest="json_path", help="results, written law by law (resumable)")
    parser.add_argument("--curriculum", metavar="START,STEPS",
                        help="EQL's curriculum, e.g. 0.1,5000 (default none)")
    parser.add_argument("--lever", choices=sorted(LEVERS),
                        help="one change to the relaxed-L0 recipe (see LEVERS)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.lever and args.regularization != "l0":
        parser.error("--lever changes the relaxed-L0 recipe: use it with --regularization l0")
    curriculum = None
    if args.curriculum:
        try:
            start, steps = args.curriculum.split(",")
            curriculum = [float(start), int(steps)]
        except ValueError:
            parser.error(f"--curriculum: expected START,STEPS, got {args.curriculum!r}")
    if args.n_laws < 0 or args.trials < 1 or args.seed < 0:
        parser.error("--n-laws must be >= 0, --trials positive, --seed >= 0")
    laws = law_list(args.seed, args.n_laws, args.unlisted)
    if not laws:
        parser.error("no laws: give --n-laws > 0 or --unlisted")
    try:
        picked = [laws[i] for i in parse_only(args.only, len(laws))]
    except ValueError as err:
        parser.error(str(err))
    rows = read_rows(args.json_path)
    key = {"trials": args.trials, "run_seed": args.run_seed, "regularization": args.regularization,
           "curriculum": curriculum, "lever": args.lever, "refine": True}
    todo = sum(stored(rows, law, **key) is None for law in picked)
    from deepsymreg.recipes import restart_steps  # TensorFlow: after parsing, as run_benchmark

    schedule = lever_settings(args.lever).get("schedule") if args.lever else None
    steps = sum(p.steps for p in schedule) if schedule else restart_steps(args.regularization)
    progress = progress_bar(todo * args.trials * steps, on_terminal(args.quiet))
    say = line_printer(progress)
    say(f"| # | law | terms | success rate ({args.trials} restarts) | selected right | "
        "package judge's rate | selected equation | wall s |")
    say("|---|---|---|---|---|---|---|---|")
    done = []
    for law in picked:
        row = stored(rows, law, **key)
        if row is None:
            row = measure(law, args.trials, args.run_seed, progress, args.regularization,
                          curriculum, args.lever)
            rows.append(row)
            if args.json_path:
                write_json(args.json_path, {"command": " ".join(sys.argv), "laws": rows})
        done.append(row)
        say(f"| {row['index']} | `{row['expr']}` | {row['n_terms']} | {row['success_rate']:.2f} | "
            f"{'yes' if row['selected_right'] else 'no'} | {row['judge_rate']:.2f} | "
            f"`{row['selected_expression']}` | {row['wall_seconds']:.0f} |")
    rate = np.mean([r["success_rate"] for r in done])
    say(f"\n{len(done)} laws (set seed {args.seed}): mean success rate {rate:.2f}; selected "
        f"restart right for {sum(r['selected_right'] for r in done)}; "
        f"{sum(r['wall_seconds'] for r in done):.0f} s of training")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
