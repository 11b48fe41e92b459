"""Term swaps: replace look-alike terms of an equation by one term of a small grammar.

A network fitted on [-1, 1] often returns a look-alike of the law: ``-4.5*x + 4.54*sin(0.316*pi*x)``
where the law has ``-0.7*x**3`` (the sine's cubic Taylor term), or ``-0.45*y`` where it has
``-0.8*y**3``. The look-alike fits the training points to a small error and misses the law
outside them. :func:`swap` searches the equation's neighbourhood: one, two or three of its
additive terms replaced by a single term of :class:`TermLibrary` (the network's primitive
shapes at depth one: powers, ``exp``, ``sin`` and ``cos``, sigmoids, and their products
with a variable, its square or a product of two variables), screened by a linearized least
squares refit and the most promising refitted with every number free
(:func:`deepsymreg.symbolic.refine`). A swap is kept when the equation gets simpler at the
same training error, or much more accurate at about the same size.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy

from deepsymreg._validation import check_int, check_number
from deepsymreg.symbolic import (
    REFINE_MAX_NUMBERS,
    _free_numbers,
    complexity,
    fit_points,
    prune,
    refine,
    to_numpy_columns,
)

__all__ = ["TermLibrary", "swap", "prune_and_swap"]

#: Inner rates of the library's exponentials, ``exp(a*g)``.
RATES = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0)
#: Inner frequencies of its sines and cosines, ``sin(k*pi*g)``, in half-periods per unit.
FREQUENCIES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
#: Slopes and centres of its sigmoids, ``1/(1 + exp(-s*(v - c)))``.
SLOPES = (-20.0, -10.0, -5.0, -2.0, 2.0, 5.0, 10.0, 20.0)
CENTRES = (-0.5, 0.0, 0.5)


#: The largest magnitude of a library term on the points.
_LARGEST = 1e8


class TermLibrary:
    """Candidate terms in ``symbols`` and their values on the points ``x``.

    Atoms of each variable ``v``: its powers 1 to ``max_power``; ``exp(a*g)``,
    ``sin(k*pi*g)`` and ``cos(k*pi*g)`` for ``g`` in ``v``, ``v**2`` and the products of two
    variables, ``a`` in :data:`RATES`, ``k`` in :data:`FREQUENCIES`; sigmoids of ``v``
    (:data:`SLOPES`, :data:`CENTRES`). Terms: the atoms, the products of two or three
    distinct variables and ``v**2*w``, and every non-power atom times a variable, a
    variable's square or a product of two distinct variables. The numbers are starting
    points: a swap refits them. For three variables, about 3000 terms (their number grows
    with the cube of the variables').

    Args:
        symbols: the variables, in the column order of ``x``.
        x: ``(n, len(symbols))`` points (the training inputs).
        max_power: the highest power of one variable.

    Attributes:
        terms: the SymPy terms (those finite and not constant on ``x``); columns:
            ``(n, len(terms))`` their values; families: each term's shape (its numbers
            replaced by a placeholder).
    """

    def __init__(self, symbols, x, max_power=4):
        max_power = check_int("max_power", max_power, minimum=1)
        x = np.asarray(x, float)
        if x.ndim != 2 or x.shape[1] != len(symbols):
            raise ValueError(
                f"Invalid value for argument `x`: expected shape (n, {len(symbols)}) (one column "
                f"per symbol). Received: x.shape={x.shape}"
            )
        self.symbols = list(symbols)
        cols = {s: x[:, i] for i, s in enumerate(self.symbols)}
        terms, values = [], []

        def add(term, value):
            # Finite, not constant, and not so large that its square overflows.
            if np.all(np.abs(value) < _LARGEST) and np.ptp(value) > 1e-12:
                terms.append(term)
                values.append(value)

        args = [(s, cols[s]) for s in self.symbols]
        args += [(s**2, cols[s] ** 2) for s in self.symbols]
        args += [(a * b, cols[a] * cols[b]) for a, b in itertools.combinations(self.symbols, 2)]
        shapes = []  # (term, value) of every non-power atom
        with np.errstate(all="ignore"):
            for g, gv in args:
                for a in RATES:
                    shapes.append((sympy.exp(sympy.Float(a) * g), np.exp(a * gv)))
                for k in FREQUENCIES:
                    # Unevaluated: SymPy would turn sin(0.5*pi*x) into sin(pi*x/2), whose
                    # frequency, no longer a float, a refit could not move.
                    arg = sympy.Mul(sympy.Float(k), sympy.pi, g, evaluate=False)
                    shapes.append((sympy.sin(arg, evaluate=False), np.sin(k * np.pi * gv)))
                    shapes.append((sympy.cos(arg, evaluate=False), np.cos(k * np.pi * gv)))
            for s in self.symbols:
                for slope, centre in itertools.product(SLOPES, CENTRES):
                    form = sympy.Float(-slope) * s + sympy.Float(slope * centre)
                    shapes.append((1 / (1 + sympy.exp(form)),
                                   1.0 / (1.0 + np.exp(-slope * (cols[s] - centre)))))
            for s in self.symbols:
                for p in range(1, max_power + 1):
                    add(s**p, cols[s] ** p)
            for n in (2, 3):
                for group in itertools.combinations(self.symbols, n):
                    add(sympy.Mul(*group), np.prod([cols[s] for s in group], axis=0))
            for a, b in itertools.permutations(self.symbols, 2):
                add(a**2 * b, cols[a] ** 2 * cols[b])
            for term, value in shapes:
                add(term, value)
                for s in self.symbols:
                    add(s * term, cols[s] * value)
                    add(s**2 * term, cols[s] ** 2 * value)
                for a, b in itertools.combinations(self.symbols, 2):
                    add(a * b * term, cols[a] * cols[b] * value)
        self.terms = terms
        self.columns = np.stack(values, axis=1) if values else np.zeros((x.shape[0], 0))
        self.families = [_family(t) for t in terms]


def swap(expr, symbols, x, y, library=None, tolerance=1e-4, gain=0.1, max_removed=3,
         max_terms=10, tries=2, rounds=3, max_numbers=REFINE_MAX_NUMBERS):
    """Replace look-alike terms of ``expr`` by single terms of a :class:`TermLibrary`.

    Each round screens every way of removing 1 to ``max_removed`` additive terms (the
    constant stays) and adding one library term by a linearized least-squares refit on
    ``(x, y)``: the outer coefficients of the kept terms and the new one, and the kept
    terms' inner numbers to first order (their derivative columns: one Gauss-Newton step),
    so that ``-0.45*y - 0.71*sin(1.91*pi*y)`` can show that ``y**3`` fits once the sine's
    frequency moves. Swapping a term for one of its own family is a refit, not a swap, and
    is not screened. For each number of removed terms, the ``tries`` swaps of distinct
    families with the lowest linearized error are refitted with every number free
    (:func:`deepsymreg.symbolic.refine`). The best refitted swap is kept when it leaves a
    simpler equation (fewer tree nodes) whose mean squared error rose less than
    ``tolerance * var(y)``, or when it cuts the error by the factor ``gain`` without
    making the equation larger by more than the term it adds; rounds repeat while a swap
    is kept.

    Args:
        expr: a SymPy expression in ``symbols``; x: ``(n, len(symbols))``; y: ``(n,)``.
        library: a :class:`TermLibrary` on ``x`` (built when None; pass one to reuse it
            across the restarts of a law).
        tolerance: the allowed rise of the mean squared error of a simplifying swap,
            relative to ``var(y)``.
        gain: a swap that does not simplify must bring the error to this fraction of it.
        max_removed: the most terms one swap replaces.
        max_terms: equations with more additive terms are returned unchanged (they are
            rarely one swap away from a law, and their subsets are many).
        tries: swaps refitted per number of removed terms and round.
        rounds: the most swaps kept.
        max_numbers: a swap is refitted by ``refine`` only when it holds at most this
            many numbers (else its linear refit is judged).

    Returns:
        The equation after the kept swaps (``expr`` itself when none is kept).
    """
    tolerance = check_number("tolerance", tolerance, 0.0)
    gain = check_number("gain", gain, 0.0)
    if not gain < 1:
        raise ValueError(f"Invalid value for argument `gain`: expected a number below 1. Received: gain={gain}")
    max_removed = check_int("max_removed", max_removed, minimum=1)
    max_terms = check_int("max_terms", max_terms, minimum=1)
    tries = check_int("tries", tries, minimum=1)
    rounds = check_int("rounds", rounds, minimum=0)
    max_numbers = check_int("max_numbers", max_numbers, minimum=0, allow_none=True)
    x, y = fit_points(x, y, symbols)
    if library is None:
        library = TermLibrary(symbols, x)
    elif library.columns.shape[0] != len(y):
        raise ValueError(
            f"Invalid value for argument `library`: built on {library.columns.shape[0]} points, "
            f"but x has {len(y)}"
        )
    var = max(float(np.var(y)), 1e-30)
    current, cur_err = expr, None
    for _ in range(rounds):
        better = _best_swap(current, cur_err, symbols, x, y, library, max_removed, max_terms, tries,
                            max_numbers)
        if better is None:
            break
        new, new_err, cur_err = better
        size, new_size = complexity(current), complexity(new)
        simpler = new_size < size and new_err - cur_err <= tolerance * var
        sharper = new_err <= gain * cur_err and new_size <= size + _SIZE_SLACK
        if not (simpler or sharper):
            break
        current, cur_err = new, new_err
    return current


def prune_and_swap(expr, symbols, x, y, library=None):
    """:func:`deepsymreg.symbolic.prune`, then :func:`swap` and, when a swap was kept,
    ``prune`` again (a swap may leave terms that the new one made redundant): the read-out
    of ``deepsymreg benchmark`` and one of the estimator's candidates."""
    pruned = prune(expr, symbols, x, y)
    swapped = swap(pruned, symbols, x, y, library=library)
    return pruned if swapped is pruned else prune(swapped, symbols, x, y)


#: How many tree nodes a sharper swap may add (one term of the library times a square).
_SIZE_SLACK = 8


def _mse(values, y):
    with np.errstate(all="ignore"):
        value = float(np.mean((values - y) ** 2))
    return value if np.isfinite(value) else np.inf


def _family(term):
    """``term``'s shape: its numbers replaced by one placeholder (``exp(1.3*x)`` and
    ``0.5*exp(2*x)`` share one)."""
    numbers = term.atoms(sympy.Float) | {n for n in term.atoms(sympy.Rational) if not n.is_Integer}
    return term.xreplace({n: _SLOT for n in numbers}).as_coeff_Mul()[1]


_SLOT = sympy.Symbol("_slot")


def _inner_derivatives(terms, symbols, x):
    """Columns of the derivatives of ``terms`` by their inner numbers (all free numbers but
    the outer coefficient) on ``x``, and the index of each column's term: with them in a
    least-squares basis, the kept terms' rates and frequencies move to first order (one
    Gauss-Newton step). Columns not finite on ``x`` are left out."""
    derivatives, owners = [], []
    for k, t in enumerate(terms):
        outer, rest = t.as_coeff_Mul()
        for n in _free_numbers(rest):
            p = sympy.Symbol("_inner")
            d = sympy.diff(rest.xreplace({n: p}), p).xreplace({p: n})
            if d != 0:
                derivatives.append(outer * d)
                owners.append(k)
    if not derivatives:
        return np.zeros((x.shape[0], 0)), np.zeros(0, int)
    with np.errstate(all="ignore"):
        columns = to_numpy_columns(derivatives, symbols)(x)
    finite = np.all(np.isfinite(columns), axis=0)
    return columns[:, finite], np.asarray(owners)[finite]


def _best_swap(expr, cur_err, symbols, x, y, library, max_removed, max_terms, tries, max_numbers):
    """The best refitted swap of ``expr`` (whose MSE is ``cur_err``, computed when None) as
    ``(equation, its MSE, expr's MSE)``, or None."""
    terms = [t for t in sympy.Add.make_args(expr) if not t.is_Number]
    if not terms or len(terms) > max_terms:
        return None
    with np.errstate(all="ignore"):
        t_cols = to_numpy_columns(terms, symbols)(x)
    if not np.all(np.isfinite(t_cols)):
        return None
    d_cols, owners = _inner_derivatives(terms, symbols, x)
    families = [_family(t) for t in terms]
    if cur_err is None:
        cur_err = _mse(to_numpy_columns([expr], symbols)(x)[:, 0], y)
    n = len(y)
    lib = library.columns
    lib_norm = np.einsum("ij,ij->j", lib, lib)
    found = []
    for size in range(1, min(max_removed, len(terms)) + 1):
        ranked = []
        for removed in itertools.combinations(range(len(terms)), size):
            kept = [k for k in range(len(terms)) if k not in removed]
            basis = np.column_stack([np.ones(n), t_cols[:, kept], d_cols[:, np.isin(owners, kept)]])
            with np.errstate(all="ignore"):  # a non-finite drop is skipped below
                q = _orthonormal(basis)
                r = y - q @ (q.T @ y)
                c_perp = lib - q @ (q.T @ lib)
                norm = np.einsum("ij,ij->j", c_perp, c_perp)
                ok = norm > 1e-10 * np.maximum(lib_norm, 1e-30)
                drop = np.where(ok, (r @ c_perp) ** 2 / np.where(ok, norm, 1.0), -np.inf)
            # A size-1 swap within the removed term's own family is a refit, not a swap.
            same = {families[k] for k in removed} if size == 1 else set()
            picked = set()
            for j in np.argsort(-drop):
                if not np.isfinite(drop[j]) or len(picked) == tries:
                    break
                if library.families[j] in same or library.families[j] in picked:
                    continue
                picked.add(library.families[j])
                ranked.append((float(r @ r - drop[j]) / n, kept, int(j)))
        # Each (kept terms, family) pair is in ``ranked`` once: families are distinct per
        # removal, and each removal leaves its own kept terms.
        ranked.sort(key=lambda item: item[0])
        for _, kept, j in ranked[:tries]:
            found.append(_refitted(terms, t_cols, kept, library.terms[j], lib[:, j], symbols, x, y,
                                   max_numbers))
    found = [f for f in found if f is not None]
    if not found:
        return None
    new, new_err = min(found, key=lambda f: (f[1], complexity(f[0])))
    return new, new_err, cur_err


def _orthonormal(basis):
    """An orthonormal basis of the span of ``basis``'s columns (rank-revealing: columns
    that add nothing are left out)."""
    u, s, _ = np.linalg.svd(basis, full_matrices=False)
    return u[:, s > s[0] * 1e-10] if s.size and s[0] > 0 else u[:, :0]


def _refitted(terms, t_cols, kept, term, column, symbols, x, y, max_numbers):
    """The swap's equation (the kept terms and ``term``, outer coefficients by linear least
    squares, then every number by ``refine``) and its MSE on ``(x, y)``."""
    a = np.column_stack([np.ones(len(y)), t_cols[:, kept], column])
    coef = np.linalg.lstsq(a, y, rcond=None)[0]
    if not np.all(np.isfinite(coef)):
        return None
    new = sympy.Add(sympy.Float(coef[0]),
                    *[sympy.Float(c) * terms[k] for c, k in zip(coef[1:-1], kept)],
                    sympy.Float(coef[-1]) * term)
    if max_numbers is None or len(_free_numbers(new)) <= max_numbers:
        new = refine(new, symbols, x, y)
    err = _mse(to_numpy_columns([new], symbols)(x)[:, 0], y)
    return (new, err) if np.isfinite(err) else None
