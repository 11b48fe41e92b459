"""Training speed of EQL restarts: deepsymreg vs. a straightforward TF2 port.

The baseline is what a direct port of the paper's TF1 code to TF2 looks like: weights as
``tf.Variable``, primitives applied column by column and stacked, a ``tf.function``
train step without XLA called once per optimizer step from Python, one restart after
the other. It is timed on ``--baseline-steps`` steps and its per-restart time for the
full schedule is extrapolated linearly (stated in the table).

deepsymreg runs the full paper schedule (~22000 steps, 256 points) through
:func:`deepsymreg.restarts.fit_restarts`: 1 restart, and 20 restarts in one graph with 1
and 2 worker processes. Wall times include graph building and XLA compilation.

    python benchmarks/train_speed.py [--restarts 20] [--baseline-steps 2000]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from deepsymreg import primitives, recipes  # noqa: E402
from deepsymreg.restarts import fit_restarts  # noqa: E402


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (256, 2)).astype("float32")
    y = (x[:, :1] ** 2 + np.sin(2 * np.pi * x[:, 1:])).astype("float32")
    xt = rng.uniform(-2, 2, (256, 2)).astype("float32")
    yt = (xt[:, :1] ** 2 + np.sin(2 * np.pi * xt[:, 1:])).astype("float32")
    return x, y, xt, yt


class NaivePort:
    """A direct TF2 port: per-column primitives, no XLA, one step per call."""

    def __init__(self, n_in, names=primitives.DEFAULT, depth=2, seed=0):
        self.prims = [primitives.get(n) for n in names]
        n_pre = sum(max(p.arity, 1) for p in self.prims)  # constants eat a column, as in the paper
        width = len(self.prims)
        init = tf.random.Generator.from_seed(seed)
        shapes = [(n_in, n_pre)] + [(width, n_pre)] * (depth - 1) + [(width, 1)]
        sds = [0.1] + [0.5] * (depth - 1) + [1.0]
        self.weights = [
            tf.Variable(init.truncated_normal(s, stddev=sd)) for s, sd in zip(shapes, sds)
        ]
        self.opt = tf.keras.optimizers.RMSprop(1e-2)
        self.lam = tf.Variable(5e-3)

    def _act(self, g):
        cols, i = [], 0
        for p in self.prims:
            if p.arity == 0:
                cols.append(tf.ones_like(g[:, i]))
                i += 1
            elif p.arity == 1:
                cols.append(p.tensorflow(g[:, i]))
                i += 1
            else:
                cols.append(p.tensorflow(g[:, i], g[:, i + 1]))
                i += 2
        return tf.stack(cols, axis=1)

    def __call__(self, x):
        h = x
        for w in self.weights[:-1]:
            h = self._act(tf.matmul(h, w))
        return tf.matmul(h, self.weights[-1])

    @tf.function
    def step(self, x, y):
        with tf.GradientTape() as tape:
            mse = tf.reduce_mean((self(x) - y) ** 2)
            reg = 0.0
            for w in self.weights:
                aw = tf.abs(w)
                inner = tf.where(aw < 0.01, -(w**4) / (8e-6) + 3 * w**2 / 0.04 + 0.00375, aw)
                reg += tf.reduce_sum(tf.sqrt(inner))
            loss = mse + self.lam * reg
        grads = tape.gradient(loss, self.weights)
        self.opt.apply_gradients(zip(grads, self.weights))
        return loss


def time_baseline(steps):
    x, y, _, _ = _data()
    model = NaivePort(2)
    model.step(x, y)  # trace once, untimed
    start = time.perf_counter()
    for _ in range(steps):
        model.step(x, y)
    return (time.perf_counter() - start) / steps


def time_ours(restarts, workers):
    x, y, xt, yt = _data()
    start = time.perf_counter()
    fit_restarts(x, y, xt, yt, trials=restarts, workers=workers, seed=0)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=20)
    parser.add_argument("--baseline-steps", type=int, default=2000)
    args = parser.parse_args(argv)
    total = sum(p.steps for p in recipes.paper_schedule())

    rows = []
    per_step = time_baseline(args.baseline_steps)
    base_restart = per_step * total
    rows.append(("straightforward TF2 port (1 restart, extrapolated)", 1, 1,
                 1 / per_step, base_restart, base_restart))
    for restarts, workers in ((1, 1), (args.restarts, 1), (args.restarts, 2)):
        wall = time_ours(restarts, workers)
        rows.append((f"deepsymreg, {restarts} restart(s) in one graph", restarts, workers,
                     restarts * total / wall, wall / restarts, wall))

    print(f"schedule: {total} optimizer steps per restart, 256 points, 2 hidden layers, "
          f"paper primitives; {os.cpu_count()} CPU cores")
    print("| variant | restarts | workers | restart-steps/s | s per restart | wall s |")
    print("|---|---|---|---|---|---|")
    for name, r, w, sps, spr, wall in rows:
        print(f"| {name} | {r} | {w} | {sps:,.0f} | {spr:.2f} | {wall:.1f} |")
    best = min(row[4] for row in rows[1:])
    print(f"\nspeed-up per restart over the straightforward port: {base_restart / best:.1f}x "
          f"({args.restarts} restarts of the port would take {base_restart * args.restarts:.0f} s)")


if __name__ == "__main__":
    main()
