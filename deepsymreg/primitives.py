"""Primitive functions of an EQL hidden layer.

A primitive is defined once, as a SymPy expression of its arguments. The TensorFlow
op used in training and the NumPy function used for checking are both *derived* from
that expression by one small evaluator (:func:`evaluate`), so the three views cannot
drift apart.

Unary primitives consume one pre-activation, binary ones two, constants none. Layers
apply primitives grouped by kind: all copies of one primitive are evaluated by one op on
a contiguous slice of the pre-activations.

Example:

>>> import sympy
>>> from deepsymreg import primitives
>>> cube = primitives.register_primitive("cube3", lambda g: g**3)
>>> cube.numpy(2.0)
8.0
>>> primitives.get("product").sympy(*sympy.symbols("a b"))
a*b
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import operator
from collections.abc import Callable, Sequence

import numpy as np
import sympy

__all__ = [
    "Primitive",
    "register_primitive",
    "get",
    "registered_names",
    "evaluate",
    "sigmoid",
    "safe_div",
    "sqrt_abs",
    "clipped_exp",
    "DIV_BOUND",
    "EXP_BOUND",
    "DEFAULT",
    "DEFAULT10",
    "SHO",
    "SETS",
    "group",
    "apply_groups",
    "apply_groups_sympy",
]


class sigmoid(sympy.Function):  # noqa: N801  (SymPy functions are lower case)
    """The logistic function 1 / (1 + exp(-x)) as a SymPy function.

    Kept as its own function (not the exp form) so the TensorFlow and NumPy back ends
    evaluate it with their numerically stable logistic ops; :func:`elementary` rewrites
    it into exponentials for display and parsing.
    """

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sympy.S.Half
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sympy.exp(-arg))


#: Bounds of the guarded primitives (those of the GMEQL authors' public code):
#: ``safe_div`` is clipped to [-DIV_BOUND, DIV_BOUND], ``clipped_exp`` to (0, EXP_BOUND].
DIV_BOUND = 100.0
EXP_BOUND = 1e10
# |denominators| below this are moved to it (keeping their sign) before dividing, and
# |arguments| of sqrt_abs below it are raised to it: both keep the value *and* its
# gradient finite under XLA, where a guard outside the op does not (platform.md). Its
# square is a normal float32, so -a / b**2 neither underflows nor divides by zero.
_GUARD = 1e-12


class safe_div(sympy.Function):  # noqa: N801
    """``a / b`` clipped to [-DIV_BOUND, DIV_BOUND]; ``b`` kept off 0 (see ``_GUARD``).

    Displayed and judged as ``a / b`` (:func:`elementary`); evaluated guarded.
    """

    nargs = 2

    def _eval_rewrite_as_Pow(self, a, b, **kwargs):
        return a / b


class sqrt_abs(sympy.Function):  # noqa: N801
    """``sqrt(|g|)``, evaluated as ``sqrt(max(|g|, _GUARD))`` (finite gradient at 0)."""

    nargs = 1

    def _eval_rewrite_as_Pow(self, g, **kwargs):
        return sympy.sqrt(sympy.Abs(g))


class clipped_exp(sympy.Function):  # noqa: N801
    """``exp(g)`` clipped to EXP_BOUND (as ``exp(min(g, log EXP_BOUND))``)."""

    nargs = 1

    def _eval_rewrite_as_exp(self, g, **kwargs):
        return sympy.exp(g)


#: The package's helper functions and their elementary forms.
_ELEMENTARY = {
    sigmoid: lambda a: 1 / (1 + sympy.exp(-a)),
    safe_div: lambda a, b: a / b,
    sqrt_abs: lambda g: sympy.sqrt(sympy.Abs(g)),
    clipped_exp: sympy.exp,
}


def elementary(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite the package's helper functions (``sigmoid``, ``safe_div``, ``sqrt_abs``,
    ``clipped_exp``) into elementary SymPy."""
    for function, form in _ELEMENTARY.items():
        expr = expr.replace(function, form)
    return expr


def _guarded(backend):
    """The guarded primitives' implementations for a NumPy-like ``backend``
    (``where, abs, maximum, minimum, clip, sqrt, exp``)."""
    where, absolute, maximum, minimum, clip, sqrt, exp = backend

    def div(a, b):
        m = maximum(absolute(b), _GUARD)
        return clip(a / where(b < 0, -m, m), -DIV_BOUND, DIV_BOUND)

    def root(g):
        return sqrt(maximum(absolute(g), _GUARD))

    def exponential(g):
        return exp(minimum(g, float(np.log(EXP_BOUND))))

    return {safe_div: div, sqrt_abs: root, clipped_exp: exponential}


def _np_sigmoid(x):
    # tanh form: no overflow warning for large |x|, unlike 1 / (1 + exp(-x)).
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


class _Ops:
    """The handful of elementwise operations the evaluator needs from a back end."""

    def __init__(self, name, functions, sqrt, power):
        self.name = name
        self.functions = functions
        self.sqrt = sqrt
        self.power = power


def _tf_ops():
    import tensorflow as tf

    return _Ops(
        "tensorflow",
        {
            sympy.sin: tf.sin,
            sympy.cos: tf.cos,
            sympy.tan: tf.tan,
            sympy.exp: tf.exp,
            sympy.log: tf.math.log,
            sympy.tanh: tf.tanh,
            sympy.Abs: tf.abs,
            sympy.sign: tf.sign,
            sigmoid: tf.sigmoid,
            **_guarded((tf.where, tf.abs, tf.maximum, tf.minimum, tf.clip_by_value,
                        tf.sqrt, tf.exp)),
        },
        tf.sqrt,
        tf.pow,
    )


_NP_OPS = _Ops(
    "numpy",
    {
        sympy.sin: np.sin,
        sympy.cos: np.cos,
        sympy.tan: np.tan,
        sympy.exp: np.exp,
        sympy.log: np.log,
        sympy.tanh: np.tanh,
        sympy.Abs: np.abs,
        sympy.sign: np.sign,
        sigmoid: _np_sigmoid,
        **_guarded((np.where, np.abs, np.maximum, np.minimum, np.clip, np.sqrt, np.exp)),
    },
    np.sqrt,
    np.power,
)


@functools.lru_cache(maxsize=1)
def _cached_tf_ops():
    return _tf_ops()


def _backend(name: str) -> _Ops:
    if name == "numpy":
        return _NP_OPS
    if name == "tensorflow":
        return _cached_tf_ops()
    raise ValueError(
        "Invalid value for argument `backend`: expected 'numpy' or 'tensorflow'. "
        f"Received: backend={name!r}"
    )


def evaluate(expr: sympy.Expr, env: dict, backend: str = "numpy"):
    """Evaluate a SymPy expression on arrays or tensors.

    Args:
        expr: SymPy expression built from numbers, the symbols in ``env``, ``+``, ``*``,
            powers and the functions sin, cos, tan, exp, log, tanh, Abs, sign, sigmoid.
        env: mapping from SymPy symbol to array (NumPy) or tensor (TensorFlow).
        backend: ``"numpy"`` or ``"tensorflow"``.

    Returns:
        An array or tensor (a Python float if ``expr`` is a number).
    """
    ops = _backend(backend)

    def rec(e):
        if e in env:
            return env[e]
        if e.is_number:
            return float(e)
        if isinstance(e, sympy.Add):
            return functools.reduce(operator.add, [rec(a) for a in e.args])
        if isinstance(e, sympy.Mul):
            return functools.reduce(operator.mul, [rec(a) for a in e.args])
        if isinstance(e, sympy.Pow):
            base, exponent = e.args
            b = rec(base)
            if exponent.is_Integer and 0 < abs(int(exponent)) <= 8:
                n = int(exponent)
                # Repeated products keep integer powers exact and XLA friendly.
                out = functools.reduce(operator.mul, [b] * abs(n))
                return out if n > 0 else 1.0 / out
            if exponent == sympy.S.Half:
                return ops.sqrt(b)
            return ops.power(b, float(exponent) if exponent.is_number else rec(exponent))
        fn = ops.functions.get(e.func)
        if fn is None:
            raise ValueError(
                f"Cannot evaluate `{e.func}` with the {ops.name} back end; supported "
                f"functions: {sorted(str(f) for f in ops.functions)}. Received: expr={expr}"
            )
        return fn(*[rec(a) for a in e.args])

    return rec(sympy.sympify(expr))


@dataclasses.dataclass(frozen=True)
class Primitive:
    """One primitive function of an EQL layer.

    Attributes:
        name: registry name, used in layer configs.
        arity: number of pre-activations consumed (0 for a constant, 1 unary, 2 binary).
        expression: SymPy expression in ``symbols``; the single definition.
        symbols: the argument symbols, ``g1, ..., g_arity``.
    """

    name: str
    arity: int
    expression: sympy.Expr
    symbols: tuple

    def sympy(self, *args):
        """The primitive applied to SymPy arguments."""
        self._check_args(args)
        return self.expression.xreplace(dict(zip(self.symbols, args)))

    def numpy(self, *args):
        """The primitive applied to NumPy arrays (same shapes, broadcast)."""
        self._check_args(args)
        return evaluate(self.expression, dict(zip(self.symbols, args)), "numpy")

    def tensorflow(self, *args):
        """The primitive applied to tensors (same shapes, broadcast)."""
        self._check_args(args)
        return evaluate(self.expression, dict(zip(self.symbols, args)), "tensorflow")

    def _check_args(self, args):
        if len(args) != self.arity:
            raise ValueError(
                f"Primitive {self.name!r} takes {self.arity} argument(s). "
                f"Received: {len(args)}"
            )


_REGISTRY: dict[str, Primitive] = {}


def register_primitive(
    name: str, definition: Callable[..., sympy.Expr] | sympy.Expr, *, overwrite=False
) -> Primitive:
    """Register a primitive under ``name`` and return it.

    Args:
        name: unique name; layer configs refer to primitives by it.
        definition: a function of SymPy symbols returning a SymPy expression
            (``lambda g: sympy.sin(g)``, ``lambda a, b: a * b``); its number of
            parameters is the arity. A plain number defines a constant.
        overwrite: allow replacing an existing registration.

    Returns:
        The registered :class:`Primitive`.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            "Invalid value for argument `name`: expected an identifier string. "
            f"Received: name={name!r}"
        )
    if name in _REGISTRY and not overwrite:
        raise ValueError(
            f"A primitive named {name!r} is already registered; pass overwrite=True to "
            "replace it."
        )
    if callable(definition):
        arity = len(inspect.signature(definition).parameters)
        symbols = tuple(sympy.Symbol(f"g{i + 1}", real=True) for i in range(arity))
        expression = sympy.sympify(definition(*symbols))
    else:
        arity, symbols = 0, ()
        expression = sympy.sympify(definition)
    if arity > 2:
        raise ValueError(
            "Invalid value for argument `definition`: primitives take 0, 1 or 2 "
            f"arguments. Received a definition with {arity} arguments."
        )
    free = expression.free_symbols - set(symbols)
    if free:
        raise ValueError(
            f"Invalid value for argument `definition`: the expression {expression} uses "
            f"symbols {sorted(map(str, free))} that are not its arguments."
        )
    # Check once that the back ends can evaluate the definition.
    try:
        evaluate(expression, {s: np.ones(1) * 0.25 for s in symbols}, "numpy")
    except ValueError as err:
        raise ValueError(f"Invalid value for argument `definition`: {err}") from None
    primitive = Primitive(name, arity, expression, symbols)
    _REGISTRY[name] = primitive
    return primitive


def get(identifier: str | Primitive) -> Primitive:
    """Return the registered primitive named ``identifier`` (or the primitive itself)."""
    if isinstance(identifier, Primitive):
        return identifier
    try:
        return _REGISTRY[identifier]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown primitive {identifier!r}. Registered primitives: "
            f"{registered_names()}. Register new ones with "
            "deepsymreg.primitives.register_primitive."
        ) from None


def registered_names() -> list[str]:
    """Names of all registered primitives, sorted."""
    return sorted(_REGISTRY)


def group(names: Sequence[str]) -> list[tuple[Primitive, int]]:
    """Group a primitive list by kind, in order of first appearance.

    Returns ``[(primitive, count), ...]``. Layers lay out pre-activations and outputs in
    this grouped order: group ``i`` with arity ``a`` and ``count`` copies owns
    ``a * count`` contiguous pre-activations (argument ``j`` of copy ``c`` is column
    ``j * count + c`` of the slice) and ``count`` contiguous outputs.
    """
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValueError(
            "Invalid value for argument `primitives`: expected a non-empty list of "
            f"primitive names. Received: primitives={names!r}"
        )
    counts: dict[str, int] = {}
    for n in names:
        p = get(n)
        counts[p.name] = counts.get(p.name, 0) + 1
    return [(get(n), c) for n, c in counts.items()]


def apply_groups(groups, values, axis=-1):
    """The grouped primitives applied to the pre-activations ``values`` (a TF tensor).

    ``groups`` as :func:`group` returns them; the pre-activations lie along ``axis`` in
    the grouped layout :func:`group` describes. Returns one tensor per group, each with
    that group's ``count`` outputs along ``axis`` (the caller concatenates them).
    """
    import tensorflow as tf

    rank = values.shape.rank
    axis = axis % rank
    shape = tf.shape(values)
    # One split into every group's arguments, not a slice per argument: the gradient
    # of a split is one concat, while each slice's gradient pads back to the full
    # width and the pads are summed (under XLA, a third of the kernel time of a
    # Gumbel-max EQL iteration: docs/performance.md).
    sizes = [count for prim, count in groups for _ in range(prim.arity)]
    width = values.shape[axis]
    if width is not None and width > sum(sizes):
        sizes.append(width - sum(sizes))  # unused trailing pre-activations
    pieces = iter(tf.split(values, sizes, axis=axis) if sizes else [])

    outputs = []
    for prim, count in groups:
        if prim.arity == 0:
            # Slices and a concat of the shape: XLA folds them to a constant shape.
            fill = tf.concat([shape[:axis], [count], shape[axis + 1:]], 0)
            outputs.append(tf.fill(fill, tf.cast(float(prim.expression), values.dtype)))
            continue
        args = [next(pieces) for _ in range(prim.arity)]
        out = prim.tensorflow(*args)
        if not tf.is_tensor(out):  # an expression without its arguments, e.g. 0*g
            out = tf.fill(tf.shape(args[0]), tf.cast(out, values.dtype))
        outputs.append(out)
    return outputs


def apply_groups_sympy(groups, values):
    """:func:`apply_groups` on SymPy expressions: ``values`` lists the pre-activations in
    the grouped layout; returns the outputs, one expression per primitive copy."""
    outputs, col = [], 0
    for prim, count in groups:
        for c in range(count):
            outputs.append(prim.sympy(*[values[col + j * count + c] for j in range(prim.arity)]))
        col += prim.arity * count
    return outputs


# The library of built-in primitives. Multipliers inside sin and sigmoid follow the
# paper: they make the shapes visible on the input domain [-1, 1].
register_primitive("constant", sympy.Integer(1))
register_primitive("identity", lambda g: g)
register_primitive("square", lambda g: g**2)
register_primitive("cube", lambda g: g**3)
register_primitive("sin", lambda g: sympy.sin(g))
register_primitive("cos", lambda g: sympy.cos(g))
register_primitive("sin2pi", lambda g: sympy.sin(2 * sympy.pi * g))
register_primitive("exp", lambda g: sympy.exp(g))
# (e^g - 1) / e: the exponential of the authors' public code; 0 at g = 0 and smaller
# for large g, which tames recurrent use (a state fed through exp at every step).
register_primitive("expm1_e", lambda g: (sympy.exp(g) - 1) / sympy.E)
register_primitive("tanh", lambda g: sympy.tanh(g))
register_primitive("sigmoid", lambda g: sigmoid(g))
register_primitive("sigmoid20", lambda g: sigmoid(20 * g))
register_primitive("product", lambda a, b: a * b)
register_primitive("product10", lambda a, b: 10 * a * b)
# The functions of the Gumbel-max EQL (Chen 2021): a sum node of two inputs, higher
# powers, and the guarded division, square root and exponential (finite values and
# gradients under XLA everywhere).
register_primitive("add", lambda a, b: a + b)
register_primitive("pow4", lambda g: g**4)
register_primitive("pow5", lambda g: g**5)
register_primitive("pow6", lambda g: g**6)
register_primitive("div", lambda a, b: safe_div(a, b))
register_primitive("sqrt_abs", lambda g: sqrt_abs(g))
register_primitive("exp_clip", lambda g: clipped_exp(g))

#: The paper's default hidden layer (Kim et al. 2020, appendix A).
DEFAULT = (
    ["constant"] * 2
    + ["identity"] * 4
    + ["square"] * 4
    + ["sin2pi"] * 2
    + ["exp"] * 2
    + ["sigmoid20"] * 2
    + ["product"] * 2
)

#: The paper's default layer with the product scaled by 10, as in the authors' public
#: benchmark code (and the SHO set): at small pre-activations a plain product is nearly
#: flat, so without the factor, sines and sigmoids in their linear range win the race
#: to fit cubic and multiplicative terms.
DEFAULT10 = [{"product": "product10"}.get(p, p) for p in DEFAULT]

#: The hidden layer used for the simple harmonic oscillator (Kim et al. 2020, IV-C).
SHO = (
    ["constant"] * 2
    + ["identity"] * 2
    + ["square", "sin2pi", "exp"]
    + ["product10"] * 2
)

#: Named primitive sets, for command lines and configs.
SETS = {"default": DEFAULT, "default10": DEFAULT10, "sho": SHO}
