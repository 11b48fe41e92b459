"""Would a least-squares polish of every restart raise our rate on the unseen laws?

Reads a JSON of ``benchmarks/unseen_laws.py`` (each restart's equation is stored), rebuilds
each law's training and selection data exactly as ``run_benchmark`` drew them (its
``run_seed``), and polishes every restart's equation with ``deepsymreg.symbolic.polish``:
its additive terms' coefficients refitted by least squares on the training points, the
terms the fit does not need dropped (inner numbers stay). Each polished equation is judged
strictly (``laws.strict_judge``) and the restart is selected again among the polished
equations, by the same rule (``restarts.select_best``: lowest error on the [-2, 2]
selection points, the simplest among near ties). No training: a change of the read-out
only, measured on restarts already trained.

Per law: strict success rate and selected-right, before and after the polish.

With ``--refine``, every number of the polished equation (inner ones too: rates,
frequencies) is then refitted by nonlinear least squares (``deepsymreg.symbolic.refine``)
and the terms polished again. With ``--refined``, the read-out is
``deepsymreg.symbolic.polish_refined`` instead (the polish offered every variable and a
constant as extra terms, then the refit of every number, then the polish again: the
Gumbel-max EQL read-out since 2026-12-03), refitting every number only of equations
with at most ``--max-numbers`` of them (default: ``run_benchmark``'s cap).

``--from-raw`` starts from each restart's equation as read off the network instead of
its stored one (runs made with the refined read-out, read with the plain polish).

``--readout`` reads every restart's raw equation as ``run_benchmark`` does by default
(``deepsymreg.readout.read_out_all``: the refined polish, prune, swap, prune, numbers to
6 digits, each distinct equation once, on ``--workers`` processes); the other read-out
flags do not apply.

``--prune`` then drops terms one at a time, refitting every remaining number
(``deepsymreg.symbolic.prune``). ``--swap`` then prunes, swaps look-alike terms for one
term of a depth-one grammar and prunes again (``deepsymreg.swap.prune_and_swap``, the
benchmark's read-out since 2026-12-05).

    python benchmarks/polish_lever.py unseen_seed0.json [--refine | --refined] [--prune]
        [--swap] [--from-raw] [--max-numbers 16] [--json OUT]
    python benchmarks/polish_lever.py unseen_seed5.json --readout [--workers 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg import laws as laws_lib  # noqa: E402
from deepsymreg import readout as readout_lib  # noqa: E402
from deepsymreg import swap as swap_lib  # noqa: E402
from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import REFINE_MAX_NUMBERS, equation_errors, make_data  # noqa: E402
from deepsymreg.reports import finite_or_none, run_script, write_json  # noqa: E402
from deepsymreg.restarts import select_best  # noqa: E402


#: What ``select_best`` reads of a restart.
_Candidate = collections.namedtuple("_Candidate", ["expression", "extrapolation_mse", "complexity"])


def law_data(row, n_train=256, n_test=1024):
    """The training and selection points of ``run_benchmark`` at its defaults for ``row``."""
    truth, symbols = symbolic.parse(row["expr"], row["vars"])
    rng = np.random.default_rng(row["run_seed"])
    x, y = make_data(truth, symbols, (-1.0, 1.0), n_train, 0.0, rng)
    x_test, y_test = make_data(truth, symbols, (-2.0, 2.0), n_test, 0.0, rng)
    return symbols, (x, y), (x_test, y_test)


def candidate(expression, symbols, test):
    """A selectable candidate: the equation's MSE on the selection points and its size."""
    expr = symbolic.parse(expression, [s.name for s in symbols])[0]
    mse, = equation_errors(expr, symbols, test)
    return _Candidate(expression, mse, symbolic.complexity(expr))


def polish_expression(expr, symbols, x, y, refine=False, max_numbers=None, prune=False,
                      swap=False, library=None, memo=None):
    """The polish of one equation; with ``refine``, every number of the polished
    equation refitted (``symbolic.refine``) and the terms polished again; with
    ``refine="variables"``, ``symbolic.polish_refined`` (its ``max_numbers``). With
    ``prune``, then ``symbolic.prune`` (terms dropped one at a time, every remaining
    number refitted). With ``swap``, ``swap.prune_and_swap`` (on ``library``, with the
    law's ``memo``) instead of ``prune`` (it prunes first)."""
    if refine == "variables":
        polished = symbolic.polish_refined(expr, symbols, x, y, max_numbers=max_numbers)
    else:
        polished = symbolic.polish(expr, symbols, x, y)
        if refine:
            refined = symbolic.refine(polished, symbols, x, y)
            if refined != polished:
                polished = symbolic.polish(refined, symbols, x, y)
    if swap:  # prune_and_swap prunes first
        return swap_lib.prune_and_swap(polished, symbols, x, y, library=library, memo=memo)
    if prune:
        polished = symbolic.prune(polished, symbols, x, y)
    return polished


def judged(row, candidates):
    """Strict success rate of a law's candidates, whether the one ``select_best`` picks is
    right, and that candidate."""
    rights = [bool(laws_lib.strict_judge(c.expression, row["expr"], row["vars"])[0])
              for c in candidates]
    best = select_best(candidates)  # one of the candidates: its verdict is in the list
    best_right = next(r for c, r in zip(candidates, rights) if c is best)
    return float(np.mean(rights)), best_right, best


def polish_row(row, refine=False, max_numbers=None, from_raw=False, prune=False, swap=False,
               readout=False, workers=None):
    """Before/after figures of one law's restarts ("before": the stored equations;
    "after": their read-out again, or with ``from_raw`` that of the raw equations; with
    ``readout``, ``run_benchmark``'s read-out of the raw equations on ``workers``
    processes)."""
    symbols, (x, y), test = law_data(row)
    if readout:
        raws = [r["raw_expression"] for r in row["restarts"]]
        read = readout_lib.read_out_all(raws, symbols, x, y, workers=workers)
        before = [candidate(r["expression"], symbols, test) for r in row["restarts"]]
        after = [candidate(raw if read[raw] is None else str(read[raw]), symbols, test)
                 for raw in raws]
        return _figures(row, before, after)
    library = swap_lib.TermLibrary(symbols, x) if swap else None
    memo = {}  # one swap per pruned equation, as run_benchmark's read-out
    before, after = [], []
    for r in row["restarts"]:
        raw = candidate(r["expression"], symbols, test)
        source = r["raw_expression"] if from_raw else r["expression"]
        expr = symbolic.parse(source, [s.name for s in symbols])[0]
        polished = str(symbolic.rounded(polish_expression(expr, symbols, x, y, refine, max_numbers, prune,
                                                             swap, library, memo), 4))
        before.append(raw)
        after.append(candidate(polished, symbols, test))
    return _figures(row, before, after)


def _figures(row, before, after):
    rate_before, right_before, _ = judged(row, before)
    rate_after, right_after, best_after = judged(row, after)
    return {
        "index": row["index"], "expr": row["expr"], "vars": row["vars"],
        "success_rate": rate_before,
        "polished_success_rate": rate_after,
        "selected_right": right_before,
        "polished_selected_right": right_after,
        "polished_selected_expression": best_after.expression,
        "polished_selected_mse": finite_or_none(best_after.extrapolation_mse),
        "polished": [c.expression for c in after],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a JSON written by benchmarks/unseen_laws.py")
    parser.add_argument("--json", dest="json_path", help="write the figures here")
    readout = parser.add_mutually_exclusive_group()
    readout.add_argument("--refine", action="store_true",
                         help="refit every number of the polished equation (symbolic.refine), then "
                         "polish again")
    readout.add_argument("--refined", action="store_true",
                         help="read out with symbolic.polish_refined (the variables and a constant "
                         "offered as terms, every number refitted, polished again)")
    parser.add_argument("--max-numbers", type=int, default=REFINE_MAX_NUMBERS,
                        help="with --refined: refit only equations with at most this many numbers "
                        f"(default {REFINE_MAX_NUMBERS}, run_benchmark's; 0 or less: no cap)")
    parser.add_argument("--prune", action="store_true",
                        help="then drop terms one at a time with every remaining number refitted "
                        "(symbolic.prune)")
    parser.add_argument("--swap", action="store_true",
                        help="then prune, swap look-alike terms for one term of a depth-one "
                        "grammar and prune again (swap.prune_and_swap)")
    parser.add_argument("--readout", action="store_true",
                        help="read the raw equations with run_benchmark's default read-out "
                        "(deepsymreg.readout.read_out_all)")
    parser.add_argument("--workers", type=int, default=None,
                        help="with --readout: processes to read on (default: the cores)")
    parser.add_argument("--from-raw", action="store_true",
                        help="read out each restart's equation as read off the network "
                        "(raw_expression), not its stored (polished) one: e.g. the plain polish "
                        "of runs made with the refined read-out")
    args = parser.parse_args(argv)
    refine = "variables" if args.refined else args.refine
    max_numbers = args.max_numbers if args.max_numbers > 0 else None
    import json

    with open(args.results) as f:
        rows = json.load(f)["laws"]
    start = time.time()
    out = []
    for row in rows:
        out.append(polish_row(row, refine, max_numbers, args.from_raw, args.prune, args.swap,
                              args.readout, args.workers))
        print(f"law {row['index']}: {out[-1]['success_rate']:.2f} -> "
              f"{out[-1]['polished_success_rate']:.2f} ({time.time() - start:.0f} s)", flush=True)
    print("| # | law | success rate | polished | selected right | polished | polished selected equation |")
    print("|---|---|---|---|---|---|---|")
    for r in out:
        print(f"| {r['index']} | `{r['expr']}` | {r['success_rate']:.2f} | {r['polished_success_rate']:.2f} | "
              f"{'yes' if r['selected_right'] else 'no'} | {'yes' if r['polished_selected_right'] else 'no'} | "
              f"`{r['polished_selected_expression']}` |")
    print(f"\n{len(out)} laws: mean success rate {np.mean([r['success_rate'] for r in out]):.3f} -> "
          f"{np.mean([r['polished_success_rate'] for r in out]):.3f}; selected right "
          f"{sum(r['selected_right'] for r in out)} -> {sum(r['polished_selected_right'] for r in out)}; "
          f"polish took {time.time() - start:.1f} s")
    if args.json_path:
        write_json(args.json_path, {"command": " ".join(sys.argv), "source": args.results, "laws": out})
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
