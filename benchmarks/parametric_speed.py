"""Parametric EQL: time per optimizer step and size of SEQL (stacked) vs PEQL (meta-weight).

Everything is measured in one run (ratios within a run are what counts on a shared,
noisy machine). For each configuration both methods are built, compiled
(``jit_compile=True``, RMSprop, ``steps_per_call`` optimizer steps inside one compiled
loop: the set-up of :func:`deepsymreg.parametric.train_parametric`) by a first call,
and warmed up by one untimed repeat; then 3 timed repeats of a few calls each (about
1.5 s), alternating between the methods so that both see the same machine load; the
median is kept. Only the compiled calls are timed (``fit``'s own set-up is not), both
in wall time and in this process's CPU time (all threads; steadier than wall time when
other processes share the cores). The penalties of the main training phase are on
(relaxed L0 at 3e-3, and for the stacked method the smoothness at 1e-3).

1. The paper's f2 setting (``t*x**2 + 3*sin(t)*x``, 128 t steps, 512 points per step,
   minibatches of 32 points at every t step: 4096 rows per optimizer step), for
   ``trials`` K = 1 and K = 16, both methods, and the ratio meta/stacked.
2. Against the number of grid steps N (K = 1): the number of weights of both methods
   (one build each) and the time per step with ``batch_per_step = 4096 // N`` (at least
   1), so that each optimizer step sees about 4096 rows.

Usage:
    python benchmarks/parametric_speed.py [--quick] [--json PATH]

``--quick`` (a smoke test, ~30 s): K = 1 only, 20 steps per call, short repeats, and
weight counts for N = 64 and 256 without timing them. The full run takes 7-8 minutes
on 2 busy cores.
"""

import argparse
import math
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import deepsymreg  # noqa: E402
from deepsymreg.data import repeated  # noqa: E402
from deepsymreg.optimizers import RMSprop  # noqa: E402
from deepsymreg.parametric import PAPER_PRIMITIVES, make_parametric_data  # noqa: E402
from deepsymreg.reports import write_json  # noqa: E402

F2 = "t*x**2 + 3*sin(t)*x"
T_RANGE = (-3.0, 3.0)
ROWS_PER_STEP = 4096
METHODS = ("stacked", "meta")


def build_model(method, n_steps, trials=1, steps_per_call=50, batch_per_step=32, seed=0,
                input_shape=None):
    """A compiled :class:`deepsymreg.ParametricEQL` as ``train_parametric`` sets it up."""
    grid = {"t_steps": n_steps, "smoothness": 1e-3} if method == "stacked" else {}
    model = deepsymreg.ParametricEQL(
        depth=2, primitives=PAPER_PRIMITIVES, method=method, t_range=T_RANGE, trials=trials,
        steps_per_call=steps_per_call, batch_per_step=batch_per_step, seed=seed,
        init_stddev=(1.0, 0.5, 0.5), reg_lambda=3e-3, **grid,
    )
    model.build(input_shape or (n_steps, 512, 2))
    model.compile(optimizer=RMSprop(1e-2, epsilon=1e-10), jit_compile=True)
    return model


def count_weights(model):
    """Entries of the model's trainable and non-trainable weights, and MB at float32."""
    trainable = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    frozen = int(sum(np.prod(v.shape) for v in model.non_trainable_weights))
    return {"trainable": trainable, "non_trainable": frozen, "total": trainable + frozen,
            "mb_float32": (trainable + frozen) * 4 / 2**20}


class _CallTimer(keras.callbacks.Callback):
    """Wall and process CPU time of each compiled call (``on_train_batch_begin`` to
    ``..._end``)."""

    def __init__(self):
        super().__init__()
        self.wall, self.cpu = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = (time.perf_counter(), time.process_time())

    def on_train_batch_end(self, batch, logs=None):
        self.wall.append(time.perf_counter() - self._start[0])
        self.cpu.append(time.process_time() - self._start[1])


def _fit(model, data, calls):
    """``(wall, cpu)`` seconds of ``calls`` compiled calls of ``model.fit``."""
    timer = _CallTimer()
    model.fit(data, epochs=1, steps_per_epoch=calls, shuffle=False, verbose=0, callbacks=[timer])
    return sum(timer.wall), sum(timer.cpu)


def time_methods(n_steps, trials, batch_per_step, methods=METHODS, per_step=512,
                 steps_per_call=50, repeats=3, min_seconds=1.0, seed=0):
    """Build, compile and time both methods on one configuration, repeats interleaved.

    Each method is compiled by a first call, sized (calls per repeat so that a repeat
    lasts about ``min_seconds``) and warmed by one untimed repeat; then the timed
    repeats alternate between the methods, so that both see the same machine load.
    Returns ``{method: record}``; ``seconds_per_step`` (wall) and ``cpu_seconds_per_step``
    (this process's CPU time, all threads) are medians over the repeats.
    """
    keras.backend.clear_session()
    x, y, _ = make_parametric_data(F2, ["x"], "t", T_RANGE, T_RANGE, n_steps, per_step, seed)
    data = repeated((x, y))
    models, records = {}, {}
    for method in methods:
        start = time.perf_counter()
        model = build_model(method, n_steps, trials, steps_per_call, batch_per_step, seed, x.shape)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        _fit(model, data, 1)  # compiles
        first_call_s = time.perf_counter() - start
        probe = _fit(model, data, 1)[0]
        calls = max(1, min(200, math.ceil(min_seconds / max(probe, 1e-6))))
        _fit(model, data, calls)  # timings keep falling for a few calls after compiling
        models[method] = model
        records[method] = {
            "method": method, "n_steps": n_steps, "trials": trials,
            "batch_per_step": batch_per_step, "rows_per_step": n_steps * batch_per_step,
            "steps_per_call": steps_per_call, "calls_per_repeat": calls,
            "build_seconds": build_s, "first_call_seconds": first_call_s,
            "repeats": [], "cpu_repeats": [], "weights": count_weights(model),
        }
    for _ in range(repeats):
        for method in methods:
            r = records[method]
            wall, cpu = _fit(models[method], data, r["calls_per_repeat"])
            r["repeats"].append(wall / (r["calls_per_repeat"] * steps_per_call))
            r["cpu_repeats"].append(cpu / (r["calls_per_repeat"] * steps_per_call))
    for method, r in records.items():
        r["seconds_per_step"] = statistics.median(r["repeats"])
        r["cpu_seconds_per_step"] = statistics.median(r["cpu_repeats"])
        r["final_loss_finite"] = bool(np.all(np.isfinite(models[method].trial_loss.numpy())))
    return records


def weights_only(method, n_steps):
    """Weight counts of one build (K = 1), no training."""
    keras.backend.clear_session()
    return count_weights(build_model(method, n_steps, 1, 1, max(1, ROWS_PER_STEP // n_steps)))


def settings(quick):
    if quick:
        return {"trials": [1], "grid": [64, 256], "timed_grid": [], "steps_per_call": 20,
                "repeats": 3, "min_seconds": 0.2}
    return {"trials": [1, 16], "grid": [64, 256, 1024, 4096], "timed_grid": [64, 256, 1024, 4096],
            "steps_per_call": 50, "repeats": 3, "min_seconds": 1.5}


def run(quick=False, log=print):
    s = settings(quick)
    out = {"command": " ".join(["python", *sys.argv]), "date": time.strftime("%Y-%m-%d %H:%M"),
           "settings": s, "machine": _machine(), "f2": [], "grid": []}
    t0 = time.perf_counter()
    common = dict(steps_per_call=s["steps_per_call"], repeats=s["repeats"],
                  min_seconds=s["min_seconds"])
    for k in s["trials"]:
        pair = time_methods(128, k, 32, **common)
        for method in METHODS:
            r = pair[method]
            out["f2"].append(r)
            log(f"f2 K={k} {method}: {r['seconds_per_step'] * 1e3:.3f} ms/step wall, "
                f"{r['cpu_seconds_per_step'] * 1e3:.3f} CPU (first call "
                f"{r['first_call_seconds']:.1f} s)")
    for n in s["grid"]:
        row = {"n_steps": n, "batch_per_step": max(1, ROWS_PER_STEP // n)}
        if n in s["timed_grid"]:
            row.update(time_methods(n, 1, row["batch_per_step"], **common))
            for method in METHODS:
                r = row[method]
                log(f"N={n} {method}: {r['seconds_per_step'] * 1e3:.3f} ms/step wall, "
                    f"{r['cpu_seconds_per_step'] * 1e3:.3f} CPU, {r['weights']['total']:,} weights")
        else:
            row.update({method: {"weights": weights_only(method, n)} for method in METHODS})
        out["grid"].append(row)
    out["wall_seconds"] = time.perf_counter() - t0
    out["machine"]["load_after"] = _load()
    return out


def _load():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def _machine():
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "load_before": _load()}


def _ms(r, key="seconds_per_step"):
    return f"{r[key] * 1e3:.3f}" if key in r else "-"


def _ratio(stacked, meta, key="seconds_per_step"):
    return f"{meta[key] / stacked[key]:.2f}" if key in stacked and key in meta else "-"


def _weights(r):
    w = r["weights"]
    return f"{w['trainable']:,} + {w['non_trainable']:,}", f"{w['mb_float32']:.2f}"


def tables(result):
    """The results as markdown tables."""
    lines = [
        "Per optimizer step, f2 setting (128 t steps x 32 rows = 4096 rows per step), "
        "median of repeats; wall time and this process's CPU time:",
        "",
        "| trials K | SEQL ms/step | PEQL ms/step | meta / stacked | SEQL CPU ms/step | "
        "PEQL CPU ms/step | meta / stacked (CPU) | SEQL first call s | PEQL first call s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k in result["settings"]["trials"]:
        st, me = (next(r for r in result["f2"] if r["trials"] == k and r["method"] == m)
                  for m in METHODS)
        cpu = "cpu_seconds_per_step"
        lines.append(
            f"| {k} | {_ms(st)} | {_ms(me)} | {_ratio(st, me)} | {_ms(st, cpu)} | "
            f"{_ms(me, cpu)} | {_ratio(st, me, cpu)} | {st['first_call_seconds']:.1f} | "
            f"{me['first_call_seconds']:.1f} |")
    lines += [
        "",
        "Against the number of grid steps N (K = 1, batch_per_step = 4096 // N); weights are "
        "trainable + non-trainable entries (optimizer slots not counted), MB at float32:",
        "",
        "| N | rows/step | SEQL weights | SEQL MB | PEQL weights | PEQL MB | SEQL ms/step | "
        "PEQL ms/step | meta / stacked | meta / stacked (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["grid"]:
        st, me = row["stacked"], row["meta"]
        lines.append(
            f"| {row['n_steps']} | {row['n_steps'] * row['batch_per_step']} | "
            f"{' | '.join(_weights(st))} | {' | '.join(_weights(me))} | {_ms(st)} | {_ms(me)} | "
            f"{_ratio(st, me)} | {_ratio(st, me, 'cpu_seconds_per_step')} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and sizes (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(tables(result))
    print(f"\nwall {result['wall_seconds']:.0f} s; load average before "
          f"{result['machine']['load_before']}, after {result['machine']['load_after']}")
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
