"""Reproduce the GMEQL benchmarks b1-b8 (Chen 2021, Table 1 and its success rates).

For every problem: 300 points on the training range, ``--trials`` independent runs of
Algorithm 1 (the paper's 20; ``--runs-per-graph`` of them side by side in one compiled
graph), each run's expression judged against the truth on the range widened 1.5x
(success: RMS error under 2% of the truth's RMS). Prints our success rate beside the
paper's, the selected run (lowest training MAE) and the time per run; ``--eql`` also
runs the EQL restarts (``deepsymreg.benchmark.run_benchmark``, 20 restarts) on the same
data and judges their equations the same way.

The full table is 160 runs of 54 000 iterations (about two minutes each on two idle
cores): results are written to ``--json`` after every run, and a second call with the
same settings goes on where the first stopped (``--only b3,b4`` picks problems;
``--max-new-runs 4`` does at most 4 new runs per problem in one call, a first look at
every problem before the full table; ``--max-new-runs 0`` prints the stored table and
runs nothing). Calls on disjoint ``--only`` sets may run at the
same time on one ``--json`` file (each record is merged in under a file lock); two calls
on one problem are stopped with an error at the second one's first save. The paper's ablations are ``--ablation no-stage1``,
``no-elites`` and ``no-offline`` (run them on b2, as the paper), and its noise test
``--noise-std 0.1`` (Gaussian noise of that standard deviation on the training targets,
the paper's unit; it tried 0.1, 0.2 and 0.5 on b2) or ``--noise 0.01`` (relative to the
targets' standard deviation). The memetic step (see :class:`deepsymreg.callbacks.MemeticRefit` and
``deepsymreg.gmeql.MEMETIC_PRESETS``) is on by default as ``--memetic screen-adopt`` (every
new elite refitted with its own weights, then the shared weights set to the best refit's;
``--memetic screen`` without that); ``--memetic none`` runs the paper's Algorithm 1,
``--memetic`` alone the 10 best elites from 4 starts. ``--quick`` is a short check (5 runs of 6000
iterations per problem), not a reproduction. On a terminal, one progress bar counts the
runs still to do (``--quiet``: none).

    python examples/benchmark_gmeql.py [--quick] [--only b1,b2] [--trials 20] [--eql]
        [--ablation none|no-stage1|no-elites|no-offline] [--noise 0.01 | --noise-std 0.1]
        [--runs-per-graph 1] [--max-new-runs 4|0] [--memetic [none|elites|screen|screen-adopt]] [--json docs/runs/gmeql_b1_b8.json]
        [--quiet]
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

from deepsymreg.gmeql import (  # noqa: E402
    BENCHMARKS, DEFAULT_MEMETIC, MEMETIC_PRESETS, PAPER_RATES, PAPER_SETTINGS, relative_rms, run_gmeql, summarize, widened,
)
from deepsymreg.reports import (  # noqa: E402
    line_printer, locked, on_terminal, progress_bar, run_script, write_json)

#: Keys of a stored record written only when set: a record without one is a run without
#: that setting (tables stored before the setting existed resume).
OPTIONAL_KEYS = ("memetic", "noise_std")

#: --ablation -> run_gmeql's flags (the paper's section 5 ablations).
ABLATIONS = {
    "none": {},
    "no-stage1": {"stage1": False},
    "no-elites": {"elites": False},
    "no-offline": {"offline_rule": None},
}
#: --quick: Algorithm 1 shortened to 3 x 500 + 4500 iterations, 5 runs.
QUICK = {"trials": 5, "rounds": 3, "round_iterations": 500, "iterations": 4500}


def eql_rate(name, seed, trials=20):
    """EQL's restarts on the problem's data, judged as GMEQL's runs are.

    Returns ``(success rate, selected restart right, wall seconds)``.
    """
    from deepsymreg import symbolic
    from deepsymreg.benchmark import run_benchmark

    law, names, domain = BENCHMARKS[name]
    test = widened(domain)
    result = run_benchmark(law, names, train_domain=domain, test_domain=test, n_train=300,
                           trials=trials, seed=seed)
    truth, symbols = symbolic.parse(law, names)
    right = []
    for t in result["trials"]:
        try:
            expr = symbolic.parse(t["expression"], names)[0]
        except ValueError:
            right.append(False)
            continue
        right.append(relative_rms(expr, truth, symbols, test) < 0.02)
    best = [i for i, t in enumerate(result["trials"]) if t["seed"] == result["best_seed"]]
    return sum(right) / len(right), bool(best and right[best[0]]), result["wall_seconds"]


def relative_noise(name, seed, std):
    """The relative noise (``run_gmeql``'s ``noise``) that puts Gaussian noise of
    standard deviation ``std`` on problem ``name``'s training targets drawn with ``seed``."""
    import numpy as np

    from deepsymreg import symbolic
    from deepsymreg.benchmark import make_data

    law, names, domain = BENCHMARKS[name]
    truth, symbols = symbolic.parse(law, names)
    _, y = make_data(truth, symbols, domain, 300, 0.0, np.random.default_rng(seed))
    return float(std) / float(np.std(y.astype("float64")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset of b1..b8")
    parser.add_argument("--trials", type=int, default=20, help="runs per problem (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs-per-graph", type=int, default=1,
                        help="runs trained side by side in one graph (default 1: on two "
                             "cores more were never faster per run; docs/performance.md)")
    parser.add_argument("--quick", action="store_true", help="5 short runs per problem")
    parser.add_argument("--eql", action="store_true", help="also run EQL on the same data")
    parser.add_argument("--ablation", choices=sorted(ABLATIONS), default="none",
                        help="turn off one part of Algorithm 1 (default none)")
    parser.add_argument("--noise", type=float, default=0.0,
                        help="relative Gaussian noise on the training targets (default 0)")
    parser.add_argument("--noise-std", type=float, default=None,
                        help="Gaussian noise of this standard deviation on the training "
                             "targets (the paper's unit; instead of --noise)")
    parser.add_argument("--json", dest="json_path", help="results, written after every run")
    parser.add_argument("--max-new-runs", type=int, default=None,
                        help="at most this many new runs per problem in this call (the rest "
                             "on a later call with the same --json): a first look at every "
                             "problem before the full table; 0 prints the stored table only")
    parser.add_argument("--memetic", nargs="?", const="elites", default=DEFAULT_MEMETIC,
                        choices=["none", *sorted(MEMETIC_PRESETS)],
                        help="the memetic step every 12000 stage-2 iterations "
                             "(deepsymreg.callbacks.MemeticRefit): 'screen' refits every "
                             "new elite with its own weights from one start; 'screen-adopt' "
                             "also sets the shared weights to the best refit's; 'elites' "
                             "(alone: --memetic) the 10 best from 4 starts; 'none' is the "
                             f"paper's Algorithm 1 (default: {DEFAULT_MEMETIC})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"--only: unknown problems {unknown}; choose from {sorted(BENCHMARKS)}")
    if args.trials < 1 or args.runs_per_graph < 1:
        parser.error("--trials and --runs-per-graph must be positive")
    if args.max_new_runs is not None and args.max_new_runs < 0:
        parser.error(f"--max-new-runs: expected 0 (report only) or more, got {args.max_new_runs}")
    if not args.noise >= 0:
        parser.error(f"--noise: expected a non-negative number, got {args.noise}")
    if args.noise_std is not None and not args.noise_std >= 0:
        parser.error(f"--noise-std: expected a non-negative number, got {args.noise_std}")
    if args.noise_std is not None and args.noise:
        parser.error("--noise and --noise-std: give one of them")
    noise = ({name: relative_noise(name, args.seed, args.noise_std) for name in names}
             if args.noise_std is not None else dict.fromkeys(names, args.noise))
    settings = dict(QUICK) if args.quick else {
        "trials": args.trials, **{k: PAPER_SETTINGS[k] for k in ("rounds", "round_iterations", "iterations")}}
    def read_runs():  # the records in --json now ([] before the first save)
        if not (args.json_path and os.path.exists(args.json_path)):
            return []
        with open(args.json_path) as f:
            return json.load(f)["runs"]

    done = read_runs()
    keys = {name: {"problem": name, "runs": settings["trials"], "seed": args.seed,
                   "ablation": args.ablation, "noise": noise[name],
                   **({"noise_std": args.noise_std} if args.noise_std is not None else {}),
                   **({"memetic": True if args.memetic == "elites" else args.memetic}
                      if args.memetic != "none" else {}),
                   **{k: settings[k] for k in ("rounds", "round_iterations", "iterations")}}
            for name in names}

    def same(record, key):  # the optional keys must match when absent too
        return all(record.get(k) == key.get(k) for k in {*key, *OPTIONAL_KEYS})

    def stored(key):
        return [r for r in done if same(r, key)]

    # runs per problem in --json when this call last read or wrote it
    counts = {name: len(stored(key)[0]["trials"]) if stored(key) else 0 for name, key in keys.items()}

    def complete(record):
        return len(record["trials"]) >= record["runs"] and (not args.eql or "eql" in record)

    def save(result, key):
        """Write ``result`` into --json, merged under a lock with what other calls wrote
        there meanwhile, so calls on disjoint --only sets can share one file."""
        if not args.json_path:
            return
        with locked(args.json_path):
            runs = read_runs()
            at = [i for i, record in enumerate(runs) if same(record, key)]
            there = len(runs[at[0]]["trials"]) if at else 0
            if there != counts[key["problem"]]:
                raise RuntimeError(
                    f"--json {args.json_path}: another call added runs of {key['problem']} "
                    f"({there} stored, {counts[key['problem']]} expected); calls that share "
                    "a file must take disjoint --only sets")
            if at:
                runs[at[0]] = result
            else:
                runs.append(result)
            write_json(args.json_path, {"runs": runs})
        counts[key["problem"]] = len(result["trials"])

    def remaining(key):
        left = settings["trials"] - (len(stored(key)[0]["trials"]) if stored(key) else 0)
        return left if args.max_new_runs is None else min(left, args.max_new_runs)

    todo = sum(remaining(key) for key in keys.values())
    progress = progress_bar(todo, on_terminal(args.quiet))  # runs
    say = line_printer(progress)
    say("| problem | ours | paper | selected right | EQL | s per run |")
    say("|---|---|---|---|---|---|")
    per_graph = min(args.runs_per_graph, settings["trials"])
    for name in names:
        key = keys[name]
        previous = stored(key)
        result = previous[0] if previous else None
        law, variables, domain = BENCHMARKS[name]
        first = len(result["trials"]) if result else 0
        stop = first + remaining(key)
        while first < stop:
            part = run_gmeql(law, variables, train_domain=domain, n_train=300, seed=args.seed,
                             noise=noise[name], **ABLATIONS[args.ablation],
                             trials=min(first + per_graph, stop), first_trial=first,
                             rounds=settings["rounds"],
                             round_iterations=settings["round_iterations"],
                             iterations=settings["iterations"], runs_per_graph=per_graph,
                             memetic=args.memetic, progress=progress)
            if result is None:
                result = {**part, **key}
                done.append(result)
            else:  # resume: one record per problem, its runs in seed order
                result["trials"] += part["trials"]
                result["wall_seconds"] += part["wall_seconds"]
                result.update(summarize(result["trials"]))
            first = len(result["trials"])
            save(result, key)
        if result is None:
            continue
        if args.eql and "eql" not in result and len(result["trials"]) >= result["runs"]:
            rate, selected, wall = eql_rate(name, args.seed)
            result["eql"] = {"success_rate": rate, "best_success": selected, "wall_seconds": wall}
            save(result, key)
        eql = result.get("eql")
        eql_text = f"{eql['success_rate']:.2f}" if eql else "-"
        per_run = result["wall_seconds"] / max(len(result["trials"]), 1)
        n_done = len(result["trials"])
        partial = f" ({n_done} of {result['runs']} runs)" if n_done < result["runs"] else ""
        say(f"| {name} | {result['success_rate']:.2f}{partial} | {PAPER_RATES[name]:.2f} | "
            f"{'yes' if result['best_success'] else 'no'} | {eql_text} | {per_run:.0f} |")
    records = [r for key in keys.values() for r in stored(key)]
    # the complete problems; with none, an unfinished table, labelled with its run counts
    shown = [r for r in records if complete(r)] or records
    if shown:
        total = sum(r["success_rate"] for r in shown)
        paper = sum(PAPER_RATES[r["problem"]] for r in shown)
        sizes = sorted(len(r["trials"]) for r in shown)
        label, at = (("", "") if complete(shown[0]) else
                     ("so far (not the full table): ",
                      f" at {sizes[0]}-{sizes[-1]} of {settings['trials']} runs each"))
        say(f"\n{label}summed success rate {total:.2f} (paper {paper:.2f}) over {len(shown)} "
            f"problems{at}; selected run right on {sum(bool(r['best_success']) for r in shown)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
