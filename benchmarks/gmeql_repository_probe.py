"""Gumbel-max EQL: which structures does a search's elite repository hold?

One search on a b-problem (the paper's settings by default), then every distinct
structure of the repository read with unit weights (:meth:`GMEQL.elite_table`), best
first, and the structures holding a *separable product term*: a term with a sine or
cosine of one variable times a sine or cosine of another (b6's
``1.2*sin(1.1*x1)*cos(0.9*x2)``). If none is there, neither a read-out nor a refit of
the best elites can find such a law: the search did not keep its structure.

    python benchmarks/gmeql_repository_probe.py [--problem b6] [--seed 0]
        [--round-iterations 2000] [--iterations 48000] [--show 10]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import sympy  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import make_data  # noqa: E402
from deepsymreg.gmeql import BENCHMARKS  # noqa: E402
from deepsymreg.models.gmeql import GMEQL  # noqa: E402

_TRIG = (sympy.sin, sympy.cos)


def has_trig_product(expr):
    """True when an additive term of ``expr`` multiplies a sine or cosine of one variable
    by a sine or cosine of another."""
    for term in sympy.Add.make_args(sympy.expand(expr)):
        inner = [f.args[0].free_symbols for f in term.atoms(sympy.Function) if f.func in _TRIG]
        single = {next(iter(s)) for s in inner if len(s) == 1}
        if len(single) >= 2:
            return True
    return False


def probe(problem="b6", seed=0, rounds=3, round_iterations=2000, iterations=48000,
          steps_per_call=500):
    """One search; returns ``(rows, hits, seconds)``: the repository's distinct
    structures as ``(expression, mae)`` best first, the ranks of those with a trig
    product term, and the search's wall seconds."""
    law, names, domain = BENCHMARKS[problem]
    truth, symbols = symbolic.parse(law, names)
    x, y = make_data(truth, symbols, domain, 300, 0.0, np.random.default_rng(seed))
    model = GMEQL(seed=seed, steps_per_call=steps_per_call)
    start = time.perf_counter()
    model.search(x, y, rounds=rounds, round_iterations=round_iterations, iterations=iterations)
    seconds = time.perf_counter() - start
    rows = model.elite_table(names)
    hits = [i for i, (expr, _) in enumerate(rows) if has_trig_product(expr)]
    return rows, hits, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="b6", choices=sorted(BENCHMARKS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-iterations", type=int, default=2000)
    parser.add_argument("--iterations", type=int, default=48000)
    parser.add_argument("--show", type=int, default=10, help="best structures to print")
    args = parser.parse_args(argv)
    rows, hits, seconds = probe(args.problem, args.seed, args.rounds, args.round_iterations,
                                args.iterations)
    print(f"{args.problem}, seed {args.seed}: search {seconds:.0f} s, {len(rows)} distinct "
          f"structures, {len(hits)} with a trig product term")
    for i in hits[:args.show]:
        print(f"  rank {i}: MAE {rows[i][1]:.4g}  {rows[i][0]}")
    print("best structures:")
    for expr, mae in rows[:args.show]:
        print(f"  MAE {mae:.4g}  {expr}")


if __name__ == "__main__":
    main()
