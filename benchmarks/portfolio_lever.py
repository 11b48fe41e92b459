"""Would a portfolio of L0.5 and relaxed-L0 restarts beat either alone on the unseen laws?

Reads two JSONs on the same laws and ``--run-seed`` (one per sparsity method), each
written by ``benchmarks/unseen_laws.py`` with the polish (the default) or by
``benchmarks/polish_lever.py`` (the polished equations of an older unpolished run;
run seed 0, as that script assumes), and forms, per law, the portfolio of the first
``--each`` restarts of both (restarts are seeded one by one, so these are the restarts a
mixed run of ``2 * each`` would train, up to seed numbering). Every equation is judged
strictly (``laws.strict_judge``) and the portfolio's restart selected by the benchmark's
rule (``restarts.select_best`` on the [-2, 2] selection points). No training.

Per law: strict rate and selected-right of each method with ``2 * each`` restarts and of
the portfolio; the mean rates and counts at the end.

    python benchmarks/portfolio_lever.py L05.json L0.json [--each 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg.reports import run_script, write_json  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from polish_lever import candidate, judged, law_data  # noqa: E402


def figures(row, expressions):
    """Strict rate and selected-right of a list of equations of one law."""
    symbols, _, test = law_data(row)
    rate, selected_right, _ = judged(row, [candidate(e, symbols, test) for e in expressions])
    return rate, selected_right


def polished_equations(row):
    """A law's polished restart equations and its run seed, from either script's row."""
    if "polished" in row:  # benchmarks/polish_lever.py
        return row["polished"], 0
    if not row.get("polish"):
        raise ValueError(f"law {row['expr']!r}: the restarts are not polished; run "
                         "benchmarks/polish_lever.py on that file first")
    return [r["expression"] for r in row["restarts"]], row["run_seed"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="unseen_laws.py (polished) or polish_lever.py JSON of one method")
    parser.add_argument("second", help="the same for the other method, same laws")
    parser.add_argument("--each", type=int, default=10, help="restarts taken from each (default 10)")
    parser.add_argument("--json", dest="json_path", help="write the figures here")
    args = parser.parse_args(argv)
    rows = []
    for path in (args.first, args.second):
        with open(path) as f:
            rows.append({r["expr"]: r for r in json.load(f)["laws"]})
    first, second = rows
    out = []
    print("| # | law | first: rate | right | second: rate | right | portfolio: rate | right |")
    print("|---|---|---|---|---|---|---|---|")
    for expr, a in first.items():
        b = second.get(expr)
        if b is None:
            continue
        (ea, seed_a), (eb, seed_b) = polished_equations(a), polished_equations(b)
        if seed_a != seed_b:
            raise ValueError(f"law {expr!r}: the two runs have different run seeds")
        a = {**a, "run_seed": seed_a}
        n = 2 * args.each
        res = {"index": a["index"], "expr": expr, "first": figures(a, ea[:n]),
               "second": figures(b, eb[:n]),
               "portfolio": figures(a, ea[:args.each] + eb[:args.each])}
        out.append(res)
        print(f"| {res['index']} | `{expr}` | " + " | ".join(
            f"{res[k][0]:.2f} | {'yes' if res[k][1] else 'no'}" for k in ("first", "second", "portfolio"))
            + " |", flush=True)
    for k in ("first", "second", "portfolio"):
        print(f"{k}: mean rate {np.mean([r[k][0] for r in out]):.3f}, "
              f"selected right {sum(r[k][1] for r in out)}/{len(out)}")
    if args.json_path:
        write_json(args.json_path, {"command": " ".join(sys.argv), "laws": out})
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
