"""Dynamics data: shapes, the laws they follow, seeding, errors."""

import numpy as np
import pytest

from deepsymreg.data import euler_sho, kinematics, sho


def test_kinematics_follows_the_update_rule():
    d = kinematics(n=7, t_x=12, t_y=4, seed=0)
    assert d.x.shape == (7, 12, 2) and d.y0.shape == (7, 2) and d.y.shape == (7, 4, 2)
    a = d.params[:, None]
    for series in (d.x, np.concatenate([d.y0[:, None], d.y], axis=1)):
        u, v = series[..., 0], series[..., 1]
        np.testing.assert_allclose(u[:, 1:], u[:, :-1] + v[:, :-1] + a / 2, atol=1e-4)
        np.testing.assert_allclose(v[:, 1:], v[:, :-1] + a, atol=1e-5)
    assert np.all(np.abs(d.params) <= 1) and np.all(np.abs(d.x[:, 0]) <= 1)


def test_sho_is_the_exact_oscillator():
    d = sho(n=5, t_x=50, t_y=30, dt=0.1, seed=1)
    w2 = d.params[:, None]
    assert np.all((w2 >= 0.1) & (w2 <= 1))
    u, v = d.x[..., 0], d.x[..., 1]
    energy = v**2 + w2 * u**2  # conserved by the exact solution
    np.testing.assert_allclose(energy, energy[:, :1] * np.ones_like(energy), rtol=1e-4)
    # Central difference of u is v.
    np.testing.assert_allclose((u[:, 2:] - u[:, :-2]) / 0.2, v[:, 1:-1], atol=5e-3)


def test_euler_matches_one_step_and_drifts_later():
    d = sho(n=20, t_x=2, t_y=200, seed=2)
    e = euler_sho(d.y0, d.params, 200, d.dt)
    u0, v0 = d.y0[:, 0], d.y0[:, 1]
    np.testing.assert_allclose(e[:, 0, 0], u0 + 0.1 * v0, rtol=1e-6)
    np.testing.assert_allclose(e[:, 0, 1], v0 - 0.1 * d.params * u0, rtol=1e-5)
    early = np.abs(e[:, 5] - d.y[:, 5]).max()
    late = np.abs(e[:, 199] - d.y[:, 199]).max()
    assert late > 10 * early  # the first-order scheme gains energy over time


def test_seeded_and_validated():
    np.testing.assert_array_equal(kinematics(n=3, seed=4).x, kinematics(n=3, seed=4).x)
    with pytest.raises(ValueError, match="t_x"):
        kinematics(t_x=0)
    with pytest.raises(ValueError, match="dt"):
        sho(dt=0.0)
