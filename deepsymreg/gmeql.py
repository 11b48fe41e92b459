"""Gumbel-max EQL benchmark on a known law: data, Algorithm 1 runs, selection, judging.

:func:`run_gmeql` is the GMEQL counterpart of :func:`deepsymreg.benchmark.run_benchmark`
and returns the same JSON keys. Success follows the GMEQL paper's test: the selected
expression's RMS error is under ``tolerance`` (2%) of the truth's RMS on a domain 1.5
times wider than the training range (same centre).

References:
    Chen (2021). Learning symbolic expressions via Gumbel-max equation learner
    networks. arXiv:2012.00428.
"""

from __future__ import annotations

import time

import numpy as np
import sympy

from deepsymreg import symbolic
from deepsymreg._validation import check_int, check_number
from deepsymreg.benchmark import make_data, parse_domain
from deepsymreg.callbacks import MemeticRefit
from deepsymreg.models.gmeql import DEFAULT_FUNCTIONS, GMEQL
from deepsymreg.primitives import elementary
from deepsymreg.reports import finite_or_none

__all__ = ["run_gmeql", "read_out", "memetic_settings", "SCREEN_REFIT", "MEMETIC_PRESETS", "DEFAULT_MEMETIC", "summarize", "relative_rms", "widened", "PAPER_SETTINGS", "BENCHMARKS", "PAPER_RATES"]

#: Algorithm 1's settings in the paper (Chen 2021, section 5).
PAPER_SETTINGS = {"rounds": 3, "round_iterations": 2000, "iterations": 48000, "samples": 40}

#: The paper's Table 1: name -> (law, variables, training range of every variable); 300
#: points each, success judged on the range widened 1.5x.
BENCHMARKS = {
    "b1": ("0.8*x1**3 + 0.9*x2**2 + 1.2*x3", "x1,x2,x3", (0.0, 2.0)),
    "b2": ("0.8*x3**4 + 0.8*x1**3 + 1.2*x2**2 + 1.4*x3", "x1,x2,x3", (0.0, 2.0)),
    "b3": ("0.8*x3**5 + 1.2*x2**4 + 1.2*x1**3 + 0.9*x2**2 + 1.1*x3", "x1,x2,x3", (0.0, 2.0)),
    "b4": ("1.1*x1**6 + 0.8*x2**5 + 0.9*x3**4 + 1.3*x1**3 + 1.2*x2**2 + 0.9*x3", "x1,x2,x3", (0.0, 2.0)),
    "b5": ("1.5*sin(x1) + 1.3*sin(x2)", "x1,x2", (0.0, 10.0)),
    "b6": ("1.2*sin(1.1*x1)*cos(0.9*x2)", "x1,x2", (0.0, 10.0)),
    "b7": ("1.1*x1 + 0.9*x2 + 2.1*x1*x2*cos(1.2*x3)", "x1,x2,x3", (0.0, 10.0)),
    "b8": ("sqrt(1.3 + 1.2*x2/x1)", "x1,x2", (1.0, 20.0)),
}
#: The full refit after a screen of the repository (:func:`read_out`): the memetic
#: step's settings (:class:`~deepsymreg.callbacks.MemeticRefit`).
SCREEN_REFIT = {"top": 10, "starts": 4, "steps": 3000, "learning_rate": 1e-2}

#: Named settings of the memetic step (``run_gmeql(memetic=name)``): ``"elites"``, the
#: :class:`~deepsymreg.callbacks.MemeticRefit` defaults (the 10 best elites, 4 starts,
#: 3000 steps); ``"screen"``, every elite of the repository not refitted before, one
#: start of 1000 steps each, so that the repository is ranked by each structure's own
#: weights rather than by the weights shared during the search; ``"screen-adopt"``, the
#: screen with the shared weights set to the best refit's after each (Lamarckian).
MEMETIC_PRESETS = {
    "elites": {},
    "screen": {"top": 400, "starts": 1, "steps": 1000, "learning_rate": 1e-2,
               "curriculum": (0.03, 500)},
    "screen-adopt": {"top": 400, "starts": 1, "steps": 1000, "learning_rate": 1e-2,
                     "curriculum": (0.03, 500), "adopt": True},
}
#: The memetic step of :func:`run_gmeql`, ``deepsymreg benchmark --method gmeql``,
#: ``examples/benchmark_gmeql.py`` and ``SymbolicRegressor(method="gmeql")`` when none is
#: given (docs/results.md, the GMEQL tables, for the measurements behind the choice).
DEFAULT_MEMETIC = "screen-adopt"


def memetic_settings(memetic):
    """The :class:`~deepsymreg.callbacks.MemeticRefit` arguments of a ``memetic``
    setting, checked: a name of :data:`MEMETIC_PRESETS`, True (``"elites"``), a dict of
    arguments, or None / ``"none"`` (no memetic step: returns None). Raises ValueError
    naming ``memetic`` otherwise, before any training."""
    if memetic is True:
        memetic = "elites"
    if memetic is None or memetic == "none":  # "none": the command lines' spelling of None
        return None
    if isinstance(memetic, str) and memetic in MEMETIC_PRESETS:
        memetic = dict(MEMETIC_PRESETS[memetic])
    if not isinstance(memetic, dict):
        raise ValueError("Invalid value for argument `memetic`: expected None, 'none', True, one of "
                         f"{sorted(MEMETIC_PRESETS)} or a dict of MemeticRefit arguments. "
                         f"Received: memetic={memetic!r}")
    try:
        MemeticRefit(None, None, **memetic)
    except TypeError as err:
        raise ValueError(f"Invalid value for argument `memetic`: {err}. Received: "
                         f"memetic={memetic!r}") from None
    return dict(memetic)


#: The paper's success rates (fraction of 20 runs that found the law), b1-b8.
PAPER_RATES = {"b1": 0.61, "b2": 0.70, "b3": 0.45, "b4": 0.40, "b5": 0.53, "b6": 1.00,
               "b7": 0.47, "b8": 1.00}


def widened(domain, factor=1.5):
    """``domain`` scaled by ``factor`` about its centre."""
    low, high = domain
    centre, half = (low + high) / 2, (high - low) / 2
    return centre - factor * half, centre + factor * half


def relative_rms(candidate, truth, symbols, domain, n_points=4000, seed=0):
    """``rms(candidate - truth) / rms(truth)`` on uniform points of ``domain`` (points
    where the truth is not finite are left out); inf when not finite."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(domain[0], domain[1], (n_points, len(symbols)))
    y = symbolic.to_numpy_function(truth, symbols)(x)
    keep = np.isfinite(y)
    y_hat = symbolic.to_numpy_function(candidate, symbols)(x)[keep]
    with np.errstate(all="ignore"):
        err = np.sqrt(np.mean((y_hat - y[keep]) ** 2)) / max(np.sqrt(np.mean(y[keep] ** 2)), 1e-12)
    return float(err) if np.isfinite(err) else float("inf")


def summarize(rows):
    """``success_rate``, and the selected run (lowest training MAE): ``best_expression``,
    ``best_seed``, ``best_success``, of per-run rows as :func:`run_gmeql` writes them."""
    if not rows:
        raise ValueError("Invalid value for argument `rows`: no runs to summarize.")
    maes = [r["mae"] if r["mae"] is not None else np.inf for r in rows]
    best = rows[int(np.argmin(maes))]
    return {
        "success_rate": float(np.mean([r["success"] for r in rows])),
        "best_expression": best["expression"],
        "best_seed": best["seed"],
        "best_success": best["success"],
    }


def read_out(model, truth, symbols, x, y, test_domain, seed=0, screen=None, top=100,
             polish_steps=1000, tolerance=0.02, refit=True, refine=True):
    """Judge a searched :class:`GMEQL`: one row per run (see :func:`run_gmeql`).

    With ``screen`` (a dict of :meth:`GMEQL.refit_elites` arguments), every elite of
    the repository first gets a short refit with its own weights, so that structures
    ranked low under the search's shared weights can reach the top, then the 10 best
    by that screen get the memetic step's full refit (:data:`SCREEN_REFIT`); the
    read-out (:meth:`GMEQL.select`) follows. ``seed`` is run 0's seed.
    """
    names = [s.name for s in symbols]
    elite_mae = model.repository_mae.numpy()[:, 0]
    if screen is not None:
        model.refit_elites(x, y, **{"top": model.repository_size, **screen})
        model.refit_elites(x, y, **SCREEN_REFIT)
    selected = model.select(x, y, top=top, polish_steps=polish_steps)
    rows = []
    for r, (mae, choices) in enumerate(selected):
        run = r if model.runs else None
        raw = (elementary(model.to_sympy(names, choices, run=run))
               if choices is not None else sympy.nan)
        expression = raw
        if refit and choices is not None:
            expression = (symbolic.polish_refined if refine else symbolic.polish)(raw, symbols, x, y)
            with np.errstate(all="ignore"):
                fitted = np.abs(symbolic.to_numpy_function(expression, symbols)(x) - y)
            mae = float(np.mean(fitted)) if np.all(np.isfinite(fitted)) else np.inf
        rel = relative_rms(expression, truth, symbols, test_domain) if choices is not None else float("inf")
        rows.append({
            "seed": int(seed) + r,
            "expression": str(symbolic.rounded(expression, 4)),
            "raw_expression": str(symbolic.rounded(raw, 4)),
            "success": bool(rel < tolerance),
            "mae": finite_or_none(mae),
            "relative_rms": finite_or_none(rel),
            "elite_mae": finite_or_none(float(elite_mae[r])),
            "complexity": symbolic.complexity(expression),
        })
    return rows


def run_gmeql(
    expr,
    var_names,
    train_domain=(0.0, 2.0),
    test_domain=None,
    n_train=300,
    noise=0.0,
    trials=20,
    seed=0,
    first_trial=0,
    iterations=PAPER_SETTINGS["iterations"],
    rounds=PAPER_SETTINGS["rounds"],
    round_iterations=PAPER_SETTINGS["round_iterations"],
    samples=PAPER_SETTINGS["samples"],
    stage1=True,
    elites=True,
    offline_rule="eq7",
    functions=None,
    runs_per_graph=1,
    steps_per_call=500,
    top=100,
    polish_steps=1000,
    tolerance=0.02,
    refit=True,
    refine=True,
    memetic=DEFAULT_MEMETIC,
    screen=None,
    verbose=0,
    progress=None,
    **model_kwargs,
):
    """Run ``trials`` GMEQL searches (Algorithm 1) on data from ``expr`` and judge them.

    Args:
        expr: the true law, a SymPy-parsable string (e.g. ``"0.8*x1**3 + x2"``).
        var_names: its variables, a list or a comma-separated string.
        train_domain: ``(low, high)`` of every variable for the ``n_train`` points.
        test_domain: where success is judged (default: ``train_domain`` 1.5x wider).
        noise: relative Gaussian noise on the training targets.
        trials: number of independent runs; run ``t`` has seed ``seed + t``.
        seed: seed of the data and of the first run.
        first_trial: run only trials ``first_trial .. trials - 1`` (the data stay those
            of ``seed``): a long benchmark resumes where it stopped, and
            :func:`summarize` merges the rows.
        iterations, rounds, round_iterations, samples: Algorithm 1's q, n, m and p
            (default: the paper's 48000, 3, 2000, 40).
        stage1, elites, offline_rule: the ablations (False, False, None turn off
            stage 1, the elite repository's sampling, the offline rule); ``offline_rule``
            is ``"eq7"`` or ``"eq11"`` otherwise.
        functions: the network's layers (default
            :data:`deepsymreg.models.gmeql.DEFAULT_FUNCTIONS`).
        runs_per_graph: runs trained side by side in one compiled graph.
        steps_per_call: iterations per compiled call.
        top, polish_steps: read-out: T* and the ``top`` best elites of each run get
            ``polish_steps`` more Adam steps on their weights; the lowest training MAE
            after a least-squares refit (simplest among near ties) is the run's
            expression (see :meth:`GMEQL.select`).
        tolerance: relative RMS error under which a run counts as a success.
        refit: refit the additive terms of each run's expression by least squares and
            drop those the fit does not need (:func:`deepsymreg.symbolic.polish`): a
            weighted sum node keeps small weights on every node it reads, and a
            division clipped in the network reads as an unbounded term. The raw read-out
            stays in ``raw_expression``.
        refine: after the refit, refit every number of the expression (inner rates
            and frequencies too, by Levenberg-Marquardt), with each variable and a
            constant offered as extra terms (:func:`deepsymreg.symbolic.polish_refined`):
            a structure whose frequencies are a little off, or that lacks a small linear
            term, becomes the law (on the stored b1-b8 runs of docs/results.md, b7 went
            from 0 to 3 of 6 runs right). Kept only when it lowers the training error.
        memetic: the memetic step (elites refitted with their own weights during stage
            2): a name of :data:`MEMETIC_PRESETS` (``"screen-adopt"``, the default
            (:data:`DEFAULT_MEMETIC`): every new elite refitted from one start, then each
            run's shared weights set to its best refit's; ``"screen"``: the same without
            adopting; ``"elites"`` or True: the 10 best, 4 starts), a dict of
            :class:`~deepsymreg.callbacks.MemeticRefit` arguments, or None or ``"none"``
            (the paper's Algorithm 1). On runs 0-3 of b1-b8 the screen found 19 of 32 laws and
            Algorithm 1 14 (runs 0-1: ``"elites"`` 4 of 16); on runs 0-6 (52 paired runs)
            screen-adopt 37 and the screen 32 (docs/results.md, docs/performance.md).
        screen: None (default) or a dict of :meth:`GMEQL.refit_elites` arguments (e.g.
            ``{"starts": 1, "steps": 1000}``; ``top`` defaults to the whole
            repository): after the search, every elite gets a short refit with its
            own weights and the best of them the full one (see :func:`read_out`).
        progress: a callable hearing of finished runs (``progress(n)``).
        model_kwargs: further :class:`~deepsymreg.models.gmeql.GMEQL` arguments.

    Returns:
        A JSON-ready dict: ``expr``, ``vars``, ``method``, domains, ``n_train``,
        ``noise``, ``seed``, ``tolerance``, ``success_rate``, ``best_expression``
        (lowest training MAE over the runs), ``best_seed``, ``best_success``,
        ``wall_seconds``, ``steps`` (iterations per run), the settings, and
        ``trials`` (per run: ``seed``, ``expression``, ``raw_expression`` (before
        ``refit``), ``success``, ``mae`` (training, of ``expression``),
        ``relative_rms`` (on the test domain), ``elite_mae``, ``complexity``).
    """
    truth, symbols = symbolic.parse(expr, var_names)
    names = [s.name for s in symbols]
    train_domain = parse_domain(train_domain, "train_domain")
    test_domain = widened(train_domain) if test_domain is None else parse_domain(test_domain, "test_domain")
    n_train = check_int("n_train", n_train)
    noise = check_number("noise", noise, 0.0)
    trials = check_int("trials", trials)
    first_trial = check_int("first_trial", first_trial, minimum=0)
    if first_trial >= trials:
        raise ValueError(f"Invalid value for argument `first_trial`: expected fewer than trials="
                         f"{trials}. Received: first_trial={first_trial}")
    runs_per_graph = check_int("runs_per_graph", runs_per_graph)
    memetic = memetic_settings(memetic)
    if screen is not None and not isinstance(screen, dict):
        raise ValueError("Invalid value for argument `screen`: expected None or a dict of "
                         f"GMEQL.refit_elites arguments. Received: screen={screen!r}")
    tolerance = check_number("tolerance", tolerance, 0.0, strict=True)
    rng = np.random.default_rng(seed)
    x, y = make_data(truth, symbols, train_domain, n_train, noise, rng)
    functions = DEFAULT_FUNCTIONS if functions is None else functions

    start = time.perf_counter()
    rows = []
    for first in range(first_trial, trials, runs_per_graph):
        k = min(runs_per_graph, trials - first)
        model = GMEQL(functions, runs=k if runs_per_graph > 1 else None, samples=samples,
                      offline_rule=offline_rule, elites=elites, steps_per_call=steps_per_call,
                      seed=int(seed) + first, **model_kwargs)
        callbacks = [] if memetic is None else [MemeticRefit(x, y, **memetic)]
        model.search(x, y, rounds=rounds, round_iterations=round_iterations,
                     iterations=iterations, stage1=stage1, verbose=verbose, callbacks=callbacks)
        rows += read_out(model, truth, symbols, x, y, test_domain, seed=int(seed) + first,
                         screen=screen, top=top, polish_steps=polish_steps,
                         tolerance=tolerance, refit=refit, refine=refine)
        if progress is not None:
            progress(k)
    wall = time.perf_counter() - start
    return {
        "expr": expr,
        "vars": names,
        "method": "gmeql",
        "train_domain": list(train_domain),
        "test_domain": list(test_domain),
        "n_train": n_train,
        "noise": noise,
        "seed": seed,
        "tolerance": tolerance,
        **summarize(rows),
        "wall_seconds": wall,
        "steps": int((rounds * round_iterations if stage1 else 0) + iterations),
        "settings": {
            "rounds": rounds, "round_iterations": round_iterations, "iterations": iterations,
            "samples": samples, "stage1": stage1, "elites": elites, "offline_rule": offline_rule,
            "functions": [list(f) for f in functions], "runs_per_graph": runs_per_graph,
            "top": top, "polish_steps": polish_steps, "refit": refit, "refine": refine,
            "memetic": memetic, "screen": screen,
        },
        "trials": rows,
    }
