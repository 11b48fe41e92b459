"""Gumbel-max EQL on [0, 10]: can Adam find the frequencies when the structure is given?

b5 = 1.5 sin(x1) + 1.3 sin(x2) and b6 = 1.2 sin(1.1 x1) cos(0.9 x2) are trained on
(0, 10)^2, where the MAE of ``sin(w x)`` against ``sin(x)`` has a local minimum every
~0.6 in ``w``. Here the search is left out: the right hard structure of the default
network is handed over, and only its regression weights are trained
(:meth:`GMEQL.fit_weights`, Adam 1e-3 on the MAE, every weight from N(0, 1) as in
Algorithm 1's stage 2) from ``--inits`` independent initializations side by side, once
on every point and once with a curriculum (``fit_weights(curriculum=(start,
iterations))``: the points nearest the origin first, growing linearly to all of them
over the first half of the steps). A run is right when the trained network's RMS
error is under 2% of the truth's RMS on the range widened 1.5x (the benchmark's judge,
on the network instead of the read-out).

    python benchmarks/gmeql_frequency.py [--problems b5,b6] [--inits 100]
        [--steps 10000] [--start 0.03] [--learning-rate 1e-3] [--every-point yes|no]
        [--json PATH]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import make_data  # noqa: E402
from deepsymreg.gmeql import BENCHMARKS, widened  # noqa: E402
from deepsymreg.models.gmeql import DEFAULT_FUNCTIONS, GMEQL  # noqa: E402
from deepsymreg.reports import write_json  # noqa: E402

#: The right structure of each law in the default network, as
#: ``{connection: {slot: previous output}}`` (other slots point at output 0, unused).
#: Inputs are x1=0, x2=1, 1=2; layer 1: sin nodes 8, 9, cos node 10; layer 2: add node
#: 0 (slots 0, 1), product node 1 (slots 2, 3); layer 3: identity node 3 (slot 5).
STRUCTURES = {
    "b5": {0: {8: 0, 9: 1}, 1: {0: 8, 1: 9}, 2: {5: 0}, 3: {0: 3}},  # sin(x1) + sin(x2)
    "b6": {0: {8: 0, 10: 1}, 1: {2: 8, 3: 10}, 2: {5: 1}, 3: {0: 3}},  # sin(x1) * cos(x2)
}


def structure_choices(model, problem, runs):
    """The hard choices of ``problem``'s structure, one int array (runs, slots) per
    connection of ``model``."""
    out = []
    for k, conn in enumerate(model.connections):
        row = np.zeros(conn.slots, int)
        for slot, source in STRUCTURES[problem][k].items():
            row[slot] = source
        out.append(np.tile(row, (runs, 1)))
    return out


def trial(problem, inits, steps, curriculum, seed=0, learning_rate=1e-3):
    """Share of ``inits`` weight initializations that train to the law; a dict."""
    law, names, domain = BENCHMARKS[problem]
    truth, symbols = symbolic.parse(law, names)
    rng = np.random.default_rng(seed)
    x, y = make_data(truth, symbols, domain, 300, 0.0, rng)
    lo, hi = widened(domain)
    x_test = rng.uniform(lo, hi, (4000, len(symbols))).astype("float32")
    y_test = symbolic.to_numpy_function(truth, symbols)(x_test)
    model = GMEQL(DEFAULT_FUNCTIONS, runs=inits, seed=seed)
    model.build(x.shape)
    model.start_stage(2)  # every weight from N(0, 1), one draw per run
    choices = structure_choices(model, problem, inits)
    start = time.perf_counter()
    mae = model.fit_weights(x, y, choices, steps=steps, learning_rate=learning_rate,
                            curriculum=curriculum)
    seconds = time.perf_counter() - start
    pred = model(x_test, choices=[c[:, None] for c in choices]).numpy()[:, 0]
    rel = np.sqrt(np.mean((pred - y_test) ** 2, -1)) / np.sqrt(np.mean(y_test ** 2))
    right = np.isfinite(rel) & (rel < 0.02)
    return {"problem": problem, "inits": inits, "steps": steps, "learning_rate": learning_rate,
            "curriculum": None if curriculum is None else list(curriculum),
            "right": int(right.sum()), "share_right": float(right.mean()),
            "median_train_mae": float(np.median(mae)), "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="b5,b6")
    parser.add_argument("--inits", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--start", type=float, default=0.03,
                        help="the curriculum's starting share of the points (default 0.03)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--every-point", choices=("yes", "no"), default="yes",
                        help="also train on every point without the curriculum (default yes)")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    unknown = [p for p in problems if p not in STRUCTURES]
    if not problems or unknown:
        parser.error(f"--problems: expected names among {sorted(STRUCTURES)}, got {args.problems!r}")
    if (args.inits < 1 or args.steps < 2 or not 0.0 < args.start <= 1.0
            or not args.learning_rate > 0):
        parser.error("--inits must be >= 1, --steps >= 2, 0 < --start <= 1 and --learning-rate > 0")
    rows = []
    print("| law | training | right of inits | median training MAE | seconds |")
    print("|---|---|---|---|---|")
    for problem in problems:
        plans = ([None] if args.every_point == "yes" else []) + [(args.start, args.steps // 2)]
        for curriculum in plans:
            r = trial(problem, args.inits, args.steps, curriculum, learning_rate=args.learning_rate)
            rows.append(r)
            how = ("every point" if curriculum is None
                   else f"curriculum from {curriculum[0]:g} over {curriculum[1]} steps")
            print(f"| {problem} | {how} | {r['right']} of {r['inits']} | "
                  f"{r['median_train_mae']:.3g} | {r['seconds']:.0f} |", flush=True)
    if args.json_path:
        write_json(args.json_path, {"rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
