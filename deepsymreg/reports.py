"""What the examples report: latent fits, figures and JSON files written safely."""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

__all__ = ["finite_or_none", "latent_fit", "write_json", "plot_latent", "plot_propagation", "progress_bar",
           "plot_coefficient_curves"]


def finite_or_none(value):
    """``value`` as a float for JSON, or None when it is missing or not finite (JSON has
    no inf or NaN)."""
    return float(value) if value is not None and np.isfinite(value) else None


def latent_fit(z, params):
    """Least-squares line ``param = slope * z + intercept`` and the correlation ``r``.

    Returns ``(slope, intercept, r)`` as floats.
    """
    z, params = np.asarray(z, float).ravel(), np.asarray(params, float).ravel()
    if z.shape != params.shape or z.size < 2:
        raise ValueError(
            "Invalid value for arguments `z`, `params`: expected two arrays of the same "
            f"size >= 2. Received sizes {z.size} and {params.size}."
        )
    slope, intercept = np.polyfit(z, params, 1)
    return float(slope), float(intercept), float(np.corrcoef(z, params)[0, 1])


def write_json(path, payload):
    """Write ``payload`` as JSON to ``path`` via a temporary file and a rename, so a
    failure never leaves half a file. Non-finite floats are refused (strict JSON)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2, allow_nan=False)
        # mkstemp creates the file private (0600); give it a normal file's mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_latent(ax, z, params, param_name, fit=None, label=None):
    """Scatter of the latent ``z`` against the true parameter, with the fitted line."""
    ax.scatter(params, z, s=6, alpha=0.6, label=label)
    if fit is not None:
        slope, intercept, r = fit
        grid = np.linspace(np.min(z), np.max(z), 50)
        ax.plot(slope * grid + intercept, grid, "k--", lw=1,
                label=f"{param_name} = {slope:.3f} z + {intercept:.3f} (r = {r:.3f})")
    ax.set_xlabel(f"true {param_name}")
    ax.set_ylabel("latent z")
    ax.legend(fontsize=7)


def plot_propagation(path, truth, predictions, train_horizon, state_names, dt=1.0,
                     latent=None, title=None):
    """Figure: latent vs. parameter (optional) and each state over time for one example.

    Args:
        path: where to save (PNG).
        truth: ``(T, n_state)`` true states ``1..T``.
        predictions: ``{label: (T, n_state)}``.
        train_horizon: the training ``T_y`` (a dotted line marks it).
        state_names: names of the state variables.
        dt: time step (x axis in time units).
        latent: optional ``(z, params, param_name, fit)`` for a first panel.
    """
    plt = pyplot()
    n = len(state_names) + (latent is not None)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4))
    axes = np.atleast_1d(axes)
    if latent is not None:
        plot_latent(axes[0], *latent[:3], fit=latent[3])
        axes = axes[1:]
    t = dt * np.arange(1, len(truth) + 1)
    for i, (ax, name) in enumerate(zip(axes, state_names)):
        ax.plot(t, truth[:, i], "k-", lw=2, label="true")
        for label, pred in predictions.items():
            ax.plot(t, pred[:, i], "--", label=label)
        ax.axvline(dt * train_horizon, color="gray", ls=":", lw=1)
        ax.set_xlabel("t")
        ax.set_ylabel(name)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def progress_bar(total_steps, enabled=True):
    """A callable that counts optimizer steps on one Keras progress bar (steps done, time
    left) over a whole run; None when not ``enabled``. NaN re-runs add steps beyond the
    plan; the bar stops at ``total_steps``."""
    if not enabled:
        return None
    import keras

    bar = keras.utils.Progbar(int(total_steps), unit_name="step")
    done = [0]

    def update(steps):
        done[0] = min(done[0] + int(steps), int(total_steps))
        bar.update(done[0])

    return update


def plot_coefficient_curves(path, t, learned, true=None, title=None, param="t"):
    """Learned coefficient curves (lines) against the true ones (dashed), one panel per
    term: the parametric-EQL paper's Figs. 3b/4b.

    ``learned`` and ``true`` map term keys (as
    :meth:`~deepsymreg.ParametricEQL.coefficient_curves` gives them) to arrays over
    ``t``; terms of the truth come first, then at most four others learned.
    """
    plt = pyplot()
    true = true or {}
    keys = [k for k in true if k in learned] + [k for k in learned if k not in true][:4]
    keys = keys or list(true)[:4]
    fig, axes = plt.subplots(1, max(len(keys), 1), figsize=(3.2 * max(len(keys), 1), 2.8),
                             squeeze=False)
    as_float = lambda values: [float("nan") if v is None else float(v) for v in values]  # noqa: E731
    for ax, key in zip(axes[0], keys):
        if key in learned:
            ax.plot(t, as_float(learned[key]), label="learned")
        if key in true:
            ax.plot(t, as_float(true[key]), "k--", label="true")
        ax.set_title(f"inner number {key}" if key.endswith("]") else f"coefficient of {key}",
                     fontsize=9)
        ax.set_xlabel(param)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
