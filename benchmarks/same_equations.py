"""Equations of a small seeded benchmark, to compare two versions of the code.

Runs ``x**2 + sin(2*pi*y)`` with 4 restarts under L0.5 and under relaxed L0 (seed 0,
the default schedules) and writes every restart's equation to a JSON file. Run it on two
checkouts (``PYTHONPATH=<checkout> python benchmarks/same_equations.py out.json``) and
compare the files: a change that leaves the maths alone gives the same equations.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import deepsymreg  # noqa: E402
from deepsymreg.benchmark import run_benchmark  # noqa: E402
from deepsymreg.reports import write_json  # noqa: E402


def main(path):
    out = {"package": deepsymreg.__file__}
    for reg in ("l05", "l0"):
        result = run_benchmark("x**2 + sin(2*pi*y)", "x,y", trials=4, regularization=reg, seed=0)
        out[reg] = {
            "expressions": [t["expression"] for t in result["trials"]],
            "best_expression": result["best_expression"],
            "wall_seconds": result["wall_seconds"],
        }
    write_json(path, out)


if __name__ == "__main__":
    main(sys.argv[1])
