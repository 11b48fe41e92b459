"""Reports: latent fits, JSON written atomically, propagation figures."""

import json
import struct

import numpy as np
import pytest

from deepsymreg import reports

# -- latent_fit -------------------------------------------------------------------------


@pytest.mark.parametrize("slope, intercept", [(2.5, -1.0), (-0.75, 0.3)])
def test_latent_fit_of_an_exact_line(slope, intercept):
    z = np.linspace(-1, 1, 11)
    fit = reports.latent_fit(z, slope * z + intercept)
    assert all(isinstance(v, float) for v in fit)
    assert fit == pytest.approx((slope, intercept, np.sign(slope)), abs=1e-9)


def test_latent_fit_of_a_noisy_line():
    rng = np.random.default_rng(0)
    z = rng.uniform(-1, 1, 20000)
    sigma = 0.5
    params = 3.0 * z + 0.5 + rng.normal(0, sigma, z.size)
    slope, intercept, r = reports.latent_fit(z[:, None], params)  # shapes are flattened
    assert slope == pytest.approx(3.0, abs=0.03)
    assert intercept == pytest.approx(0.5, abs=0.02)
    # r of a line plus noise: slope * sd(z) / sqrt(slope^2 var(z) + sigma^2), var(z) = 1/3.
    assert r == pytest.approx(3.0 / np.sqrt(3) / np.sqrt(3.0 + sigma**2), abs=0.005)
    assert 0.9 < r < 1.0
    # Least squares: no other line has a smaller squared error.
    best = np.sum((params - slope * z - intercept) ** 2)
    for ds, di in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)]:
        assert best < np.sum((params - (slope + ds) * z - (intercept + di)) ** 2)


@pytest.mark.parametrize("z, params", [(np.arange(5), np.arange(4)), ([1.0], [2.0]),
                                       (np.zeros((3, 2)), np.zeros(5))])
def test_latent_fit_rejects_mismatched_sizes(z, params):
    with pytest.raises(ValueError, match="`z`, `params`"):
        reports.latent_fit(z, params)


# -- write_json -------------------------------------------------------------------------


def test_write_json_writes_and_replaces(tmp_path):
    path = tmp_path / "result.json"
    payload = {"expr": "u + v", "mse": 1.5e-3, "losses": [1.0, None], "nested": {"k": True}}
    reports.write_json(path, payload)
    assert json.loads(path.read_text()) == payload
    reports.write_json(str(path), {"second": 2})
    assert json.loads(path.read_text()) == {"second": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_write_json_failure_leaves_nothing_behind(tmp_path):
    path = tmp_path / "result.json"
    with pytest.raises(TypeError):
        reports.write_json(path, {"a": 1, "b": object()})  # fails half-way through dumping
    assert list(tmp_path.iterdir()) == []
    # An existing file is left as it was.
    reports.write_json(path, {"old": 1})
    with pytest.raises(TypeError):
        reports.write_json(path, {"a": [1, 2], "b": {1, 2}})
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
    assert not list(tmp_path.glob("*.tmp"))


# -- plot_propagation -------------------------------------------------------------------


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # width, height of the IHDR chunk


def test_plot_propagation_writes_a_png(tmp_path):
    t = np.arange(1, 13)
    truth = np.stack([0.5 * t**2, t], axis=1).astype(float)
    preds = {"EQL": truth + 0.1, "ReLU": truth * 0.9}
    plain = tmp_path / "plain.png"
    reports.plot_propagation(plain, truth, preds, train_horizon=5, state_names=["u", "v"],
                             dt=0.1, title="kinematics")
    z = np.linspace(-1, 1, 30)
    with_latent = tmp_path / "latent.png"
    reports.plot_propagation(with_latent, truth, preds, 5, ["u", "v"],
                             latent=(z, 2 * z + 1, "a", reports.latent_fit(z, 2 * z + 1)))
    w_plain, h_plain = _png_size(plain)
    w_latent, h_latent = _png_size(with_latent)
    assert h_plain == h_latent
    # One panel per state, plus one for the latent: 3 panels are 3/2 as wide as 2.
    assert w_latent / w_plain == pytest.approx(1.5, rel=0.01)


def test_write_json_gives_the_file_a_normal_mode(tmp_path):
    import os
    import stat

    from deepsymreg.reports import write_json

    path = tmp_path / "mode.json"
    write_json(path, {"a": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_plot_coefficient_curves_writes_a_figure(tmp_path):
    from deepsymreg.reports import plot_coefficient_curves

    t = [-1.0, 0.0, 1.0]
    path = tmp_path / "curves.png"
    plot_coefficient_curves(path, t, {"x": [-1.0, 0.0, 1.0], "sin({0}*x)[0]": [1.0, None, 2.0]},
                            {"x": [-1.0, 0.0, 1.0]}, title="t*x")
    assert path.stat().st_size > 1000
