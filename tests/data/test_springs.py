"""Spring images: shapes, where the particles are drawn, the targets, the training split."""

import numpy as np
import pytest

from deepsymreg.data import SpringData, spring_images
from deepsymreg.data.springs import spring_constant


def test_shapes_and_grids():
    d = spring_images(n_t=6, n_per_t=10, seed=0)
    assert isinstance(d, SpringData)
    assert d.images1.shape == d.images2.shape == (6, 10, 64) and d.images1.dtype == np.float32
    assert d.psi1.shape == d.psi2.shape == d.force.shape == d.energy.shape == (6, 10)
    np.testing.assert_allclose(d.t, np.linspace(-3, 3, 6))
    np.testing.assert_allclose(d.pixels, np.linspace(-4, 4, 64))
    assert np.all(np.abs(d.psi1) <= 3) and np.all(np.abs(d.psi2) <= 3)
    pairs, grid = d.grid_inputs()
    assert pairs.shape == (6, 10, 2, 64)
    np.testing.assert_array_equal(pairs[:, :, 1], d.images2)
    np.testing.assert_allclose(grid, d.t)


def test_paper_sizes():
    d = spring_images(region="train")
    assert d.images1.shape == (128, 512, 64) and d.t.shape == (128,)


def test_each_image_is_a_gaussian_peaked_at_its_particle():
    d = spring_images(n_t=4, n_per_t=50, seed=1)
    spacing = d.pixels[1] - d.pixels[0]
    for images, psi in ((d.images1, d.psi1), (d.images2, d.psi2)):
        peak = d.pixels[np.argmax(images, axis=-1)]
        assert np.all(np.abs(peak - psi) <= spacing / 2 + 1e-9)
        expected = np.exp(-((d.pixels - psi[..., None]) ** 2) / (2 * 0.1))
        np.testing.assert_allclose(images, expected, rtol=1e-6, atol=1e-7)
        assert np.all(images.max(-1) > np.exp(-(spacing / 2) ** 2 / 0.2) - 1e-6)


def test_targets_follow_the_spring_law():
    d = spring_images(n_t=5, n_per_t=20, seed=2)
    k = (5 - d.t[:, None]) / 2
    np.testing.assert_allclose(spring_constant(d.t), k[:, 0])
    gap = d.psi2 - d.psi1
    np.testing.assert_allclose(d.force, -k * gap)
    np.testing.assert_allclose(d.energy, k / 2 * gap**2)
    np.testing.assert_allclose(d.target("energy"), d.energy)
    # t = 3 is the weakest spring: k = 1.
    np.testing.assert_allclose(d.force[-1], -gap[-1])


def test_training_and_extrapolation_regions():
    train = spring_images(n_t=8, n_per_t=64, region="train", seed=3)
    extra = spring_images(n_t=8, n_per_t=64, region="extrapolation", seed=3)
    assert train.images1.shape == extra.images1.shape == (8, 64, 64)
    assert np.all(np.abs(train.psi2 - train.psi1) <= 4) and train.inside().all()
    assert np.all(np.abs(extra.psi2 - extra.psi1) > 4) and not extra.inside().any()
    everything = spring_images(n_t=8, n_per_t=256, seed=3)
    inside = everything.inside()
    np.testing.assert_array_equal(inside, np.abs(everything.psi2 - everything.psi1) <= 4)
    # Uniform positions on [-3, 3]^2: P(|psi2 - psi1| > 4) = 4 / 36.
    assert abs((~inside).mean() - 1 / 9) < 0.03
    assert everything.inside(max_distance=6.0).all()


def test_seeded_and_validated():
    np.testing.assert_array_equal(spring_images(n_t=2, n_per_t=3, seed=5).psi1,
                                  spring_images(n_t=2, n_per_t=3, seed=5).psi1)
    cases = [
        (dict(region="test"), "region"),
        (dict(region="extrapolation", max_distance=6.0), "max_distance"),
        (dict(max_distance=0), "max_distance"),
        (dict(n_pixels=1), "n_pixels"),
        (dict(n_t=0), "n_t"),
        (dict(n_per_t=-1), "n_per_t"),
        (dict(t_range=(1, 1)), "t_range"),
        (dict(psi_range="wide"), "psi_range"),
        (dict(variance=0), "variance"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ValueError, match=f"`{name}`"):
            spring_images(**{"n_t": 2, "n_per_t": 3, **kwargs})
    with pytest.raises(ValueError, match="`name`"):
        spring_images(n_t=2, n_per_t=3).target("momentum")
