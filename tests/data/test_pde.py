"""PDE data: the spectral solver against exact solutions, its order, the generators' terms,
targets, layout and noise handling, and argument errors."""

import math

import numpy as np
import pytest

from deepsymreg.data import PDEData, advection_diffusion, burgers, parametric_layout
from deepsymreg.data.pde import PeriodicGrid, poly_derivatives, solve_periodic, spectral_filter


def _rel(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(b**2)))


def test_spectral_derivatives_are_exact_for_trigonometric_polynomials():
    g = PeriodicGrid(32, -5.0, 5.0)
    w = 2 * np.pi / 10
    u = np.sin(3 * w * g.x) + 0.5 * np.cos(w * g.x)
    np.testing.assert_allclose(g.diff(u), 3 * w * np.cos(3 * w * g.x) - 0.5 * w * np.sin(w * g.x), atol=1e-12)
    np.testing.assert_allclose(g.diff(u, 2), -9 * w**2 * np.sin(3 * w * g.x) - 0.5 * w**2 * np.cos(w * g.x),
                               atol=1e-12)
    np.testing.assert_allclose(g.diff(u, 3), -27 * w**3 * np.cos(3 * w * g.x) + 0.5 * w**3 * np.sin(w * g.x),
                               atol=1e-11)


def test_heat_equation_fourier_modes_decay_exactly():
    # u_t = eps u_xx: each mode decays as exp(-eps k^2 t); the exponential integrator is
    # exact for the linear part, even with a step far beyond explicit stability
    # (eps k_max^2 dt = 0.5 * 64^2 * 0.5 = 1024).
    g = PeriodicGrid(128, 0.0, 2 * np.pi)
    eps, t = 0.5, np.linspace(0, 1, 3)
    u = solve_periodic(g, np.sin(g.x) + 0.3 * np.cos(5 * g.x), t, diffusion=eps, dt=0.5)
    exact = (np.exp(-eps * t)[:, None] * np.sin(g.x) + 0.3 * np.exp(-25 * eps * t)[:, None] * np.cos(5 * g.x))
    np.testing.assert_allclose(u, exact, atol=1e-13)


def test_travelling_wave_and_damped_travelling_mode():
    g = PeriodicGrid(64, 0.0, 2 * np.pi)
    a, t = 0.7, np.linspace(0, 2, 5)
    u0 = np.exp(np.sin(g.x))  # smooth, many Fourier modes
    u = solve_periodic(g, u0, t, nonlinear=lambda v, _: -a * g.diff(v), dt=0.01)
    exact = np.exp(np.sin(g.x[None, :] - a * t[:, None]))
    assert np.abs(u - exact).max() < 1e-8
    # u_t = -a u_x + eps u_xx, one mode: exp(-eps k^2 t) sin(k (x - a t)), stiff diffusion.
    g = PeriodicGrid(256, 0.0, 2 * np.pi)
    k, eps = 3, 1.0
    u = solve_periodic(g, np.sin(k * g.x), t, nonlinear=lambda v, _: -a * g.diff(v), diffusion=eps, dt=0.02)
    amplitude = np.exp(-eps * k**2 * t)
    exact = amplitude[:, None] * np.sin(k * (g.x[None, :] - a * t[:, None]))
    assert np.all(np.abs(u - exact).max(1) < 1e-5 * amplitude)


@pytest.mark.parametrize("make, n_x", [(burgers, 64), (advection_diffusion, 64)])
def test_time_integrator_is_fourth_order(make, n_x):
    # Self-convergence on a coarse grid (same space discretization): halving dt divides
    # the error by about 2^4. Burgers' f(t) also checks the stages' times.
    kwargs = dict(n_x=n_x, n_t=5, t_end=2.0)
    reference = make(dt=0.1 / 32, **kwargs).u
    errors = [np.abs(make(dt=h, **kwargs).u - reference).max() for h in (0.1, 0.05, 0.025)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 3.6) & (orders < 4.5)), (errors, orders)


@pytest.mark.parametrize("make", [advection_diffusion, burgers])
def test_u_t_matches_the_time_derivative_of_the_stored_u(make):
    d = make(n_x=128, n_t=201, t_end=2.0)
    step = d.t[1] - d.t[0]
    central = (d.u[2:] - d.u[:-2]) / (2 * step)
    assert np.abs(central - d.u_t[1:-1]).max() < 1e-3 * np.abs(d.u_t).max()
    # The expanded law on the stored terms is the spectral right-hand side.
    np.testing.assert_allclose(d.true_u_t(), d.u_t, atol=1e-10)


def test_advection_diffusion_fields_and_coefficients():
    d = advection_diffusion(n_x=32, n_t=20, t_end=1.0)
    assert isinstance(d, PDEData) and d.varying == "x" and d.noise == 0
    np.testing.assert_allclose(d.x, -5 + 10 * np.arange(32) / 32)
    np.testing.assert_allclose(d.t, np.linspace(0, 1, 20))
    for name in ("u", "u_x", "u_xx", "u_xxx", "u_t"):
        assert getattr(d, name).shape == (20, 32)
    np.testing.assert_allclose(d.u[0], np.cos(2 * np.pi * d.x / 5), atol=1e-14)
    c = -1.5 + np.cos(2 * np.pi * d.x / 5)
    assert sorted(d.coefficients) == ["u", "u_x", "u_xx"]
    np.testing.assert_allclose(d.coefficients["u_x"], c)
    np.testing.assert_allclose(d.coefficients["u"], -(2 * np.pi / 5) * np.sin(2 * np.pi * d.x / 5))
    np.testing.assert_allclose(d.coefficients["u_xx"], 0.1)
    np.testing.assert_allclose(d.grid, d.x)
    g = PeriodicGrid(32, -5, 5)
    np.testing.assert_allclose(d.u_xx, g.diff(d.u, 2), atol=1e-12)  # spectral, not FD


def test_burgers_fields_and_coefficients():
    d = burgers(n_x=64, n_t=11, t_end=1.0)
    assert d.varying == "t" and d.u.shape == (11, 64)
    np.testing.assert_allclose(d.x, -8 + 16 * np.arange(64) / 64)
    np.testing.assert_allclose(d.u[0], np.exp(-(d.x + 1) ** 2), atol=1e-14)
    assert sorted(d.coefficients) == ["u*u_x", "u_xx"]
    np.testing.assert_allclose(d.coefficients["u*u_x"], -(1 + np.sin(d.t) / 4))
    np.testing.assert_allclose(d.term("u*u_x"), d.u * d.u_x)
    np.testing.assert_allclose(d.grid, d.t)


def test_parametric_layout_puts_the_varying_coordinate_last():
    ad = advection_diffusion(n_x=16, n_t=10, t_end=0.5)
    inputs, targets, grid = parametric_layout(ad)
    assert inputs.shape == (16, 10, 5) and targets.shape == (16, 10, 1) and inputs.dtype == np.float32
    np.testing.assert_allclose(grid, ad.x)
    np.testing.assert_allclose(inputs[3, :, 2], ad.u_xx[:, 3], rtol=1e-6)  # step 3 = x_3
    np.testing.assert_allclose(inputs[3, :, -1], ad.x[3], rtol=1e-6)
    np.testing.assert_allclose(targets[3, :, 0], ad.u_t[:, 3], rtol=1e-5, atol=1e-6)

    b = burgers(n_x=32, n_t=6, t_end=0.5)
    inputs, targets, grid = b.layout(["u", "u*u_x", "u_xx"])
    assert inputs.shape == (6, 32, 4) and targets.shape == (6, 32, 1)
    np.testing.assert_allclose(inputs[2, :, 1], b.u[2] * b.u_x[2], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(inputs[2, :, -1], b.t[2], rtol=1e-6)


def test_poly_derivatives_are_exact_for_polynomials_up_to_the_edges():
    s = np.linspace(0.0, 2.0, 41)
    u = 1 + s - 2 * s**2 + 0.5 * s**3 + 0.25 * s**4
    d1, d2, d3 = poly_derivatives(u, s[1] - s[0], (1, 2, 3), degree=4, width=5, periodic=False)
    np.testing.assert_allclose(d1, 1 - 4 * s + 1.5 * s**2 + s**3, atol=1e-9)
    np.testing.assert_allclose(d2, -4 + 3 * s + 3 * s**2, atol=1e-8)
    np.testing.assert_allclose(d3, 3 + 6 * s, atol=1e-6)


@pytest.mark.parametrize("make", [advection_diffusion, burgers])
def test_noisy_derivatives_stay_near_the_clean_ones(make):
    # Full-size grids: measured relative RMS errors (docs/pde.md) with some slack.
    clean = make()
    limits = {  # smoothing -> (u_x, u_xx, u_t)
        "spectral": (0.03, 0.12, 0.04),
        "poly": (0.05, 0.4, 0.1),
    }
    for smoothing, (lx, lxx, lt) in limits.items():
        noisy = make(noise=0.01, seed=3, smoothing=smoothing)
        assert noisy.noise == 0.01 and "polynomial" in noisy.smoothing
        assert 0.005 < _rel(noisy.u, clean.u) < 0.011  # 1% of std(u), not of rms(u)
        errors = [_rel(getattr(noisy, k), getattr(clean, k)) for k in ("u_x", "u_xx", "u_t")]
        assert np.all(np.array(errors) < [lx, lxx, lt]), (smoothing, errors)
        assert np.all(np.isfinite(noisy.u_xxx))
    spectral = make(noise=0.01, seed=3)
    assert _rel(spectral.u_xx, clean.u_xx) < _rel(make(noise=0.01, seed=3, smoothing="poly").u_xx, clean.u_xx)


def test_spectral_filter_removes_noise_and_keeps_the_signal():
    g = PeriodicGrid(256, 0.0, 2 * np.pi)
    rng = np.random.default_rng(0)
    clean = np.stack([np.sin(g.x + p) + 0.2 * np.cos(4 * g.x) for p in np.linspace(0, 1, 30)])
    noisy = clean + 0.01 * rng.standard_normal(clean.shape)
    filtered = spectral_filter(noisy)
    assert _rel(filtered, clean) < 0.2 * _rel(noisy, clean)
    np.testing.assert_allclose(spectral_filter(np.zeros((3, 16))), 0.0)


def test_bad_arguments_name_the_argument():
    grid = PeriodicGrid(64, 0.0, 2 * np.pi)
    cases = [
        (lambda: burgers(n_x=4), "n_x"),
        (lambda: burgers(n_t=1), "n_t"),
        (lambda: burgers(t_end=0), "t_end"),
        (lambda: advection_diffusion(noise=-0.1), "noise"),
        (lambda: advection_diffusion(dt=0), "dt"),
        (lambda: advection_diffusion(smoothing="gaussian"), "smoothing"),
        (lambda: advection_diffusion(n_x=16, n_t=8, noise=0.01), "poly_width"),
        (lambda: advection_diffusion(poly_degree=2), "poly_degree"),
        (lambda: solve_periodic(grid, np.sin(grid.x), [0, 100], lambda v, _: -50 * grid.diff(v), dt=1.0),
         "dt"),  # far beyond the advection's stability limit: the solution blows up
        (lambda: advection_diffusion(n_x=8, n_t=2, t_end=0.1).term("u*v"), "name"),
        (lambda: parametric_layout(advection_diffusion(n_x=8, n_t=2, t_end=0.1), []), "features"),
        (lambda: PeriodicGrid(8, 1.0, 1.0), "stop"),
        (lambda: solve_periodic(PeriodicGrid(8, 0, 1), np.zeros(7), [0, 1]), "u0"),
        (lambda: solve_periodic(PeriodicGrid(8, 0, 1), np.zeros(8), [0, 1, 1]), "t"),
        (lambda: solve_periodic(PeriodicGrid(8, 0, 1), np.zeros(8), [0, 1], diffusion=-1), "diffusion"),
        (lambda: poly_derivatives(np.zeros(10), 1.0, (1,), degree=4, width=5), "width"),
        (lambda: poly_derivatives(np.zeros(30), 1.0, (5,), degree=4, width=5), "orders"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=f"`{name}`"):
            call()
    assert math.isfinite(burgers(n_x=16, n_t=2, t_end=0.1).u.sum())
