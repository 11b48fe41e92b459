"""`SymbolicRegressor`: the law behind a table of measurements, as a scikit-learn estimator.

The estimator wraps the package's pipeline for a user's own data: inputs divided by
their largest magnitude (a division keeps every monomial's form, where a shift would
turn ``x*y`` into four terms), EQL restarts trained in one graph per chunk
(:func:`~deepsymreg.restarts.fit_restarts`), every restart read as an equation in the
user's units, and a choice among the distinct equations by their error on a held-out
validation split and their complexity (``model_selection``; the rule is in
``docs/estimator.md``).

With ``param``, one input column is a parameter ``t`` and the law is parametric,
``y = f(x; t)``: one equation whose coefficients vary with ``t``, learned by the
restarts of a :class:`~deepsymreg.ParametricEQL` (:func:`deepsymreg.parametric.train_parametric`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time

import numpy as np
import sympy
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from deepsymreg import primitives as primitives_lib
from deepsymreg import recipes, reports, symbolic
from deepsymreg import swap as swap_lib
from deepsymreg._validation import check_choice, check_int, check_number
from deepsymreg.callbacks import Phase
from deepsymreg.gmeql import DEFAULT_MEMETIC
from deepsymreg.layers.stacked import GRID_TOLERANCE
from deepsymreg.restarts import fit_restarts, network_from_weights, weight_key

__all__ = ["SymbolicRegressor"]

METHODS = ("eql", "gmeql")
PARAM_METHODS = ("stacked", "meta")
#: Optimizer steps per restart of a parametric fit when ``steps`` is None.
PARAM_STEPS = 20000
SELECTIONS = ("best", "accuracy")
SCALINGS = ("range", "max")
#: Additive terms whose RMS over the training rows is below this share of the target's
#: standard deviation are dropped when a shifted equation is expanded back.
NEGLIGIBLE = 1e-2
#: Candidates within this factor of the lowest validation loss compete on score
#: ("best" selection, as PySR's).
ACCURACY_FACTOR = 1.5
_FORMAT = 1


#: The estimator's read-out swaps look-alike terms (:func:`deepsymreg.swap.prune_and_swap`)
#: for laws of at most this many variables (the library grows with their cube) ...
SWAP_MAX_VARIABLES = 3
#: ... on at most this many training rows (drawn at random; a refit's cost grows with them).
SWAP_ROWS = 1024


class SymbolicRegressor(RegressorMixin, BaseEstimator):
    """Find a closed-form law ``y = f(X)`` with the equation learner (EQL).

    Args:
        method: ``"eql"``, or ``"gmeql"`` (the Gumbel-max EQL of Chen 2021: ``trials``
            runs of Algorithm 1 in one graph, ``steps`` iterations each split as the
            paper's 3 x 2000 + 48000, None: those 54000; ``primitives`` then lists the
            function names of each node layer, None:
            :data:`deepsymreg.models.gmeql.DEFAULT_FUNCTIONS`; one target, no
            ``sample_weight``, ``param``, ``executor``, ``max_seconds`` or
            ``chunk_size``). Every run's read-out competes in ``equations_`` as a
            restart's equation does.
        regularization: ``"l05"`` (smoothed L0.5) or ``"l0"`` (relaxed L0 gates).
        depth: hidden EQL layers.
        primitives: hidden-layer primitives: a set name of
            :data:`deepsymreg.primitives.SETS` or a list of names (None:
            ``"default10"``, or :data:`deepsymreg.parametric.PRIMITIVES` with ``param``).
        trials: random restarts.
        steps: optimizer steps per restart, split over the recipe's phases in their
            proportions (None: the recipe's own, about 20000; 20000 with ``param``).
        random_state: seed of the validation split and of the first restart.
        validation_fraction: share of the rows held out to choose the equation
            (0: choose on the training rows).
        model_selection: ``"best"`` (the highest score, the drop in log validation
            loss per unit of complexity, among candidates within 1.5x of the lowest
            validation loss, as PySR's) or ``"accuracy"`` (the lowest validation loss).
        max_seconds: time budget: restarts run in chunks and no new chunk starts
            after this many seconds (the best so far is returned).
        executor: a ``concurrent.futures.Executor`` running the chunks (e.g. a Dask
            cluster's ``Client.get_executor()``).
        chunk_size: restarts trained in one graph (default: all, or a quarter with
            ``max_seconds``).
        threshold: weights and terms below it are dropped from equations.
        input_scaling: how inputs reach the network: ``"max"`` (default) divides each
            by its largest magnitude (``x_center_ = 0``); ``"range"`` maps its training
            range onto [-1, 1] (``(x - x_center_) / x_scale_``; equations are expanded
            back into the user's variables, and the shift's leftover terms below 1% of
            the target's spread are dropped). See ``docs/estimator.md``.
        verbose: 1 shows one progress bar over all restarts' optimizer steps.
        param: None, or the name (or index) of the input column holding a parameter
            ``t``: the law is then ``y = f(x; t)``, one equation in the other columns
            whose coefficients vary with ``t`` (see "Parametric laws" in
            ``docs/estimator.md``). With ``param``, ``regularization`` and
            ``model_selection`` do not apply (relaxed-L0 gates shared by every ``t``;
            the restart with the lowest validation MSE is chosen) and ``executor``,
            ``max_seconds``, ``chunk_size`` and ``input_scaling="range"`` are refused.
        param_method: ``"stacked"`` (one weight set per value of ``t``, which must lie
            on an evenly spaced grid; predictions at those values only) or ``"meta"``
            (weights generated from any ``t``).
        polish: also offer each restart's equation polished: its terms, the constant,
            the variables and (up to four variables) their squares and products refitted
            by least squares on the training rows, and the terms the fit does not need
            dropped (:func:`deepsymreg.symbolic.polish`); the polished form competes in
            selection like any other (default True). Without sample weights, the
            polished form with every number refitted as well (inner frequencies and
            rates, :func:`deepsymreg.symbolic.polish_refined`, for equations of at most
            :data:`deepsymreg.symbolic.REFINE_MAX_NUMBERS` numbers) is one more candidate,
            and, for at most :data:`SWAP_MAX_VARIABLES` inputs, that form pruned and its
            look-alike terms swapped (:func:`deepsymreg.swap.prune_and_swap`, on up to
            :data:`SWAP_ROWS` training rows) another.
        jit_compile: compile training with XLA (default True). False skips XLA's
            compilation (about 1.5 s per fit on 2 CPU cores) and runs every step slower:
            worth it only for fits of a few hundred steps (quick checks, debugging).
        memetic: with ``method="gmeql"``, the memetic step during the search, as in
            :func:`deepsymreg.gmeql.run_gmeql`: ``"screen-adopt"`` (default: every new
            elite refitted with its own weights, one start of 1000 steps, four times per
            search, and each run's shared weights set to its best refit's), ``"screen"``
            (without that), ``"elites"``, a dict of
            :class:`~deepsymreg.callbacks.MemeticRefit` arguments, or ``"none"`` (the
            paper's Algorithm 1). Its interval scales with ``steps``; the refits of all
            runs go through graph calls of
            :data:`~deepsymreg.models.gmeql.REFIT_CHUNK` elites. Ignored by
            ``method="eql"``.

    Attributes:
        equations_: one row per distinct equation form: ``equation``, ``sympy_format``,
            ``complexity``, ``loss`` (training MSE), ``validation_loss``, ``score``,
            ``restarts`` (how many restarts found the form), ``seed``. A
            ``pandas.DataFrame`` when pandas is installed, else a list of dicts.
        best_: the row chosen by ``model_selection``.
        feature_names_in_, n_features_in_: as scikit-learn's.

        With ``param``, ``equations_`` has one row per restart (``seed``, ``equation``
        read at ``t`` = the middle of the t range, ``complexity``, ``loss``,
        ``validation_loss``, ``t``; the losses are the network's MSEs), and
        ``param_name_``, ``param_index_``, ``t_range_``, ``t_grid_`` (stacked; else
        None) and ``y_scale_`` are set.
    """

    def __init__(
        self,
        method="eql",
        regularization="l05",
        depth=2,
        primitives=None,
        trials=10,
        steps=None,
        random_state=0,
        validation_fraction=0.25,
        model_selection="best",
        max_seconds=None,
        executor=None,
        chunk_size=None,
        threshold=0.01,
        input_scaling="max",
        verbose=0,
        param=None,
        param_method="stacked",
        polish=True,
        jit_compile=True,
        memetic=DEFAULT_MEMETIC,
    ):
        self.method = method
        self.regularization = regularization
        self.depth = depth
        self.primitives = primitives
        self.trials = trials
        self.steps = steps
        self.random_state = random_state
        self.validation_fraction = validation_fraction
        self.model_selection = model_selection
        self.max_seconds = max_seconds
        self.executor = executor
        self.chunk_size = chunk_size
        self.threshold = threshold
        self.input_scaling = input_scaling
        self.verbose = verbose
        self.param = param
        self.param_method = param_method
        self.polish = polish
        self.jit_compile = jit_compile
        self.memetic = memetic

    # -- scikit-learn ----------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = True
        tags.non_deterministic = True  # XLA rounding differs between machines
        return tags

    def fit(self, X, y, sample_weight=None):
        """Train the restarts on ``(X, y)`` and choose an equation; returns ``self``.

        ``sample_weight``: ``(n_samples,)`` non-negative weights of the rows (None: all
        1). They weight the training loss (``sum w l / sum w``), the least-squares refits
        of the polish and the losses of ``equations_`` (training and validation), so the
        selection follows them too. Not supported with ``param``.
        """
        self._check_params()
        target_names = _target_names(y)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype="float64")
        weights = _sample_weights(sample_weight, len(X))
        if weights is not None and self.param is not None:
            raise ValueError(
                "Invalid value for argument `sample_weight`: not supported with `param` (a "
                "parametric law). Received sample weights."
            )
        self._y_1d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        if self.method == "gmeql" and (y2.shape[1] != 1 or weights is not None):
            what = "sample_weight" if weights is not None else "y"
            raise ValueError(
                f"Invalid value for argument `{what}`: method='gmeql' fits one target without "
                f"sample weights. Received: {y2.shape[1]} target column(s)"
                + (" and sample weights" if weights is not None else "")
            )
        if len(X) < 2:
            raise ValueError(
                "Invalid value for argument `X`: expected at least 2 samples (a training "
                f"and a validation row). Received: n_samples={len(X)}"
            )
        self.target_names_ = target_names or (
            ["y"] if y2.shape[1] == 1 else [f"y{i}" for i in range(y2.shape[1])]
        )
        names = list(getattr(self, "feature_names_in_", [f"x{i}" for i in range(X.shape[1])]))
        self.variable_names_ = [str(n) for n in names]
        self._internal = [sympy.Symbol(f"_v{i}") for i in range(X.shape[1])]
        start = time.perf_counter()
        if self.param is not None:
            self._fit_parametric(X, y2)
            self.wall_seconds_ = time.perf_counter() - start
            return self
        self.param_index_ = None

        self._seed_value = (
            int(np.random.SeedSequence().entropy % (2**31 - 2**20))
            if self.random_state is None else int(self.random_state)
        )
        rng = np.random.default_rng(self._seed_value)
        order = rng.permutation(len(X))
        n_val = int(round(self.validation_fraction * len(X)))
        n_val = min(n_val, len(X) - 1)
        val, train = order[:n_val], order[n_val:]
        if n_val == 0:
            val = train
        self.x_center_, self.x_scale_ = _input_scaling(X[train], self.input_scaling)

        w_train = None if weights is None else weights[train]
        w_val = None if weights is None else weights[val]
        if w_train is not None and not np.sum(w_train) > 0:
            raise ValueError(
                "Invalid value for argument `sample_weight`: every training row has weight 0 "
                "(the validation split took the rows with weight). Received sample weights "
                f"summing to {float(np.sum(weights)):g}"
            )
        if np.all(np.ptp(y2[train], axis=0) == 0):  # a constant law needs no training
            results = []
        else:
            results = self._train(self._scaled(X[train]), y2[train], self._scaled(X[val]), y2[val],
                                  w_train)
        self._build_table(results, X[train], y2[train], X[val], y2[val], w_train, w_val)
        self.wall_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X, index=None):
        """The chosen equation (or row ``index`` of ``equations_``) evaluated on ``X``.

        With ``param``: the chosen restart's network (or restart ``index``) evaluated
        on ``X`` (the same columns as in ``fit``); with ``param_method="stacked"`` the
        parameter must take values of the training grid ``t_grid_``.
        """
        check_is_fitted(self, "rows_")
        X = validate_data(self, X, reset=False, dtype="float64")
        row = self._row(index)
        if self._is_parametric():
            return self._predict_parametric(X, self.rows_.index(row))
        out = symbolic.to_numpy_columns(row["internal"], self._internal)(X)
        return out[:, 0] if self._y_1d else out

    def sympy(self, index=None, t=None):
        """The chosen equation as SymPy, in the data's variable names (a list for several targets).

        With ``param``: the equation in the other columns at parameter value ``t``
        (default: the middle of the t range, as in ``equations_``; for
        ``param_method="stacked"`` a value of ``t_grid_``).
        """
        check_is_fitted(self, "rows_")
        row = self._row(index)
        if t is not None:
            if not self._is_parametric():
                raise ValueError(
                    "Invalid value for argument `t`: the equation depends on a parameter "
                    f"only when fitted with `param`. Received: t={t!r}"
                )
            t = self._check_t(t)
            if t != row["t"]:
                expr = self._equation(self.rows_.index(row), t)
                return self._display([expr])[0]
        exprs = row["display"]
        if exprs is None:
            raise ValueError(f"Restart {row['seed']} diverged: it has no equation.")
        return exprs[0] if len(exprs) == 1 else exprs

    def latex(self, index=None, digits=4, t=None):
        """LaTeX of :meth:`sympy`."""
        expr = self.sympy(index, t=t)
        if isinstance(expr, list):
            return [sympy.latex(symbolic.rounded(e, digits)) for e in expr]
        return sympy.latex(symbolic.rounded(expr, digits))

    # -- parametric laws --------------------------------------------------------------
    def coefficient_curves(self, t_values=None, index=None):
        """Each term's coefficient along ``t``, in the user's units (fits with ``param``).

        Args:
            t_values: where to read the equation (default: ``t_grid_``, or 64 values
                over ``t_range_`` for ``param_method="meta"``).
            index: the restart (row of ``equations_``; default the chosen one).

        Returns:
            ``(t_values, curves)``: ``curves`` maps each term of the equation, written
            with its inner numbers as placeholders (``"x**2"``, ``"sin({0}*x)"``, see
            :func:`deepsymreg.symbolic.term_coefficients`), to its coefficient at every
            ``t`` (0 where absent), and ``"<term>[i]"`` to inner number ``i`` (NaN
            where absent).
        """
        self._check_parametric("coefficient_curves")
        k = self.rows_.index(self._row(index))
        if t_values is None:
            t_values = self.t_grid_ if self.t_grid_ is not None else np.linspace(*self.t_range_, 64)
        t_values = np.asarray([self._check_t(v) for v in np.ravel(t_values)], dtype=float)
        readings = [symbolic.term_coefficients(self._display([self._equation(k, t)])[0])
                    for t in t_values]
        keys = sorted({key for r in readings for key in r}, key=lambda key: (key == "1", key))
        curves = {}
        for key in keys:
            curves[key] = np.array([r[key][0] if key in r else 0.0 for r in readings])
            for i in range(max(len(r[key][1]) for r in readings if key in r)):
                curves[f"{key}[{i}]"] = np.array([r[key][1][i] if key in r else np.nan for r in readings])
        return t_values, curves

    def closed_form(self, trials=8, steps=None, tolerance=0.01):
        """The whole law in the variables and ``t``, or None (fits with ``param``).

        Every coefficient curve of the chosen restart is fitted in closed form by
        :func:`deepsymreg.parametric.closed_form` (a :class:`SymbolicRegressor` of
        ``trials`` restarts and ``steps`` optimizer steps per curve); the law counts as
        found when every curve's closed form is within ``tolerance`` (relative RMS) of
        the curve. The per-curve report (``{term: {"expression", "relative_error",
        "found"}}``, curves of the network's scaled view: variables divided by
        ``x_scale_``, target by ``y_scale_``) is kept in ``closed_form_report_``.

        Returns:
            A SymPy expression in the user's column names (the parameter's included),
            or None when some curve has no closed form found.
        """
        from deepsymreg import parametric as parametric_lib

        self._check_parametric("closed_form")
        p = self.param_index_
        law, report = parametric_lib.closed_form(
            self._network, self._variable_symbols(), param=self._internal[p].name,
            trial=self.best_index_, threshold=self.threshold, trials=trials, seed=self._seed(),
            tolerance=tolerance, steps=steps,
        )
        self.closed_form_report_ = {
            self._display_text(key): {**r, "expression": self._display_text(r["expression"])}
            for key, r in report.items()
        }
        if law is None:
            return None
        return self._display([self._to_user_units(law)])[0]

    @property
    def equations_(self):
        check_is_fitted(self, "rows_")
        records = [{k: v for k, v in r.items() if k not in ("internal", "display", "weights")}
                   for r in self.rows_]
        try:
            import pandas as pd
        except ImportError:
            return records
        return pd.DataFrame.from_records(records)

    @property
    def best_(self):
        check_is_fitted(self, "rows_")
        r = self.rows_[self.best_index_]
        return {k: v for k, v in r.items() if k not in ("internal", "display", "weights")}

    @property
    def network_(self):
        """The Keras ``EQL`` of the restart behind the chosen equation (inputs divided by
        ``(x - x_center_) / x_scale_``; targets as trained, see ``docs/estimator.md``), or
        None. With ``param``: the trained :class:`~deepsymreg.ParametricEQL` holding every
        restart (the chosen one is trial ``best_index_``; inputs are the variables
        divided by their ``x_scale_`` then ``t``; outputs are in units of ``y_scale_``)."""
        check_is_fitted(self, "rows_")
        if self._is_parametric():
            return self._network
        weights = self.rows_[self.best_index_].get("weights")
        if weights is None:
            return None
        return network_from_weights(weights, self.n_features_in_, **self._model_kwargs())

    # -- saving ----------------------------------------------------------------------
    def save(self, path):
        """Write the fitted estimator to the directory ``path`` (created; must not exist):
        ``estimator.json`` (settings, scales, equations), ``equations.csv`` and
        ``network.keras`` (the chosen restart's network). Nothing is left on failure."""
        check_is_fitted(self, "rows_")
        path = os.fspath(path)
        if os.path.exists(path):
            raise ValueError(f"Invalid value for argument `path`: {path!r} already exists.")
        parent = os.path.dirname(os.path.abspath(path))
        tmp = tempfile.mkdtemp(prefix=".deepsymreg-", dir=parent)
        try:
            params = {k: v for k, v in self.get_params().items() if k != "executor"}
            state = {
                "format": _FORMAT,
                "params": params,
                "variable_names": self.variable_names_,
                "target_names": self.target_names_,
                "feature_names_in": getattr(self, "feature_names_in_", None) is not None,
                "n_features_in": int(self.n_features_in_),
                "y_1d": bool(self._y_1d),
                "x_scale": [float(s) for s in self.x_scale_],
                "x_center": [float(c) for c in self.x_center_],
                "best_index": int(self.best_index_),
                "wall_seconds": float(self.wall_seconds_),
                "rows": [
                    {**{k: v for k, v in r.items()
                        if k not in ("internal", "display", "weights", "sympy_format")},
                     "internal": (None if r["internal"] is None
                                  else [sympy.srepr(e) for e in r["internal"]])}
                    for r in self.rows_
                ],
            }
            if self._is_parametric():
                state["parametric"] = {
                    "index": int(self.param_index_),
                    "name": self.param_name_,
                    "t_range": [float(v) for v in self.t_range_],
                    "t_grid": None if self.t_grid_ is None else [float(v) for v in self.t_grid_],
                    "y_scale": float(self.y_scale_),
                }
            with open(os.path.join(tmp, "estimator.json"), "w") as f:
                json.dump(state, f, indent=1)
            self._write_csv(os.path.join(tmp, "equations.csv"))
            network = self.network_
            if network is not None:
                network.save(os.path.join(tmp, "network.keras"))
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, path):
        """A fitted estimator from a directory written by :meth:`save`."""
        with open(os.path.join(os.fspath(path), "estimator.json")) as f:
            state = json.load(f)
        if state.get("format") != _FORMAT:
            raise ValueError(f"{path!r} was not written by SymbolicRegressor.save (format {_FORMAT}).")
        est = cls(**state["params"])
        est.variable_names_ = state["variable_names"]
        est.target_names_ = state["target_names"]
        est.n_features_in_ = state["n_features_in"]
        if state["feature_names_in"]:
            est.feature_names_in_ = np.asarray(est.variable_names_, dtype=object)
        est._y_1d = state["y_1d"]
        est.x_scale_ = np.asarray(state["x_scale"])
        est.x_center_ = np.asarray(state["x_center"])
        est.best_index_ = state["best_index"]
        est.wall_seconds_ = state["wall_seconds"]
        est._internal = [sympy.Symbol(f"_v{i}") for i in range(est.n_features_in_)]
        rows = []
        for r in state["rows"]:
            internal = r.pop("internal")
            if internal is None:  # a diverged restart of a parametric fit
                rows.append({**r, "internal": None, "display": None, "sympy_format": None})
                continue
            internal = [sympy.sympify(e) for e in internal]
            display = est._display(internal)
            rows.append({**r, "internal": internal, "display": display,
                         "sympy_format": display[0] if len(display) == 1 else display})
        network = os.path.join(os.fspath(path), "network.keras")
        par = state.get("parametric")
        est.param_index_ = None if par is None else par["index"]
        if par is not None:
            import keras

            est.param_name_ = par["name"]
            est.t_range_ = tuple(par["t_range"])
            est.t_grid_ = None if par["t_grid"] is None else np.asarray(par["t_grid"])
            est.y_scale_ = par["y_scale"]
            est._network = keras.models.load_model(network, compile=False)
        elif os.path.exists(network):
            import keras

            model = keras.models.load_model(network)
            rows[est.best_index_]["weights"] = {
                weight_key(v): np.asarray(v.numpy()) for v in model.network.weights
            }
        est.rows_ = rows
        return est

    def __getstate__(self):
        state = dict(self.__dict__)
        state["executor"] = None  # executors hold threads and connections
        return state

    # -- internals -------------------------------------------------------------------
    def _check_params(self):
        check_choice("method", self.method, METHODS)
        if self.method == "gmeql":
            for name, default in (("param", None), ("executor", None), ("max_seconds", None),
                                  ("chunk_size", None)):
                if getattr(self, name) != default:
                    raise ValueError(
                        f"Invalid value for argument `{name}`: not available with method='gmeql' "
                        f"(expected {name}={default!r}). Received: {name}={getattr(self, name)!r}"
                    )
        for name in ("polish", "jit_compile"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(
                    f"Invalid value for argument `{name}`: expected True or False. "
                    f"Received: {name}={value!r}"
                )
        check_choice("param_method", self.param_method, PARAM_METHODS)
        if self.param is not None:
            if not isinstance(self.param, (str, int, np.integer)) or isinstance(self.param, bool):
                raise ValueError(
                    "Invalid value for argument `param`: expected None, a column name or a "
                    f"column index. Received: param={self.param!r}"
                )
            for name, default in (("executor", None), ("max_seconds", None), ("chunk_size", None),
                                  ("input_scaling", "max")):
                if getattr(self, name) != default:
                    raise ValueError(
                        f"Invalid value for argument `{name}`: not available with `param` "
                        f"(expected {name}={default!r}). Received: {name}={getattr(self, name)!r}"
                    )
        check_choice("regularization", self.regularization, recipes.REGULARIZATIONS)
        check_choice("model_selection", self.model_selection, SELECTIONS)
        check_int("depth", self.depth)
        check_int("trials", self.trials)
        check_int("steps", self.steps, allow_none=True)
        check_int("chunk_size", self.chunk_size, allow_none=True)
        check_int("random_state", self.random_state, minimum=0, allow_none=True)
        check_number("validation_fraction", self.validation_fraction, 0.0, 1.0)
        if self.validation_fraction >= 1.0:
            raise ValueError(
                "Invalid value for argument `validation_fraction`: expected a number in "
                f"[0, 1). Received: validation_fraction={self.validation_fraction!r}"
            )
        if self.max_seconds is not None:
            check_number("max_seconds", self.max_seconds, 0.0, strict=True)
        check_number("threshold", self.threshold, 0.0)
        check_choice("input_scaling", self.input_scaling, SCALINGS)
        if self.method == "gmeql":
            from deepsymreg.gmeql import memetic_settings
            from deepsymreg.models.gmeql import _check_functions

            memetic_settings(self.memetic)

            if self.primitives is not None:
                try:
                    _check_functions(self.primitives)
                except ValueError:
                    raise ValueError(
                        "Invalid value for argument `primitives`: with method='gmeql', expected a "
                        "list of node layers, each a list of function names. Received: "
                        f"primitives={self.primitives!r}"
                    ) from None
        else:
            self._primitive_names()

    def _primitive_names(self):
        prims = self.primitives
        if prims is None:
            if getattr(self, "param", None) is not None:
                from deepsymreg.parametric import PRIMITIVES

                return list(PRIMITIVES)
            prims = "default10"
        if isinstance(prims, str):
            if prims not in primitives_lib.SETS:
                raise ValueError(
                    f"Invalid value for argument `primitives`: expected one of "
                    f"{sorted(primitives_lib.SETS)} or a list of names. Received: primitives={prims!r}"
                )
            return list(primitives_lib.SETS[prims])
        for name in prims:
            primitives_lib.get(name)  # raises for unknown names
        return list(prims)

    def _model_kwargs(self):
        settings, _ = recipes.model_settings(self.regularization)
        settings = {k: v for k, v in settings.items() if k != "standardize"}
        return {**settings, "depth": self.depth, "primitives": self._primitive_names(),
                "n_outputs": len(self.target_names_)}

    def _schedule(self):
        _, phases = recipes.model_settings(self.regularization)
        if self.steps is None:
            return phases
        total = sum(p.steps for p in phases)
        quantum = 10 if self.steps >= 10 * len(phases) else 1
        out = []
        for p in phases:
            n = max(quantum, int(round(p.steps * self.steps / total / quantum)) * quantum)
            out.append(Phase(n, p.learning_rate, p.reg_lambda, p.threshold, p.strengths))
        return out

    def _train(self, x, y, x_val, y_val, sample_weight=None):
        if self.method == "gmeql":
            return self._train_gmeql(x, y, x_val, y_val)
        settings, _ = recipes.model_settings(self.regularization)
        kwargs = {**self._model_kwargs(), "standardize": settings.get("standardize", True)}
        kwargs.pop("n_outputs")
        schedule = self._schedule()
        size = self.chunk_size or (self.trials if self.max_seconds is None else max(1, -(-self.trials // 4)))
        groups = [list(range(i, min(i + size, self.trials))) for i in range(0, self.trials, size)]
        common = dict(schedule=schedule, var_names=[f"_v{i}" for i in range(x.shape[1])],
                      threshold=self.threshold, keep_weights=True, sample_weight=sample_weight,
                      jit_compile=self.jit_compile, **kwargs)
        progress = reports.progress_bar(self.trials * sum(p.steps for p in schedule), bool(self.verbose))
        common["progress"] = progress
        start, results = time.perf_counter(), []
        if self.executor is not None:
            results = fit_restarts(x, y, x_val, y_val, trials=self.trials, seed=self._seed(),
                                   executor=self.executor, workers=len(groups), **common)
            return results
        for g in groups:
            if results and self.max_seconds is not None and time.perf_counter() - start > self.max_seconds:
                break
            results += fit_restarts(x, y, x_val, y_val, trials=len(g), seed=self._seed() + g[0],
                                    **common)
        return results

    def _train_gmeql(self, x, y, x_val, y_val):
        """``trials`` GMEQL runs (Algorithm 1) in one graph, read as :class:`TrialResult`s.

        Targets are standardized for the search and the expressions converted back; the
        iterations are ``steps`` split as the paper's 3 x 2000 + 48000 (None: those).
        """
        from deepsymreg.models.gmeql import DEFAULT_FUNCTIONS, GMEQL
        from deepsymreg.callbacks import MemeticRefit
        from deepsymreg.gmeql import PAPER_SETTINGS, memetic_settings
        from deepsymreg.primitives import elementary
        from deepsymreg.restarts import TrialResult

        functions = DEFAULT_FUNCTIONS if self.primitives is None else self.primitives
        rounds, per_round, main = (PAPER_SETTINGS[k] for k in ("rounds", "round_iterations", "iterations"))
        if self.steps is not None:
            total = rounds * per_round + main
            per_round = max(1, int(round(self.steps * per_round / total)))
            main = max(1, self.steps - rounds * per_round)
        mu, sd = y.mean(axis=0), y.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        y_std = ((y - mu) / sd)[:, 0]
        steps_per_call = min(500, per_round, main)
        model = GMEQL(functions, runs=self.trials if self.trials > 1 else None,
                      steps_per_call=steps_per_call, seed=self._seed(), xla=self.jit_compile)
        progress = reports.progress_bar(self.trials * (rounds * per_round + main), bool(self.verbose))
        callbacks = []
        memetic = memetic_settings(self.memetic)
        if memetic is not None:
            # The interval is the paper-length search's (12000 of 48000 stage-2
            # iterations by default) scaled to this one's.
            every = memetic.pop("every", 12000) * main / PAPER_SETTINGS["iterations"]
            callbacks.append(MemeticRefit(x, y_std, every=max(1, int(round(every))), **memetic))
        if progress is not None:
            import keras

            class _Progress(keras.callbacks.Callback):
                def on_train_batch_end(self, batch, logs=None):
                    progress(steps_per_call * model.n_runs)

            callbacks.append(_Progress())
        model.search(x, y_std, rounds=rounds, round_iterations=per_round, iterations=main,
                     callbacks=callbacks)
        names = [f"_v{i}" for i in range(x.shape[1])]
        symbols = [sympy.Symbol(n) for n in names]
        results = []
        for r, (_, choices) in enumerate(model.select(x, y_std)):
            if choices is None:
                continue
            expr = float(sd[0]) * elementary(model.to_sympy(names, choices, run=r if model.runs else None))
            expr = symbolic.clean(expr + float(mu[0]), self.threshold)
            errors = [_mse([expr], symbols, a, b) for a, b in ((x, y), (x_val, y_val))]
            results.append(TrialResult(
                seed=self._seed() + r, expression=str(symbolic.rounded(expr, 6)),
                extrapolation_mse=errors[1], train_mse=errors[0],
                complexity=symbolic.complexity(expr), nan_reruns=0, reg_scale=1.0,
            ))
        return results

    def _scaled(self, X):
        return (X - self.x_center_) / self.x_scale_

    def _seed(self):
        return getattr(self, "_seed_value", self.random_state or 0)

    def _polish_terms(self):
        """Simple terms offered to the polish besides the equation's own: the constant,
        each variable, and (up to four variables) their squares and pairwise products."""
        v = self._internal
        terms = [sympy.Integer(1), *v]
        if len(v) <= 4:
            terms += [a * b for i, a in enumerate(v) for b in v[i:]]
        return terms

    def _display(self, internal):
        subs = {s: sympy.Symbol(n) for s, n in zip(self._internal, self.variable_names_)}
        return [e.xreplace(subs) for e in internal]

    def _build_table(self, results, x, y, x_val, y_val, w=None, w_val=None):
        """Distinct equation forms with their losses, counts and scores; picks ``best_index_``."""
        scaled = {s: (s - float(c)) / float(k)
                  for s, c, k in zip(self._internal, self.x_center_, self.x_scale_)}
        shifted = bool(np.any(self.x_center_ != 0))
        y_std = np.where(y.std(axis=0) > 0, y.std(axis=0), 1.0)
        # The constant law (the training mean) is always a candidate: the baseline that
        # the first real equation's score is measured against.
        candidates = [([sympy.Float(float(v), 6) for v in np.average(y, axis=0, weights=w)],
                       self._seed(), None)]
        # A product of powers fitted in log-log space (symbolic.power_law), when every
        # input and target keeps one sign: found by no restart (seed None), it competes
        # as any other row, and each restart's polish may use it as a term.
        monomials = [symbolic.power_law(self._internal, x, y[:, j], sample_weight=w)
                     for j in range(y.shape[1])]
        if self.polish and all(m is not None for m in monomials):
            candidates.append(([symbolic.rounded(symbolic.polish(m, self._internal, x, y[:, j],
                                                                 sample_weight=w), 6)
                                for j, m in enumerate(monomials)], None, None))
        library = swap_rows = None
        if self.polish and w is None and len(self._internal) <= SWAP_MAX_VARIABLES:
            swap_rows = np.random.default_rng(self._seed()).permutation(len(x))[:SWAP_ROWS]
            library = swap_lib.TermLibrary(self._internal, x[swap_rows])
            memos = [{} for _ in range(y.shape[1])]  # per target: one swap per pruned equation
        for r in results:
            texts = r.expression.split("; ")
            try:
                exprs = [symbolic.parse(t, [s.name for s in self._internal])[0] for t in texts]
            except ValueError:
                continue
            if any(e.has(sympy.nan, sympy.zoo, sympy.oo) for e in exprs):
                continue
            # Already expanded and cleaned by fit_restarts. A division x -> x / scale only
            # merges numbers into coefficients; a shift needs expanding again, and the
            # shift's leftovers (terms that nearly cancel) are dropped by their size.
            exprs = [e.xreplace(scaled) for e in exprs]
            if shifted:
                exprs = [_drop_negligible(symbolic.clean(e, 0.0), self._internal, x, sd)
                         for e, sd in zip(exprs, y_std)]
            exprs = [symbolic.rounded(e, 6) for e in exprs]
            candidates.append((exprs, r.seed, r.weights))
            if self.polish:
                # The same restart's equation with its terms refitted and the unneeded
                # ones dropped (symbolic.polish), as one more candidate.
                polished = [
                    symbolic.rounded(symbolic.polish(
                        e, self._internal, x, y[:, j],
                        extra_terms=[*self._polish_terms(), *([monomials[j]] if monomials[j] is not None else [])],
                        sample_weight=w,
                    ), 6)
                    for j, e in enumerate(exprs)
                ]
                if any(p != e for p, e in zip(polished, exprs)):
                    candidates.append((polished, r.seed, r.weights))
                if w is None:
                    # Every number refitted too, inner frequencies and rates included, as
                    # run_gmeql(refine=True) and run_benchmark(refine=True) read their
                    # runs (unweighted least squares: not offered with sample weights).
                    refined = [
                        symbolic.rounded(symbolic.polish_refined(
                            e, self._internal, x, y[:, j], extra_terms=self._polish_terms(),
                            max_numbers=symbolic.REFINE_MAX_NUMBERS), 6)
                        for j, e in enumerate(exprs)
                    ]
                    if refined != polished:
                        candidates.append((refined, r.seed, r.weights))
                    if library is not None:
                        # Terms dropped with every number refitted, and look-alike terms
                        # swapped for one term of a depth-one grammar (the benchmark's
                        # read-out), on at most SWAP_ROWS training rows.
                        swapped = [
                            symbolic.rounded(swap_lib.prune_and_swap(
                                e, self._internal, x[swap_rows], y[swap_rows, j], library=library,
                                memo=memos[j]), 6)
                            for j, e in enumerate(refined)
                        ]
                        if swapped != refined:
                            candidates.append((swapped, r.seed, r.weights))
        rows = {}
        for exprs, seed, weights in candidates:
            key = tuple(_form(e) for e in exprs)
            loss = _mse(exprs, self._internal, x, y, w)
            val_loss = _mse(exprs, self._internal, x_val, y_val, w_val)
            row = rows.get(key)
            found = set() if seed is None else {int(seed)}
            if row is not None:
                row["found_by"] |= found
                row["restarts"] = len(row["found_by"])
                if row["seed"] is None and seed is not None:
                    # A restart reached the power-law candidate's form: the row's network
                    # is that restart's (as for a polished equation).
                    row["seed"], row["weights"] = int(seed), weights
                if not val_loss < row["validation_loss"]:
                    continue
                seed = row["seed"] if seed is None else seed
                weights = row["weights"] if weights is None else weights
            display = self._display(exprs)
            rows[key] = {
                "equation": "; ".join(str(e) for e in display),
                "sympy_format": display[0] if len(display) == 1 else display,
                "complexity": int(sum(symbolic.complexity(e) for e in exprs)),
                "loss": loss,
                "validation_loss": val_loss,
                "restarts": (row["restarts"] if row else len(found)),
                "found_by": row["found_by"] if row else found,
                "seed": None if seed is None else int(seed),
                "internal": exprs,
                "display": display,
                "weights": weights,
            }
        if not rows:
            raise RuntimeError("No restart gave a finite equation; try more trials or steps.")
        for r in rows.values():
            r.pop("found_by")
        self.rows_ = sorted(rows.values(), key=lambda r: (r["complexity"], r["validation_loss"]))
        _score(self.rows_)
        self.best_index_ = _select(self.rows_, self.model_selection)

    # -- parametric internals ----------------------------------------------------------
    def _is_parametric(self):
        return getattr(self, "param_index_", None) is not None

    def _check_parametric(self, what):
        check_is_fitted(self, "rows_")
        if not self._is_parametric():
            raise ValueError(f"`{what}` needs an estimator fitted with `param` (a parametric law).")

    def _param_column(self):
        """The index of the ``param`` column among the inputs, or a ValueError naming it."""
        names, param = self.variable_names_, self.param
        if isinstance(param, str):
            if param not in names:
                raise ValueError(
                    f"Invalid value for argument `param`: expected the name of an input column "
                    f"(one of {names}). Received: param={param!r}"
                )
            index = names.index(param)
        else:
            index = int(param)
            if not 0 <= index < len(names):
                raise ValueError(
                    f"Invalid value for argument `param`: expected a column index in "
                    f"[0, {len(names)}). Received: param={param!r}"
                )
        if len(names) < 2:
            raise ValueError(
                "Invalid value for argument `X`: with `param`, expected at least one variable "
                f"besides the parameter column {names[index]!r}. Received: columns={names}"
            )
        return index

    def _variable_symbols(self):
        return [s for i, s in enumerate(self._internal) if i != self.param_index_]

    def _fit_parametric(self, X, y2):
        """Train ``trials`` restarts of a ``ParametricEQL`` and tabulate them (see ``fit``)."""
        from deepsymreg import parametric as parametric_lib

        if y2.shape[1] != 1:
            raise ValueError(
                "Invalid value for argument `y`: with `param`, expected one target. "
                f"Received: y with {y2.shape[1]} columns"
            )
        p = self.param_index_ = self._param_column()
        name = self.param_name_ = self.variable_names_[p]
        t = X[:, p]
        distinct = np.unique(t)
        if len(distinct) < 2:
            raise ValueError(
                f"Invalid value for argument `param`: column {name!r} must take at least two "
                f"values. Received: only {distinct[0]:g}"
            )
        self._seed_value = (
            int(np.random.SeedSequence().entropy % (2**31 - 2**20))
            if self.random_state is None else int(self.random_state)
        )
        rng = np.random.default_rng(self._seed_value)
        self.t_range_ = (float(distinct[0]), float(distinct[-1]))
        if self.param_method == "stacked":
            self.t_grid_ = _even_grid(distinct, name)
            step = self._grid_steps(t)
            # Stratified by step: every value of t keeps at least one training row.
            val, train = [], []
            for j in range(len(self.t_grid_)):
                rows = rng.permutation(np.flatnonzero(step == j))
                n_val = min(int(round(self.validation_fraction * len(rows))), len(rows) - 1)
                val.append(rows[:n_val])
                train.append(rows[n_val:])
            val, train = np.sort(np.concatenate(val)), np.sort(np.concatenate(train))
            train_steps, step_t = step[train], self.t_grid_
        else:
            self.t_grid_ = None
            order = rng.permutation(len(X))
            n_val = min(int(round(self.validation_fraction * len(X))), len(X) - 1)
            val, train = order[:n_val], order[n_val:]
            # Rows sharing a value of t form one step when every value has as many rows;
            # otherwise every row is its own step (the weights are computed per row).
            step_t, train_steps, counts = np.unique(t[train], return_inverse=True, return_counts=True)
            if np.any(counts != counts[0]):
                step_t, train_steps = t[train], np.arange(len(train))
        if len(val) == 0:
            val = train
        self.x_center_ = np.zeros(X.shape[1])
        big = np.max(np.abs(X[train]), axis=0)
        self.x_scale_ = np.where(big > 0, big, 1.0)
        self.x_scale_[p] = 1.0  # t reaches the model as it is: t_range_ is the model's range
        rms = float(np.sqrt(np.mean(y2[train] ** 2)))
        self.y_scale_ = rms if rms > 0 else 1.0
        inputs, targets = _gridded(self._model_inputs(X[train]), y2[train] / self.y_scale_,
                                   train_steps, step_t, rng)
        steps = PARAM_STEPS if self.steps is None else self.steps
        self._network = parametric_lib.train_parametric(
            inputs, targets, method=self.param_method, trials=self.trials, seed=self._seed_value,
            steps=steps, primitives=self._primitive_names(), depth=self.depth,
            t_range=self.t_range_, progress=reports.progress_bar(self.trials * steps, bool(self.verbose)),
            jit_compile=self.jit_compile,
        )
        both = np.concatenate([train, val])  # one prediction call for both splits
        errors = self._restart_errors(X[both], y2[both, 0])
        loss, val_loss = _mean_or_inf(errors[:, :len(train)]), _mean_or_inf(errors[:, len(train):])
        t_mid = self._nearest_t(sum(self.t_range_) / 2)
        rows = []
        for k, seed in enumerate(self._network.trial_seeds()):
            try:
                internal = [self._equation(k, t_mid)] if math.isfinite(val_loss[k]) else None
            except ValueError:  # diverged weights
                internal = None
            display = None if internal is None else self._display(internal)
            rows.append({
                "seed": int(seed),
                "t": t_mid,
                "equation": "nan" if display is None else str(display[0]),
                "sympy_format": None if display is None else display[0],
                "complexity": 0 if internal is None else int(symbolic.complexity(internal[0])),
                "loss": float(loss[k]),
                "validation_loss": float(val_loss[k]),
                "internal": internal,
                "display": display,
            })
        if all(r["internal"] is None for r in rows):
            raise RuntimeError("No restart gave a finite equation; try more trials or steps.")
        self.rows_ = rows
        self.best_index_ = min((k for k, r in enumerate(rows) if r["internal"] is not None),
                               key=lambda k: (rows[k]["validation_loss"], rows[k]["complexity"]))

    def _model_inputs(self, X):
        """The network's view of the columns ``X``: variables divided by ``x_scale_``, then t."""
        p = self.param_index_
        scaled = X / self.x_scale_
        return np.concatenate([np.delete(scaled, p, axis=1), X[:, p:p + 1]], axis=1).astype("float32")

    def _restart_errors(self, X, y):
        """Every restart's squared error on every row of ``(X, y)``: ``(trials, rows)``."""
        pred = self._network.predict(self._model_inputs(X), batch_size=8192, verbose=0)[..., 0]
        with np.errstate(all="ignore"):
            return (pred * self.y_scale_ - y[None]) ** 2

    def _predict_parametric(self, X, k):
        p = self.param_index_
        if self.t_grid_ is not None:
            self._grid_steps(X[:, p], check=True)
        pred = self._network.predict(self._model_inputs(X), batch_size=8192, verbose=0)
        out = pred[k, :, 0] * self.y_scale_
        return out if self._y_1d else out[:, None]

    def _grid_steps(self, t, check=False):
        """The grid step of every value of ``t`` (stacked fits); with ``check``, a
        ValueError for values off the grid."""
        grid = self.t_grid_
        values = np.atleast_1d(np.asarray(t, dtype=float))
        position = (values - grid[0]) / (grid[1] - grid[0])
        step = np.clip(np.rint(position), 0, len(grid) - 1).astype(int)
        if check:
            off = np.flatnonzero(np.abs(position - step) > GRID_TOLERANCE)
            if off.size:
                i = off[0]
                raise ValueError(
                    f"Invalid value for argument `{'t' if np.ndim(t) == 0 else 'X'}`: "
                    f"param_method='stacked' reads the law only at the {len(grid)} training "
                    f"values of {self.param_name_!r} ({grid[0]:g} to {grid[-1]:g} in steps of "
                    f"{grid[1] - grid[0]:g}). Received: {self.param_name_}={values[i]:g} "
                    f"(nearest grid value {grid[step[i]]:g})"
                )
        return step if np.ndim(t) else step[0]

    def _check_t(self, t):
        """``t`` as a float (a grid value for stacked fits, snapped exactly onto the grid)."""
        t = check_number("t", t)
        if self.t_grid_ is None:
            return t
        return float(self.t_grid_[int(self._grid_steps(t, check=True))])

    def _nearest_t(self, t):
        return float(t) if self.t_grid_ is None else float(self.t_grid_[int(self._grid_steps(t))])

    def _equation(self, k, t):
        """Restart ``k``'s equation at ``t`` in the internal symbols of the user's units."""
        expr = self._network.to_sympy(self._variable_symbols(), threshold=self.threshold,
                                      trial=k, t=float(t))
        return self._to_user_units(expr)

    def _to_user_units(self, expr):
        """``expr`` of the network's scaled view rewritten in the user's units."""
        scaled = {s: s / float(self.x_scale_[i]) for i, s in enumerate(self._internal)
                  if i != self.param_index_}
        expr = symbolic.clean(float(self.y_scale_) * expr.xreplace(scaled), 0.0)
        return symbolic.rounded(expr, 6)

    def _display_text(self, text):
        """Internal names ``_v<i>`` in ``text`` replaced by the user's column names."""
        import re

        return re.sub(r"_v(\d+)", lambda m: self.variable_names_[int(m.group(1))], text)

    def _row(self, index):
        if index is None:
            return self.rows_[self.best_index_]
        check_int("index", index, minimum=0)
        if index >= len(self.rows_):
            raise ValueError(
                f"Invalid value for argument `index`: expected an index into the {len(self.rows_)} "
                f"rows of equations_. Received: index={index!r}"
            )
        return self.rows_[index]

    def _write_csv(self, path):
        import csv

        cols = ["equation", "complexity", "loss", "validation_loss", "score", "restarts", "seed"]
        if self._is_parametric():
            cols = ["seed", "t", "equation", "complexity", "loss", "validation_loss"]
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(cols)
            for r in self.rows_:
                writer.writerow([r[c] for c in cols])


def _input_scaling(x, how):
    """``(center, scale)`` per input column (see ``input_scaling``)."""
    if how == "max":
        big = np.max(np.abs(x), axis=0)
        return np.zeros(x.shape[1]), np.where(big > 0, big, 1.0)
    low, high = x.min(axis=0), x.max(axis=0)
    half = (high - low) / 2
    return (high + low) / 2, np.where(half > 0, half, 1.0)


def _even_grid(values, name):
    """The evenly spaced grid of the sorted distinct ``values`` of the ``param`` column
    ``name``, or a ValueError (each value within GRID_TOLERANCE of a spacing of its step)."""
    grid = np.linspace(values[0], values[-1], len(values))
    off = np.abs(values - grid) / (grid[1] - grid[0])
    if np.any(off > GRID_TOLERANCE):
        i = int(np.argmax(off))
        raise ValueError(
            f"Invalid value for argument `param`: param_method='stacked' needs the values of "
            f"column {name!r} on an evenly spaced grid; its {len(values)} distinct values from "
            f"{values[0]:g} to {values[-1]:g} are not (the grid would have {grid[i]:g} where the "
            f"data has {values[i]:g}). Use param_method='meta' for a parameter that takes any values."
        )
    return grid


def _gridded(inputs, targets, steps, step_t, rng):
    """Rows laid out by steps of t: inputs ``(N, M, n + 1)`` and targets ``(N, M, 1)``.

    Row ``i`` belongs to step ``steps[i]``, whose t is ``step_t[steps[i]]`` (written into the
    last column). ``M`` is the largest number of rows of a step: every row is kept once and
    steps with fewer rows are filled up with rows of their own drawn with replacement.
    """
    groups = [np.flatnonzero(steps == j) for j in range(len(step_t))]
    m = max(len(g) for g in groups)
    index = np.stack([np.concatenate([g, rng.choice(g, m - len(g))]) for g in groups])
    x = inputs[index]
    x[..., -1] = np.asarray(step_t, dtype="float32")[:, None]
    return x, targets[index].astype("float32")


def _mean_or_inf(errors):
    """Row means of ``errors``; inf where not finite."""
    with np.errstate(all="ignore"):
        mse = np.mean(errors, axis=1)
    return np.where(np.isfinite(mse), mse, np.inf)


def _drop_negligible(expr, symbols, x, y_std):
    """``expr`` without the additive terms whose RMS on ``x`` is below NEGLIGIBLE * y_std."""
    kept = []
    for term in sympy.Add.make_args(expr):
        values = symbolic.to_numpy_function(term, symbols)(x)
        if not np.sqrt(np.mean(values**2)) < NEGLIGIBLE * y_std:
            kept.append(term)
    return sympy.Add(*kept)


def _target_names(y):
    columns = getattr(y, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    name = getattr(y, "name", None)
    return [str(name)] if name is not None else None


def _form(expr):
    """The expression with every number replaced by one placeholder: its *form*."""
    c = sympy.Symbol("_c")
    return sympy.srepr(expr.replace(lambda e: e.is_Number and e not in (sympy.pi,), lambda e: c))


def _mse(exprs, symbols, x, y, sample_weight=None):
    """Mean squared error of the equations on ``(x, y)``, weighted by the rows' weights."""
    pred = symbolic.to_numpy_columns(exprs, symbols)(x)
    with np.errstate(all="ignore"):
        err = float(np.average(np.mean((pred - y) ** 2, axis=1), weights=sample_weight))
    return err if math.isfinite(err) else math.inf


def _sample_weights(sample_weight, n):
    """``sample_weight`` as a float array ``(n,)``, or None for None (or all ones)."""
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype="float64")
    except (TypeError, ValueError):
        w = None
    if w is None or w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        shown = sample_weight if w is None or w.size <= 6 else f"array of shape {w.shape}"
        raise ValueError(
            "Invalid value for argument `sample_weight`: expected one finite, non-negative "
            f"weight per sample ({n}), not all zero. Received: sample_weight={shown!r}"
        )
    return None if np.all(w == 1) else w


def _score(rows):
    """PySR's score on the Pareto front (rows sorted by complexity): ``-d log(loss) /
    d complexity`` from the previous front member; 0 off the front and for the first."""
    floor = 1e-30
    last = None
    for r in rows:
        r["score"] = 0.0
        r["pareto"] = False
        if last is None or r["validation_loss"] < last["validation_loss"]:
            r["pareto"] = True
            if last is not None and math.isfinite(last["validation_loss"]):
                dlog = math.log(max(r["validation_loss"], floor)) - math.log(max(last["validation_loss"], floor))
                r["score"] = -dlog / max(r["complexity"] - last["complexity"], 1)
            last = r


def _select(rows, rule):
    finite = [i for i, r in enumerate(rows) if math.isfinite(r["validation_loss"])]
    if not finite:
        return 0
    best_loss = min(rows[i]["validation_loss"] for i in finite)
    if rule == "accuracy":
        return min(finite, key=lambda i: (rows[i]["validation_loss"], rows[i]["complexity"]))
    near = [i for i in finite if rows[i]["pareto"] and rows[i]["validation_loss"] <= ACCURACY_FACTOR * best_loss]
    return max(near, key=lambda i: (rows[i]["score"], -rows[i]["complexity"]))
