"""`SymbolicRegressor`: the law behind a table of measurements, as a scikit-learn estimator.

The estimator wraps the package's pipeline for a user's own data: inputs divided by
their largest magnitude (a division keeps every monomial's form, where a shift would
turn ``x*y`` into four terms), EQL restarts trained in one graph per chunk
(:func:`~deepsymreg.restarts.fit_restarts`), every restart read as an equation in the
user's units, and a choice among the distinct equations by their error on a held-out
validation split and their complexity (``model_selection``; the rule is in
``docs/estimator.md``).
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
from deepsymreg._validation import check_choice, check_int, check_number
from deepsymreg.callbacks import Phase
from deepsymreg.restarts import fit_restarts, network_from_weights, weight_key

__all__ = ["SymbolicRegressor"]

METHODS = ("eql",)
SELECTIONS = ("best", "accuracy")
SCALINGS = ("range", "max")
#: Additive terms whose RMS over the training rows is below this share of the target's
#: standard deviation are dropped when a shifted equation is expanded back.
NEGLIGIBLE = 1e-2
#: Candidates within this factor of the lowest validation loss compete on score
#: ("best" selection, as PySR's).
ACCURACY_FACTOR = 1.5
_FORMAT = 1


class SymbolicRegressor(RegressorMixin, BaseEstimator):
    """Find a closed-form law ``y = f(X)`` with the equation learner (EQL).

    Args:
        method: ``"eql"``.
        regularization: ``"l05"`` (smoothed L0.5) or ``"l0"`` (relaxed L0 gates).
        depth: hidden EQL layers.
        primitives: hidden-layer primitives: a set name of
            :data:`deepsymreg.primitives.SETS` or a list of names.
        trials: random restarts.
        steps: optimizer steps per restart, split over the recipe's phases in their
            proportions (None: the recipe's own, about 20000).
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

    Attributes:
        equations_: one row per distinct equation form: ``equation``, ``sympy_format``,
            ``complexity``, ``loss`` (training MSE), ``validation_loss``, ``score``,
            ``restarts`` (how many restarts found the form), ``seed``. A
            ``pandas.DataFrame`` when pandas is installed, else a list of dicts.
        best_: the row chosen by ``model_selection``.
        feature_names_in_, n_features_in_: as scikit-learn's.
    """

    def __init__(
        self,
        method="eql",
        regularization="l05",
        depth=2,
        primitives="default10",
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

    # -- scikit-learn ----------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = True
        tags.non_deterministic = True  # XLA rounding differs between machines
        return tags

    def fit(self, X, y):
        """Train the restarts on ``(X, y)`` and choose an equation; returns ``self``."""
        self._check_params()
        target_names = _target_names(y)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype="float64")
        self._y_1d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
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

        if np.all(np.ptp(y2[train], axis=0) == 0):  # a constant law needs no training
            results = []
        else:
            results = self._train(self._scaled(X[train]), y2[train], self._scaled(X[val]), y2[val])
        self._build_table(results, X[train], y2[train], X[val], y2[val])
        self.wall_seconds_ = time.perf_counter() - start
        return self

    def predict(self, X, index=None):
        """The chosen equation (or row ``index`` of ``equations_``) evaluated on ``X``."""
        check_is_fitted(self, "rows_")
        X = validate_data(self, X, reset=False, dtype="float64")
        row = self._row(index)
        outs = [symbolic.to_numpy_function(e, self._internal)(X) for e in row["internal"]]
        out = np.stack(outs, axis=1)
        return out[:, 0] if self._y_1d else out

    def sympy(self, index=None):
        """The chosen equation as SymPy, in the data's variable names (a list for several targets)."""
        check_is_fitted(self, "rows_")
        exprs = self._row(index)["display"]
        return exprs[0] if len(exprs) == 1 else exprs

    def latex(self, index=None, digits=4):
        """LaTeX of :meth:`sympy`."""
        expr = self.sympy(index)
        if isinstance(expr, list):
            return [sympy.latex(symbolic.rounded(e, digits)) for e in expr]
        return sympy.latex(symbolic.rounded(expr, digits))

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
        None."""
        check_is_fitted(self, "rows_")
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
                     "internal": [sympy.srepr(e) for e in r["internal"]]}
                    for r in self.rows_
                ],
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
            internal = [sympy.sympify(e) for e in r.pop("internal")]
            display = est._display(internal)
            rows.append({**r, "internal": internal, "display": display,
                         "sympy_format": display[0] if len(display) == 1 else display})
        network = os.path.join(os.fspath(path), "network.keras")
        if os.path.exists(network):
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
        self._primitive_names()

    def _primitive_names(self):
        prims = self.primitives
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

    def _train(self, x, y, x_val, y_val):
        settings, _ = recipes.model_settings(self.regularization)
        kwargs = {**self._model_kwargs(), "standardize": settings.get("standardize", True)}
        kwargs.pop("n_outputs")
        schedule = self._schedule()
        size = self.chunk_size or (self.trials if self.max_seconds is None else max(1, -(-self.trials // 4)))
        groups = [list(range(i, min(i + size, self.trials))) for i in range(0, self.trials, size)]
        common = dict(schedule=schedule, var_names=[f"_v{i}" for i in range(x.shape[1])],
                      threshold=self.threshold, keep_weights=True, **kwargs)
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

    def _scaled(self, X):
        return (X - self.x_center_) / self.x_scale_

    def _seed(self):
        return getattr(self, "_seed_value", self.random_state or 0)

    def _display(self, internal):
        subs = {s: sympy.Symbol(n) for s, n in zip(self._internal, self.variable_names_)}
        return [e.xreplace(subs) for e in internal]

    def _build_table(self, results, x, y, x_val, y_val):
        """Distinct equation forms with their losses, counts and scores; picks ``best_index_``."""
        scaled = {s: (s - float(c)) / float(k)
                  for s, c, k in zip(self._internal, self.x_center_, self.x_scale_)}
        shifted = bool(np.any(self.x_center_ != 0))
        y_std = np.where(y.std(axis=0) > 0, y.std(axis=0), 1.0)
        # The constant law (the training mean) is always a candidate: the baseline that
        # the first real equation's score is measured against.
        candidates = [([sympy.Float(float(v), 6) for v in y.mean(axis=0)], self._seed(), None)]
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
        rows = {}
        for exprs, seed, weights in candidates:
            key = tuple(_form(e) for e in exprs)
            loss, val_loss = _mse(exprs, self._internal, x, y), _mse(exprs, self._internal, x_val, y_val)
            row = rows.get(key)
            if row is not None:
                row["restarts"] += 1
                if not val_loss < row["validation_loss"]:
                    continue
            display = self._display(exprs)
            rows[key] = {
                "equation": "; ".join(str(e) for e in display),
                "sympy_format": display[0] if len(display) == 1 else display,
                "complexity": int(sum(symbolic.complexity(e) for e in exprs)),
                "loss": loss,
                "validation_loss": val_loss,
                "restarts": (row["restarts"] if row else 1),
                "seed": int(seed),
                "internal": exprs,
                "display": display,
                "weights": weights,
            }
        if not rows:
            raise RuntimeError("No restart gave a finite equation; try more trials or steps.")
        self.rows_ = sorted(rows.values(), key=lambda r: (r["complexity"], r["validation_loss"]))
        _score(self.rows_)
        self.best_index_ = _select(self.rows_, self.model_selection)

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


def _mse(exprs, symbols, x, y):
    pred = np.stack([symbolic.to_numpy_function(e, symbols)(x) for e in exprs], axis=1)
    err = float(np.mean((pred - y) ** 2))
    return err if math.isfinite(err) else math.inf


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
