"""Term swaps: replace look-alike terms of an equation by one term of a small grammar.

A network fitted on [-1, 1] often returns a look-alike of the law: ``-4.5*x + 4.54*sin(0.316*pi*x)``
where the law has ``-0.7*x**3`` (the sine's cubic Taylor term), or ``-0.45*y`` where it has
``-0.8*y**3``. The look-alike fits the training points to a small error and misses the law
outside them. :func:`swap` searches the equation's neighbourhood: one, two or three of its
additive terms replaced by a single term of :class:`TermLibrary` (the network's primitive
shapes: powers, ``exp``, ``sin`` and ``cos``, sigmoids, their products with a variable,
its square or a product of two variables, and two shapes of one variable together, such
as ``exp(-0.8*x)*sin(0.6*pi*x)`` or ``exp(-0.7*sin(1.7*pi*x))``) or of
:class:`DerivedTerms` (the equation's own factors times shapes of another variable, and
shapes of its own two-variable linear forms), or a term added to an equation that fits
poorly; screened by a linearized least squares refit and the most promising refitted
with every number free (:func:`deepsymreg.symbolic.refine`). A swap is kept when the
equation gets simpler at the same training error, or much more accurate at about the
same size.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy

from deepsymreg._validation import check_int, check_number
from deepsymreg.symbolic import (
    REFINE_MAX_NUMBERS,
    _free_numbers,
    _mean_square,
    _refine,
    complexity,
    fit_points,
    prune,
    rounded,
    to_numpy_columns,
)

__all__ = ["TermLibrary", "DerivedTerms", "swap", "prune_and_swap"]

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
    """Candidate terms in ``symbols``, their values on the points ``x`` and their
    derivatives by one inner number.

    Atoms of each variable ``v``: its powers 1 to ``max_power``; ``exp(a*g)``,
    ``sin(k*pi*g)`` and ``cos(k*pi*g)`` for ``g`` in ``v``, ``v**2`` and the products of two
    variables, ``a`` in :data:`RATES`, ``k`` in :data:`FREQUENCIES`; sigmoids of ``v``
    (:data:`SLOPES`, :data:`CENTRES`). Terms: the atoms, the products of two or three
    distinct variables, ``v**2*w`` and ``v**2*w**2``, and every non-power atom times a
    variable, a variable's square or a product of two distinct variables. With
    ``compounds``, also two shapes of one variable together: ``exp(a*v)`` times a sine,
    cosine or sigmoid of ``v``, a sine or cosine times a sigmoid, and the compositions
    ``exp(a*sin(k*pi*v))`` and ``sin(k*pi*sin(m*pi*v))``. The numbers are starting
    points: a swap refits them. For three variables, about 3000 terms without compounds
    and 6300 with (their number grows with the cube of the variables').

    Args:
        symbols: the variables, in the column order of ``x``.
        x: ``(n, len(symbols))`` points (the training inputs).
        max_power: the highest power of one variable.
        compounds: add the products and compositions of two shapes of one variable.

    Attributes:
        terms: the SymPy terms (those finite and not constant on ``x``); columns:
            ``(n, len(terms))`` their values; derivatives: ``(n, len(terms))`` their
            derivatives by one inner number (a sine's frequency, an exponential's rate,
            a sigmoid's factor on its variable; zero for powers and products of
            variables); families: each term's shape (its numbers replaced by a
            placeholder).
    """

    def __init__(self, symbols, x, max_power=4, compounds=True):
        max_power = check_int("max_power", max_power, minimum=1)
        x = np.asarray(x, float)
        if x.ndim != 2 or x.shape[1] != len(symbols):
            raise ValueError(
                f"Invalid value for argument `x`: expected shape (n, {len(symbols)}) (one column "
                f"per symbol). Received: x.shape={x.shape}"
            )
        self.symbols = list(symbols)
        cols = {s: x[:, i] for i, s in enumerate(self.symbols)}
        zero = np.zeros(x.shape[0])
        terms, values, derivatives = [], [], []

        def add(term, value, derivative=zero):
            # Finite, not constant, and not so large that its square overflows.
            if (np.all(np.abs(value) < _LARGEST) and np.all(np.abs(derivative) < _LARGEST)
                    and np.ptp(value) > 1e-12):
                terms.append(term)
                values.append(value)
                derivatives.append(derivative)

        args = [(s, cols[s]) for s in self.symbols]
        args += [(s**2, cols[s] ** 2) for s in self.symbols]
        args += [(a * b, cols[a] * cols[b]) for a, b in itertools.combinations(self.symbols, 2)]
        with np.errstate(all="ignore"):
            shapes = []  # (term, value, derivative) of every non-power atom
            for g, gv in args:
                shapes += _exponentials(g, gv) + _sines(g, gv) + _cosines(g, gv)
            for s in self.symbols:
                shapes += _sigmoids(s, cols[s])
            for s in self.symbols:
                for p in range(1, max_power + 1):
                    add(s**p, cols[s] ** p)
            for n in (2, 3):
                for group in itertools.combinations(self.symbols, n):
                    add(sympy.Mul(*group), np.prod([cols[s] for s in group], axis=0))
            for a, b in itertools.permutations(self.symbols, 2):
                add(a**2 * b, cols[a] ** 2 * cols[b])
            for a, b in itertools.combinations(self.symbols, 2):
                add(a**2 * b**2, cols[a] ** 2 * cols[b] ** 2)
            for term, value, derivative in shapes:
                add(term, value, derivative)
                for s in self.symbols:
                    add(s * term, cols[s] * value, cols[s] * derivative)
                    add(s**2 * term, cols[s] ** 2 * value, cols[s] ** 2 * derivative)
                for a, b in itertools.combinations(self.symbols, 2):
                    add(a * b * term, cols[a] * cols[b] * value, cols[a] * cols[b] * derivative)
            if compounds:
                for s in self.symbols:
                    for term, value, derivative in _compounds(s, cols[s]):
                        add(term, value, derivative)
        self.terms = terms
        _pack(self, values, derivatives, x.shape[0])
        self.families = [_family(t) for t in terms]


def _pack(library, values, derivatives, n):
    """Set ``library``'s screen arrays: values and derivatives side by side (``_stacked``;
    ``columns`` and ``derivatives`` are its two halves, views) and their inner products."""
    library._stacked = np.stack(values + derivatives, axis=1) if values else np.zeros((n, 0))
    library.columns, library.derivatives = np.split(library._stacked, 2, axis=1)
    library._gram = (np.einsum("ij,ij->j", library.columns, library.columns),
                     np.einsum("ij,ij->j", library.derivatives, library.derivatives),
                     np.einsum("ij,ij->j", library.columns, library.derivatives))


class _Lazy:
    """A read-only sequence whose items are built on first access (SymPy terms of the
    derived library: thousands are screened, a few are ever built)."""

    def __init__(self, make, size):
        self._make, self._items = make, [None] * size

    def __len__(self):
        return len(self._items)

    def __getitem__(self, j):
        if self._items[j] is None:
            self._items[j] = self._make(j)
        return self._items[j]


class DerivedTerms:
    """Candidate terms built from one equation's own pieces, screened beside a
    :class:`TermLibrary`'s.

    A network often finds one piece of a law's term and imitates the rest: in
    ``(1.4 + 2*x + 1.5*x**2)/(exp(6.4*y) + 1)`` the sigmoid of ``y`` is the law's and the
    quadratic imitates ``exp(1.4*x)``; in ``sin(1.8*pi*x + 0.9*pi*y)**2`` the linear form
    is the law's. The fixed library holds shapes of one variable and of ``v*w``, not of
    the equation's own factors and forms. Here, for the equation's terms:

    - each factor that is not a polynomial (``exp``, ``sin``, ``cos``, a sigmoid; ``f``)
      times each variable ``v`` that ``f`` does not contain, its square and its shapes
      (``exp(a*v)``, ``sin(k*pi*v)``, ``cos(k*pi*v)``, sigmoids of ``v``);
    - each linear form ``L`` of two or more variables inside a function, scaled to a
      leading 1: ``sin(k*pi*L)``, ``cos(k*pi*L)``, ``exp(a*L)``, ``sin(k*pi*L**2)``,
      ``cos(k*pi*L**2)`` and ``1/(1 + exp(-s*L))`` (:data:`RATES`, :data:`FREQUENCIES`,
      :data:`SLOPES`), alone and times each variable and its square.

    Each with its derivative by its one grid number, as the library's. ``terms`` and
    ``families`` are built on first access (the products and their families are SymPy
    work that only the few refitted candidates need).
    """

    def __init__(self, terms, symbols, x):
        self.symbols = list(symbols)
        n = x.shape[0]
        cols = {s: x[:, i] for i, s in enumerate(self.symbols)}
        makers, values, derivatives = [], [], []

        def add(make, value, derivative):
            if (np.all(np.abs(value) < _LARGEST) and np.all(np.abs(derivative) < _LARGEST)
                    and np.ptp(value) > 1e-12):
                makers.append(make)
                values.append(value)
                derivatives.append(derivative)

        factors, forms = _pieces(terms, self.symbols)
        with np.errstate(all="ignore"):
            if factors:
                f_vals = to_numpy_columns(factors, self.symbols)(x)
                shapes = {}  # each variable's shapes, built once for all the factors
                for f, fv in zip(factors, f_vals.T):
                    if not np.all(np.isfinite(fv)):
                        continue
                    for v in self.symbols:
                        if v in f.free_symbols:
                            continue
                        vv = cols[v]
                        add(lambda f=f, v=v: v * f, vv * fv, np.zeros(n))
                        add(lambda f=f, v=v: v**2 * f, vv**2 * fv, np.zeros(n))
                        if v not in shapes:
                            shapes[v] = (_exponentials(v, vv) + _sines(v, vv) + _cosines(v, vv)
                                         + _sigmoids(v, vv))
                        for term, value, derivative in shapes[v]:
                            add(lambda f=f, t=term: t * f, value * fv, derivative * fv)
            for form in forms:
                g = sum((sympy.Float(c) * s for c, s in zip(form, self.symbols) if c), sympy.S.Zero)
                gv = x @ np.asarray(form)
                atoms = (_exponentials(g, gv) + _sines(g, gv) + _cosines(g, gv)
                         + _sines(g**2, gv**2) + _cosines(g**2, gv**2) + _form_sigmoids(g, gv))
                for term, value, derivative in atoms:
                    add(lambda t=term: t, value, derivative)
                    for v in self.symbols:
                        vv = cols[v]
                        add(lambda t=term, v=v: v * t, vv * value, vv * derivative)
                        add(lambda t=term, v=v: v**2 * t, vv**2 * value, vv**2 * derivative)
        self.terms = _Lazy(lambda j: makers[j](), len(makers))
        self.families = _Lazy(lambda j: _family(self.terms[j]), len(makers))
        _pack(self, values, derivatives, n)


def _form_sigmoids(g, gv):
    """``1/(1 + exp(-s*g))`` for :data:`SLOPES` ``s`` (centred), derivatives by ``s``."""
    out = []
    for slope in SLOPES:
        value = 1.0 / (1.0 + np.exp(-slope * gv))
        out.append((1 / (1 + sympy.exp(sympy.Float(-slope) * g)), value, gv * value * (1 - value)))
    return out


def _pieces(terms, symbols):
    """The non-polynomial factors of ``terms`` (distinct) and the distinct linear forms of
    two or more variables inside their functions, each as a tuple of coefficients over
    ``symbols`` scaled so that the first nonzero is 1 (rounded to 3 decimals)."""
    factors, forms = [], []
    for t in terms:
        for f in sympy.Mul.make_args(t.as_coeff_Mul()[1]):
            if f.free_symbols and not f.is_polynomial(*symbols) and f not in factors:
                factors.append(f)
        for fn in t.atoms(sympy.Function):
            arg = fn.args[0] if fn.args else None
            if arg is None or len(arg.free_symbols & set(symbols)) < 2:
                continue
            form = _linear_form(arg.xreplace({sympy.pi: sympy.Float(np.pi)}), symbols)
            if form is not None and form not in forms:
                forms.append(form)
    return factors, forms


def _linear_form(arg, symbols):
    """``arg``'s coefficients over ``symbols`` scaled to a leading 1, when it is linear in
    them up to a constant; else None."""
    try:
        poly = sympy.Poly(arg, *symbols)
    except sympy.PolynomialError:
        return None
    if poly.total_degree() != 1:
        return None
    coefs = []
    for s in symbols:
        c = poly.coeff_monomial(s)
        if not c.is_number:
            return None
        coefs.append(float(c))
    lead = next((c for c in coefs if c != 0.0), 0.0)
    if lead == 0.0:
        return None
    return tuple(round(c / lead, 3) + 0.0 for c in coefs)


def _sine_argument(k, g):
    # Unevaluated: SymPy would turn sin(0.5*pi*x) into sin(pi*x/2), whose frequency, no
    # longer a float, a refit could not move.
    return sympy.Mul(sympy.Float(k), sympy.pi, g, evaluate=False)


def _exponentials(g, gv):
    """``exp(a*g)`` for ``a`` in :data:`RATES`, derivatives by ``a``."""
    return [(sympy.exp(sympy.Float(a) * g), np.exp(a * gv), gv * np.exp(a * gv)) for a in RATES]


def _sines(g, gv):
    """``sin(k*pi*g)`` for ``k`` in :data:`FREQUENCIES`, derivatives by ``k``."""
    return [(sympy.sin(_sine_argument(k, g), evaluate=False), np.sin(k * np.pi * gv),
             np.pi * gv * np.cos(k * np.pi * gv)) for k in FREQUENCIES]


def _cosines(g, gv):
    """``cos(k*pi*g)`` for ``k`` in :data:`FREQUENCIES`, derivatives by ``k``."""
    return [(sympy.cos(_sine_argument(k, g), evaluate=False), np.cos(k * np.pi * gv),
             -np.pi * gv * np.sin(k * np.pi * gv)) for k in FREQUENCIES]


def _sigmoids(v, vv):
    """``1/(1 + exp(m*v + b))`` with ``m = -s``, ``b = s*c`` for :data:`SLOPES` ``s`` and
    :data:`CENTRES` ``c``, derivatives by ``m``."""
    out = []
    for slope, centre in itertools.product(SLOPES, CENTRES):
        form = sympy.Float(-slope) * v + sympy.Float(slope * centre)
        value = 1.0 / (1.0 + np.exp(-slope * (vv - centre)))
        out.append((1 / (1 + sympy.exp(form)), value, -vv * value * (1 - value)))
    return out


def _compounds(v, vv):
    """Two shapes of the variable ``v`` together (see :class:`TermLibrary`), each with
    its derivative by one number: a sine's or cosine's frequency where there is one (the
    inner sine's in a composition), else the exponential's rate."""
    out = []
    sines = _sines(v, vv) + _cosines(v, vv)
    for exp_term, exp_value, exp_derivative in _exponentials(v, vv):
        for term, value, derivative in sines:
            out.append((exp_term * term, exp_value * value, exp_value * derivative))
    for sig_term, sig_value, _ in _sigmoids(v, vv):
        for term, value, derivative in sines:
            out.append((sig_term * term, sig_value * value, sig_value * derivative))
        for exp_term, exp_value, exp_derivative in _exponentials(v, vv):
            out.append((exp_term * sig_term, exp_value * sig_value, exp_derivative * sig_value))
    for term, value, derivative in _sines(v, vv):
        for a in RATES:
            inner = np.exp(a * value)
            out.append((sympy.exp(sympy.Float(a) * term), inner, a * derivative * inner))
        for k in FREQUENCIES:
            outer = _sine_argument(k, term)
            out.append((sympy.sin(outer, evaluate=False), np.sin(k * np.pi * value),
                        k * np.pi * derivative * np.cos(k * np.pi * value)))
    return out


def swap(expr, symbols, x, y, library=None, tolerance=1e-4, gain=0.1, max_removed=3,
         max_terms=15, tries=2, rounds=5, max_numbers=REFINE_MAX_NUMBERS, grow=True, derived=True):
    """Replace look-alike terms of ``expr`` by single terms of a :class:`TermLibrary` or
    of the equation's own :class:`DerivedTerms`.

    Each round screens every way of removing 1 to ``max_removed`` additive terms (the
    constant stays) and adding one library term (with ``derived``, also one of the
    terms built from the current equation's factors and linear forms) by a linearized
    least-squares refit on ``(x, y)``: the outer coefficients of the kept terms and the new one, and the inner
    numbers to first order (derivative columns: one Gauss-Newton step), those of the kept
    terms and one of the new term's (by at most about the library's grid spacing), so
    that ``-0.45*y - 0.71*sin(1.91*pi*y)`` can show that ``y**3`` fits once the sine's
    frequency moves. Swapping a term for one of its own family is a refit, not a swap, and
    is not screened. With ``grow``, when the equation's mean squared error exceeds
    ``tolerance * var(y)``, adding a term without removing one is screened too (a law's
    term the network missed). For each number of removed terms, the ``tries`` swaps of
    distinct families with the lowest linearized error are refitted with every number
    free (:func:`deepsymreg.symbolic.refine`). A refitted swap is acceptable when it
    leaves a simpler equation (fewer tree nodes) whose mean squared error rose less than
    ``tolerance * var(y)`` and to at most 10 times itself (an exact fit is not traded for
    a look-alike), or when it cuts the error by the factor ``gain`` without
    making the equation larger by more than the term it adds; the acceptable one of
    lowest error is kept (an added term only when no swap is acceptable), and rounds
    repeat while one is.

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
        grow: also screen adding one term to an equation that fits poorly.
        derived: also screen the terms built from the equation's own factors and linear
            forms (:class:`DerivedTerms`) beside the library's.

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
                            max_numbers, grow and tolerance * var, derived=derived)
        if better is None:
            break
        found, cur_err = better
        size = complexity(current)
        accepted = []
        for new, new_err, removed in found:
            new_size = complexity(new)
            # Simpler, and not worse by more than the tolerance nor by more than the factor
            # _SIMPLER_RISE (an exact fit is not traded for a look-alike within tolerance).
            simpler = (new_size < size and new_err - cur_err <= tolerance * var
                       and new_err <= _SIMPLER_RISE * cur_err + 1e-12 * var)
            sharper = new_err <= gain * cur_err and new_size <= size + _SIZE_SLACK
            if simpler or sharper:
                # A swap before an added term: a term added to a look-alike fits its
                # leftover error and hides the law's term from the next round.
                accepted.append((removed == 0, new_err, new_size, new))
        if not accepted:
            break
        _, cur_err, _, current = min(accepted, key=lambda item: item[:3])
    return current


def prune_and_swap(expr, symbols, x, y, library=None, memo=None):
    """:func:`deepsymreg.symbolic.prune`, then :func:`swap` and, when a swap was kept,
    ``prune`` again (a swap may leave terms that the new one made redundant): the read-out
    of ``deepsymreg benchmark`` and one of the estimator's candidates.

    ``memo``: a dict kept across calls on the same points (the restarts of one law): a
    pruned equation met before (to 6 significant digits; restarts often prune to one
    equation) gets the swap found for it then."""
    pruned = prune(expr, symbols, x, y)
    key = str(rounded(pruned, _MEMO_DIGITS)) if memo is not None else None
    if key is not None and key in memo:
        return memo[key]
    swapped = swap(pruned, symbols, x, y, library=library)
    out = pruned if swapped is pruned else prune(swapped, symbols, x, y)
    if key is not None:
        memo[key] = out
    return out


#: Significant digits of the memo's keys.
_MEMO_DIGITS = 6


#: The most a simplifying swap may multiply the training error by (with a swap of a
#: term for its own shape no longer screened, ``exp(-x**2)`` read exactly was swapped
#: for ``0.387*cos(0.714*pi*x) + 0.612``, 1e-5 of the variance, "simpler" by a node).
_SIMPLER_RISE = 10.0


#: How many tree nodes a sharper swap may add (one term of the library times a square).
_SIZE_SLACK = 8


def _family(term):
    """``term``'s shape: its outer coefficient dropped and its other numbers replaced by
    one placeholder (``exp(1.3*x)``, ``0.5*exp(2*x)`` and ``-1.5*exp(3*x/2)`` share one)."""
    shape = term.as_coeff_Mul()[1]
    numbers = shape.atoms(sympy.Float) | {n for n in shape.atoms(sympy.Rational) if not n.is_Integer}
    return shape.xreplace({n: _SLOT for n in numbers})


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


def _best_swap(expr, cur_err, symbols, x, y, library, max_removed, max_terms, tries, max_numbers,
               grow_above, derived=True):
    """The refitted swaps of ``expr`` (whose MSE is ``cur_err``, computed when None) as
    ``([(equation, its MSE, number of terms removed), ...], expr's MSE)``, or None.
    Adding a term without removing one is screened too when ``grow_above`` is a number
    below ``expr``'s MSE."""
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
        with np.errstate(all="ignore"):
            cur_err = _mean_square(to_numpy_columns([expr], symbols)(x)[:, 0] - y)
    n = len(y)
    libraries = [library]
    if derived:
        extra = DerivedTerms(terms, symbols, x)
        if len(extra.terms):
            libraries.append(extra)
    # Library ``i``'s terms are at ``offsets[i]:offsets[i + 1]`` of the joint screen.
    offsets = np.cumsum([0] + [len(lib.terms) for lib in libraries])
    # Every basis below is columns of ``full``, whose span ``q_full`` projects each library
    # once here: a basis is ``q_full @ w`` with ``w`` orthonormal, so its projections of a
    # library are ``w.T`` times those of ``q_full`` (no product with the library per removal).
    full = np.column_stack([np.ones(n), t_cols, d_cols])
    q_full = _orthonormal(full)
    q_full_y = q_full.T @ y
    with np.errstate(all="ignore"):
        products = [(q_full.T @ lib._stacked, y @ lib._stacked) for lib in libraries]
    found = []
    smallest = 0 if grow_above and cur_err > grow_above else 1
    for size in range(smallest, min(max_removed, len(terms)) + 1):
        ranked = []
        for removed in itertools.combinations(range(len(terms)), size):
            kept = [k for k in range(len(terms)) if k not in removed]
            columns = np.concatenate([[0], 1 + np.asarray(kept, int),
                                      1 + len(terms) + np.flatnonzero(np.isin(owners, kept))])
            w = _orthonormal(q_full.T @ full[:, columns])
            qy = w.T @ q_full_y
            r = y - q_full @ (w @ qy)
            with np.errstate(all="ignore"):  # a non-finite drop is skipped below
                screens = [_screen(qy, r, w.T @ product, y_product, lib)
                           for lib, (product, y_product) in zip(libraries, products)]
            drop_base = screens[0][0]
            drop = np.concatenate([d for _, d in screens])
            # A size-1 swap within the removed term's own family is a refit, not a swap.
            same = {families[k] for k in removed} if size == 1 else set()
            picked = set()
            for j in np.argsort(-drop):
                if not np.isfinite(drop[j]) or len(picked) == tries:
                    break
                i = int(np.searchsorted(offsets, j, side="right")) - 1
                family = libraries[i].families[j - offsets[i]]
                if family in same or family in picked:
                    continue
                picked.add(family)
                ranked.append((float(drop_base - drop[j]) / n, kept, i, int(j - offsets[i])))
        # Each (kept terms, family) pair is in ``ranked`` once: families are distinct per
        # removal, and each removal leaves its own kept terms.
        ranked.sort(key=lambda item: item[0])
        for _, kept, i, j in ranked[:tries]:
            lib = libraries[i]
            refitted = _refitted(terms, t_cols, kept, lib.terms[j], lib.columns[:, j], symbols, x, y,
                                 max_numbers)
            if refitted is not None:
                found.append((*refitted, size))
    return (found, cur_err) if found else None


def _screen(qy, r, along, y_product, library):
    """The linearized screen of every library term against a basis ``q`` (orthonormal
    columns): the squared residual of ``y`` off ``q``, and by how much each term cuts it
    when added with its derivative column (its inner number moving to first order, by at
    most :data:`_MAX_STEP`; without the derivative where the step would be larger or the
    derivative adds nothing). Terms that the basis already spans get ``-inf``.

    ``qy`` is ``q.T @ y``, ``r`` the residual ``y - q @ qy``, ``along`` is
    ``q.T @ library._stacked`` and ``y_product`` ``y @ library._stacked``. With ``c`` and
    ``d`` a term's value and derivative columns off the span of ``q``, the inner products
    are those of the raw columns less their parts along ``q``: no projected copy of the
    library."""
    lib_norm, der_norm, cross = library._gram
    n_terms = lib_norm.size
    a, b = along[:, :n_terms], along[:, n_terms:]
    cc = lib_norm - np.einsum("ij,ij->j", a, a)
    dd = np.maximum(der_norm - np.einsum("ij,ij->j", b, b), 0.0)
    cd = cross - np.einsum("ij,ij->j", a, b)
    rc, rd = np.split(y_product - qy @ along, 2)
    ok = cc > 1e-10 * np.maximum(lib_norm, 1e-30)
    cc = np.where(ok, cc, 1.0)
    det = cc * dd - cd**2
    alone = rc**2 / cc
    # Least squares on (c, d): y ~ alpha*c + beta*d, the inner number moved by beta/alpha.
    safe = det > 1e-8 * cc * np.maximum(dd, 1e-300)
    det = np.where(safe, det, 1.0)
    alpha = (dd * rc - cd * rd) / det
    beta = (cc * rd - cd * rc) / det
    both = (dd * rc**2 - 2 * cd * rc * rd + cc * rd**2) / det
    moved = safe & (np.abs(beta) <= _MAX_STEP * np.abs(alpha))
    drop = np.where(moved, np.maximum(both, alone), alone)
    return float(r @ r), np.where(ok, drop, -np.inf)


#: The largest first-order move of a library term's inner number that the screen credits
#: (about the spacing of the library's rates and frequencies).
_MAX_STEP = 0.5


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
        new, err = _refine(new, symbols, x, y)
    else:
        with np.errstate(all="ignore"):
            err = _mean_square(to_numpy_columns([new], symbols)(x)[:, 0] - y)
    return (new, err) if np.isfinite(err) else None
