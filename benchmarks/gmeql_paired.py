"""Gumbel-max EQL: two settings of ``examples/benchmark_gmeql.py`` compared run by run.

Each ``--json`` of the example holds, per problem, its runs with their seeds; a run
seed fixes the data and the search's randomness, so two files made with different
settings (say ``--memetic screen`` and ``--memetic screen-adopt``) pair up by
(problem, seed). This script prints, per problem, the seeds both files hold, the
successes of each on those seeds, and the runs only one of them got right; then the
totals, the summed success rates over the paired runs, and how many problems each has
its selected run (lowest training MAE among the paired runs) right.

    python benchmarks/gmeql_paired.py A.json B.json [--names screen,screen-adopt] [--json PATH]

Only runs both files hold count: the files may have reached different lengths.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from deepsymreg.gmeql import summarize  # noqa: E402
from deepsymreg.reports import write_json  # noqa: E402


def _runs(path):
    """``{problem: {seed: trial}}`` of an ``examples/benchmark_gmeql.py`` ``--json``,
    and the file's memetic setting (its first record's; the path when it has none)."""
    with open(path) as fh:
        records = json.load(fh)["runs"]
    table = {}
    for record in records:
        trials = table.setdefault(record["problem"], {})
        for trial in record["trials"]:
            trials[int(trial["seed"])] = trial
    return table, str(records[0].get("memetic", path)) if records else path


def compare(first, second):
    """Paired rows of two tables (:func:`_runs`): one dict per problem both hold, with
    ``problem``, ``seeds`` (sorted, held by both), ``success`` (a pair of counts),
    ``only`` (a pair of seed lists right in one file only) and ``selected_right`` (a
    pair of booleans)."""
    rows = []
    for problem in sorted(set(first) & set(second)):
        seeds = sorted(set(first[problem]) & set(second[problem]))
        if not seeds:
            continue
        pair = [[table[problem][s] for s in seeds] for table in (first, second)]
        rows.append({
            "problem": problem,
            "seeds": seeds,
            "success": [sum(bool(t["success"]) for t in trials) for trials in pair],
            "only": [[s for s, a, b in zip(seeds, mine, theirs) if a["success"] and not b["success"]]
                     for mine, theirs in (pair, pair[::-1])],
            # the selected run as the benchmark selects it (lowest training MAE)
            "selected_right": [bool(summarize(trials)["best_success"]) for trials in pair],
        })
    return rows


def totals(rows):
    """Paired runs, successes, summed per-problem success rates and problems whose
    selected run is right, of each side."""
    n = sum(len(r["seeds"]) for r in rows)
    return {
        "runs": n,
        "success": [sum(r["success"][i] for r in rows) for i in (0, 1)],
        "summed_rate": [round(sum(r["success"][i] / len(r["seeds"]) for r in rows), 2)
                        for i in (0, 1)],
        "selected_right": [sum(r["selected_right"][i] for r in rows) for i in (0, 1)],
    }


def table(rows, names):
    a, b = names
    lines = [f"| problem | paired seeds | {a} | {b} | seeds right only with {a} | "
             f"seeds right only with {b} |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        k = len(r["seeds"])
        span = f"{r['seeds'][0]}-{r['seeds'][-1]}" if r["seeds"] == list(
            range(r["seeds"][0], r["seeds"][-1] + 1)) else ",".join(map(str, r["seeds"]))
        only = [",".join(map(str, s)) or "-" for s in r["only"]]
        lines.append(f"| {r['problem']} | {span} | {r['success'][0]} of {k} | "
                     f"{r['success'][1]} of {k} | {only[0]} | {only[1]} |")
    t = totals(rows)
    lines.append(f"| all | {t['runs']} runs | **{t['success'][0]} of {t['runs']}** | "
                 f"**{t['success'][1]} of {t['runs']}** | | |")
    lines.append(f"| summed rate | | {t['summed_rate'][0]:.2f} | {t['summed_rate'][1]:.2f} | | |")
    lines.append(f"| selected right | | {t['selected_right'][0]} of {len(rows)} | "
                 f"{t['selected_right'][1]} of {len(rows)} | | |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", help="a --json of examples/benchmark_gmeql.py")
    parser.add_argument("second", help="another, made with a different setting")
    parser.add_argument("--names", default=None,
                        help="two column names, comma-separated (default: the memetic "
                             "settings stored in the files)")
    parser.add_argument("--json", dest="json_path", help="write the rows and totals here")
    args = parser.parse_args(argv)
    if args.names is not None and len(args.names.split(",")) != 2:
        parser.error(f"argument --names: expected two names, got {args.names!r}")
    (first, first_name), (second, second_name) = _runs(args.first), _runs(args.second)
    rows = compare(first, second)
    if not rows:
        parser.error(f"no (problem, seed) is held by both {args.first} and {args.second}")
    names = [first_name, second_name] if args.names is None else args.names.split(",")
    print(table(rows, names))
    if args.json_path:
        write_json(args.json_path, {"files": [args.first, args.second], "names": names,
                                    "rows": rows, "totals": totals(rows)})
    return rows


if __name__ == "__main__":
    main()
