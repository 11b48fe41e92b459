"""Training speed of relaxed-L0 restarts by the source of their gate noise.

Every optimizer step of a relaxed-L0 (hard-concrete) EQL draws one uniform per gate and
restart, from each restart's own stream (so a restart's result does not depend on the
restarts it trains beside). Two ways to draw them, timed in one run on the same data:

- ``philox``: one ``tf.random.stateless_uniform`` op per restart and layer, stacked (the
  package's draw until 2026-12-03; re-created here as the baseline);
- ``counter``: one counter-hash op for every restart (:func:`deepsymreg.concrete.counter_uniform`,
  the package's draw now).

Both train the same 20 restarts with the settings of ``deepsymreg benchmark`` at its
default regularization (``recipes.model_settings("l0")``: relaxed-L0 gates, their
20000-step schedule; ``--steps`` scales it down) on ``x0**2 + sin(2 pi x1)``, 256 points;
wall times include building, compiling and reading the equations. The variants alternate ``--repeats`` times so that both see the
machine's drift alike.

    python benchmarks/gate_noise_speed.py [--restarts 20] [--repeats 2] [--steps 20000]
"""

import argparse
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from deepsymreg import concrete, recipes  # noqa: E402
from deepsymreg.restarts import fit_restarts  # noqa: E402
from train_speed import _data  # noqa: E402  (the same law and points)

COUNTER = concrete.trial_uniforms


def philox_trial_uniforms(shape, seeds, steps, dtype="float32"):
    """The former per-trial draw: one stateless Philox op per trial, stacked."""
    return tf.stack([
        concrete.stateless_uniform_open(shape, tf.stack([seeds[k], steps[k]]), dtype)
        for k in range(int(seeds.shape[0]))
    ])


VARIANTS = {"philox": philox_trial_uniforms, "counter": COUNTER}


def schedule(steps):
    """The relaxed-L0 schedule with its phases scaled to ``steps`` in all (multiples of 500)."""
    full = recipes.model_settings("l0")[1]
    total = sum(p.steps for p in full)
    return [dataclasses.replace(p, steps=max(500, round(p.steps * steps / total / 500) * 500))
            for p in full]


def time_variant(name, restarts, phases):
    settings = recipes.model_settings("l0")[0]
    concrete.trial_uniforms = VARIANTS[name]
    try:
        start = time.perf_counter()
        fit_restarts(*_data(), trials=restarts, schedule=phases, seed=0, **settings)
        return time.perf_counter() - start
    finally:
        concrete.trial_uniforms = COUNTER


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20000,
                        help="optimizer steps per restart (the relaxed-L0 schedule scaled)")
    args = parser.parse_args(argv)
    for name in ("restarts", "repeats", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name}: must be at least 1, got {getattr(args, name)}")
    phases = schedule(args.steps)
    walls = {name: [] for name in VARIANTS}
    for _ in range(args.repeats):
        for name in VARIANTS:
            walls[name].append(time_variant(name, args.restarts, phases))
    steps = sum(p.steps for p in phases)
    print(f"{args.restarts} relaxed-L0 restarts in one graph, {steps} optimizer steps each, "
          f"256 points; {os.cpu_count()} CPU cores; runs alternate")
    print("| gate noise | wall s (each run) | mean wall s | restart-steps/s |")
    print("|---|---|---|---|")
    for name, w in walls.items():
        mean = float(np.mean(w))
        runs = ", ".join(f"{v:.1f}" for v in w)
        print(f"| {name} | {runs} | {mean:.1f} | {args.restarts * steps / mean:,.0f} |")
    ratio = np.mean(walls["philox"]) / np.mean(walls["counter"])
    print(f"\ncounter hash: {ratio:.2f}x the speed of the Philox draw")
    return walls


if __name__ == "__main__":
    main()
