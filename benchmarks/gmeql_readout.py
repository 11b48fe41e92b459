"""Gumbel-max EQL read-out: how many elites are the law, and which one each score selects.

During Algorithm 1 the regression weights are shared by every sampled instance, so the
elite repository ranks structures by their error under weights that belong to none of
them. This script measures what that costs. For each seed: one search on a b-problem
(shortened by default), then for T* and the ``--top`` best elites

- "as read": the expression with the search's weights is the law (T* with the weights
  it was evaluated with, or those of its memetic refit; the elites with the shared
  weights at the end of the search);
- "refitted": the same after a least-squares refit of its additive terms
  (:func:`deepsymreg.symbolic.polish`) is the law;
- "refined": the refitted expression with every number (frequencies and rates inside
  functions too) refitted by nonlinear least squares (:func:`deepsymreg.symbolic.refine`)
  is the law: a right structure read with wrong inner numbers counts here;

and which candidate :meth:`GMEQL.select` picks with ``score="network"``,
``"expression"`` and ``"refit"`` (each from the same state, 1000 polish steps), judged
as :func:`deepsymreg.gmeql.run_gmeql` judges (RMS error under 2% of the truth's RMS on
the range widened 1.5x, after the refit).

    python benchmarks/gmeql_readout.py [--problem b1] [--seeds 0,1,2]
        [--round-iterations 1000] [--iterations 6000] [--top 100] [--loss-quantile 1]
        [--elite-key structure] [--curriculum START,ITERATIONS]
        [--memetic EVERY,TOP,STARTS [--adopt]] [--json PATH]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg.callbacks import MemeticRefit  # noqa: E402
from deepsymreg.benchmark import make_data  # noqa: E402
from deepsymreg.gmeql import BENCHMARKS, relative_rms, widened  # noqa: E402
from deepsymreg.models.gmeql import GMEQL  # noqa: E402
from deepsymreg.reports import write_json  # noqa: E402

SCORES = ("network", "expression", "refit")


def readout(problem="b1", seed=0, rounds=3, round_iterations=1000, iterations=6000, top=100,
            polish_steps=1000, n_train=300, steps_per_call=500, memetic=None, **model_kwargs):
    """One search and its read-out counts (see the module docstring); a dict.
    ``memetic``: None or the keyword arguments of a :class:`MemeticRefit` callback."""
    law, names, domain = BENCHMARKS[problem]
    truth, symbols = symbolic.parse(law, names)
    x, y = make_data(truth, symbols, domain, n_train, 0.0, np.random.default_rng(seed))
    test = widened(domain)
    model = GMEQL(seed=seed, steps_per_call=steps_per_call, **model_kwargs)
    start = time.perf_counter()
    callbacks = [] if memetic is None else [MemeticRefit(x, y, **memetic)]
    refits = callbacks[0].history if callbacks else None
    model.search(x, y, rounds=rounds, round_iterations=round_iterations, iterations=iterations,
                 callbacks=callbacks)
    search_seconds = time.perf_counter() - start

    def right(expr, refit, refine=False):
        if refit:
            expr = symbolic.polish(expr, symbols, x, y)
        if refine:
            expr = symbolic.refine(expr, symbols, x, y)
        return relative_rms(expr, truth, symbols, test) < 0.02

    candidates = model.candidate_choices(top)[0]
    as_read, refitted, refined, texts = [], [], [], []
    shared = [v.numpy() for v in model._regression_variables()]
    own = [v.numpy() for v in model.best_kernels]
    has_best = bool(np.isfinite(model.best_mae.numpy()[0]))
    for i, choices in enumerate(candidates):
        # T* (first) is read with its own weights, the elites with the shared ones.
        for var, value in zip(model._regression_variables(),
                              own if i == 0 and has_best else shared):
            var.assign(value)
        expr = model.to_sympy(names, choices)
        texts.append(str(symbolic.rounded(symbolic.polish(expr, symbols, x, y), 4)))
        as_read.append(right(expr, False))
        refitted.append(right(expr, True))
        refined.append(refitted[-1] or right(expr, True, refine=True))
    for var, value in zip(model._regression_variables(), shared):
        var.assign(value)
    state = [v.numpy() for v in model.weights]
    selected = {}
    for score in SCORES:
        for var, value in zip(model.weights, state):
            var.assign(value)
        model.has_selection.assign(0)
        _, choices = model.select(x, y, top=top, polish_steps=polish_steps, score=score)[0]
        expr = model.to_sympy(names, choices)
        selected[score] = {"right": bool(right(expr, True)),
                           "expression": str(symbolic.rounded(symbolic.polish(expr, symbols, x, y), 4))}
    return {
        "problem": problem, "seed": seed, "iterations": rounds * round_iterations + iterations,
        "search_seconds": search_seconds, "candidates": len(candidates),
        "right_as_read": int(np.sum(as_read)), "right_refitted": int(np.sum(refitted)),
        "right_refined": int(np.sum(refined)),
        "first_right_rank": next((i for i, r in enumerate(refitted) if r), None),
        "first_refined_rank": next((i for i, r in enumerate(refined) if r), None),
        "candidate_expressions": texts,  # refitted, in repository order (T* first)
        "memetic_refits": refits,
        "selected": selected,
    }


def table(rows):
    head = ("| seed | candidates | right as read | right refitted | right refined | "
            "first right (rank) | first right refined (rank) | "
            + " | ".join(f"selected right: {s}" for s in SCORES) + " |")
    lines = [head, "|" + "---|" * (7 + len(SCORES))]

    def rank(value):
        return "-" if value is None else value

    for r in rows:
        sel = " | ".join("yes" if r["selected"][s]["right"] else "no" for s in SCORES)
        lines.append(f"| {r['seed']} | {r['candidates']} | {r['right_as_read']} | "
                     f"{r['right_refitted']} | {r.get('right_refined', '-')} | "
                     f"{rank(r['first_right_rank'])} | {rank(r.get('first_refined_rank'))} | {sel} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="b1", choices=sorted(BENCHMARKS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-iterations", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=6000)
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--elite-key", default="structure", choices=("structure", "expression"),
                        help="GMEQL's elite_key (default structure)")
    parser.add_argument("--loss-quantile", type=float, default=1.0,
                        help="GMEQL's loss_quantile (default 1: the paper's mean over all instances)")
    parser.add_argument("--curriculum", default=None, metavar="START,ITERATIONS",
                        help="GMEQL's curriculum, e.g. 0.2,24000 (default none)")
    parser.add_argument("--memetic", default=None, metavar="EVERY,TOP,STARTS",
                        help="refit the TOP best elites from STARTS starts every EVERY stage-2 "
                             "iterations (MemeticRefit; default off)")
    parser.add_argument("--adopt", action="store_true",
                        help="with --memetic: the shared weights take the best refit's")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    memetic = None
    if args.memetic:
        try:
            every, top, starts = (int(v) for v in args.memetic.split(","))
        except ValueError:
            parser.error(f"--memetic: expected EVERY,TOP,STARTS, got {args.memetic!r}")
        memetic = {"every": every, "top": top, "starts": starts, "adopt": args.adopt}
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds: expected comma-separated integers, got {args.seeds!r}")
    curriculum = None
    if args.curriculum:
        try:
            start, span = args.curriculum.split(",")
            curriculum = (float(start), int(span))
        except ValueError:
            parser.error(f"--curriculum: expected START,ITERATIONS, got {args.curriculum!r}")
    if not seeds or min(args.rounds, args.round_iterations, args.iterations, args.top) < 0:
        parser.error("--seeds must name a seed; counts must not be negative")
    rows = []
    for seed in seeds:
        rows.append(readout(args.problem, seed, args.rounds, args.round_iterations,
                            args.iterations, args.top, loss_quantile=args.loss_quantile,
                            elite_key=args.elite_key, curriculum=curriculum, memetic=memetic))
        r = rows[-1]
        print(f"seed {seed}: {r['right_refitted']} of {r['candidates']} right once refitted, "
              f"{r['right_refined']} once refined, {r['right_as_read']} as read "
              f"({r['search_seconds']:.0f} s search)", flush=True)
    print()
    print(table(rows))
    if args.json_path:
        write_json(args.json_path, {"problem": args.problem, "loss_quantile": args.loss_quantile,
                                    "elite_key": args.elite_key,
                                    "curriculum": curriculum, "memetic": memetic,
                                    "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
