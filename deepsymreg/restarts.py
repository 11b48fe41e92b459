"""Random restarts trained together, and the choice of the best one.

EQL training depends strongly on the initial weights; the paper runs 20 trials and
keeps the one that extrapolates best. :func:`fit_restarts` trains ``K`` restarts as one
``EQL(trials=K)`` in one compiled graph, re-runs from scratch any restart whose loss
went NaN, and reads every restart as an equation. :func:`select_best` picks the restart
with the lowest error on a wider test domain, the simplest among near ties.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os

import numpy as np

__all__ = ["TrialResult", "fit_restarts", "select_best"]


@dataclasses.dataclass
class TrialResult:
    """One restart, read as an equation.

    Attributes:
        seed: seed of its initial weights (``EQL(seed=seed)`` reproduces it alone).
        expression: the extracted equation (a SymPy-parsable string per output, joined
            by ``"; "`` for several outputs).
        extrapolation_mse: mean squared error of the network on the test data.
        train_mse: mean squared error on the training data.
        complexity: size of the expression tree.
        nan_reruns: how many times this restart was re-run because its loss went NaN.
    """

    seed: int
    expression: str
    extrapolation_mse: float
    train_mse: float
    complexity: int
    nan_reruns: int = 0
    success: bool | None = None
    nrmse: float | None = None


def _build_and_train(x, y, seeds, schedule, model_kwargs, steps_per_call, verbose):
    import keras
    import tensorflow as tf

    from deepsymreg.callbacks import NaNRecovery, PhasedSchedule
    from deepsymreg.models.eql import EQL

    model = EQL(
        n_outputs=y.shape[1],
        trials=len(seeds),
        steps_per_call=steps_per_call,
        **model_kwargs,
    )
    model.build(x.shape)
    model.initialize_trials(seeds)
    from deepsymreg.optimizers import RMSprop

    acc = float(os.environ.get("DSR_ACC", "1.0"))
    model.compile(optimizer=RMSprop(schedule[0].learning_rate, initial_accumulator=acc, epsilon=1e-10), jit_compile=True)
    phased = PhasedSchedule(schedule)
    nan = NaNRecovery(seed=int(seeds[0]) if seeds[0] is not None else None)
    data = tf.data.Dataset.from_tensors((x, y)).repeat()
    model.fit(
        data,
        epochs=1,
        steps_per_epoch=phased.batches_needed(model),
        shuffle=False,
        callbacks=[nan, phased],
        verbose=verbose,
    )
    return model, sorted(set(nan.restarted))


def _train_chunk(args):
    (x, y, x_test, y_test, seeds, schedule, model_kwargs, steps_per_call, var_names,
     threshold, max_nan_reruns, verbose, standardize) = args
    from deepsymreg import symbolic

    # Train on standardized targets so that lambda means the same for every law;
    # equations and errors are reported in the original units.
    mu, sigma = (y.mean(axis=0), y.std(axis=0)) if standardize else (0.0, 1.0)
    sigma = np.where(np.asarray(sigma) > 0, sigma, 1.0)
    y_std, y_test_std = (y - mu) / sigma, (y_test - mu) / sigma
    unit = float(np.mean(np.square(sigma)))

    results = {}
    pending = list(seeds)
    reruns = {s: 0 for s in seeds}
    origin = {s: s for s in seeds}
    rng = np.random.default_rng(abs(hash(tuple(seeds))) % (2**32))
    while pending:
        model, nan_trials = _build_and_train(
            x, y_std, pending, schedule, model_kwargs, steps_per_call, verbose
        )
        test_err = model.trial_errors(x_test, y_test_std) * unit
        train_err = model.trial_errors(x, y_std) * unit
        retry = []
        for k, s in enumerate(pending):
            first = origin[s]
            if k in nan_trials and reruns[first] < max_nan_reruns:
                new = int(rng.integers(0, 2**31 - 1))
                origin[new] = first
                reruns[first] += 1
                retry.append(new)
                continue
            expr = model.to_sympy(var_names, threshold=threshold, trial=k)
            exprs = expr if isinstance(expr, list) else [expr]
            if standardize:
                exprs = [
                    symbolic.clean(float(sd) * e + float(m), threshold)
                    for e, m, sd in zip(exprs, np.ravel(mu), np.ravel(sigma))
                ]
            results[first] = TrialResult(
                seed=int(s),
                expression="; ".join(str(symbolic.rounded(e, 6)) for e in exprs),
                extrapolation_mse=float(test_err[k]),
                train_mse=float(train_err[k]),
                complexity=int(sum(symbolic.complexity(e) for e in exprs)),
                nan_reruns=reruns[first],
            )
        pending = retry
    return [results[s] for s in seeds]


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
    verbose=0,
    **model_kwargs,
):
    """Train ``trials`` EQL restarts on ``(x, y)`` and read each as an equation.

    Args:
        x, y: training data, ``(n, n_inputs)`` and ``(n,)`` or ``(n, n_outputs)``.
        x_test, y_test: data of a wider domain, for the extrapolation error.
        trials: number of restarts; restart ``k`` starts from seed ``seed + k``.
        schedule: list of :class:`~deepsymreg.Phase` (default: the paper's, see
            :func:`deepsymreg.callbacks.paper_schedule`).
        var_names: input names for the equations.
        threshold: weights and terms below it are dropped from the equations.
        steps_per_call: optimizer steps per compiled call; must divide every phase
            boundary.
        workers: processes to split the restarts over (each trains its share in one
            graph). XLA keeps about one core busy, so 2 suits a 2-core machine.
        standardize: train on ``(y - mean) / std`` (per output), so that the penalty
            strength means the same whatever the scale of the law; equations and errors
            are converted back to the original units.
        max_nan_reruns: how often a restart whose loss went NaN is re-run from fresh
            weights (its result keeps its first seed; ``nan_reruns`` counts).
        **model_kwargs: passed to :class:`~deepsymreg.EQL` (``primitives``, ``depth``,
            ``regularizer``, ``linear`` ...).

    Returns:
        A list of :class:`TrialResult`, one per restart, in seed order.
    """
    from deepsymreg.callbacks import paper_schedule

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
    if not isinstance(trials, int) or trials <= 0:
        raise ValueError(
            f"Invalid value for argument `trials`: expected a positive integer. "
            f"Received: trials={trials!r}"
        )
    if not isinstance(workers, int) or workers <= 0:
        raise ValueError(
            f"Invalid value for argument `workers`: expected a positive integer. "
            f"Received: workers={workers!r}"
        )
    schedule = list(schedule) if schedule is not None else paper_schedule()
    seeds = [int(seed) + k for k in range(trials)]
    workers = min(workers, trials)
    chunks = [seeds[i::workers] for i in range(workers)]
    jobs = [
        (x, y, x_test, y_test, c, schedule, model_kwargs, steps_per_call, var_names,
         threshold, max_nan_reruns, verbose, standardize)
        for c in chunks
    ]
    if workers == 1:
        parts = [_train_chunk(jobs[0])]
    else:
        ctx = multiprocessing.get_context("spawn")
        env_before = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            with ctx.Pool(workers) as pool:
                parts = pool.map(_train_chunk, jobs)
        finally:
            if env_before is None:
                os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
    by_seed = {s: r for c, part in zip(chunks, parts) for s, r in zip(c, part)}
    return [by_seed[s] for s in seeds]


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
