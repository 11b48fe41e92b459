"""Dynamical-system data sets of Kim et al. (2020): kinematics and the harmonic oscillator.

Each example pairs two trajectories of one system with the same hidden parameter: the
*input* series ``x`` (``T_x`` steps, what a dynamics encoder sees) and a *prediction*
trajectory from other initial conditions: its initial state ``y0`` and the following
``T_y`` states ``y`` (what a propagating decoder must predict). States are
``(position, velocity)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from deepsymreg._validation import check_int

__all__ = ["DynamicsData", "kinematics", "sho", "euler_sho"]


@dataclasses.dataclass
class DynamicsData:
    """Arrays of a dynamics data set.

    Attributes:
        x: ``(n, T_x, 2)`` input series.
        y0: ``(n, 2)`` initial state of the prediction trajectory.
        y: ``(n, T_y, 2)`` states 1..T_y of the prediction trajectory.
        params: ``(n,)`` the hidden parameter (``a`` or ``omega^2``).
        dt: time step.
    """

    x: np.ndarray
    y0: np.ndarray
    y: np.ndarray
    params: np.ndarray
    dt: float


def _pack(states, starts, t_x, t_y, params, dt):
    """Input series from the first start, prediction trajectory from the second."""
    pred = states(starts[1], t_y + 1)
    return DynamicsData(
        x=states(starts[0], t_x).astype("float32"),
        y0=pred[:, 0].astype("float32"),
        y=pred[:, 1:].astype("float32"),
        params=params.astype("float32"),
        dt=float(dt),
    )


def kinematics(n=100, t_x=100, t_y=5, seed=None):
    """Constant acceleration: ``u' = u + v + a/2``, ``v' = v + a`` with ``dt = 1``.

    ``u0, v0, a ~ U(-1, 1)`` independently for both trajectories (``a`` shared). The
    states are exact: ``u(t) = u0 + v0 t + a t^2 / 2``, ``v(t) = v0 + a t``.
    """
    n, t_x, t_y = check_int("n", n), check_int("t_x", t_x), check_int("t_y", t_y, 0)
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, n)
    start = rng.uniform(-1, 1, (2, n, 2))  # (trajectory, example, [u0, v0])

    def states(u0v0, steps):
        t = np.arange(steps)[None, :]
        u = u0v0[:, :1] + u0v0[:, 1:] * t + 0.5 * a[:, None] * t**2
        v = u0v0[:, 1:] + a[:, None] * t
        return np.stack([u, v], axis=-1)

    return _pack(states, start, t_x, t_y, a, 1.0)


def sho(n=1000, t_x=500, t_y=25, dt=0.1, seed=None):
    """Simple harmonic oscillator ``u'' = -omega^2 u``, sampled every ``dt``.

    ``omega^2 ~ U(0.1, 1)`` (shared by both trajectories), ``u0, v0 ~ U(-1, 1)``. The
    states are the exact solution; :func:`euler_sho` gives the Euler baseline.
    """
    n, t_x, t_y = check_int("n", n), check_int("t_x", t_x), check_int("t_y", t_y, 0)
    if not float(dt) > 0:
        raise ValueError(f"Invalid value for argument `dt`: expected dt > 0. Received: dt={dt!r}")
    rng = np.random.default_rng(seed)
    omega2 = rng.uniform(0.1, 1.0, n)
    omega = np.sqrt(omega2)[:, None]
    start = rng.uniform(-1, 1, (2, n, 2))

    def states(u0v0, steps):
        t = dt * np.arange(steps)[None, :]
        u0, v0 = u0v0[:, :1], u0v0[:, 1:]
        u = u0 * np.cos(omega * t) + v0 / omega * np.sin(omega * t)
        v = -u0 * omega * np.sin(omega * t) + v0 * np.cos(omega * t)
        return np.stack([u, v], axis=-1)

    return _pack(states, start, t_x, t_y, omega2, dt)


def euler_sho(y0, omega2, steps, dt=0.1):
    """Forward-Euler propagation of the oscillator: ``(n, steps, 2)`` states 1..steps.

    ``u' = u + v dt``, ``v' = v - omega^2 u dt``: the first-order scheme the paper
    compares the learned propagator with.
    """
    steps = check_int("steps", steps, 0)
    state = np.asarray(y0, dtype=float).copy()
    omega2 = np.asarray(omega2, dtype=float)
    out = np.empty((state.shape[0], steps, 2))
    for i in range(steps):
        u, v = state[:, 0], state[:, 1]
        state = np.stack([u + v * dt, v - omega2 * u * dt], axis=-1)
        out[:, i] = state
    return out
