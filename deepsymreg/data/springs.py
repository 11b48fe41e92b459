"""Pairs of 1-D particle images joined by a weakening spring (Zhang et al. 2022, §III-C).

Each example is two 64-pixel images of the segment ``[-4, 4]``, one particle each, drawn
as a Gaussian bump ``exp(-(pixel - psi)^2 / (2 * 0.1))`` (variance 0.1, peak 1) at the
particle's position ``psi``. The targets are the spring force and energy at the time
``t`` of the example,

    ``F = -k(t) (psi2 - psi1)``,   ``E = k(t) / 2 (psi2 - psi1)^2``,   ``k(t) = (5 - t) / 2``,

with 512 pairs at each of 128 times ``t in [-3, 3]`` and ``psi1, psi2 ~ U(-3, 3)``. The
paper trains only on pairs with ``|psi2 - psi1| <= 4`` and measures extrapolation on the
others: ``region="train"`` and ``region="extrapolation"`` draw such sets (still 512 pairs
at every ``t``, by rejection), ``region="all"`` draws without restriction
(:meth:`SpringData.inside` then tells the two apart).

References:
    Zhang, M., Kim, S., Lu, P. Y., & Soljačić, M. (2022). Deep learning and symbolic
    regression for discovering parametric equations. arXiv:2207.00529.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from deepsymreg._validation import check_choice, check_int, check_number

__all__ = ["SpringData", "spring_images", "spring_constant", "REGIONS", "TARGETS"]

#: Values of ``spring_images(region=...)``.
REGIONS = ("all", "train", "extrapolation")
#: The two targets of the paper.
TARGETS = ("force", "energy")


def spring_constant(t):
    """``k(t) = (5 - t) / 2``."""
    return (5.0 - np.asarray(t, dtype=float)) / 2.0


@dataclasses.dataclass
class SpringData:
    """Gridded pairs of particle images and their spring targets.

    Attributes:
        t: ``(n_t,)`` the times (the varying parameter).
        pixels: ``(n_pixels,)`` the pixel centres in ``[-4, 4]`` (ends included).
        psi1, psi2: ``(n_t, n_per_t)`` particle positions.
        images1, images2: ``(n_t, n_per_t, n_pixels)`` float32 images.
        force, energy: ``(n_t, n_per_t)`` the targets.
        region: the ``region`` the pairs were drawn from.
        max_distance: the training bound on ``|psi2 - psi1|``.
    """

    t: np.ndarray
    pixels: np.ndarray
    psi1: np.ndarray
    psi2: np.ndarray
    images1: np.ndarray
    images2: np.ndarray
    force: np.ndarray
    energy: np.ndarray
    region: str = "all"
    max_distance: float = 4.0

    def inside(self, max_distance=None):
        """``(n_t, n_per_t)`` mask of the pairs with ``|psi2 - psi1| <= max_distance``.

        ``max_distance`` defaults to the data's own bound.
        """
        bound = self.max_distance if max_distance is None else check_number(
            "max_distance", max_distance, low=0.0, strict=True)
        return np.abs(self.psi2 - self.psi1) <= bound

    def target(self, name):
        """``(n_t, n_per_t)`` values of ``"force"`` or ``"energy"``."""
        check_choice("name", name, TARGETS)
        return getattr(self, name)

    def grid_inputs(self):
        """``(n_t, n_per_t, 2, n_pixels)`` both images of each pair, and the ``(n_t,)`` grid.

        The image pair is the second-to-last axis; feed the times alongside as the
        parametric layer's varying coordinate.
        """
        return np.stack([self.images1, self.images2], axis=2), self.t.copy()


def _render(psi, pixels, variance):
    return np.exp(-((pixels - psi[..., None]) ** 2) / (2 * variance)).astype("float32")


def _draw_positions(rng, n_t, n_per_t, psi_range, region, max_distance):
    """``(2, n_t, n_per_t)`` positions, by rejection when the region is restricted."""
    low, high = psi_range
    if region == "all":
        return rng.uniform(low, high, (2, n_t, n_per_t))
    out = np.empty((2, n_t, n_per_t))
    filled = np.zeros(n_t, dtype=int)
    while np.any(filled < n_per_t):
        candidates = rng.uniform(low, high, (2, n_t, 2 * n_per_t))
        gap = np.abs(candidates[1] - candidates[0])
        ok = gap <= max_distance if region == "train" else gap > max_distance
        for i in np.flatnonzero(filled < n_per_t):
            take = candidates[:, i, ok[i]][:, : n_per_t - filled[i]]
            out[:, i, filled[i]:filled[i] + take.shape[1]] = take
            filled[i] += take.shape[1]
    return out


def _check_range(name, value):
    try:
        low, high = (float(v) for v in value)
        ok = low < high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a pair (low, high) with "
            f"low < high. Received: {name}={value!r}"
        )
    return low, high


def spring_images(n_t=128, n_per_t=512, region="all", max_distance=4.0, n_pixels=64,
                  t_range=(-3.0, 3.0), psi_range=(-3.0, 3.0), image_range=(-4.0, 4.0),
                  variance=0.1, seed=0):
    """Pairs of particle images with the spring force and energy as targets.

    Args:
        n_t: number of times, evenly spaced over ``t_range`` (ends included).
        n_per_t: pairs at every time.
        region: ``"all"`` (no restriction), ``"train"`` (only ``|psi2 - psi1| <=
            max_distance``) or ``"extrapolation"`` (only ``> max_distance``).
        max_distance: the bound between training and extrapolation pairs.
        n_pixels: pixels per image, centred on ``linspace(*image_range, n_pixels)``.
        t_range, psi_range, image_range: the time, position and image intervals.
        variance: the particle's Gaussian variance (in position units squared).
        seed: the random seed.

    Returns:
        A :class:`SpringData`.

    Example:

    >>> d = spring_images(n_t=4, n_per_t=8, region="train")
    >>> d.images1.shape, bool((abs(d.psi2 - d.psi1) <= 4).all())
    ((4, 8, 64), True)
    """
    n_t = check_int("n_t", n_t)
    n_per_t = check_int("n_per_t", n_per_t)
    check_choice("region", region, REGIONS)
    max_distance = check_number("max_distance", max_distance, low=0.0, strict=True)
    n_pixels = check_int("n_pixels", n_pixels, minimum=2)
    t_range = _check_range("t_range", t_range)
    psi_range = _check_range("psi_range", psi_range)
    image_range = _check_range("image_range", image_range)
    variance = check_number("variance", variance, low=0.0, strict=True)
    if region == "extrapolation" and max_distance >= psi_range[1] - psi_range[0]:
        raise ValueError(
            f"Invalid value for argument `max_distance`: expected max_distance < "
            f"{psi_range[1] - psi_range[0]} (the width of psi_range) so that extrapolation "
            f"pairs exist. Received: max_distance={max_distance!r}"
        )
    rng = np.random.default_rng(seed)
    t = np.linspace(*t_range, n_t)
    psi1, psi2 = _draw_positions(rng, n_t, n_per_t, psi_range, region, max_distance)
    pixels = np.linspace(*image_range, n_pixels)
    k = spring_constant(t)[:, None]
    gap = psi2 - psi1
    return SpringData(
        t=t, pixels=pixels, psi1=psi1, psi2=psi2,
        images1=_render(psi1, pixels, variance), images2=_render(psi2, pixels, variance),
        force=-k * gap, energy=k / 2 * gap**2, region=region, max_distance=max_distance,
    )
