"""PySINDy's PDE-FIND beside our parametric EQL on the two PDEs of docs/pde.md.

Data: the same generator calls as ``examples/parametric_pde.py`` (default grids:
advection-diffusion 256 x 512, Burgers 512 x 256; ``--quick``: 64 x 128 and 256 x 64;
seed 0). With ``--noise 0.01`` the generator's default spectral smoothing and, as in the
example, the 10 first and last times dropped. Both routes regress ``u_t`` on the
generator's own features ``u, u_x, u_xx, u_xxx`` (spectral, or smoothed under noise),
never on derivatives PySINDy would take itself: the comparison is about the regression.

Library: PySINDy's ``PolynomialLibrary(degree=2)`` (its default bias kept) over the four
features: ``1``, the features and their products of two, 15 terms. Every library column
and the target are divided by their RMS before the sparse regression (over the data set
for (a), over the slice for (b)) and the coefficients converted back: STLSQ's threshold
then means the same for every term and grid size. (PySINDy's ``normalize_columns``
divides by the L2 norm, so the thresholded coefficients grow as sqrt(rows) and the
threshold's meaning depends on the grid; unscaled, the default threshold of 0.1 sits
right at the true ``0.1 u_xx``.)
Regressor: PySINDy's ``STLSQ`` at its defaults (``threshold=0.1``, ``alpha=0.05``,
``max_iter=20``, ``unbias=True``), fitted with ``optimizer.fit(library columns, u_t)``.

(a) **PDE-FIND parametric** (SINDyCP): ``ParameterizedLibrary`` = the library above times
    a basis in the varying coordinate, one STLSQ fit on all points. Advection-diffusion
    (x periodic, length 10): ``1`` and ``FourierLibrary(n_frequencies=4)`` of
    ``theta = 2 pi x / 10`` (9 functions; the true curves, frequency 2, lie in it).
    Burgers (t not periodic): ``PolynomialLibrary(degree=8)`` of ``s``, t mapped to
    [-1, 1] (9 functions; the best degree-8 fit of f(t) on [0, 10] is 0.07% off in
    relative RMS). The coefficient curve of a term is its basis expansion on the grid.
(b) **PDE-FIND piecewise** (Rudy et al. 2019): one STLSQ fit per grid value (per x:
    the times at that x; per t: the points at that t). Group sparsity: the terms kept
    at more than half of the grid values; the curves are then a least-squares refit of
    every slice on those terms (as SGTR ends with a fit on the group support).

Terms and errors as in ``docs/runs/pde_*.json``: ``terms_found`` (monomials such as
``u*u_x``, ``1`` for the constant), ``coefficient_rmse`` (true terms:
RMS(learned - true) / RMS(true) on the grid; a missed term counts 1). The EQL rows are
read from ``docs/runs/pde_<equation>_<method>[_noise|_quick].json`` (selection
``lowest``); their wall seconds include data and 8 restarts of training on a loaded
machine. The PySINDy wall seconds cover library, regression and read-out (data
generation, about 1 s, is in the JSON).

    python benchmarks/pde_peers.py [--equation advection-diffusion|burgers|both]
        [--noise 0|0.01|both] [--quick] [--json PATH] [--threshold 0.1]
        [--basis default|polynomial]

``--threshold`` and ``--basis`` are for sensitivity checks (docs/pde.md); the table of
docs/pde.md uses the defaults above.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from deepsymreg.data.pde import FEATURES, advection_diffusion, burgers  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
EQUATIONS = ("advection-diffusion", "burgers")
NOISES = (0.0, 0.01)
#: The grids of examples/parametric_pde.py.
GRIDS = {
    "full": {"advection-diffusion": {"n_x": 256, "n_t": 512}, "burgers": {"n_x": 512, "n_t": 256}},
    "quick": {"advection-diffusion": {"n_x": 64, "n_t": 128}, "burgers": {"n_x": 256, "n_t": 64}},
}
NOISE_TRIM = 10  # times dropped at each end under noise (as examples/parametric_pde.py)
DEGREE = 2  # products of up to two features
THRESHOLD, ALPHA = 0.1, 0.05  # STLSQ's defaults
FOURIER_FREQUENCIES = 4  # advection-diffusion's basis in x
T_DEGREE = 8  # Burgers' basis in t
GROUP_FRACTION = 0.5  # piecewise: a term is kept when kept at more than this share of slices


def make_data(equation, n_x, n_t, noise=0.0, seed=0):
    """The generator's :class:`~deepsymreg.data.pde.PDEData`; with noise, without the
    :data:`NOISE_TRIM` first and last times (as the EQL example)."""
    generator = advection_diffusion if equation == "advection-diffusion" else burgers
    data = generator(n_x=n_x, n_t=n_t, noise=noise, seed=seed)
    if noise == 0 or n_t <= 2 * NOISE_TRIM + 1:
        return data
    keep = slice(NOISE_TRIM, n_t - NOISE_TRIM)
    fields = {k: getattr(data, k)[keep] for k in ("u", "u_x", "u_xx", "u_xxx", "u_t")}
    coefficients = data.coefficients
    if data.varying == "t":
        coefficients = {k: v[keep] for k, v in coefficients.items()}
    return dataclasses.replace(data, t=data.t[keep], coefficients=coefficients, **fields)


def monomial(name):
    """PySINDy's ``"u u_x"`` / ``"u^2"`` as our ``"u*u_x"`` / ``"u**2"``."""
    return "*".join(f.replace("^", "**") for f in name.split())


def slices(data):
    """``(n_grid, per_slice, 4)`` features and ``(n_grid, per_slice)`` targets, one row per
    value of the varying coordinate."""
    features = np.stack([getattr(data, f) for f in FEATURES], -1)
    target = data.u_t
    if data.varying == "x":
        features, target = features.transpose(1, 0, 2), target.T
    return features, target


def _axes(a):
    import pysindy as ps

    return ps.AxesArray(np.asarray(a, dtype=float), {"ax_sample": 0, "ax_coord": 1})


def feature_library():
    import pysindy as ps

    return ps.PolynomialLibrary(degree=DEGREE)


def parameter_library(equation, basis="default"):
    """The basis in the varying coordinate and the map from the grid to its input
    (``basis="polynomial"``: the degree-8 polynomial for both equations)."""
    import pysindy as ps

    if equation == "advection-diffusion" and basis == "default":
        one = ps.CustomLibrary(library_functions=[lambda z: 0 * z + 1],
                               function_names=[lambda z: "1"])
        library = ps.ConcatLibrary([one, ps.FourierLibrary(n_frequencies=FOURIER_FREQUENCIES)])
        return library, lambda grid: 2 * np.pi * grid / 10.0
    library = ps.PolynomialLibrary(degree=T_DEGREE)
    return library, lambda grid: 2 * (grid - grid[0]) / (grid[-1] - grid[0]) - 1


def stlsq(theta, y, threshold):
    """PySINDy's STLSQ on unit-RMS columns and target; coefficients in physical units."""
    import pysindy as ps

    theta, y = np.asarray(theta, dtype=float), np.asarray(y, dtype=float).reshape(-1)
    col = np.sqrt(np.mean(theta**2, axis=0))
    col = np.where(col > 0, col, 1.0)
    scale = float(np.sqrt(np.mean(y**2))) or 1.0
    optimizer = ps.STLSQ(threshold=threshold, alpha=ALPHA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "eliminated all coefficients"
        optimizer.fit(theta / col, y / scale)
    return np.asarray(optimizer.coef_).reshape(-1) * scale / col


def parametric_route(data, equation, threshold=THRESHOLD, basis="default"):
    """(a): one STLSQ fit on the feature library times a basis in the coordinate."""
    import pysindy as ps

    features, target = slices(data)
    n_grid, per = target.shape
    grid = data.grid
    param_lib, to_input = parameter_library(equation, basis)
    p = np.broadcast_to(to_input(grid)[:, None, None], (n_grid, per, 1))
    inputs = np.concatenate([features, p], -1).reshape(-1, len(FEATURES) + 1)
    library = ps.ParameterizedLibrary(parameter_library=param_lib,
                                      feature_library=feature_library(),
                                      num_parameters=1, num_features=len(FEATURES))
    theta = library.fit_transform(_axes(inputs))
    coef = stlsq(theta, target.reshape(-1), threshold)
    # Columns are (parameter function j) x (feature term i), parameter-major: checked on
    # the names, then each term's curve is sum_j coef[j, i] * basis_j(grid).
    feature_names = feature_library().fit(_axes(features[0])).get_feature_names(list(FEATURES))
    basis_lib, _ = parameter_library(equation, basis)
    values = np.asarray(basis_lib.fit_transform(_axes(to_input(grid)[:, None])))
    basis_names = basis_lib.get_feature_names(["p"])
    names = library.get_feature_names(list(FEATURES) + ["p"])
    expected = [f"{b} {f}" for b in basis_names for f in feature_names]
    if names != expected:
        raise RuntimeError(f"ParameterizedLibrary column order changed: {names[:4]}...")
    coef = coef.reshape(len(basis_names), len(feature_names))
    curves = {monomial(f): values @ coef[:, i] for i, f in enumerate(feature_names)
              if np.any(coef[:, i] != 0)}
    return curves, {"library_columns": len(names), "basis": basis_names,
                    "nonzero_coefficients": int(np.count_nonzero(coef))}


def piecewise_route(data, threshold=THRESHOLD):
    """(b): STLSQ at every grid value, group sparsity by majority, refit on the group."""
    features, target = slices(data)
    library = feature_library()
    library.fit(_axes(features[0]))
    names = [monomial(f) for f in library.get_feature_names(list(FEATURES))]
    thetas = [np.asarray(library.transform(_axes(f))) for f in features]
    kept = np.array([stlsq(th, y, threshold) != 0 for th, y in zip(thetas, target)])
    fraction = kept.mean(axis=0)
    group = np.flatnonzero(fraction > GROUP_FRACTION)
    coef = np.zeros((len(thetas), len(names)))
    if group.size:
        for k, (th, y) in enumerate(zip(thetas, target)):
            coef[k, group] = np.linalg.lstsq(th[:, group], y, rcond=None)[0]
    curves = {names[i]: coef[:, i] for i in group}
    return curves, {"kept_fraction": {n: float(f) for n, f in zip(names, fraction) if f > 0}}


def score(data, curves):
    """``terms_found``, ``coefficient_rmse`` and ``coefficients`` as in our JSON."""
    terms = sorted(curves)
    rmse, coefficients = {}, {}
    for term in list(data.coefficients) + [t for t in terms if t not in data.coefficients]:
        true = np.asarray(data.coefficients.get(term, np.zeros(data.grid.size)), dtype=float)
        learned = np.asarray(curves.get(term, np.zeros(data.grid.size)), dtype=float)
        coefficients[term] = {"true": true.tolist(), "learned": learned.tolist()}
        if term in data.coefficients:
            rmse[term] = float(np.sqrt(np.mean((learned - true) ** 2) / np.mean(true**2)))
    return {"terms_found": sorted(curves), "coefficient_rmse": rmse,
            "coefficients": coefficients}


def eql_result(equation, method, noise, quick):
    """Our EQL's run from docs/runs (None when that run was not made)."""
    suffix = "_quick" if quick else ("_noise" if noise else "")
    if quick and noise:
        return None
    path = ROOT / "docs" / "runs" / f"pde_{equation}_{method}{suffix}.json"
    if not path.exists():
        return None
    with open(path) as f:
        run = json.load(f)
    return {"terms_found": run["terms_found"], "coefficient_rmse": run["coefficient_rmse"],
            "wall_seconds": run["wall_seconds"], "source": str(path.relative_to(ROOT))}


def run(equations=EQUATIONS, noises=NOISES, quick=False, grid=None, threshold=THRESHOLD,
        basis="default", seed=0):
    """Every equation x noise level: both PySINDy routes and our EQL runs. ``grid``
    overrides the data grid (``{"n_x": ..., "n_t": ...}``, the tests' tiny setting; no
    EQL rows then)."""
    rows = []
    for equation in equations:
        size = dict(GRIDS["quick" if quick else "full"][equation], **(grid or {}))
        for noise in noises:
            start = time.time()
            data = make_data(equation, size["n_x"], size["n_t"], noise=noise, seed=seed)
            data_seconds = time.time() - start
            common = {"equation": equation, "noise": float(noise), "grid_size": size,
                      "n_grid": int(data.grid.size), "true_terms": sorted(data.coefficients),
                      "smoothing": data.smoothing, "data_seconds": data_seconds}
            routes = (("PDE-FIND parametric",
                       lambda: parametric_route(data, equation, threshold, basis)),
                      ("PDE-FIND piecewise", lambda: piecewise_route(data, threshold)))
            for method, route in routes:
                start = time.time()
                curves, details = route()
                seconds = time.time() - start
                rows.append({**common, "method": method, **score(data, curves),
                             "wall_seconds": seconds, "details": details,
                             "grid": data.grid.tolist()})
            for method in () if grid else ("stacked", "meta"):
                eql = eql_result(equation, method, noise, quick)
                if eql is not None:
                    rows.append({**common, "method": f"our EQL {method}", **eql})
    for row in rows:
        rmse = row["coefficient_rmse"]
        row["max_coefficient_rmse"] = max(rmse.values()) if rmse else None
    return rows


def table(rows):
    """The markdown table."""
    lines = ["| equation | noise | method | terms found | max coefficient relative RMSE | wall s |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        noise = f"{r['noise']:.0%}" if r["noise"] else "clean"
        terms = ", ".join(f"`{t}`" for t in r["terms_found"])
        worst = max(r["coefficient_rmse"], key=r["coefficient_rmse"].get)
        worst_value = r["max_coefficient_rmse"]
        worst_value = f"{worst_value:.4f}" if worst_value >= 1e-3 else f"{worst_value:.1e}"
        wall = r["wall_seconds"]
        wall = f"{wall:.1f}" if wall < 10 else f"{wall:.0f}"
        lines.append(f"| {r['equation']} | {noise} | {r['method']} | {terms} | "
                     f"{worst_value} ({worst}) | {wall} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--equation", default="both", choices=EQUATIONS + ("both",))
    parser.add_argument("--noise", default="both", help="0, 0.01 or both")
    parser.add_argument("--quick", action="store_true", help="the quick grids of the EQL example")
    parser.add_argument("--json", dest="json_path", help="write the results here")
    parser.add_argument("--threshold", type=float, default=THRESHOLD,
                        help="STLSQ's threshold on unit-RMS columns (default 0.1, PySINDy's)")
    parser.add_argument("--basis", default="default",
                        help="the parametric route's basis: default (Fourier in x, polynomial "
                             "in t) or polynomial (degree 8 in both)")
    parser.add_argument("--n-x", type=int, default=None, help=argparse.SUPPRESS)  # tests
    parser.add_argument("--n-t", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    equations = EQUATIONS if args.equation == "both" else (args.equation,)
    choices = {"0": (0.0,), "0.0": (0.0,), "0.01": (0.01,), "both": NOISES}
    if args.noise not in choices:
        parser.error(f"argument --noise: expected 0, 0.01 or both, got {args.noise!r}")
    if not args.threshold >= 0:
        parser.error(f"argument --threshold: expected a value >= 0, got {args.threshold}")
    if args.basis not in ("default", "polynomial"):
        parser.error(f"argument --basis: expected default or polynomial, got {args.basis!r}")
    for name in ("n_x", "n_t"):
        value = getattr(args, name)
        if value is not None and value < 8:
            parser.error(f"argument --{name.replace('_', '-')}: expected at least 8, got {value}")
    try:
        import pysindy
    except ImportError:
        parser.error("PySINDy is not installed: pip install 'deepsymreg[bench]' (or pysindy)")
    grid = {k: v for k, v in (("n_x", args.n_x), ("n_t", args.n_t)) if v is not None}
    start = time.time()
    rows = run(equations, choices[args.noise], quick=args.quick, grid=grid,
               threshold=args.threshold, basis=args.basis)
    text = table(rows)
    print(text)
    if args.json_path:
        from deepsymreg.reports import write_json

        os.makedirs(os.path.dirname(os.path.abspath(args.json_path)), exist_ok=True)
        write_json(args.json_path, {
            "command": " ".join(["python", "benchmarks/pde_peers.py"] + list(sys.argv[1:] if argv is None else argv)),
            "date": datetime.date.today().isoformat(),
            "pysindy": pysindy.__version__,
            "settings": {"quick": args.quick, "grid": grid or GRIDS["quick" if args.quick else "full"],
                         "degree": DEGREE, "threshold": args.threshold, "alpha": ALPHA,
                         "basis": args.basis,
                         "fourier_frequencies": FOURIER_FREQUENCIES, "t_degree": T_DEGREE,
                         "group_fraction": GROUP_FRACTION, "noise_trim": NOISE_TRIM},
            "results": rows,
            "table": text,
            "wall_seconds": time.time() - start,
        })
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
