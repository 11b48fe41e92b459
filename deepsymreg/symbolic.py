"""Reading EQL networks as equations: cleaning, rounding, complexity and judging."""

from __future__ import annotations

import warnings

import numpy as np
import sympy

from deepsymreg._validation import check_int, check_number
from deepsymreg.primitives import elementary

#: Relative step of :func:`refine`'s forward differences.
_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))

#: The ``max_numbers`` of the benchmark's and the estimator's refined read-outs: on the
#: unseen laws of set seed 0 every restart that the refit turned right had 10 or fewer
#: numbers, and the longest equations (up to 200 numbers) cost minutes each
#: (``benchmarks/polish_lever.py --refined``, docs/results.md).
REFINE_MAX_NUMBERS = 16

__all__ = [
    "make_symbols",
    "clean",
    "rounded",
    "complexity",
    "parse",
    "to_numpy_function",
    "normalized_rmse",
    "judge",
    "extra_functions",
    "term_coefficients",
    "coefficient_curves",
    "polish",
    "polish_refined",
    "prune",
    "refine",
    "REFINE_MAX_NUMBERS",
]


def make_symbols(var_names, n_inputs):
    """SymPy symbols for ``n_inputs`` inputs: given names, or ``x0, x1, ...``."""
    if var_names is None:
        var_names = [f"x{i}" for i in range(n_inputs)]
    if isinstance(var_names, str):
        var_names = [v.strip() for v in var_names.split(",") if v.strip()]
    if len(var_names) != n_inputs:
        raise ValueError(
            f"Invalid value for argument `var_names`: expected {n_inputs} names. "
            f"Received: var_names={list(var_names)!r}"
        )
    return [v if isinstance(v, sympy.Symbol) else sympy.Symbol(str(v)) for v in var_names]


def _drop_small(expr, threshold):
    if expr.is_Atom:
        return expr
    args = [_drop_small(a, threshold) for a in expr.args]
    if isinstance(expr, sympy.Add):
        kept = []
        for term in args:
            coeff, _ = term.as_coeff_Mul()
            if coeff.is_number and abs(float(coeff)) < threshold:
                continue
            kept.append(term)
        return sympy.Add(*kept)
    return expr.func(*args)


def clean(expr, threshold=0.01):
    """Elementary functions only, products expanded, terms with ``|coef| < threshold`` dropped."""
    expr = elementary(sympy.sympify(expr))
    # Functions of constants only (sin(0.3*pi), exp(0.2)) become numbers.
    expr = expr.replace(
        lambda e: isinstance(e, sympy.Function) and e.is_number,
        lambda e: sympy.Float(e.evalf()),
    )
    expr = sympy.expand(expr, power_exp=False, log=False)
    if threshold > 0:
        expr = _drop_small(expr, threshold)
    return expr


def rounded(expr, digits=4):
    """``expr`` with every float shown to ``digits`` significant digits."""
    return expr.xreplace({f: sympy.Float(float(f), digits) for f in expr.atoms(sympy.Float)})


def complexity(expr):
    """Number of nodes of the expression tree (a simple size measure)."""
    return sum(1 for _ in sympy.preorder_traversal(expr))


def parse(text, var_names):
    """Parse ``text`` with SymPy; ``var_names`` become plain symbols (``pi``, ``E`` known)."""
    if isinstance(var_names, str):
        var_names = [v.strip() for v in var_names.split(",") if v.strip()]
    symbols = make_symbols(var_names, len(var_names))
    local = {s.name: s for s in symbols}
    try:
        expr = sympy.sympify(text, locals=local)
    except (sympy.SympifyError, SyntaxError, TypeError) as err:
        raise ValueError(f"Invalid value for argument `expr`: cannot parse {text!r}: {err}") from None
    unknown = expr.free_symbols - set(symbols)
    if unknown:
        raise ValueError(
            f"Invalid value for argument `expr`: {text!r} uses {sorted(map(str, unknown))}, "
            f"which are not among the variables {[s.name for s in symbols]}"
        )
    return expr, symbols


def to_numpy_function(expr, symbols):
    """A NumPy function of arrays ``(n, len(symbols))`` returning ``(n,)``."""
    fn = sympy.lambdify(symbols, elementary(expr), "numpy")

    def f(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            out = fn(*[x[:, i] for i in range(x.shape[1])])
        return np.broadcast_to(np.asarray(out, dtype=float), (x.shape[0],)).copy()

    return f


def to_numpy_columns(exprs, symbols):
    """A NumPy function of arrays ``(n, len(symbols))`` returning ``(n, len(exprs))``, one
    column per expression: one code generation for them all (a lambdify per term costs
    milliseconds each, which dominated the polish of long equations)."""
    exprs = [elementary(sympy.sympify(e)) for e in exprs]
    fn = sympy.lambdify(symbols, exprs, "numpy")

    def f(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            outs = fn(*[x[:, i] for i in range(x.shape[1])])
        columns = [np.broadcast_to(np.asarray(o, dtype=float), (x.shape[0],)) for o in outs]
        return np.stack(columns, axis=1) if columns else np.zeros((x.shape[0], 0))

    return f


def normalized_rmse(y_hat, y):
    """``rms(y_hat - y) / std(y)`` (``rms(y)`` if ``y`` is constant); inf if not finite."""
    y_hat, y = np.asarray(y_hat, float), np.asarray(y, float)
    scale = np.std(y)
    if scale < 1e-12:
        scale = max(np.sqrt(np.mean(y**2)), 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        err = np.sqrt(np.mean((y_hat - y) ** 2)) / scale
    return float(err) if np.isfinite(err) else float("inf")


def judge(candidate, truth, symbols, domain, n_points=4000, tolerance=0.05, far_factor=2.0,
          far_tolerance=0.1, small_term=0.05, seed=0):
    """Is ``candidate`` the law ``truth``, up to small terms and coefficient drift?

    Both are evaluated on ``n_points`` uniform points of ``domain`` (a ``(low, high)``
    pair for every variable, normally wider than the training domain) and on a domain
    ``far_factor`` times wider still (same centre). Additive terms of the candidate
    whose RMS on ``domain`` is below ``small_term`` times the standard deviation of the
    truth are ignored (the "small terms" of the paper's criterion). The rest counts as
    the true law when its normalized RMSE is below ``tolerance`` on ``domain`` and
    below ``far_tolerance`` on the far domain: drifted coefficients pass; expressions
    that only imitate the law near the data (a polynomial for a Gaussian, a sine for a
    cube) fail, if not on ``domain`` then further out. Points where the true law is not
    finite are left out.

    Returns:
        ``(success, nrmse)`` with the normalized RMSE of the whole candidate on
        ``domain``.
    """
    low, high = domain
    centre, half = (low + high) / 2, (high - low) / 2
    rng = np.random.default_rng(seed)
    f_true = to_numpy_function(truth, symbols)
    points = [
        rng.uniform(centre - s * half, centre + s * half, (n_points, len(symbols)))
        for s in (1.0, far_factor)
    ]
    y_true = [f_true(x) for x in points]
    keep = [np.isfinite(y) for y in y_true]
    scale = np.std(y_true[0][keep[0]]) or 1.0
    terms = sympy.Add.make_args(sympy.expand(elementary(sympy.sympify(candidate))))
    with np.errstate(all="ignore"):
        rows = np.ascontiguousarray(to_numpy_columns(terms, symbols)(points[0]).T)
        sizes = [np.sqrt(np.mean(row**2)) for row in rows]  # summed as before, bit for bit
    main = sympy.Add(*[t for t, size in zip(terms, sizes) if not size < small_term * scale])
    whole = normalized_rmse(to_numpy_function(candidate, symbols)(points[0])[keep[0]], y_true[0][keep[0]])
    near, far = (
        normalized_rmse(to_numpy_function(main, symbols)(x)[k], y[k])
        for x, y, k in zip(points, y_true, keep)
    )
    return bool(near < tolerance and far < far_tolerance), whole


def extra_functions(candidate, truth):
    """Names of the functions ``candidate`` applies that ``truth`` does not, sorted.

    A stricter reading of a judged success: ``0.92*x**2 + 0.28 - 0.28*exp(-0.33*x**2)``
    passes :func:`judge` for ``x**2`` (it is within tolerance even far out) but uses an
    ``exp`` the law lacks, so this returns ``["exp"]``. Equivalent rewritings that
    change the function (``cos(2*pi*x)`` as ``1 - 2*sin(pi*x)**2``) are flagged too.
    """
    def names(expr):
        return {type(f).__name__ for f in elementary(sympy.sympify(expr)).atoms(sympy.Function)}

    return sorted(names(candidate) - names(truth))



def term_coefficients(expr):
    """The additive terms of ``expr`` with their numbers pulled out.

    Each term ``c * g`` (``c`` its numeric coefficient) is keyed by ``g`` written with
    its inner numbers replaced by placeholders ``{0}, {1}, ...`` (``sin(1.19*x)`` ->
    ``"sin({0}*x)"``), so that the same term read at another parameter value has the
    same key. Returns ``{key: (c, [inner numbers])}``; a constant term has key ``"1"``.
    Terms whose keys coincide are summed (their inner numbers must then agree).
    """
    out = {}
    for term in sympy.Add.make_args(sympy.sympify(expr)):
        if term.is_zero:
            continue
        coeff, rest = term.as_coeff_Mul()
        inner = list(dict.fromkeys(f for f in sympy.preorder_traversal(rest) if isinstance(f, sympy.Float)))
        holders = sympy.symbols(f"_c0:{len(inner)}")
        form = rest.xreplace(dict(zip(inner, holders))) if inner else rest
        key = str(form)
        for i in range(len(inner)):
            key = key.replace(f"_c{i}", "{%d}" % i)
        c, values = out.get(key, (0.0, [float(v) for v in inner]))
        out[key] = (c + float(coeff), values)
    return out


def coefficient_curves(readings):
    """Curves over a sequence of :func:`term_coefficients` readings (one per parameter value).

    Returns ``{key: array}`` with each term's coefficient (0 where the term is absent) and
    ``"<key>[i]"`` with its inner number ``i`` (NaN where absent); the constant term last.
    """
    keys = sorted({k for r in readings for k in r}, key=lambda k: (k == "1", k))
    curves = {}
    for key in keys:
        curves[key] = np.array([r[key][0] if key in r else 0.0 for r in readings])
        n_inner = max(len(r[key][1]) for r in readings if key in r)
        for i in range(n_inner):
            curves[f"{key}[{i}]"] = np.array([r[key][1][i] if key in r else np.nan for r in readings])
    return curves


def power_law(symbols, x, y, step=0.5, max_power=4.0, sample_weight=None):
    """The monomial ``prod x_i**e_i`` that a log-log least-squares fit of ``y`` finds, or None.

    Many laws of physics are one product of powers (``m*a``, ``n*T/V``, ``q*Q/r**2``):
    on data where every variable and the target keep one sign, ``log|y| = log|c| +
    sum_i e_i log|x_i|`` is linear, and its least-squares exponents, rounded to
    multiples of ``step`` (half powers by default), give the law's form whatever the
    variables' scale. The coefficient ``c`` is left to the caller's refit.

    Args:
        symbols: the variables, one per column of ``x``.
        x: ``(n, n_vars)`` data; ``y``: ``(n,)`` target.
        step: exponents are rounded to multiples of this.
        max_power: exponents larger than this in size are not believed (None is returned).
        sample_weight: ``(n,)`` weights of the rows in the fit (None: equal).

    Returns:
        The monomial (without coefficient), or None when the data have a sign change
        or a zero, the fit leaves every exponent at zero, or a non-integer power falls
        on a negative variable.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float).ravel()
    if x.ndim != 2 or x.shape[1] != len(symbols) or len(y) != len(x) or len(y) <= x.shape[1] + 1:
        return None
    one_sign = lambda v: bool(np.all(v > 0) or np.all(v < 0))  # noqa: E731
    if not one_sign(y) or not all(one_sign(c) for c in x.T):
        return None
    root = np.ones(len(y)) if sample_weight is None else np.sqrt(np.asarray(sample_weight, float))
    design = np.column_stack([np.ones(len(y)), np.log(np.abs(x))]) * root[:, None]
    exponents = np.linalg.lstsq(design, np.log(np.abs(y)) * root, rcond=None)[0][1:]
    exponents = np.round(exponents / step) * step
    if not np.any(exponents) or np.any(np.abs(exponents) > max_power):
        return None
    term = sympy.Integer(1)
    for symbol, column, e in zip(symbols, x.T, exponents):
        if e == 0:
            continue
        if column[0] < 0 and e != int(e):
            return None
        term *= symbol ** (sympy.Integer(int(e)) if e == int(e) else sympy.Rational(e).limit_denominator(8))
    return term


#: Equations with more additive terms than this are not polished (the refits would cost
#: more than the restarts).
MAX_POLISH_TERMS = 200


def polish(expr, symbols, x, y, tolerance=1e-4, extra_terms=(), sample_weight=None):
    """Refit the additive terms' coefficients by least squares, dropping the terms the fit
    does not need (see :func:`_polish`); ``sample_weight`` weights the rows."""
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    # Many small solves: threaded BLAS only spins (30x slower on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return _polish(expr, symbols, x, y, tolerance, extra_terms, sample_weight)


def _polish(expr, symbols, x, y, tolerance=1e-4, extra_terms=(), sample_weight=None):
    """Refit the additive terms' coefficients by least squares, dropping the terms the fit
    does not need.

    ``expr = sum_k c_k g_k``: the coefficients ``c_k`` are refitted on ``(x, y)`` (inner
    numbers of the ``g_k`` stay), together with any ``extra_terms`` (e.g. the variables
    and their products, so that a look-alike such as ``a - a exp(-b p)`` for ``p`` can
    give way to the simple term); then, one at a time, the term whose removal raises the
    mean squared error least is dropped while the total rise stays below ``tolerance``
    times the variance of ``y`` (1e-4: an RMS change of 1% of the target's spread).
    Returns the polished expression, or ``expr`` unchanged when the terms cannot be
    evaluated.
    """
    y = np.asarray(y, float).ravel()
    bases = []
    terms = [*sympy.Add.make_args(sympy.expand(sympy.sympify(expr))), *map(sympy.sympify, extra_terms)]
    for term in terms:
        _, g = term.as_coeff_Mul()
        if g not in bases:
            bases.append(g)
    if not bases:
        return expr
    with np.errstate(all="ignore"):
        a = to_numpy_columns(bases, symbols)(x)
    if not np.all(np.isfinite(a)):
        return expr
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float).ravel()
    w = w / w.mean()
    variance = float(np.average((y - np.average(y, weights=w)) ** 2, weights=w))
    allowed = tolerance * max(variance, 1e-30)
    # Weighted least squares: rows scaled by sqrt(w) (mean weight 1, so the losses below
    # are weighted mean squared errors).
    a, y = a * np.sqrt(w)[:, None], y * np.sqrt(w)
    # Least squares on the normal equations of unit-norm columns: every refit of a
    # subset of terms is a small (terms x terms) solve, whatever the number of rows.
    norms = np.linalg.norm(a, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    unit = a / norms
    gram, moment, yy, n = unit.T @ unit, unit.T @ y, float(y @ y), len(y)

    def fit(keep):
        g = gram[np.ix_(keep, keep)]
        coef = np.linalg.lstsq(g, moment[keep], rcond=1e-10)[0]
        rss = yy - 2 * coef @ moment[keep] + coef @ g @ coef
        return coef, max(float(rss), 0.0) / n

    keep = list(range(len(bases)))
    if len(keep) > MAX_POLISH_TERMS:
        return expr
    coef, loss = fit(keep)
    start = loss
    while len(keep) > 1:
        # Removing term k raises the squared error by about c_k^2 / (G^-1)_kk: rank the
        # terms by that, and refit the three cheapest to choose.
        inverse = np.diag(np.linalg.pinv(gram[np.ix_(keep, keep)]))
        with np.errstate(all="ignore"):
            cost = np.where(inverse > 0, coef**2 / inverse, 0.0)
        trials = []
        for i in np.argsort(cost)[:3]:
            rest = [k for j, k in enumerate(keep) if j != i]
            trials.append((fit(rest), rest))
        (c, l), rest = min(trials, key=lambda item: item[0][1])
        if l - start > allowed:
            break
        keep, coef, loss = rest, c, l
    coef = coef / norms[keep]
    return sympy.Add(*[sympy.Float(float(c)) * bases[k] for c, k in zip(coef, keep)])


def polish_refined(expr, symbols, x, y, extra_terms=None, max_numbers=None):
    """:func:`polish` with ``extra_terms`` offered (default: every variable and a
    constant), then :func:`refine` (every number, inner rates and frequencies too), then
    :func:`polish` again.

    ``max_numbers``: refine only when the first polish has at most this many free
    numbers (a refit's cost grows with their square; a long equation is rarely one
    refit away from a law). None: always.

    For a read-out whose structure is right but whose inner numbers are a little off, or
    which lacks a small additive term in a variable (a Gumbel-max EQL expression
    ``2.073*x1*x2*cos(1.206*x3)`` on b7's data becomes ``2.1*x1*x2*cos(1.2*x3) + 1.1*x1 +
    0.9*x2``). Returns the first polish when the refinement does not lower the mean
    squared error on ``(x, y)``.
    """
    x, y = np.asarray(x, float), np.asarray(y, float).ravel()
    extra = [*symbols, sympy.Integer(1)] if extra_terms is None else list(extra_terms)
    polished = polish(expr, symbols, x, y, extra_terms=extra)
    if max_numbers is not None and len(_free_numbers(polished)) > max_numbers:
        return polished
    refined = refine(polished, symbols, x, y)
    if refined is polished:
        return polished
    return polish(refined, symbols, x, y)


def prune(expr, symbols, x, y, tolerance=1e-4, max_numbers=REFINE_MAX_NUMBERS, tries=3):
    """Drop additive terms one at a time, refitting every remaining number each time.

    Backward elimination with a nonlinear refit: the removals of ``expr``'s additive terms
    are ranked by a linear refit of the other terms' coefficients, and for the ``tries``
    cheapest the other terms' numbers (outer coefficients and inner rates, frequencies
    and phases alike) are refitted without the term by :func:`refine`; the removal that
    leaves the lowest mean squared error on ``(x, y)`` is kept while the total rise stays
    below ``tolerance`` times the variance of ``y`` (as in :func:`polish`), and the next
    term is tried. :func:`polish` drops a term only when the other terms, as they are,
    can absorb it; here the others may move: ``0.094*x + 0.82*exp(1.094*x) + 0.18`` on
    ``exp(x)``'s points loses its line and its constant as the exponential's rate and
    coefficient go to 1.

    Args:
        expr: a SymPy expression in ``symbols``; x: ``(n, len(symbols))``; y: ``(n,)``.
        tolerance: the allowed rise of the mean squared error, relative to ``var(y)``.
        max_numbers: a removal is tried only when the remaining terms hold at most this
            many numbers (a refit's cost grows with their square).
        tries: removals refitted per step. On the unseen laws of set seed 0, 3 gave
            the verdicts of trying every term, law by law, in 0.63x the time
            (docs/results.md).

    Returns:
        The pruned expression (``expr`` itself when no term can go).
    """
    tolerance = check_number("tolerance", tolerance, 0.0)
    max_numbers = check_int("max_numbers", max_numbers, minimum=0, allow_none=True)
    tries = check_int("tries", tries, minimum=1)
    x, y = fit_points(x, y, symbols)
    allowed = tolerance * max(float(np.var(y)), 1e-30)

    with np.errstate(all="ignore"):
        start = _mean_square(to_numpy_function(expr, symbols)(x) - y)
    current = expr
    while True:
        terms = sympy.Add.make_args(current)
        if len(terms) < 2:
            return current
        best, refits = (np.inf, None), 0
        for k in _removal_order(terms, symbols, x, y):
            rest = sympy.Add(*terms[:k], *terms[k + 1:])
            if max_numbers is not None and len(_free_numbers(rest)) > max_numbers:
                continue
            if refits == tries:
                break
            refits += 1
            refitted, refitted_error = _refine(rest, symbols, x, y)
            best = min(best, (refitted_error, refitted), key=lambda item: item[0])
        if best[1] is None or best[0] - start > allowed:
            return current
        current = best[1]


def fit_points(x, y, symbols):
    """``x`` as a float ``(n, len(symbols))`` array and ``y`` as ``(n,)``, or a ValueError
    naming ``x`` (the points of :func:`prune` and :func:`deepsymreg.swap.swap`)."""
    x, y = np.asarray(x, float), np.asarray(y, float).ravel()
    if x.ndim != 2 or x.shape != (len(y), len(symbols)):
        raise ValueError(
            f"Invalid value for argument `x`: expected shape ({len(y)}, {len(symbols)}) (one row "
            f"per target, one column per symbol). Received: x.shape={x.shape}"
        )
    return x, y


def _removal_order(terms, symbols, x, y):
    """Indexes of ``terms``, cheapest removal first: the mean squared error of a linear
    least-squares refit of the other terms' coefficients (in order when the terms are not
    finite on ``x``)."""
    with np.errstate(all="ignore"):
        a = to_numpy_columns(list(terms), symbols)(x)
    if not np.all(np.isfinite(a)):
        return list(range(len(terms)))
    costs = []
    for k in range(len(terms)):
        rest = np.delete(a, k, axis=1)
        coef = np.linalg.lstsq(rest, y, rcond=None)[0]
        costs.append(float(np.mean((rest @ coef - y) ** 2)))
    return [int(k) for k in np.argsort(costs, kind="stable")]


def _free_numbers(expr):
    """The floats of ``expr`` a refit may move: all but the exponents of powers (an
    exponent such as 2.0 moved to 1.97 makes a negative base NaN)."""
    exponents = {p.exp for p in expr.atoms(sympy.Pow) if isinstance(p.exp, sympy.Float)}
    return sorted(expr.atoms(sympy.Float) - exponents, key=lambda f: (abs(float(f)), float(f)))


def refine(expr, symbols, x, y, max_evaluations=None):
    """Refit every number of ``expr`` by nonlinear least squares on ``(x, y)``.

    The outer coefficients and the inner numbers alike (the rate of an ``exp``, the
    frequency and phase of a ``sin``; the exponents of powers stay), started from their
    values in ``expr`` (Levenberg-Marquardt, :func:`scipy.optimize.least_squares`).
    A network's equation often has the law's form with slightly wrong inner numbers,
    which a linear refit of the outer coefficients (:func:`polish`) cannot mend.

    Args:
        expr: a SymPy expression in ``symbols``.
        symbols: its variables, in the column order of ``x``.
        x: ``(n, len(symbols))`` points; y: ``(n,)`` targets.
        max_evaluations: about how many evaluations of ``expr`` to spend, those of the
            finite-difference Jacobian included (default ``50 * (numbers + 2)``: about 50
            iterations, whatever SciPy's version).

    Returns:
        The refitted expression when it lowers the mean squared error on ``(x, y)``,
        else ``expr`` unchanged (also when it cannot be evaluated there).
    """
    return _refine(expr, symbols, x, y, max_evaluations)[0]


def _refine(expr, symbols, x, y, max_evaluations=None):
    """:func:`refine`'s expression and its mean squared error on ``(x, y)`` (``inf`` where
    it is not finite), from the fit's own residuals: no second code generation."""
    from scipy.optimize import least_squares
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    numbers = _free_numbers(expr)
    y = np.asarray(y, float).ravel()
    x = np.asarray(x, float)
    if not numbers or len(numbers) > len(y):
        with np.errstate(all="ignore"):
            return expr, _mean_square(to_numpy_function(expr, symbols)(x) - y)
    params = sympy.symbols(f"_refine0:{len(numbers)}")
    substituted = expr.xreplace(dict(zip(numbers, params)))
    fn = sympy.lambdify([*symbols, *params], elementary(substituted), "numpy")
    columns = [x[:, i] for i in range(x.shape[1])]

    def raw_residual(c):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(fn(*columns, *c), float), y.shape) - y

    def residual(c):  # what the solver sees: a non-finite point is a large miss
        r = raw_residual(c)
        return np.where(np.isfinite(r), r, 1e6)

    start = np.array([float(n) for n in numbers])
    first = raw_residual(start)
    if not np.all(np.isfinite(first)):
        return expr, np.inf

    def jacobian(c):  # forward differences, ours: len(c) + 1 evaluations per call
        r0 = residual(c)
        steps = _SQRT_EPS * np.maximum(1.0, np.abs(c))
        jac = np.empty((y.size, c.size))
        for i, h in enumerate(steps):
            shifted = c.copy()
            shifted[i] += h
            jac[:, i] = (residual(shifted) - r0) / h
        return jac

    # MINPACK counts only the residual's calls against max_nfev when the Jacobian is a
    # callable (and SciPy >= 1.16 differentiates outside MINPACK even without one), so
    # the evaluation budget becomes a budget of iterations here: each costs about
    # len(numbers) + 2 evaluations.
    budget = max_evaluations or 50 * (len(numbers) + 2)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = least_squares(residual, start, jac=jacobian, method="lm",
                                max_nfev=max(1, budget // (len(numbers) + 2)))
        except (ValueError, FloatingPointError):
            return expr, _mean_square(first)
    last = raw_residual(fit.x)
    if not (np.all(np.isfinite(last)) and np.mean(last**2) < np.mean(first**2)):
        return expr, _mean_square(first)
    # The numbers go back in through the symbols: an xreplace keyed by the old Floats
    # compares every node with them, about 20x slower.
    return (substituted.xreplace({p: sympy.Float(float(v)) for p, v in zip(params, fit.x)}),
            _mean_square(last))


def _mean_square(residual):
    """The mean of ``residual**2``, ``inf`` when it is not finite."""
    with np.errstate(all="ignore"):
        value = float(np.mean(np.asarray(residual, float) ** 2))
    return value if np.isfinite(value) else np.inf
