"""Random restarts trained together, and the choice of the best one.

EQL training depends strongly on the initial weights; the paper runs 20 trials and
keeps the one that extrapolates best. :func:`fit_restarts` trains ``K`` restarts as one
``EQL(trials=K)`` in one compiled graph, re-runs from scratch any restart whose loss
went NaN, and reads every restart as an equation. :func:`select_best` picks the restart
with the lowest error on a wider test domain, the simplest among near ties.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import multiprocessing
import os
import threading
import time

import numpy as np

from deepsymreg._validation import check_int, check_number, check_rerun_rule

__all__ = ["TrialResult", "fit_restarts", "select_best", "network_from_weights"]


@dataclasses.dataclass
class TrialResult:
    """One restart, read as an equation.

    Attributes:
        seed: seed of its initial weights (``EQL(seed=seed)`` starts from the same weights).
        expression: the extracted equation (a SymPy-parsable string per output, joined
            by ``"; "`` for several outputs).
        extrapolation_mse: mean squared error of the network on the test data.
        train_mse: mean squared error on the training data.
        complexity: size of the expression tree.
        nan_reruns: how many times this restart was re-run because its loss went NaN.
        refit_reruns: how many times it was re-run from fresh weights because it fitted
            the training data poorly (see ``fit_restarts(rerun_poor_fits=...)``).
        reg_scale: factor on the penalty strength this restart was trained with.
        success, nrmse: the verdict of a judge, when one was applied.
        extra_functions: functions the equation applies that the true law lacks, when
            judged against one.
        weights: with ``keep_weights=True``, this restart's network weights by path
            (``"eql_0/linear/kernel"``, ...) without the trials axis, ready for an
            ``EQL`` without trials (see :func:`network_from_weights`).
    """

    seed: int
    expression: str
    extrapolation_mse: float
    train_mse: float
    complexity: int
    nan_reruns: int = 0
    refit_reruns: int = 0
    reg_scale: float = 1.0
    success: bool | None = None
    nrmse: float | None = None
    extra_functions: list | None = None
    weights: dict | None = dataclasses.field(default=None, repr=False)


def _build_and_train(job, x, y, seeds, scales, progress=None):
    from deepsymreg import regularizers
    from deepsymreg.callbacks import NaNRecovery, PhasedSchedule
    from deepsymreg.data import feed
    from deepsymreg.models.eql import EQL
    from deepsymreg.optimizers import RMSprop
    from deepsymreg.reports import StepProgress

    model_kwargs = dict(job["model_kwargs"])
    reg = regularizers.get(model_kwargs.pop("regularizer", "l05"))
    if reg is not None and any(c != 1.0 for c in scales):
        reg.stack_scale = list(scales)
    model = EQL(
        n_outputs=y.shape[1],
        trials=len(seeds),
        steps_per_call=job["steps_per_call"],
        regularizer=reg,
        seed=int(seeds[0]),  # initialize_trials sets every restart's weights and gate noise
        **model_kwargs,
    )
    model.build(x.shape)
    model.initialize_trials(seeds)
    schedule = job["schedule"]
    model.compile(optimizer=RMSprop(schedule[0].learning_rate, epsilon=1e-10),
                  jit_compile=job["jit_compile"])
    phased = PhasedSchedule(schedule)
    # Per-restart streams: a restart's result depends on its seed alone, not on the
    # restarts it shares a graph (a chunk) with.
    nan = NaNRecovery(seed=[int(s) + 7919 for s in seeds])
    w = job.get("sample_weight")
    model.fit(
        feed.repeated((x, y) if w is None else (x, y, w)),
        epochs=1,
        steps_per_epoch=phased.batches_needed(model),
        shuffle=False,
        callbacks=[nan, phased] + ([StepProgress(progress, len(seeds))] if progress else []),
        verbose=job["verbose"],
    )
    return model, sorted(set(nan.restarted))


def _train_chunk(job, progress=None):
    """Train the restarts ``job["seeds"]`` (one graph; NaN restarts re-run) and read them."""
    import sympy

    from deepsymreg import primitives, symbolic

    for prim in job["primitives"]:  # user primitives must exist in worker processes too
        if prim.name not in primitives.registered_names():
            primitives.register_primitive(prim.name, _definition(prim))
    x, y, x_test, y_test = job["x"], job["y"], job["x_test"], job["y_test"]
    threshold = job["threshold"]
    # Train on standardized targets so that lambda means the same for every law;
    # equations and errors are reported in the original units.
    if job["standardize"]:
        mu, sigma = y.mean(axis=0), y.std(axis=0)
        sigma = np.where(sigma > 0, sigma, 1.0)
    else:
        mu, sigma = np.zeros(y.shape[1]), np.ones(y.shape[1])
    y_std, y_test_std = (y - mu) / sigma, (y_test - mu) / sigma
    unit = float(np.mean(np.square(sigma)))

    seeds, scales = list(job["seeds"]), list(job["scales"])
    reruns = {s: 0 for s in seeds}
    # Poor fits: relative training RMS above `tolerance` on noiseless data means the
    # restart ended in a poor local optimum; re-run it from fresh weights (at most
    # `max_poor` times) and keep the attempt that fits the training data best.
    tolerance, max_poor = job.get("rerun_poor_fits") or (None, 0)
    worst_mse = np.inf if tolerance is None else tolerance**2 * float(np.mean(np.square(y)))
    poor = {s: 0 for s in seeds}
    # The best attempt of every restart so far: (train mse, model, index in it, seed, test mse).
    # Equations are read only for the attempts kept, once every re-run is done.
    kept = {}
    rngs = {s: np.random.default_rng(s + 104729) for s in seeds}  # re-run seeds, per restart
    pending = [(s, s, c) for s, c in zip(seeds, scales)]  # (first seed, seed, scale)
    while pending:
        model, nan_trials = _build_and_train(
            job, x, y_std, [p[1] for p in pending], [p[2] for p in pending], progress
        )
        test_err = model.trial_errors(x_test, y_test_std) * unit
        train_err = model.trial_errors(x, y_std) * unit
        retry = []
        for k, (first, seed, scale) in enumerate(pending):
            if k in nan_trials and reruns[first] < job["max_nan_reruns"]:
                reruns[first] += 1
                retry.append((first, int(rngs[first].integers(0, 2**31 - 1)), scale))
                continue
            mse = float(train_err[k]) if np.isfinite(train_err[k]) else np.inf
            if first not in kept or mse < kept[first][0]:
                kept[first] = (mse, model, k, seed, float(test_err[k]))
            if not kept[first][0] <= worst_mse and poor[first] < max_poor:
                poor[first] += 1
                retry.append((first, int(rngs[first].integers(0, 2**31 - 1)), scale))
        pending = retry
    results = []
    for first, scale in zip(seeds, scales):
        _, model, k, seed, test_mse = kept[first]
        try:
            expr = model.to_sympy(job["var_names"], threshold=threshold, trial=k)
        except ValueError:  # still diverged after its reruns: no equation to read
            expr = [sympy.nan] * y.shape[1]
        exprs = expr if isinstance(expr, list) else [expr]
        exprs = [
            symbolic.clean(float(sd) * e + float(m), threshold)
            for e, m, sd in zip(exprs, mu, sigma)
        ]
        results.append(TrialResult(
            seed=int(seed),
            expression="; ".join(str(symbolic.rounded(e, 6)) for e in exprs),
            extrapolation_mse=test_mse,
            train_mse=kept[first][0] if np.isfinite(kept[first][0]) else float(np.nan),
            complexity=int(sum(symbolic.complexity(e) for e in exprs)),
            nan_reruns=reruns[first],
            refit_reruns=poor[first],
            reg_scale=float(scale),
            weights=_trial_weights(model, k) if job.get("keep_weights") else None,
        ))
    return results


def weight_key(variable):
    """A network variable's path below the network (``"eql_0/linear/kernel"``): the key of
    ``TrialResult.weights``."""
    return variable.path.split("network/", 1)[-1]


def _trial_weights(model, k):
    """Restart ``k``'s network weights by path, without the trials axis."""
    out = {}
    for v in model.network.weights:
        key = weight_key(v)
        if key.rsplit("/", 1)[-1].startswith("noise_"):
            continue  # gate-noise streams exist only with a trials axis
        value = np.asarray(v.numpy())
        out[key] = value[k] if value.ndim else value
    return out


def network_from_weights(weights, n_inputs, **model_kwargs):
    """An ``EQL`` without trials holding one restart's ``weights`` (see ``TrialResult``)."""
    from deepsymreg.models.eql import EQL

    model = EQL(**model_kwargs)
    model.build((None, n_inputs))
    for v in model.network.weights:
        key = weight_key(v)
        if key not in weights:
            raise ValueError(f"The saved restart has no weight {key!r}.")
        v.assign(weights[key])
    return model


def _definition(prim):
    if prim.arity == 0:
        return prim.expression
    return lambda *args: prim.sympy(*args)


def _steps_per_call(schedule, limit):
    """The largest number of steps per compiled call, at most ``limit``, that divides
    every phase (phases switch between calls)."""
    g = math.gcd(*[p.steps for p in schedule])
    return max(d for d in range(1, min(g, int(limit)) + 1) if g % d == 0)


def lambda_scales(trials, spread, levels=4):
    """Per-restart factors on lambda: ``levels`` values log-evenly in [1/sqrt(spread),
    sqrt(spread)], cycled over the restarts (all 1 when ``spread == 1``)."""
    if spread == 1 or trials == 1:
        return [1.0] * trials
    grid = [spread ** (i / (levels - 1) - 0.5) for i in range(levels)]
    return [grid[k % levels] for k in range(trials)]


def fit_restarts(
    x,
    y,
    x_test,
    y_test,
    trials=20,
    schedule=None,
    seed=0,
    var_names=None,
    threshold=0.01,
    steps_per_call=500,
    workers=1,
    max_nan_reruns=3,
    standardize=True,
    lambda_spread=1.0,
    verbose=0,
    executor=None,
    chunk_size=None,
    keep_weights=False,
    progress=None,
    sample_weight=None,
    rerun_poor_fits=None,
    jit_compile=True,
    **model_kwargs,
):
    """Train ``trials`` EQL restarts on ``(x, y)`` and read each as an equation.

    Args:
        x, y: training data, ``(n, n_inputs)`` and ``(n,)`` or ``(n, n_outputs)``.
        x_test, y_test: data of a wider domain, for the extrapolation error.
        trials: number of restarts; restart ``k`` starts from seed ``seed + k``.
        schedule: list of :class:`~deepsymreg.Phase` (default: the paper's, see
            :func:`deepsymreg.recipes.paper_schedule`).
        var_names: input names for the equations.
        threshold: weights and terms below it are dropped from the equations.
        steps_per_call: the most optimizer steps per compiled call; the largest
            count up to it that divides every phase is used.
        workers: processes to split the restarts over (each trains its share in one
            graph). XLA keeps about one core busy, so 2 suits a 2-core machine. With
            an ``executor``, the number of chunks submitted to it.
        executor: a :class:`concurrent.futures.Executor` (e.g. a Dask cluster's
            ``distributed.Client(address).get_executor()``) that runs the chunks;
            default: this process (``workers=1``) or a pool of ``workers`` processes.
        chunk_size: at most this many restarts per chunk (each chunk is one compiled
            graph; restart ``k`` goes to chunk ``k mod n_chunks``); default
            ``ceil(trials / workers)``. A restart's weights, gate noise and NaN
            re-run seeds depend on its seed alone, so the same chunks give identical
            results wherever they run; another chunking changes only the rounding of
            the vectorized updates (see docs/scaling.md).
        keep_weights: return every restart's network weights (``TrialResult.weights``).
        progress: a callable receiving counts of optimizer steps done (summed over
            restarts; ``trials * schedule steps`` in all, more with NaN re-runs): after
            every compiled call for chunks run here, when a chunk ends for the others.
        sample_weight: ``(n,)`` non-negative weights of the training rows (None: all
            1): the data loss is ``sum_i w_i l_i / sum_i w_i``.
        standardize: train on ``(y - mean) / std`` (per output), so that the penalty
            strength means the same whatever the scale of the law; equations and errors
            are converted back to the original units.
        lambda_spread: restarts get different penalty strengths, ``lambda`` times
            factors spread log-evenly over a range of this ratio (1: all the same).
            Which sparsity level reveals a law depends on the law; selection by
            extrapolation then keeps the right one.
        max_nan_reruns: how often a restart whose loss went NaN is re-run from fresh
            weights (its result keeps its first seed; ``nan_reruns`` counts).
        rerun_poor_fits: ``None`` (default) or ``(tolerance, reruns)``: a restart whose
            RMS error on the training data exceeds ``tolerance`` times the targets' RMS
            is re-run from fresh weights, at most ``reruns`` times, and the attempt with
            the lowest training error is kept (its ``seed``; ``refit_reruns`` counts).
            Meant for noiseless data, where a poor fit is a poor local optimum, not
            noise: with noise above the tolerance every restart is re-run.
        jit_compile: compile each chunk's training loop with XLA (default True).
            False skips XLA's compilation (about 1.5 s per chunk on 2 CPU cores) at the
            cost of slower steps: it pays only for fits of a few hundred steps.
        **model_kwargs: passed to :class:`~deepsymreg.EQL` (``primitives``, ``depth``,
            ``regularizer``, ``linear`` ...).

    Returns:
        A list of :class:`TrialResult`, one per restart, in seed order.
    """
    from deepsymreg.recipes import paper_schedule

    x = np.asarray(x, dtype="float32")
    y = np.asarray(y, dtype="float32")
    y = y[:, None] if y.ndim == 1 else y
    x_test = np.asarray(x_test, dtype="float32")
    y_test = np.asarray(y_test, dtype="float32")
    y_test = y_test[:, None] if y_test.ndim == 1 else y_test
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(
            "Invalid value for arguments `x`, `y`: expected x of shape (n, n_inputs) and "
            f"y with n rows. Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("Invalid value for arguments `x`, `y`: they contain NaN or inf.")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype="float32")
        if (sample_weight.shape != (x.shape[0],) or not np.all(np.isfinite(sample_weight))
                or np.any(sample_weight < 0) or not np.sum(sample_weight) > 0):
            raise ValueError(
                "Invalid value for argument `sample_weight`: expected one finite, "
                f"non-negative weight per row of x ({x.shape[0]}), not all zero. Received "
                f"shape {sample_weight.shape}, values {sample_weight[:5]!r}..."
            )
    trials = check_int("trials", trials)
    workers = check_int("workers", workers)
    schedule = list(schedule) if schedule is not None else paper_schedule()
    steps_per_call = _steps_per_call(schedule, steps_per_call)
    check_number("lambda_spread", lambda_spread, 1.0)
    rerun_poor_fits = check_rerun_rule("rerun_poor_fits", rerun_poor_fits,
                                       "(tolerance, reruns)")
    from deepsymreg import primitives as primitives_lib

    names = model_kwargs.get("primitives", primitives_lib.DEFAULT)
    flat = [n for layer in names for n in (layer if isinstance(layer, (list, tuple)) else [layer])]
    seeds = [int(seed) + k for k in range(trials)]
    scales = lambda_scales(trials, float(lambda_spread))
    workers = min(workers, trials)
    n_chunks = workers if chunk_size is None else -(-trials // check_int("chunk_size", chunk_size))
    chunks = [list(range(i, trials, n_chunks)) for i in range(n_chunks)]  # interleaved
    jobs = [
        {
            "x": x, "y": y, "x_test": x_test, "y_test": y_test, "sample_weight": sample_weight,
            "seeds": [seeds[k] for k in c], "scales": [scales[k] for k in c],
            "schedule": schedule, "model_kwargs": model_kwargs,
            "steps_per_call": steps_per_call, "var_names": var_names,
            "threshold": threshold, "max_nan_reruns": max_nan_reruns,
            "rerun_poor_fits": rerun_poor_fits, "jit_compile": bool(jit_compile),
            "verbose": verbose, "standardize": standardize, "keep_weights": keep_weights,
            "primitives": [primitives_lib.get(n) for n in dict.fromkeys(flat)],
        }
        for c in chunks
    ]
    total = sum(p.steps for p in schedule)
    parts = _run_chunks(jobs, executor, workers, progress, total)
    by_index = {k: r for c, part in zip(chunks, parts) for k, r in zip(c, part)}
    return [by_index[k] for k in range(trials)]


def _run_chunks(jobs, executor, workers, progress=None, steps=0, task=None):
    """``task(job)`` (default :func:`_train_chunk`) of every job: here, in a pool of
    ``workers`` processes, or on ``executor``; results in job order. ``task`` must be a
    module-level function (it is pickled), taking ``(job, progress=None)``; every job
    holds its restarts' ``"seeds"``. ``progress`` hears of the steps done: after every
    compiled call here, when a chunk ends elsewhere."""
    task = _train_chunk if task is None else task
    if executor is not None:
        if not isinstance(executor, concurrent.futures.Executor):
            raise ValueError(
                "Invalid value for argument `executor`: expected a "
                f"concurrent.futures.Executor. Received: executor={executor!r}"
            )
        return _gather([executor.submit(task, job) for job in jobs], jobs, progress, steps)
    if len(jobs) == 1 or workers == 1:
        return [task(job, progress) for job in jobs]
    env_before = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        # A multiprocessing pool starts all its workers at once (an executor starts them
        # as jobs arrive: 48.9 s against 33.9 s for two chunks of 10 restarts, measured).
        with multiprocessing.get_context("spawn").Pool(
                workers, initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
            parts = [None] * len(jobs)
            items = [(i, task, job) for i, job in enumerate(jobs)]
            for i, part in pool.imap_unordered(_indexed_chunk, items):
                parts[i] = part
                if progress is not None:
                    progress(len(jobs[i]["seeds"]) * steps)
            return parts
    finally:
        if env_before is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)


def _exit_with_parent(parent_pid, interval=1.0):
    """Pool initializer: end this worker within ``interval`` seconds of its parent's death.

    A pool's workers stop with its context manager (Ctrl-C included), but a parent killed
    by a signal leaves them training as orphans; a daemon thread watches for that.
    """
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _indexed_chunk(item):
    index, task, job = item
    return index, task(job)


def _gather(futures, jobs, progress, steps):
    if progress is not None:
        size = {f: len(job["seeds"]) for f, job in zip(futures, jobs)}
        for f in concurrent.futures.as_completed(futures):
            progress(size[f] * steps)
    return [f.result() for f in futures]


def select_best(results, tie_factor=1.5):
    """The restart with the lowest extrapolation error; the simplest among near ties.

    Restarts whose error is within ``tie_factor`` times the lowest count as tied; of
    those, the one with the smallest expression wins (then the lower error).
    """
    if not results:
        raise ValueError("Invalid value for argument `results`: expected at least one.")
    finite = [r for r in results if np.isfinite(r.extrapolation_mse)]
    if not finite:
        return min(results, key=lambda r: r.complexity)
    best = min(r.extrapolation_mse for r in finite)
    tied = [r for r in finite if r.extrapolation_mse <= tie_factor * best + 1e-12]
    return min(tied, key=lambda r: (r.complexity, r.extrapolation_mse))
