"""Discover a PDE whose coefficients vary in space or time (Zhang et al. 2022, §III-B).

Data from our pseudo-spectral solver (``deepsymreg.data.pde``, see docs/pde.md):

- ``advection-diffusion``: ``u_t = c'(x) u + c(x) u_x + 0.1 u_xx``,
  ``c(x) = -1.5 + cos(2 pi x / 5)``, coefficients varying in x (Table III, Figs. 5, 13);
- ``burgers``: ``u_t = f(t) u u_x + 0.1 u_xx``, ``f(t) = -(1 + sin(t) / 4)``, varying in t
  (Table VII, Figs. 6, 14).

The parametric EQL sees ``u, u_x, u_xx, u_xxx`` (not their products) and the varying
coordinate, and fits ``u_t``: one weight set per grid step (``--method stacked``, SEQL)
or weights made by a small network of the coordinate (``--method meta``, PEQL). A
PDE law here is linear in the features and in products of two of them, so the network is
one hidden layer of identity and product units with skip connections (measured against
depth 2 in docs/pde.md). Features and target are scaled to unit RMS for training and
the equation is read back in physical units. At every grid step a random 20% of the
points is held out; ``--trials`` restarts train in one graph and the one with the lowest
held-out error is selected (``--select simplest``: the fewest terms among those within
1.5x of it). With ``--noise``, derivatives come from the generator's spectral smoothing and
the 10 first and last times (one-sided fits of ``u_t``) are dropped. Prints the selected equation at the paper's coordinate
values (nearest grid step for the stacked method) beside the true one and the paper's;
plots the learned coefficient curves against the true ones. A progress bar shows on a
terminal (``--quiet``: none).

    python examples/parametric_pde.py --equation burgers --method stacked [--quick]
        [--noise 0.01] [--trials 8] [--steps 20000] [--select lowest|simplest]
        [--json PATH] [--figure PATH] [--quiet]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

import numpy as np  # noqa: E402
import sympy  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg.data import advection_diffusion, burgers  # noqa: E402
from deepsymreg.data.pde import FEATURES, parametric_layout  # noqa: E402
from deepsymreg.reports import on_terminal, progress_bar, run_script, save_outputs  # noqa: E402

EQUATIONS = ("advection-diffusion", "burgers")
METHODS = ("stacked", "meta")

#: The paper's coordinate values and selected equations (Tables III and VII).
PAPER = {
    "advection-diffusion": {
        "at": (-4.375, -1.875, 0.625, 3.125),
        "true": ["-0.89u - 0.79u_x + 0.10u_xx", "0.89u - 2.21u_x + 0.10u_xx",
                 "-0.89u - 0.79u_x + 0.10u_xx", "0.89u - 2.21u_x + 0.10u_xx"],
        "stacked": ["-0.86u - 0.77u_x + 0.11u_xx", "0.83u - 2.14u_x + 0.07u_xx",
                    "-0.86u - 0.77u_x + 0.11u_xx", "0.83u - 2.14u_x + 0.07u_xx"],
        "meta": ["-0.86u - 0.76u_x + 0.11u_xx", "0.86u - 2.16u_x + 0.09u_xx",
                 "-0.86u - 0.77u_x + 0.11u_xx", "0.88u - 2.17u_x + 0.10u_xx"],
    },
    "burgers": {
        "at": (0.627, 3.137, 5.647, 8.157),
        "true": ["-1.15uu_x + 0.10u_xx", "-1.00uu_x + 0.10u_xx", "-0.85uu_x + 0.10u_xx",
                 "-1.24uu_x + 0.10u_xx"],
        "stacked": ["-1.15uu_x + 0.10u_xx", "-1.00uu_x + 0.10u_xx", "-0.86uu_x + 0.10u_xx",
                    "-1.24uu_x + 0.10u_xx"],
        "meta": ["-1.16uu_x + 0.10u_xx", "-1.01uu_x + 0.10u_xx", "-0.85uu_x + 0.10u_xx",
                 "-1.25uu_x + 0.10u_xx"],
    },
}

#: Settings of a run: the paper's grids (full) and a smaller problem for --quick.
SETTINGS = {
    "full": {
        "advection-diffusion": {"n_x": 256, "n_t": 512},
        "burgers": {"n_x": 512, "n_t": 256},
        "trials": 8, "steps": 20000, "batch_per_step": 32,
    },
    "quick": {
        "advection-diffusion": {"n_x": 64, "n_t": 128},
        "burgers": {"n_x": 256, "n_t": 64},
        "trials": 8, "steps": 10000, "batch_per_step": 32,
    },
}
#: The network: one hidden layer of identity and product units (skip connections on).
DEPTH = 1
PRIMITIVES = ["identity"] * 2 + ["product"] * 4
HOLDOUT = 0.2


#: With noise, the first and last this many times are dropped: there the generator's
#: local polynomial fit of ``u_t`` (half window 10) is one-sided (Rudy et al. drop them too).
NOISE_TRIM = 10


def make_data(equation, n_x, n_t, noise=0.0, seed=0):
    """The solved PDE (:class:`~deepsymreg.data.pde.PDEData`); with noise, without the
    :data:`NOISE_TRIM` first and last times."""
    generator = advection_diffusion if equation == "advection-diffusion" else burgers
    data = generator(n_x=n_x, n_t=n_t, noise=noise, seed=seed)
    if noise == 0 or n_t <= 2 * NOISE_TRIM + 1:
        return data
    keep = slice(NOISE_TRIM, n_t - NOISE_TRIM)
    fields = {name: getattr(data, name)[keep] for name in ("u", "u_x", "u_xx", "u_xxx", "u_t")}
    coefficients = data.coefficients
    if data.varying == "t":
        coefficients = {term: curve[keep] for term, curve in coefficients.items()}
    return dataclasses.replace(data, t=data.t[keep], coefficients=coefficients, **fields)


def law_on(data, features, steps):
    """The true law on physical ``features (N, n, len(FEATURES))`` laid out by grid step."""
    total = np.zeros(features.shape[:-1])
    for term, curve in data.coefficients.items():
        value = np.ones(features.shape[:-1])
        for factor in term.split("*"):
            value = value * features[..., FEATURES.index(factor)]
        total += np.asarray(curve)[steps][:, None] * value
    return total


def split_steps(inputs, targets, fraction=HOLDOUT, seed=0):
    """A random ``fraction`` of the points of every grid step held out (per step)."""
    n, per = inputs.shape[:2]
    n_held = max(1, int(round(fraction * per)))
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n, per)), axis=1)
    held, train = order[:, :n_held], order[:, n_held:]
    take = lambda a, idx: np.take_along_axis(a, idx[..., None], axis=1)  # noqa: E731
    return (take(inputs, train), take(targets, train)), (take(inputs, held), take(targets, held))


def physical(expr, symbols, feature_scale, target_scale):
    """An equation read on scaled features (``v_i = f_i / s_i``, ``y = u_t / s_t``) in the
    physical features: ``s_t * expr(f_i / s_i)`` (the read-out's threshold applied to the
    scaled coefficients)."""
    subs = {s: s / scale for s, scale in zip(symbols, feature_scale)}
    return sympy.expand(target_scale * expr.xreplace(subs))


def select(held_mse, trial_terms, select_by="lowest", tie=1.5):
    """The selected restart: the lowest held-out error (``"lowest"``), or the fewest terms
    among the restarts within ``tie`` times the lowest error, then the lowest error
    (``"simplest"``, the near-tie rule of :func:`deepsymreg.parametric.run_parametric`)."""
    finite = [k for k in range(len(held_mse)) if np.isfinite(held_mse[k])]
    if not finite:
        raise RuntimeError("Every restart diverged (non-finite held-out error).")
    lowest = min(finite, key=lambda k: held_mse[k])
    if select_by == "lowest":
        return lowest
    tied = [k for k in finite if held_mse[k] <= tie * held_mse[lowest]]
    return min(tied, key=lambda k: (len(trial_terms[k]), held_mse[k]))


def true_equation(data, at):
    """The true law at ``at`` (a SymPy expression; the curves interpolated on the grid)."""
    symbols = {name: sympy.Symbol(name) for name in FEATURES}
    total = sympy.Integer(0)
    for term, curve in data.coefficients.items():
        value = sympy.Integer(1)
        for factor in term.split("*"):
            value *= symbols[factor]
        total += sympy.Float(float(np.interp(at, data.grid, curve))) * value
    return total


def run(equation, method, quick=False, noise=0.0, trials=None, steps=None, seed=0,
        depth=DEPTH, primitives=None, grid=None, batch_per_step=None, scale=True,
        threshold=0.01, select_by="lowest", verbose=0, progress=None):
    """Generate, lay out, train, select and read one PDE; returns the JSON-ready result.

    ``grid`` overrides the data grid ``{"n_x": ..., "n_t": ...}`` (the tests' tiny
    setting); the other arguments override :data:`SETTINGS`. ``progress`` (a
    :func:`~deepsymreg.reports.progress_bar`) hears of the optimizer steps.
    """
    from deepsymreg.parametric import train_parametric

    start = time.time()
    settings = SETTINGS["quick" if quick else "full"]
    size = dict(settings[equation], **(grid or {}))
    trials = trials or settings["trials"]
    steps = steps or settings["steps"]
    batch_per_step = batch_per_step or settings["batch_per_step"]
    primitives = list(primitives or PRIMITIVES)

    data = make_data(equation, size["n_x"], size["n_t"], noise=noise, seed=seed)
    inputs, targets, coord = parametric_layout(data, FEATURES)
    n_feat = len(FEATURES)
    if scale:
        feature_scale = np.sqrt(np.mean(inputs[..., :n_feat].astype(float) ** 2, axis=(0, 1)))
        target_scale = float(np.sqrt(np.mean(targets.astype(float) ** 2)))
    else:
        feature_scale, target_scale = np.ones(n_feat), 1.0
    scaled = inputs.copy()
    scaled[..., :n_feat] /= feature_scale.astype("float32")
    (x_train, y_train), (x_held, y_held) = split_steps(
        scaled, targets / np.float32(target_scale), HOLDOUT, seed)
    data_seconds = time.time() - start

    model = train_parametric(
        x_train, y_train, method=method, trials=trials, seed=seed, steps=steps,
        batch_per_step=batch_per_step, primitives=primitives, depth=depth,
        t_range=(float(coord[0]), float(coord[-1])), verbose=verbose, progress=progress)
    train_seconds = time.time() - start - data_seconds

    pred = np.asarray(model(x_held, training=False)).reshape(trials, *y_held.shape)
    with np.errstate(all="ignore"):
        held_mse = np.mean((pred - y_held[None]) ** 2, axis=(1, 2, 3))
    held_mse = np.where(np.isfinite(held_mse), held_mse, np.inf)
    # The true law's error on the same held-out points (not 0 with noise): a floor.
    truth = law_on(data, x_held[..., :n_feat] * feature_scale, np.arange(coord.size))
    law_mse = float(np.mean((truth / target_scale - y_held[..., 0]) ** 2))
    symbols = [sympy.Symbol(name) for name in FEATURES]

    def read(k, at):
        expr = model.to_sympy(list(FEATURES), threshold=threshold, trial=k, t=float(at))
        return physical(expr, symbols, feature_scale, target_scale)

    # Every restart read on every grid step: its terms and coefficient curves.
    read_start = time.time()
    all_readings = [[symbolic.term_coefficients(read(k, c)) for c in coord]
                    if np.isfinite(held_mse[k]) else None for k in range(trials)]
    trial_terms = [None if r is None else sorted({key for step in r for key in step})
                   for r in all_readings]
    read_seconds = time.time() - read_start

    def curves(k):
        keys = list(data.coefficients) + [t for t in trial_terms[k] if t not in data.coefficients]
        out, rmse = {}, {}
        for key in keys:
            learned = np.array([r[key][0] if key in r else 0.0 for r in all_readings[k]])
            true = np.asarray(data.coefficients.get(key, np.zeros(coord.size)), dtype=float)
            out[key] = {"true": true.tolist(), "learned": learned.tolist()}
            if key in data.coefficients:
                rmse[key] = float(np.sqrt(np.mean((learned - true) ** 2) / np.mean(true**2)))
        return out, rmse

    best = select(held_mse, trial_terms, select_by)
    coefficients, rmse = curves(best)
    learned_terms = trial_terms[best]
    terms_found = list(learned_terms)

    report = PAPER[equation]
    equations, table = {}, []
    for i, at in enumerate(report["at"]):
        j = int(np.argmin(np.abs(coord - at)))
        where = float(coord[j]) if method == "stacked" else float(at)
        ours = symbolic.rounded(read(best, where), 3)
        equations[f"{where:.4g}"] = str(ours)
        table.append((where, str(symbolic.rounded(true_equation(data, where), 3)), str(ours),
                      report[method][i]))
    rng = np.random.default_rng(seed)
    sample = rng.choice(y_held.size, size=min(1000, y_held.size), replace=False)
    actual = y_held.reshape(-1)[sample] * target_scale
    predicted = pred[best].reshape(-1)[sample] * target_scale
    return {
        "equations": equations,
        "coefficients": coefficients,
        "coefficient_rmse": rmse,
        "terms_found": terms_found,
        "wall_seconds": time.time() - start,
        "run": {
            "equation": equation,
            "method": method,
            "quick": bool(quick),
            "noise": float(noise),
            "smoothing": data.smoothing,
            "true_terms": sorted(data.coefficients),
            "table": table,
            "selected_trial": best,
            "select_by": select_by,
            "trial_coefficient_rmse": [None if t is None else curves(k)[1]
                                       for k, t in enumerate(trial_terms)],
            "held_out_mse": [float(m) if np.isfinite(m) else None for m in held_mse],
            "true_law_held_out_mse": law_mse,
            "trial_terms": trial_terms,
            "grid": coord.tolist(),
            "settings": {**size, "trials": trials, "steps": steps,
                         "batch_per_step": batch_per_step, "depth": depth,
                         "primitives": primitives, "scaled": bool(scale), "holdout": HOLDOUT,
                         "seed": seed, "threshold": threshold},
            "feature_scale": dict(zip(FEATURES, map(float, feature_scale))),
            "target_scale": target_scale,
            "seconds": {"data": data_seconds, "train": train_seconds, "read": read_seconds},
            "held_out_sample": {"actual": [float(f"{v:.5g}") for v in actual],
                                "predicted": [float(f"{v:.5g}") for v in predicted]},
        },
    }


def plot(result, path):
    """The paper's Figs. 5/6 (b): learned coefficient curves against the true ones and
    their errors, one column per term (spurious terms: true curve 0), and the predicted
    against the actual ``u_t`` on held-out points (Figs. 5/6 (a))."""
    from deepsymreg.reports import pyplot

    plt = pyplot()
    run = result["run"]
    grid = np.asarray(run["grid"])
    coord = "x" if run["equation"] == "advection-diffusion" else "t"
    keys = list(result["coefficients"])
    fig, axes = plt.subplots(2, len(keys) + 1, figsize=(3.0 * (len(keys) + 1), 5.2), squeeze=False)
    for col, key in enumerate(keys):
        curve = result["coefficients"][key]
        true, learned = np.asarray(curve["true"]), np.asarray(curve["learned"])
        top, bottom = axes[0][col], axes[1][col]
        top.plot(grid, learned, label="learned")
        top.plot(grid, true, "k--", label="true")
        title = key if key in run["true_terms"] else f"{key} (spurious)"
        top.set_title(f"coefficient of {title}", fontsize=9)
        bottom.plot(grid, learned - true, color="C3")
        bottom.set_title("learned - true", fontsize=9)
        bottom.set_xlabel(coord)
    axes[0][0].legend(fontsize=8)
    scatter = run["held_out_sample"]
    ax = axes[0][-1]
    ax.plot(scatter["actual"], scatter["predicted"], ".", ms=1.5, alpha=0.5)
    lo, hi = min(scatter["actual"]), max(scatter["actual"])
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_title("held-out u_t", fontsize=9)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    axes[1][-1].axis("off")
    noise = f", {result['run']['noise']:.0%} noise" if result["run"]["noise"] else ""
    fig.suptitle(f"{run['equation']} ({run['method']}{noise}): "
                 f"terms {', '.join(result['terms_found'])}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report(result):
    """The printed comparison: our equations beside the true ones and the paper's."""
    run = result["run"]
    s = run["settings"]
    coord = "x" if run["equation"] == "advection-diffusion" else "t"
    label = {"stacked": "SEQL", "meta": "PEQL"}[run["method"]]
    noise = f"{run['noise']:.0%} noise ({run['smoothing']})" if run["noise"] else "clean data"
    lines = [
        f"{run['equation']}, {run['method']} ({label}), {noise}: {s['trials']} restarts "
        f"of {s['steps']} steps, {s['n_x']} x {s['n_t']} grid, {result['wall_seconds']:.0f} s",
        f"  {coord:>8}  {'true':<32} {'ours':<44} paper ({label})",
    ]
    for at, true, ours, paper in run["table"]:
        lines.append(f"  {at:>8.4g}  {true:<32} {ours:<44} {paper}")
    exact = sum(t == run["true_terms"] for t in run["trial_terms"])
    lines.append(f"  terms found: {result['terms_found']} (true: {run['true_terms']}); "
                 f"restarts with exactly the true terms: {exact}/{s['trials']}; "
                 f"selected restart {run['selected_trial']} (rule: {run['select_by']})")
    held = run["held_out_mse"][run["selected_trial"]]
    lines.append(f"  held-out MSE (u_t over its RMS, squared): selected {held:.3g}, "
                 f"true law on the same data {run['true_law_held_out_mse']:.3g}")
    lines.append("  coefficient relative RMSE: " + ", ".join(
        f"{k} {v:.4f}" for k, v in result["coefficient_rmse"].items()))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--equation", choices=EQUATIONS, required=True)
    parser.add_argument("--method", choices=METHODS, required=True)
    parser.add_argument("--quick", action="store_true",
                        help="a smaller grid, fewer restarts and steps (under 3 minutes)")
    parser.add_argument("--noise", type=float, default=0.0,
                        help="noise on u as a fraction of std(u) (e.g. 0.01); derivatives "
                             "then by the generator's spectral smoothing")
    parser.add_argument("--trials", type=int, default=None, help="restarts (default 8)")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimizer steps per restart (default 20000; quick 10000)")
    parser.add_argument("--select", choices=("lowest", "simplest"), default="lowest",
                        help="the restart kept: the lowest held-out error (default), or the "
                             "fewest terms among those within 1.5x of it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", dest="json_path", help="write the results here")
    parser.add_argument("--figure", help="save the coefficient-curve figure here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--n-x", type=int, default=None, help=argparse.SUPPRESS)  # tests
    parser.add_argument("--n-t", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("trials", "steps", "n_x", "n_t"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"argument --{name.replace('_', '-')}: expected a positive integer, got {value}")
    if args.noise < 0:
        parser.error(f"argument --noise: expected a value >= 0, got {args.noise}")
    grid = {k: v for k, v in (("n_x", args.n_x), ("n_t", args.n_t)) if v is not None}
    settings = SETTINGS["quick" if args.quick else "full"]
    trials, steps = args.trials or settings["trials"], args.steps or settings["steps"]
    result = run(args.equation, args.method, quick=args.quick, noise=args.noise,
                 trials=trials, steps=steps, seed=args.seed, grid=grid, select_by=args.select,
                 progress=progress_bar(trials * steps, on_terminal(args.quiet)))
    print(report(result))
    save_outputs(result, args.json_path, args.figure, plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
