"""Accuracy, convergence and cost of the PDE data generators (the tables of docs/pde.md).

Run: ``python benchmarks/pde_accuracy.py`` (about a minute on 2 cores). Prints Markdown.
"""

from __future__ import annotations

import time

import numpy as np

from deepsymreg.data.pde import (
    SMOOTHING, PeriodicGrid, advection_diffusion, burgers, solve_periodic,
)

GENERATORS = {"advection-diffusion": advection_diffusion, "Burgers": burgers}


def _rel(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(b**2)))


def exact_solutions():
    rows = []
    g = PeriodicGrid(128, 0.0, 2 * np.pi)
    t = np.linspace(0, 1, 3)
    u = solve_periodic(g, np.sin(g.x) + 0.3 * np.cos(5 * g.x), t, diffusion=0.5, dt=0.5)
    exact = np.exp(-0.5 * t)[:, None] * np.sin(g.x) + 0.3 * np.exp(-12.5 * t)[:, None] * np.cos(5 * g.x)
    rows.append(("heat, u_t = 0.5 u_xx, two modes, n = 128, dt = 0.5, t = 1", np.abs(u - exact).max()))
    g = PeriodicGrid(64, 0.0, 2 * np.pi)
    t = np.linspace(0, 2, 5)
    u = solve_periodic(g, np.exp(np.sin(g.x)), t, nonlinear=lambda v, _: -0.7 * g.diff(v), dt=0.01)
    exact = np.exp(np.sin(g.x[None, :] - 0.7 * t[:, None]))
    rows.append(("travelling wave exp(sin(x - 0.7 t)), n = 64, dt = 0.01, t = 2", np.abs(u - exact).max()))
    print("| exact solution | max error |\n|---|---|")
    for name, err in rows:
        print(f"| {name} | {err:.1e} |")


def time_convergence():
    print("\n| equation (full grid) | dt | max error vs dt/64 reference | observed order |\n|---|---|---|---|")
    for name, make, steps in (("advection-diffusion", advection_diffusion, (0.005, 0.0025, 0.00125)),
                              ("Burgers", burgers, (0.04, 0.02, 0.01, 0.005))):
        reference = make(dt=steps[0] / 64).u
        previous = None
        for h in steps:
            err = np.abs(make(dt=h).u - reference).max()
            order = "" if previous is None else f"{np.log2(previous / err):.2f}"
            print(f"| {name} | {h:g} | {err:.1e} | {order} |")
            previous = err


def space_and_consistency():
    print("\n| equation | max \\|u(n_x) - u(2 n_x)\\| | max \\|u_t - law on stored terms\\| "
          "| max \\|u_t - central difference\\| / max \\|u_t\\| | wall time (s) |\n|---|---|---|---|---|")
    for name, make in GENERATORS.items():
        start = time.perf_counter()
        d = make()
        wall = time.perf_counter() - start
        fine = make(n_x=2 * d.x.size).u[:, ::2]
        step = d.t[1] - d.t[0]
        central = (d.u[2:] - d.u[:-2]) / (2 * step)
        fd = np.abs(central - d.u_t[1:-1]).max() / np.abs(d.u_t).max()
        print(f"| {name} ({d.u.shape[1]} x {d.u.shape[0]}) | {np.abs(fine - d.u).max():.1e} | "
              f"{np.abs(d.true_u_t() - d.u_t).max():.1e} | {fd:.1e} | {wall:.2f} |")


def noise():
    print("\n| equation | smoothing | u_x | u_xx | u_xxx | u_t | law residual | wall time (s) |\n"
          "|---|---|---|---|---|---|---|---|")
    for name, make in GENERATORS.items():
        clean = make()
        for smoothing in SMOOTHING:
            start = time.perf_counter()
            d = make(noise=0.01, seed=0, smoothing=smoothing)
            wall = time.perf_counter() - start
            errs = " | ".join(f"{_rel(getattr(d, k), getattr(clean, k)):.3f}"
                              for k in ("u_x", "u_xx", "u_xxx", "u_t"))
            print(f"| {name} | {smoothing} | {errs} | {_rel(d.true_u_t(), d.u_t):.3f} | {wall:.2f} |")


if __name__ == "__main__":
    exact_solutions()
    time_convergence()
    space_and_consistency()
    noise()
