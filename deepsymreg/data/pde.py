"""PDE data with coefficients that vary in space or time, from a pseudo-spectral solver.

The two parametric PDEs of Zhang et al. (2022), §III-B, set up as Rudy et al. (2019)
generated them (periodic domains, the same initial conditions):

- :func:`advection_diffusion`: ``u_t = (c(x) u)_x + 0.1 u_xx`` with
  ``c(x) = -1.5 + cos(2 pi x / 5)`` on ``x in [-5, 5)``, ``u0 = cos(2 pi x / 5)``,
  ``t in [0, 5]``. Expanded: ``u_t = c'(x) u + c(x) u_x + 0.1 u_xx``.
- :func:`burgers`: ``u_t = f(t) u u_x + 0.1 u_xx`` with ``f(t) = -(1 + sin(t) / 4)`` on
  ``x in [-8, 8)``, ``u0 = exp(-(x + 1)^2)``, ``t in [0, 10]``.

The solver (:func:`solve_periodic`) is Fourier pseudo-spectral in space (real FFTs,
exact derivatives of the trigonometric interpolant) and ETDRK4 in time (Cox & Matthews
2002), with the coefficients computed by contour integrals (Kassam & Trefethen 2005): the
stiff diffusion ``eps u_xx`` is integrated exactly, the rest (advection, the nonlinear
term) by the fourth-order exponential Runge-Kutta stages.

Each generator returns a :class:`PDEData`: the grids, ``u``, its spectral derivatives
``u_x, u_xx, u_xxx``, the target ``u_t`` (the right-hand side evaluated spectrally on the
stored ``u``) and the true coefficient curves on the varying coordinate.
:func:`parametric_layout` turns it into the gridded arrays of
:class:`~deepsymreg.ParametricEQL`. With ``noise > 0``, ``u`` gets Gaussian noise and the
derivatives are smoothed: by default a spectral low-pass filter in x
(:func:`spectral_filter`) and local polynomial fits in t; with ``smoothing="poly"``
local polynomial fits in both (:func:`poly_derivatives`), as Rudy et al. (2019) did.

References:
    Zhang, M., Kim, S., Lu, P. Y., & Soljačić, M. (2022). Deep learning and symbolic
    regression for discovering parametric equations. arXiv:2207.00529.
    Rudy, S., Alla, A., Brunton, S. L., & Kutz, J. N. (2019). Data-driven identification
    of parametric partial differential equations. SIAM Journal on Applied Dynamical
    Systems, 18(2), 643-660.
    Cox, S. M., & Matthews, P. C. (2002). Exponential time differencing for stiff systems.
    Journal of Computational Physics, 176(2), 430-455.
    Kassam, A.-K., & Trefethen, L. N. (2005). Fourth-order time-stepping for stiff PDEs.
    SIAM Journal on Scientific Computing, 26(4), 1214-1233.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from deepsymreg._validation import check_choice, check_int, check_number

__all__ = [
    "PDEData", "PeriodicGrid", "solve_periodic", "advection_diffusion", "burgers",
    "parametric_layout", "poly_derivatives", "spectral_filter", "FEATURES", "SMOOTHING",
]

#: The derivative features a :class:`PDEData` holds, in the default input order.
FEATURES = ("u", "u_x", "u_xx", "u_xxx")
#: Values of ``smoothing=`` (how derivatives of noisy data are taken).
SMOOTHING = ("spectral", "poly")


class PeriodicGrid:
    """``n`` equally spaced points on the periodic interval ``[start, stop)``.

    Args:
        n: number of points (>= 4).
        start, stop: the interval; ``stop`` is identified with ``start``.

    Attributes:
        x: ``(n,)`` the points ``start + j (stop - start) / n``.
        k: ``(n // 2 + 1,)`` angular wavenumbers of the real FFT.
        length: ``stop - start``.
        dx: the spacing.

    Example:

    >>> g = PeriodicGrid(64, 0.0, 2 * np.pi)
    >>> bool(np.allclose(g.diff(np.sin(g.x)), np.cos(g.x)))
    True
    """

    def __init__(self, n, start, stop):
        self.n = check_int("n", n, minimum=4)
        start, stop = check_number("start", start), check_number("stop", stop)
        if not stop > start:
            raise ValueError(
                f"Invalid value for argument `stop`: expected stop > start={start}. "
                f"Received: stop={stop!r}"
            )
        self.length = stop - start
        self.dx = self.length / self.n
        self.x = start + self.dx * np.arange(self.n)
        self.k = 2 * np.pi * np.fft.rfftfreq(self.n, d=self.dx)

    def symbol(self, order):
        """``(i k)^order``, the Fourier multiplier of ``d^order/dx^order``.

        For odd orders the Nyquist mode (even ``n``) is zeroed: its derivative is not real
        (Trefethen 2000, ch. 3), so keeping it would break the symmetry of real data.
        """
        sym = (1j * self.k) ** order
        if order % 2 == 1 and self.n % 2 == 0:
            sym[-1] = 0.0
        return sym

    def diff(self, u, order=1):
        """Spectral derivative of ``u`` along its last axis (length ``n``)."""
        u = np.asarray(u, dtype=float)
        if order == 0:
            return u.copy()
        return np.fft.irfft(self.symbol(order) * np.fft.rfft(u, axis=-1), n=self.n, axis=-1)


def _etdrk4_coefficients(lin, h, contour_points=64):
    """ETDRK4 coefficients for the diagonal linear operator ``lin`` and step ``h``.

    The phi-functions are averaged over a circle of radius 1 around each ``h * lin``
    (Kassam & Trefethen 2005), which avoids the cancellation of the direct formulas
    near ``h * lin = 0``.
    """
    hl = h * lin
    roots = np.exp(1j * np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    lr = hl[:, None] + roots[None, :]
    er = np.exp(lr)
    q = h * np.real(np.mean((np.exp(lr / 2) - 1) / lr, axis=1))
    f1 = h * np.real(np.mean((-4 - lr + er * (4 - 3 * lr + lr**2)) / lr**3, axis=1))
    f2 = h * np.real(np.mean((2 + lr + er * (lr - 2)) / lr**3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * lr - lr**2 + er * (4 - lr)) / lr**3, axis=1))
    return np.exp(hl), np.exp(hl / 2), q, f1, f2, f3


def solve_periodic(grid, u0, t, nonlinear=None, diffusion=0.0, dt=1e-3):
    """Integrate ``u_t = diffusion * u_xx + nonlinear(u, t)`` on a periodic grid.

    Pseudo-spectral in space; in time ETDRK4 (Cox & Matthews 2002; coefficients as
    Kassam & Trefethen 2005), which solves the stiff diffusion exactly and is fourth
    order in the step. Between consecutive output times ``t[i], t[i+1]`` the solver takes
    ``ceil((t[i+1] - t[i]) / dt)`` equal steps.

    Args:
        grid: a :class:`PeriodicGrid`.
        u0: ``(n,)`` initial values on ``grid.x`` at ``t[0]``.
        t: increasing output times (``t[0]`` is the initial time).
        nonlinear: ``f(u, t) -> (n,)`` the non-stiff part of ``u_t`` in physical space
            (use ``grid.diff`` for derivatives); None for pure diffusion.
        diffusion: the coefficient of ``u_xx`` (>= 0).
        dt: the largest internal time step.

    Returns:
        ``(len(t), n)`` the solution at the output times (row 0 is ``u0``).

    Raises:
        ValueError: bad arguments, or a solution that stops being finite (``dt`` too
            large for the advection's stability limit).
    """
    if not isinstance(grid, PeriodicGrid):
        raise ValueError(
            f"Invalid value for argument `grid`: expected a PeriodicGrid. Received: grid={grid!r}"
        )
    u0 = np.asarray(u0, dtype=float)
    if u0.shape != (grid.n,):
        raise ValueError(
            f"Invalid value for argument `u0`: expected shape ({grid.n},). "
            f"Received: u0.shape={u0.shape}"
        )
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.diff(t) > 0):
        raise ValueError(
            f"Invalid value for argument `t`: expected a 1-D array of increasing times. "
            f"Received: t={t!r}"
        )
    diffusion = check_number("diffusion", diffusion, low=0.0)
    dt = check_number("dt", dt, low=0.0, strict=True)
    lin = -diffusion * grid.k**2

    def n_hat(v_hat, time):
        if nonlinear is None:
            return np.zeros_like(v_hat)
        return np.fft.rfft(nonlinear(np.fft.irfft(v_hat, n=grid.n), time))

    out = np.empty((t.size, grid.n))
    out[0] = u0
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported below
        _etdrk4_steps(t, dt, lin, n_hat, out)
    return out


def _etdrk4_steps(t, dt, lin, n_hat, out):
    """ETDRK4 steps from each output time to the next, filling ``out[1:]`` from ``out[0]``."""
    n = out.shape[1]
    coefficients = {}
    v = np.fft.rfft(out[0])
    for i in range(t.size - 1):
        span = t[i + 1] - t[i]
        steps = max(1, math.ceil(span / dt - 1e-9))
        h = span / steps
        key = round(h, 14)
        if key not in coefficients:
            coefficients[key] = _etdrk4_coefficients(lin, h)
        e, e2, q, f1, f2, f3 = coefficients[key]
        for s in range(steps):
            time = t[i] + s * h
            nv = n_hat(v, time)
            a = e2 * v + q * nv
            na = n_hat(a, time + h / 2)
            b = e2 * v + q * na
            nb = n_hat(b, time + h / 2)
            c = e2 * a + q * (2 * nb - nv)
            nc = n_hat(c, time + h)
            v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nc
        out[i + 1] = np.fft.irfft(v, n=n)
        if not np.all(np.isfinite(out[i + 1])):
            raise ValueError(
                f"Invalid value for argument `dt`: the solution stopped being finite at "
                f"t={t[i + 1]:.4g}; expected a smaller step. Received: dt={dt!r}"
            )


def _poly_weights(width, degree, order, offset):
    """Weights of a local least-squares polynomial's ``order``-th derivative.

    The polynomial of ``degree`` is fitted to the ``2 width + 1`` samples at offsets
    ``-width..width`` (unit spacing) and differentiated at ``offset``.
    """
    s = np.arange(-width, width + 1) / width  # scaled offsets: a well-conditioned fit
    vander = s[:, None] ** np.arange(degree + 1)[None, :]
    fit = np.linalg.pinv(vander)  # (degree + 1, 2 width + 1): samples -> coefficients
    z = offset / width
    powers = np.arange(order, degree + 1)
    falling = np.array([math.perm(p, order) for p in powers], dtype=float)
    row = falling * z ** (powers - order)
    return (row @ fit[order:]) / width**order


def poly_derivatives(u, spacing, orders, degree=4, width=10, axis=-1, periodic=True):
    """Derivatives of noisy samples by local polynomial fits (Savitzky-Golay).

    At every sample a polynomial of ``degree`` is fitted by least squares to the
    ``2 width + 1`` samples around it and differentiated there, as the polynomial
    interpolation of Rudy et al. (2017, 2019). On a periodic axis the windows wrap
    around; otherwise the windows of the first and last ``width`` samples are the first
    and last ``2 width + 1`` samples, differentiated off centre (no sample is dropped).

    Args:
        u: the samples.
        spacing: the grid spacing along ``axis``.
        orders: the derivative orders wanted (each <= ``degree``; 0 gives the smoothed
            values).
        degree: the polynomial degree.
        width: half the window, in samples.
        axis: the axis to differentiate along.
        periodic: whether that axis wraps around.

    Returns:
        A list of arrays shaped like ``u``, one per order.
    """
    u = np.moveaxis(np.asarray(u, dtype=float), axis, -1)
    n = u.shape[-1]
    degree = check_int("degree", degree)
    width = check_int("width", width)
    if 2 * width + 1 > n or degree >= 2 * width + 1:
        raise ValueError(
            f"Invalid value for argument `width`: expected degree < 2 width + 1 <= {n} "
            f"(the samples along the axis). Received: width={width!r}, degree={degree!r}"
        )
    padded = np.concatenate([u[..., -width:], u, u[..., :width]], -1) if periodic else u
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * width + 1, axis=-1)
    results = []
    for order in orders:
        if not 0 <= order <= degree:
            raise ValueError(
                f"Invalid value for argument `orders`: expected orders between 0 and "
                f"degree={degree}. Received: orders={list(orders)!r}"
            )
        scale = spacing**order
        centre = windows @ _poly_weights(width, degree, order, 0) / scale
        if periodic:
            d = centre
        else:
            d = np.empty_like(u)
            d[..., width:n - width] = centre
            for i in range(width):
                d[..., i] = u[..., :2 * width + 1] @ _poly_weights(width, degree, order, i - width) / scale
                d[..., n - 1 - i] = (
                    u[..., -(2 * width + 1):] @ _poly_weights(width, degree, order, width - i) / scale
                )
        results.append(np.moveaxis(d, -1, axis))
    return results


def spectral_filter(u, rows=10, threshold=5.0):
    """Low-pass filter of noisy periodic rows (``u[i]`` is one time's samples in x).

    The noise floor of row ``i`` is the median power of the upper half of its Fourier
    modes, its spectrum the power averaged over the ``2 rows + 1`` rows around it
    (mirrored at the ends): this assumes the signal is resolved, so the upper half of
    the modes is noise. Every mode above the last one whose power exceeds ``threshold``
    times the floor is removed; the kept modes are scaled by the Wiener gain
    ``max(0, 1 - floor / power)``.

    Args:
        u: ``(n_rows, n)`` samples, each row periodic.
        rows: half the number of rows averaged for the spectrum.
        threshold: how far above the noise floor a mode must rise to set the cutoff.

    Returns:
        ``(n_rows, n)`` filtered rows.
    """
    u = np.asarray(u, dtype=float)
    if u.ndim != 2:
        raise ValueError(
            f"Invalid value for argument `u`: expected a 2-D array (rows, points). "
            f"Received: u.shape={u.shape}"
        )
    rows = check_int("rows", rows, minimum=0)
    threshold = check_number("threshold", threshold, low=1.0)
    u_hat = np.fft.rfft(u, axis=-1)
    power = np.abs(u_hat) ** 2
    if rows:
        m = min(rows, u.shape[0] - 1)
        padded = np.concatenate([power[1:m + 1][::-1], power, power[-m - 1:-1][::-1]])
        summed = np.cumsum(np.concatenate([np.zeros((1, power.shape[1])), padded]), axis=0)
        power = (summed[2 * m + 1:] - summed[:-2 * m - 1]) / (2 * m + 1)
    floor = np.median(power[:, power.shape[1] // 2:], axis=1, keepdims=True)
    floor = np.maximum(floor, np.finfo(float).tiny)
    above = power > threshold * floor
    cutoff = power.shape[1] - np.argmax(above[:, ::-1], axis=1)  # one past the last mode above
    cutoff[~above.any(axis=1)] = 0
    keep = np.arange(power.shape[1])[None, :] < cutoff[:, None]
    gain = np.where(keep, np.clip(1 - floor / np.maximum(power, floor), 0, 1), 0.0)
    return np.fft.irfft(gain * u_hat, n=u.shape[1], axis=-1)


@dataclasses.dataclass
class PDEData:
    """A solved PDE on its grid, with the terms a parametric regression needs.

    Attributes:
        name: ``"advection_diffusion"`` or ``"burgers"``.
        equation: the law, in words.
        x: ``(n_x,)`` the periodic space grid.
        t: ``(n_t,)`` the output times (both ends included).
        u: ``(n_t, n_x)`` the solution (noisy when ``noise > 0``).
        u_x, u_xx, u_xxx: ``(n_t, n_x)`` its space derivatives (spectral; local polynomial
            fits when ``noise > 0``).
        u_t: ``(n_t, n_x)`` the target (the right-hand side evaluated spectrally on ``u``;
            a local polynomial fit in time when ``noise > 0``).
        varying: ``"x"`` or ``"t"``, the coordinate the coefficients depend on.
        coefficients: term -> the true coefficient curve on the ``varying`` grid, for
            every term of the law (e.g. ``{"u*u_x": f(t), "u_xx": 0.1}``).
        noise: the noise level (a fraction of ``std(u)``).
        smoothing: how the derivatives were taken.
    """

    name: str
    equation: str
    x: np.ndarray
    t: np.ndarray
    u: np.ndarray
    u_x: np.ndarray
    u_xx: np.ndarray
    u_xxx: np.ndarray
    u_t: np.ndarray
    varying: str
    coefficients: dict
    noise: float = 0.0
    smoothing: str = "spectral (exact data)"

    @property
    def grid(self):
        """The varying coordinate's grid (``x`` or ``t``)."""
        return self.x if self.varying == "x" else self.t

    def term(self, name):
        """``(n_t, n_x)`` values of a monomial such as ``"u*u_x"`` or ``"u_xx"``."""
        factors = [f.strip() for f in str(name).split("*")]
        if not factors or any(f not in FEATURES for f in factors):
            raise ValueError(
                f"Invalid value for argument `name`: expected a product of {list(FEATURES)} "
                f"joined by '*'. Received: name={name!r}"
            )
        value = np.ones_like(self.u)
        for f in factors:
            value = value * getattr(self, f)
        return value

    def true_u_t(self):
        """``sum_term coefficient * term``: the law evaluated on the stored terms."""
        total = np.zeros_like(self.u)
        for term, curve in self.coefficients.items():
            coef = curve[None, :] if self.varying == "x" else curve[:, None]
            total = total + coef * self.term(term)
        return total

    def layout(self, features=FEATURES):
        """Shorthand for :func:`parametric_layout` ``(self, features)``."""
        return parametric_layout(self, features)


def parametric_layout(data, features=FEATURES):
    """Gridded arrays of a :class:`PDEData` for :class:`~deepsymreg.ParametricEQL`.

    The varying coordinate is the grid: ``N = n_x`` points of ``x`` for
    advection-diffusion (each step holds the ``n_t`` times at that ``x``), ``N = n_t``
    times for Burgers (each step holds the ``n_x`` points at that ``t``).

    Args:
        data: a :class:`PDEData`.
        features: the terms fed in, in order (names of :data:`FEATURES` or products such
            as ``"u*u_x"``).

    Returns:
        ``(inputs, targets, grid)``: ``inputs (N, per_step, len(features) + 1)`` with the
        varying coordinate as the last column, ``targets (N, per_step, 1)`` (``u_t``),
        both float32, and the ``(N,)`` grid.
    """
    features = [features] if isinstance(features, str) else list(features)
    if not features:
        raise ValueError(
            f"Invalid value for argument `features`: expected at least one term. "
            f"Received: features={features!r}"
        )
    columns = [data.term(f) for f in features]  # validates the names
    grid = data.grid
    cols = np.stack(columns, -1)  # (n_t, n_x, F)
    target = data.u_t[..., None]
    if data.varying == "x":
        cols, target = cols.transpose(1, 0, 2), target.transpose(1, 0, 2)
    coord = np.broadcast_to(grid[:, None, None], cols.shape[:2] + (1,))
    inputs = np.concatenate([cols, coord], -1)
    return inputs.astype("float32"), target.astype("float32"), grid.copy()


def _check_common(n_x, n_t, t_end, noise, dt, smoothing, poly_degree, poly_width):
    n_x = check_int("n_x", n_x, minimum=8)
    n_t = check_int("n_t", n_t, minimum=2)
    t_end = check_number("t_end", t_end, low=0.0, strict=True)
    noise = check_number("noise", noise, low=0.0)
    dt = check_number("dt", dt, low=0.0, strict=True)
    check_choice("smoothing", smoothing, SMOOTHING)
    poly_degree = check_int("poly_degree", poly_degree, minimum=3)
    poly_width = check_int("poly_width", poly_width)
    if noise > 0 and not (poly_degree < 2 * poly_width + 1 <= min(n_x, n_t)):
        raise ValueError(
            f"Invalid value for argument `poly_width`: expected poly_degree < 2 poly_width + 1 "
            f"<= min(n_x, n_t) = {min(n_x, n_t)}. Received: poly_width={poly_width!r}, "
            f"poly_degree={poly_degree!r}"
        )
    return n_x, n_t, t_end, noise, dt, poly_degree, poly_width


def _package(name, equation, grid, t, u, rhs, varying, coefficients, noise, seed, smoothing,
             poly_degree, poly_width):
    """Derivatives and target of the solution ``u``, clean or noisy."""
    if noise == 0:
        u_x, u_xx, u_xxx = (grid.diff(u, k) for k in (1, 2, 3))
        u_t = rhs(u, t)
        how = "spectral (exact data)"
    else:
        rng = np.random.default_rng(seed)
        u = u + noise * np.std(u) * rng.standard_normal(u.shape)
        poly = f"local polynomial fits (degree {poly_degree}, {2 * poly_width + 1} points)"
        if smoothing == "spectral":
            smooth = spectral_filter(u)
            u_x, u_xx, u_xxx = (grid.diff(smooth, k) for k in (1, 2, 3))
            how = f"spectral low-pass filter in x; u_t by {poly} in t of the filtered u"
        else:
            smooth = u
            u_x, u_xx, u_xxx = poly_derivatives(
                u, grid.dx, (1, 2, 3), poly_degree, poly_width, axis=1, periodic=True
            )
            how = f"{poly} in x and t"
        (u_t,) = poly_derivatives(
            smooth, t[1] - t[0], (1,), poly_degree, poly_width, axis=0, periodic=False
        )
    return PDEData(
        name=name, equation=equation, x=grid.x, t=t, u=u, u_x=u_x, u_xx=u_xx, u_xxx=u_xxx,
        u_t=u_t, varying=varying, coefficients=coefficients, noise=noise, smoothing=how,
    )


def advection_diffusion(n_x=256, n_t=512, t_end=5.0, noise=0.0, seed=0, dt=5e-3,
                        smoothing="spectral", poly_degree=4, poly_width=10):
    """Advection-diffusion with a velocity varying in space (Rudy et al. 2019).

    ``u_t = (c(x) u)_x + 0.1 u_xx = c'(x) u + c(x) u_x + 0.1 u_xx`` with
    ``c(x) = -1.5 + cos(2 pi x / 5)`` on the periodic ``x in [-5, 5)``,
    ``u0 = cos(2 pi x / 5)``, ``n_t`` times in ``[0, t_end]`` (ends included).

    Args:
        n_x, n_t: grid sizes (the paper: 256 x 512).
        t_end: the last time.
        noise: with ``noise > 0``, ``u`` gets ``noise * std(u) * N(0, 1)`` (the stored
            ``u`` is this noisy measurement) and the derivatives are smoothed.
        seed: seed of the noise.
        dt: the largest internal step of :func:`solve_periodic` (the default gives a
            solution accurate to about 1e-8).
        smoothing: how noisy data are differentiated. ``"spectral"``: the rows are
            low-pass filtered (:func:`spectral_filter`) and differentiated spectrally in
            x; ``u_t`` is a local polynomial fit in t of the filtered ``u``. ``"poly"``
            (Rudy et al.): local polynomial fits of the noisy ``u`` in x (periodic
            windows) and in t (one-sided windows at the ends), see
            :func:`poly_derivatives`.
        poly_degree, poly_width: the polynomial degree and half window (in samples) of
            the fits.

    Returns:
        A :class:`PDEData` varying in ``x``; coefficients ``{"u": c'(x), "u_x": c(x),
        "u_xx": 0.1}``.
    """
    n_x, n_t, t_end, noise, dt, poly_degree, poly_width = _check_common(
        n_x, n_t, t_end, noise, dt, smoothing, poly_degree, poly_width)
    grid = PeriodicGrid(n_x, -5.0, 5.0)
    x = grid.x
    c = -1.5 + np.cos(2 * np.pi * x / 5)
    dc = -(2 * np.pi / 5) * np.sin(2 * np.pi * x / 5)
    t = np.linspace(0.0, t_end, n_t)
    u = solve_periodic(grid, np.cos(2 * np.pi * x / 5), t,
                       nonlinear=lambda v, _: grid.diff(c * v), diffusion=0.1, dt=dt)

    def rhs(v, _):
        return grid.diff(c * v) + 0.1 * grid.diff(v, 2)

    coefficients = {"u": dc, "u_x": c, "u_xx": np.full(n_x, 0.1)}
    return _package(
        "advection_diffusion", "u_t = c'(x) u + c(x) u_x + 0.1 u_xx, c(x) = -1.5 + cos(2 pi x/5)",
        grid, t, u, rhs, "x", coefficients, noise, seed, smoothing, poly_degree, poly_width,
    )


def burgers(n_x=512, n_t=256, t_end=10.0, noise=0.0, seed=0, dt=5e-3, smoothing="spectral",
            poly_degree=4, poly_width=10):
    """Burgers' equation with a nonlinearity varying in time (Rudy et al. 2019).

    ``u_t = f(t) u u_x + 0.1 u_xx`` with ``f(t) = -(1 + sin(t) / 4)`` on the periodic
    ``x in [-8, 8)``, ``u0 = exp(-(x + 1)^2)``, ``n_t`` times in ``[0, t_end]``.

    Args:
        n_x, n_t: grid sizes (the paper: 512 x 256).
        t_end, noise, seed, dt, smoothing, poly_degree, poly_width: as
            :func:`advection_diffusion`.

    Returns:
        A :class:`PDEData` varying in ``t``; coefficients ``{"u*u_x": f(t),
        "u_xx": 0.1}``.
    """
    n_x, n_t, t_end, noise, dt, poly_degree, poly_width = _check_common(
        n_x, n_t, t_end, noise, dt, smoothing, poly_degree, poly_width)
    grid = PeriodicGrid(n_x, -8.0, 8.0)
    x = grid.x
    t = np.linspace(0.0, t_end, n_t)

    def f(time):
        return -(1 + np.sin(time) / 4)

    u = solve_periodic(grid, np.exp(-(x + 1) ** 2), t,
                       nonlinear=lambda v, time: f(time) * v * grid.diff(v), diffusion=0.1, dt=dt)

    def rhs(v, times):
        return f(times)[:, None] * v * grid.diff(v) + 0.1 * grid.diff(v, 2)

    coefficients = {"u*u_x": f(t), "u_xx": np.full(n_t, 0.1)}
    return _package(
        "burgers", "u_t = f(t) u u_x + 0.1 u_xx, f(t) = -(1 + sin(t)/4)",
        grid, t, u, rhs, "t", coefficients, noise, seed, smoothing, poly_degree, poly_width,
    )
