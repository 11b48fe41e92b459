"""Gumbel-max EQL: time per iteration of Algorithm 1, and the wall time of one b1 run.

Everything is measured in one run, so that the rows share the machine's state.

1. Iterations: for each number of runs held side by side in one graph (``--runs``,
   default 1, 2, 4), a :class:`deepsymreg.models.gmeql.GMEQL` at the paper's settings
   (p = 40 instances, 300 points of b1, default node layers) is compiled by a first
   call of ``steps_per_call`` iterations, then ``--iterations`` stage-2 iterations are
   timed (wall and this process's CPU time). The table gives milliseconds per
   iteration, per run-iteration, and the training time of one 54 000-iteration run at
   that rate.
2. ``--ablate``: where an iteration's time goes, one run per graph: the iteration timed
   again with one of its parts switched off (:data:`ABLATIONS`: the hard-structure
   forward pass that ranks instances, the offline step, the elite repository's parents).
3. ``--profile N``: where an iteration's CPU time goes: ``N`` stage-2 iterations of
   the default configuration traced by TensorFlow's profiler, XLA:CPU kernels summed
   by family (:mod:`xla_kernels`).
4. ``--full``: one run of b1 end to end as the command line does it
   (:func:`deepsymreg.gmeql.run_gmeql`, the paper's 3 x 2000 + 48 000 iterations,
   compilation, read-out and judging included), its wall time against the paper's
   3-4 hours per run on one CPU core, and where the time went: every stage-1 round
   (the first with the XLA compile), stage 2 and the memetic refits inside it (elites
   refitted and seconds of each), the read-out.

5. ``--estimator K``: a user's fit, ``SymbolicRegressor(method="gmeql", trials=K,
   steps=--estimator-steps)`` on b1's 300 points, once per memetic setting of
   ``--full-memetic`` (in that order): what the memetic step costs in the estimator,
   where every run's refits go through graphs of ``REFIT_CHUNK`` elites.

``--steps-per-call 100,500,2000 --repeats 3`` times every number of runs at each number
of iterations per compiled call, the configurations in alternation (repeats show how
much the machine varies between otherwise equal rows).

Usage:
    python benchmarks/gmeql_speed.py [--iterations 3000] [--runs 1,2,4] [--full
        [--full-memetic none,screen]] [--estimator 4 [--estimator-steps 13500]]
        [--ablate] [--profile 200] [--steps-per-call 500] [--repeats 1] [--json PATH]
"""

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import sympy  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg.benchmark import make_data  # noqa: E402
from deepsymreg.data import repeated  # noqa: E402
from deepsymreg.gmeql import BENCHMARKS, MEMETIC_PRESETS, PAPER_SETTINGS, run_gmeql  # noqa: E402
from deepsymreg.models.gmeql import GMEQL  # noqa: E402
from deepsymreg.reports import write_json  # noqa: E402
from xla_kernels import kernel_table, kernel_times  # noqa: E402

#: Iterations of one paper run (3 x 2000 + 48 000).
FULL_RUN = PAPER_SETTINGS["rounds"] * PAPER_SETTINGS["round_iterations"] + PAPER_SETTINGS["iterations"]
#: The paper's time per run on one CPU core, in seconds (3-4 hours).
PAPER_SECONDS = (3 * 3600, 4 * 3600)


#: ``--ablate``: a name and the GMEQL arguments that switch one part of an iteration off.
ABLATIONS = (
    ("all parts (the defaults)", {}),
    ("ranked by the relaxed MAE (no hard forward pass)", {"rank_by": "relaxed"}),
    ("no offline step", {"offline_rule": None}),
    ("no elite parents (every slot re-sampled)", {"elites": False}),
)


def b1_data(n=300, seed=0):
    law, names, domain = BENCHMARKS["b1"]
    truth, symbols = symbolic.parse(law, names)
    return make_data(truth, symbols, domain, n, 0.0, np.random.default_rng(seed))


def time_iterations(runs, iterations, steps_per_call=500, x=None, y=None, **model_kwargs):
    """Seconds per iteration of ``runs`` GMEQL runs in one graph (stage 2), after a
    compiling first call; ``model_kwargs`` go to :class:`GMEQL`. Returns a dict of the
    measurements."""
    if x is None:
        x, y = b1_data()
    x, y = np.asarray(x, "float32"), np.asarray(y, "float32")
    model = GMEQL(runs=runs if runs > 1 else None, steps_per_call=steps_per_call, **model_kwargs)
    start = time.perf_counter()
    model.search(x, y, rounds=0, iterations=steps_per_call, stage1=False)
    compile_seconds = time.perf_counter() - start
    calls = max(1, -(-iterations // steps_per_call))
    data = repeated((x, y))
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(data, epochs=1, steps_per_epoch=calls, verbose=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = calls * steps_per_call
    per_iteration = wall / n
    return {
        "runs": runs,
        "steps_per_call": steps_per_call,
        "iterations": n,
        "first_call_seconds": compile_seconds,
        "ms_per_iteration": 1e3 * per_iteration,
        "ms_per_run_iteration": 1e3 * per_iteration / runs,
        "cpu_ms_per_iteration": 1e3 * cpu / n,
        "seconds_per_full_run": per_iteration * FULL_RUN / runs,
        "best_mae_finite": bool(np.all(np.isfinite(model.best_mae.numpy()))),
    }


def profile_iterations(iterations, x=None, y=None, **model_kwargs):
    """CPU time per stage-2 iteration by XLA kernel family (one run per graph, after a
    compiling call): :func:`xla_kernels.kernel_times` of one call of ``iterations``."""
    if x is None:
        x, y = b1_data()
    x, y = np.asarray(x, "float32"), np.asarray(y, "float32")
    model = GMEQL(steps_per_call=iterations, **model_kwargs)
    model.search(x, y, rounds=0, iterations=iterations, stage1=False)
    data = repeated((x, y))
    return kernel_times(lambda: model.fit(data, epochs=1, steps_per_epoch=1, verbose=0),
                        iterations=iterations)


class _RunTimer:
    """Times the parts of GMEQL runs while active: every ``fit`` call (a stage-1 round,
    or stage 2 with its memetic refits inside), every :meth:`GMEQL.refit_elites` call
    and every :meth:`GMEQL.select` (the read-out's polish and scoring). ``fits`` and
    ``selects`` get wall seconds per call, ``refits`` ``[elites refitted, seconds]``."""

    METHODS = ("fit", "refit_elites", "select")

    def __enter__(self):
        self.fits, self.refits, self.selects = [], [], []
        # Methods GMEQL inherits (fit) are restored by deleting the class attribute.
        self._saved = {name: GMEQL.__dict__.get(name) for name in self.METHODS}
        for name in self.METHODS:
            setattr(GMEQL, name, self._timed(name, getattr(GMEQL, name)))
        return self

    def _timed(self, name, method):
        timer = self

        def timed(model, *args, **kwargs):
            start = time.perf_counter()
            out = method(model, *args, **kwargs)
            seconds = time.perf_counter() - start
            if name == "refit_elites":
                timer.refits.append([int(np.isfinite(out).sum()), seconds])
            else:
                (timer.fits if name == "fit" else timer.selects).append(seconds)
            return out

        return timed

    def __exit__(self, *exc):
        for name, method in self._saved.items():
            if method is None:
                delattr(GMEQL, name)
            else:
                setattr(GMEQL, name, method)


def time_full_run(seed=0, memetic=None):
    """One b1 run of :func:`run_gmeql` at the paper's settings (``memetic``: as in
    :func:`run_gmeql`): wall seconds, result, and where the time went (``fits``: the
    seconds of each ``fit`` call, stage-1 rounds then stage 2; ``refits``: ``[elites
    refitted, seconds]`` of the memetic step's refits, inside stage 2; ``select``: the
    read-out's seconds; ``cpu_seconds``: the process's CPU time over the run, whose
    ratio to the wall time says how many cores the machine gave it)."""
    law, names, domain = BENCHMARKS["b1"]
    start, cpu = time.perf_counter(), time.process_time()
    with _RunTimer() as timer:
        result = run_gmeql(law, names, train_domain=domain, n_train=300, trials=1, seed=seed,
                           memetic=memetic)
    return {"wall_seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu, "expression": result["best_expression"],
            "success": result["best_success"], "steps": result["steps"], "memetic": memetic,
            "fits": timer.fits, "refits": timer.refits, "select": sum(timer.selects)}


def split_text(full):
    """The parts of a :func:`time_full_run`, as a line of text."""
    fits, refits = full["fits"], full["refits"]
    memetic = sum(t for _, t in refits)
    parts = [f"stage 1 {', '.join(f'{t:.1f}' for t in fits[:-1])} s (the first with the compile)"
             if len(fits) > 1 else "no stage 1",
             f"stage 2 {fits[-1]:.0f} s" if fits else "stage 2 -"]
    if refits:
        parts[-1] += (f" (of which the memetic step {memetic:.0f} s in {len(refits)} refits of "
                      f"{', '.join(str(n) for n, _ in refits)} elites)")
    parts.append(f"read-out {full['select']:.1f} s")
    if full.get("cpu_seconds") and full.get("wall_seconds"):
        parts.append(f"CPU {full['cpu_seconds']:.0f} s, "
                     f"{full['cpu_seconds'] / full['wall_seconds']:.2f} cores on average")
    return "; ".join(parts)


def time_estimator(trials, steps, memetic, x, y):
    """``SymbolicRegressor(method="gmeql")`` fitted on ``(x, y)``: wall seconds, the
    chosen equation and whether it is b1's law (2% of its RMS on the widened range)."""
    from deepsymreg.estimator import SymbolicRegressor
    from deepsymreg.gmeql import relative_rms, widened

    law, names, domain = BENCHMARKS["b1"]
    truth, symbols = symbolic.parse(law, names)
    start = time.perf_counter()
    est = SymbolicRegressor(method="gmeql", trials=trials, steps=steps, memetic=memetic,
                            random_state=0).fit(x, y)
    wall = time.perf_counter() - start
    expr = est.sympy().xreplace({sympy.Symbol(f"x{i}"): s for i, s in enumerate(symbols)})
    error = relative_rms(expr, truth, symbols, widened(domain))
    return {"trials": trials, "steps": steps, "memetic": memetic, "wall_seconds": wall,
            "equation": str(expr), "relative_rms": error, "success": error < 0.02}


def table(rows):
    lines = ["| runs per graph | ms per iteration | ms per run-iteration | CPU ms per iteration "
             "| s per 54 000-iteration run (training) | iterations per call |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['runs']} | {r['ms_per_iteration']:.2f} | {r['ms_per_run_iteration']:.2f} "
                     f"| {r['cpu_ms_per_iteration']:.2f} | {r['seconds_per_full_run']:.0f} "
                     f"| {r['steps_per_call']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000,
                        help="timed iterations per configuration (default 3000)")
    parser.add_argument("--runs", default="1,2,4", help="runs per graph to time (default 1,2,4)")
    parser.add_argument("--full", action="store_true", help="also time one full b1 run")
    parser.add_argument("--full-memetic", default="none",
                        help="with --full: comma-separated memetic settings, one full run each "
                             "in this order (none, elites, screen; default none)")
    parser.add_argument("--ablate", action="store_true",
                        help="also time the iteration with each of its parts switched off")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also trace N iterations and print CPU time by XLA kernel family")
    parser.add_argument("--steps-per-call", default="500",
                        help="iterations per compiled call, comma-separated (default 500)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="time every configuration this many times, in alternation")
    parser.add_argument("--estimator", type=int, default=0, metavar="K",
                        help="also time SymbolicRegressor(method='gmeql', trials=K) once per "
                             "--full-memetic setting")
    parser.add_argument("--estimator-steps", type=int, default=13500,
                        help="with --estimator: iterations per run (default 13500, a quarter "
                             "of the paper's)")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    settings = args.full_memetic.split(",")
    unknown = sorted(set(settings) - {"none", *MEMETIC_PRESETS})
    if unknown:
        parser.error(f"--full-memetic: unknown settings {unknown}; choose from none, "
                     f"{', '.join(sorted(MEMETIC_PRESETS))}")
    lists = {}
    for flag, text in (("--runs", args.runs), ("--steps-per-call", args.steps_per_call)):
        try:
            lists[flag] = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            parser.error(f"{flag}: expected comma-separated integers, got {text!r}")
        if not lists[flag] or min(lists[flag]) < 1:
            parser.error(f"{flag}: expected positive integers, got {text!r}")
    if args.estimator < 0 or args.estimator_steps < 1:
        parser.error(f"--estimator and --estimator-steps: expected K >= 0 and steps >= 1, got "
                     f"{args.estimator} and {args.estimator_steps}")
    if args.iterations < 1 or args.repeats < 1:
        parser.error("--iterations and --repeats must be positive")
    if args.profile < 0:
        parser.error(f"--profile: expected a number of iterations >= 0, got {args.profile}")
    x, y = b1_data()
    rows = []
    for _ in range(args.repeats):
        for r in lists["--runs"]:
            for spc in lists["--steps-per-call"]:
                rows.append(time_iterations(r, args.iterations, steps_per_call=spc, x=x, y=y))
                print(f"runs per graph {r}, {spc} iterations per call: "
                      f"{rows[-1]['ms_per_iteration']:.2f} ms per iteration", flush=True)
    print()
    print(table(rows))
    result = {"machine": platform.platform(), "cpus": os.cpu_count(), "iterations": rows}
    if args.ablate:
        ablations = []
        print("\n| one run per graph | ms per iteration |\n|---|---|")
        for name, kwargs in ABLATIONS:
            r = time_iterations(1, args.iterations, x=x, y=y, **kwargs)
            ablations.append({"name": name, "settings": kwargs, **r})
            print(f"| {name} | {r['ms_per_iteration']:.2f} |", flush=True)
        result["ablations"] = ablations
    if args.profile:
        times = profile_iterations(args.profile, x=x, y=y)
        print(f"\nCPU time of one iteration by XLA kernel family ({args.profile} iterations "
              "traced):\n")
        print(kernel_table(times))
        result["profile"] = {k: times[k] for k in ("families", "total", "executor", "events")}
    if args.full:
        result["full_runs"] = []
        for setting in settings:
            full = time_full_run(memetic=None if setting == "none" else setting)
            result["full_runs"].append(full)
            low, high = PAPER_SECONDS
            print(f"\none b1 run, memetic {setting} ({full['steps']} iterations, p = 40, 300 "
                  f"points, read-out included): {full['wall_seconds']:.0f} s; the paper's 3-4 "
                  f"hours are {low / full['wall_seconds']:.0f}-{high / full['wall_seconds']:.0f}x "
                  f"that. Expression {full['expression']} "
                  f"({'right' if full['success'] else 'wrong'})", flush=True)
            print(f"  {split_text(full)}", flush=True)
        result["full_run"] = result["full_runs"][0]
    if args.estimator:
        result["estimator"] = []
        print(f"\n| SymbolicRegressor(method='gmeql', trials={args.estimator}, "
              f"steps={args.estimator_steps}) | wall s | equation | b1's law |\n|---|---|---|---|")
        for setting in settings:
            fit = time_estimator(args.estimator, args.estimator_steps, setting, x, y)
            result["estimator"].append(fit)
            print(f"| memetic {setting} | {fit['wall_seconds']:.0f} | `{fit['equation']}` | "
                  f"{'yes' if fit['success'] else 'no'} |", flush=True)
    if args.json_path:
        write_json(args.json_path, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
