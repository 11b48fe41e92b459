"""`ParametricEQL`: an equation learner whose coefficients vary with a parameter t."""

from __future__ import annotations

import keras
import numpy as np
import sympy
import tensorflow as tf

from deepsymreg import primitives as primitives_lib
from deepsymreg import symbolic
from deepsymreg._validation import check_int, check_number
from deepsymreg.layers.stacked import check_t_range
from deepsymreg.models.eql import EQL, PAPER_INIT_STDDEV

__all__ = ["ParametricEQL", "METHODS"]

#: ``method`` -> the linear kind of every layer: stacked EQL (SEQL) or meta-weight (PEQL).
METHODS = {"stacked": "stacked", "meta": "meta"}


@keras.saving.register_keras_serializable(package="deepsymreg")
class ParametricEQL(EQL):
    """Parametric equation learner: ``y = f(x; t)``, one equation whose coefficients vary with ``t``.

    Every layer's linear map depends on the parameter ``t`` while its gates do not, so
    one structure (which terms exist) holds for every ``t`` and only the coefficients
    move (Zhang et al. 2022):

    - ``method="stacked"`` (SEQL): one weight set per step of an evenly spaced grid of
      ``t_steps`` values over ``t_range``, shared relaxed-L0 gates and a smoothness
      penalty between adjacent steps (:class:`~deepsymreg.layers.StackedDense`); ``t``
      must lie on the grid;
    - ``method="meta"`` (PEQL): weights produced from a continuous ``t`` by a small
      network (:class:`~deepsymreg.layers.MetaWeightDense`); ``t`` anywhere.

    Training, restarts (``trials``) and ``steps_per_call`` are as in :class:`EQL`.

    Args:
        n_outputs, depth, primitives, regularizer, reg_lambda, init_stddev, trials,
            steps_per_call, seed: as :class:`EQL` (``regularizer`` defaults to the
            paper's relaxed L0, ``"l0"``).
        method: ``"stacked"`` or ``"meta"``.
        t_range: ``(lo, hi)``: the stacked grid's ends, or the meta network's input
            scale (``t`` is normalized over it).
        t_steps: number of grid steps (``"stacked"`` only).
        smoothness: initial strength ``theta`` of the adjacent-step penalty
            (``"stacked"`` only; a schedule can drive it as ``"smoothness"``).
        meta_hidden: hidden widths of the meta-weight networks (``"meta"`` only).
        skip: DenseNet-style skip connections (default True, as the paper).
        batch_per_step: with gridded training data ``(N, per_step, n_vars + 1)``, each
            optimizer step trains on this many random rows of every step of ``t`` (the
            minibatches of the authors' code); None: all rows.
        t_per_step: with gridded training data, each optimizer step also draws this
            many of the ``N`` steps of ``t`` (without replacement) instead of using all
            of them; None: all. It cuts the meta-weight networks' cost, which grows with
            the number of distinct ``t`` per step.
        linear_options: further arguments of the linear kind.

    Call arguments:
        inputs: ``(batch, n_vars + 1)``: the variables, then ``t`` as the last column;
            or ``(N, batch, n_vars + 1)``, gridded data laid out by steps (all rows of
            step ``j`` share one ``t``), the fast layout for training.

    Output shape:
        ``(K?, batch, n_outputs)`` or ``(K?, N, batch, n_outputs)``.

    Example:

    >>> model = ParametricEQL(depth=1, primitives=["identity", "product"], t_steps=4,
    ...                       t_range=(-1, 1))
    >>> x = np.array([[0.5, -1.0], [0.5, 1.0]], "float32")  # columns x, t
    >>> model(x).shape
    TensorShape([2, 1])
    """

    def __init__(
        self,
        n_outputs=1,
        depth=2,
        primitives=primitives_lib.DEFAULT,
        method="stacked",
        t_range=(-1.0, 1.0),
        t_steps=None,
        smoothness=0.0,
        meta_hidden=(64, 64, 256),
        regularizer="l0",
        reg_lambda=0.0,
        skip=True,
        init_stddev=PAPER_INIT_STDDEV,
        trials=None,
        steps_per_call=1,
        batch_per_step=None,
        t_per_step=None,
        seed=None,
        linear_options=None,
        **kwargs,
    ):
        if method not in METHODS:
            raise ValueError(
                f"Invalid value for argument `method`: expected one of {sorted(METHODS)}. "
                f"Received: method={method!r}"
            )
        t_range = check_t_range(t_range)
        extra = dict(linear_options or {})
        if method == "stacked":
            if t_steps is None:
                raise ValueError(
                    "Invalid value for argument `t_steps`: method='stacked' holds one weight "
                    "set per grid step and needs their number. Received: t_steps=None"
                )
            t_steps = check_int("t_steps", t_steps)
            smoothness = check_number("smoothness", smoothness, 0.0)
            options = {"t_steps": t_steps, "t_range": list(t_range), "smoothness": smoothness}
        else:
            if t_steps is not None:
                raise ValueError(
                    "Invalid value for argument `t_steps`: method='meta' takes a continuous t "
                    f"(no grid). Received: t_steps={t_steps!r}"
                )
            if smoothness:
                raise ValueError(
                    "Invalid value for argument `smoothness`: the adjacent-step penalty "
                    f"belongs to method='stacked'. Received: smoothness={smoothness!r}"
                )
            meta_hidden = [check_int("meta_hidden", h) for h in meta_hidden]
            options = {"t_range": list(t_range), "hidden": list(meta_hidden)}
        super().__init__(
            n_outputs=n_outputs, depth=depth, primitives=primitives, regularizer=regularizer,
            reg_lambda=reg_lambda, linear=METHODS[method], skip=skip, init_stddev=init_stddev,
            trials=trials, steps_per_call=steps_per_call, seed=seed,
            linear_options={**options, **extra}, **kwargs,
        )
        self.method, self.t_range, self.t_steps = method, t_range, t_steps
        self.smoothness, self.meta_hidden = smoothness, tuple(meta_hidden)
        self.extra_options = extra
        self.batch_per_step = check_int("batch_per_step", batch_per_step, allow_none=True)
        self.t_per_step = check_int("t_per_step", t_per_step, allow_none=True)
        self.batch_seed = keras.random.SeedGenerator(None if seed is None else int(seed) + 7919)

    # -- data layout ---------------------------------------------------------------
    @staticmethod
    def split(inputs):
        """``(x, t)`` from inputs whose last column is ``t`` (see the class docstring)."""
        inputs = tf.convert_to_tensor(inputs)
        x = inputs[..., :-1]
        if inputs.shape.rank == 2:
            return x, inputs[:, -1:]
        if inputs.shape.rank == 3:
            return x, inputs[:, :1, -1:]
        raise ValueError(
            "ParametricEQL takes inputs (batch, n_vars + 1) or (N, batch, n_vars + 1) with t "
            f"as the last column. Received input shape {tuple(inputs.shape)}"
        )

    def _loss_terms(self, x, y, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(
                "Invalid value for argument `sample_weight`: ParametricEQL.fit does not "
                "support sample weights. Received sample weights."
            )
        return super()._loss_terms(*self.minibatch(x, y))

    def minibatch(self, x, y):
        """The rows of gridded data ``(N, per_step, .)`` one optimizer step trains on.

        ``t_per_step`` of the ``N`` steps of ``t`` (distinct, all when None), then
        ``batch_per_step`` rows of each (all when None), drawn inside the compiled loop;
        other layouts are returned as they are.
        """
        if x.shape.rank != 3:
            return x, y
        if self.t_per_step is not None and x.shape[0] is not None and self.t_per_step < x.shape[0]:
            noise = keras.random.uniform((x.shape[0],), seed=self.batch_seed)
            steps = tf.argsort(noise)[: self.t_per_step]
            x, y = tf.gather(x, steps), tf.gather(y, steps)
        if self.batch_per_step is not None:
            n, per = tf.shape(x)[0], tf.shape(x)[1]
            rows = keras.random.randint((n, self.batch_per_step), 0, per, seed=self.batch_seed)
            x = tf.gather(x, rows, axis=1, batch_dims=1)
            y = tf.gather(y, rows, axis=1, batch_dims=1)
        return x, y

    def build(self, input_shape):
        shape = tuple(input_shape)
        if shape[-1] is not None and shape[-1] < 2:
            raise ValueError(
                "ParametricEQL needs at least one variable and the parameter t as the last "
                f"input column. Received input shape {shape}"
            )
        self.network.build((*shape[:-1], shape[-1] - 1))

    def call(self, inputs, training=None):
        x, t = self.split(inputs)
        return self.network(x, context=t, training=training)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return self.network.compute_output_shape((*shape[:-1], shape[-1] - 1))

    # -- the grid ------------------------------------------------------------------
    @property
    def grid(self):
        """The stacked grid of ``t`` values (None for ``method="meta"``)."""
        if self.method != "stacked":
            return None
        return np.linspace(*self.t_range, self.t_steps)

    def nearest_grid_t(self, t):
        """The grid value nearest ``t`` (``t`` itself for ``method="meta"``)."""
        t = check_number("t", t)
        if self.grid is None:
            return t
        return float(self.grid[int(np.argmin(np.abs(self.grid - t)))])

    # -- symbolic view ---------------------------------------------------------------
    def to_sympy(self, var_names=None, threshold=0.01, trial=None, *, t):
        """The equation in the variables at parameter value ``t`` (a SymPy expression).

        For ``method="stacked"``, ``t`` must lie on the grid (see :meth:`nearest_grid_t`).
        """
        return self.network.to_sympy(var_names, threshold, trial, t=t)

    def latex(self, var_names=None, threshold=0.01, trial=None, *, t):
        """LaTeX of :meth:`to_sympy` at ``t``."""
        return self.network.latex(var_names, threshold, trial, t=t)

    def coefficient_curves(self, var_names=None, t_values=None, threshold=0.01, trial=None):
        """Each term's coefficient as an array over ``t_values`` (default: the grid, or
        64 values over ``t_range``).

        Returns ``(t_values, curves)``: ``curves`` maps each term, written with its inner
        numbers as placeholders (``"x**2"``, ``"sin({0}*x)"``; see
        :func:`deepsymreg.symbolic.term_coefficients`), to its coefficient at every ``t``
        (0 where the term is absent), and ``"<term>[i]"`` to inner number ``i`` (NaN where
        absent).
        """
        if t_values is None:
            t_values = self.grid if self.grid is not None else np.linspace(*self.t_range, 64)
        t_values = np.asarray(t_values, dtype=float).ravel()
        readings = [
            symbolic.term_coefficients(self.to_sympy(var_names, threshold, trial, t=float(t)))
            for t in t_values
        ]
        curves = symbolic.coefficient_curves(readings)
        return t_values, curves

    def get_config(self):
        config = super().get_config()
        for key in ("linear", "linear_options"):
            config.pop(key, None)
        return {
            **config,
            "method": self.method,
            "t_range": list(self.t_range),
            "t_steps": self.t_steps,
            "smoothness": self.smoothness,
            "meta_hidden": list(self.meta_hidden),
            "batch_per_step": self.batch_per_step,
            "t_per_step": self.t_per_step,
            "linear_options": self.extra_options or None,
        }


def law_from_curves(curves_exprs, var_names):
    """The whole law ``sum_k c_k(t) g_k(x; inner_k(t))`` from closed forms of the curves.

    ``curves_exprs`` maps the keys of :meth:`ParametricEQL.coefficient_curves` to SymPy
    expressions in ``t``; every key must be present.
    """
    symbols = symbolic.make_symbols(var_names, len(var_names))
    local = {s.name: s for s in symbols}
    total = sympy.Integer(0)
    for key, coeff in curves_exprs.items():
        if key.endswith("]"):
            continue
        n_inner = sum(1 for k in curves_exprs if k.startswith(key + "["))
        inner = ["(" + str(curves_exprs[f"{key}[{i}]"]) + ")" for i in range(n_inner)]
        term = sympy.sympify(key.format(*inner), locals=local)
        total += coeff * term
    return total
