"""What the examples report: latent fits, figures, JSON files written safely, and one
progress bar over a run with TensorFlow's native log off the terminal (:func:`run_script`)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import tempfile

import keras
import numpy as np

__all__ = ["finite_or_none", "latent_fit", "write_json", "locked", "plot_latent", "plot_propagation",
           "progress_bar", "on_terminal", "line_printer", "StepProgress", "run_script",
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


def save_outputs(result, json_path=None, figure_path=None, plot=None, say=print):
    """An example's outputs: ``plot(result, figure_path)`` and ``result`` as JSON, each
    when its path is given (folders created), each announced with ``say``."""
    if figure_path:
        os.makedirs(os.path.dirname(os.path.abspath(figure_path)), exist_ok=True)
        plot(result, figure_path)
        say(f"wrote {figure_path}")
    if json_path:
        os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
        write_json(json_path, result)
        say(f"wrote {json_path}")


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


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on ``path`` (through a ``path + ".lock"`` file) for the body
    of a ``with``, so processes that read, change and rewrite one JSON file take turns.
    Advisory (``fcntl.flock``); where ``fcntl`` does not exist (Windows) it does nothing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.abspath(path) + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    plan; the bar stops at ``total_steps``. Its ``write(text)`` prints lines above the
    bar (a plain ``print`` would run into it)."""
    return _ProgressBar(total_steps) if enabled else None


def on_terminal(quiet=False):
    """Whether a script shows its progress bar: stdout is a terminal and not ``--quiet``."""
    return not quiet and sys.stdout.isatty()


def line_printer(progress):
    """How a script prints a line while ``progress`` may run: above its bar, or (no bar)
    a flushed ``print``."""
    return progress.write if progress else functools.partial(print, flush=True)


class _ProgressBar:
    """What :func:`progress_bar` returns: ``bar(steps)`` adds steps; ``bar.write(text)``."""

    def __init__(self, total_steps):
        self.total = int(total_steps)
        self.done = 0
        self._bar = keras.utils.Progbar(self.total, unit_name="step")

    def __call__(self, steps):
        done = min(self.done + int(steps), self.total)
        if done > self.done:  # a full bar is drawn once
            self.done = done
            self._bar.update(done)

    def write(self, text):
        """Print ``text`` on lines of its own above the bar, which goes on below it."""
        sys.stdout.write(f"\r\x1b[K{text}\n")  # \x1b[K: erase the bar's line
        sys.stdout.flush()
        if 0 < self.done < self.total:
            self._bar.update(self.done)


class StepProgress(keras.callbacks.Callback):
    """A Keras callback passing the optimizer steps of every training batch, times
    ``scale`` (restarts trained together), to ``progress`` (a :func:`progress_bar`;
    None: nothing). One ``progress`` shared by several ``model.fit`` calls shows one bar
    over all of them when its total counts all their steps."""

    def __init__(self, progress, scale=1):
        super().__init__()
        self.progress, self.scale = progress, int(scale)

    def on_train_begin(self, logs=None):
        self._last = int(self.model.optimizer.iterations)

    def on_train_batch_end(self, batch, logs=None):
        if self.progress is not None:
            step = int(self.model.optimizer.iterations)
            self.progress(self.scale * max(step - self._last, 0))
            self._last = step


def run_script(main):
    """Run a script's ``main()`` as the ``deepsymreg`` command runs: TensorFlow's native
    log lines (descriptor 2) go to a temporary file for the whole run, Python's own
    stderr (errors, argparse messages) stays on the terminal; returns the exit code.

    With the switch set before the script imports deepsymreg, the import's lines go
    too (set ``DEEPSYMREG_HIDE_NATIVE_LOG=0`` to see them)::

        if __name__ == "__main__":
            os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")
        ...
        if __name__ == "__main__":
            raise SystemExit(run_script(main))
    """
    from deepsymreg import _startup

    with _startup.native_stderr_to_file(_startup.hide_native_log()):
        try:
            return main()
        except SystemExit as stop:  # argparse: exit inside the block, not a failure
            return stop.code


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
