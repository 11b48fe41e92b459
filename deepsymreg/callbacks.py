"""Training callbacks: phased schedules, thresholding-and-freezing, NaN recovery,
horizon curriculum, and the memetic refit of a Gumbel-max EQL search.

All of them work with plain ``model.fit``. They count *optimizer steps*
(``model.optimizer.iterations``), not Keras batches, so a schedule means the same
whether a model runs one step per batch or many (``EQL(steps_per_call=...)``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import keras
import numpy as np

from deepsymreg import regularizers as regularizers_lib
from deepsymreg import schedules as schedules_lib
from deepsymreg._validation import check_int, check_number
from deepsymreg.curriculum import check_curriculum
from deepsymreg.layers import stacking
from deepsymreg.layers.linear import StackedLinear
from deepsymreg.layers.network import EqlNetwork

__all__ = [
    "Phase",
    "PhasedSchedule",
    "OneCycle",
    "WeightThreshold",
    "NaNRecovery",
    "HorizonCurriculum",
    "MemeticRefit",
    "penalty_strengths",
    "threshold_weights",
]


def _all_layers(model):
    # Keras models and layers list their sublayers (recursively) this way.
    return list(model._flatten_layers(include_self=True, recursive=True))


def _distinct_attributes(model, pick):
    """``pick(value)`` for every attribute value of every layer of ``model``: each result
    once, in the order found (None results skipped)."""
    found, seen = [], set()
    for layer in _all_layers(model):
        for value in list(vars(layer).values()):
            item = pick(value)
            if item is not None and id(item) not in seen:
                seen.add(id(item))
                found.append(item)
    return found


def _strength_regularizers(model):
    """The distinct :class:`~deepsymreg.regularizers.StrengthRegularizer` s of ``model``."""
    return _distinct_attributes(
        model, lambda v: v if isinstance(v, regularizers_lib.StrengthRegularizer) else None
    )


def _strength_variable(value):
    if isinstance(value, regularizers_lib.StrengthRegularizer):
        return value.reg_lambda
    if getattr(value, "name", None) == "reg_lambda" and isinstance(value, keras.Variable):
        return value
    return None


def penalty_strengths(model):
    """The distinct penalty-strength variables (``reg_lambda``) used by ``model``."""
    return _distinct_attributes(model, _strength_variable)


def threshold_weights(model, alpha):
    """Zero and freeze every maskable weight of ``model`` with ``|w| < alpha``.

    A :class:`~deepsymreg.layers.HardConcreteDense` fixes its gates at their
    deterministic values (see its ``threshold``); ``alpha = 0`` only fixes them.
    Returns the number of weights still active.
    """
    alpha = check_number("alpha", alpha, 0.0)
    kept = 0
    for layer in _all_layers(model):
        if isinstance(layer, StackedLinear):  # every linear kind has a mask and threshold()
            kept += layer.threshold(alpha)
    return kept


def _steps_per_batch(model):
    return int(getattr(model, "steps_per_call", 1)) * int(
        getattr(model, "steps_per_execution", 1) or 1
    )


#: The strength name of the sparsity penalties, set by ``Phase.reg_lambda``.
SPARSITY = regularizers_lib.StrengthRegularizer.strength_name


@dataclasses.dataclass(frozen=True)
class Phase:
    """One phase of training.

    Args:
        steps: optimizer steps in the phase.
        learning_rate: learning rate during the phase: a number, or a
            :class:`~deepsymreg.schedules.StepSchedule` of the steps since the phase began.
        reg_lambda: strength of the sparsity penalties (those whose ``strength_name`` is
            ``"sparsity"``) during the phase: a number or a schedule, as ``learning_rate``.
        threshold: if set, weights with ``|w| < threshold`` are zeroed and frozen at
            the end of the phase (see :func:`threshold_weights`; relaxed-L0 layers also
            fix their gates there, ending gate noise and penalty).
        strengths: other penalty strengths by name, e.g. ``{"smoothness": 1e-3}`` for
            :class:`~deepsymreg.regularizers.AdjacentSmoothness` (numbers or schedules).
            A name given in some phase is 0 in the phases that omit it; regularizers
            whose name no phase gives keep their own strength.
    """

    steps: int
    learning_rate: float
    reg_lambda: float = 0.0
    threshold: float | None = None
    strengths: dict | None = None

    def __post_init__(self):
        check_int("steps", self.steps)
        if not isinstance(self.learning_rate, schedules_lib.StepSchedule):
            check_number("learning_rate", self.learning_rate, 0.0, strict=True)
        if not isinstance(self.reg_lambda, schedules_lib.StepSchedule):
            check_number("reg_lambda", self.reg_lambda, 0.0)
        if self.threshold is not None:
            check_number("threshold", self.threshold, 0.0)
        strengths = {} if self.strengths is None else self.strengths
        if (not isinstance(strengths, dict) or not all(isinstance(k, str) for k in strengths)
                or SPARSITY in strengths):
            raise ValueError(
                "Invalid value for argument `strengths`: expected a dict of strength names "
                f"other than {SPARSITY!r} (that one is `reg_lambda`). Received: "
                f"strengths={self.strengths!r}"
            )
        for name, value in strengths.items():
            if not isinstance(value, schedules_lib.StepSchedule):
                check_number(f"strengths[{name!r}]", value, 0.0)
        object.__setattr__(self, "strengths", dict(strengths))

    def strength(self, name):
        """The strength called ``name`` in this phase (0 when not given)."""
        return self.reg_lambda if name == SPARSITY else self.strengths.get(name, 0.0)


class PhasedSchedule(keras.callbacks.Callback):
    """Sets learning rate and penalty strength step by step; thresholds between phases.

    The phases become step-indexed curves (:class:`~deepsymreg.schedules.Piecewise`)
    evaluated at ``optimizer.iterations`` *inside* the compiled training step: the
    optimizer gets the learning-rate curve as its ``learning_rate`` (it stays there after
    ``fit``), and every penalty regularizer of the model computes its strength from the
    curve of its ``strength_name`` (:meth:`~deepsymreg.regularizers.StrengthRegularizer.bind_schedule`):
    ``"sparsity"`` follows the phases' ``reg_lambda``, other names (``"smoothness"``)
    their ``strengths`` entries, so two penalties can follow different curves. So
    a phase whose rate or lambda is itself a curve (a one-cycle policy, a sin^2 ramp) is
    followed at every optimizer step, even with ``EQL(steps_per_call=500)``. A restart
    that resets the optimizer (see :class:`NaNRecovery`) replays the schedule from the
    start. Thresholds act between Keras batches, so phase ends must be multiples of the
    optimizer steps per batch. Training stops when the last phase ends; pass ``epochs`` and
    ``steps_per_epoch`` that cover :attr:`total_steps` (more is harmless).

    Args:
        phases: list of :class:`Phase`.
        strengths: lambda variables to assign at the start of every batch instead (the
            value at that step). Default: every penalty regularizer of the model follows
            the lambda curve in the graph.

    Logs ``learning_rate``, ``reg_lambda``, every other named strength and ``phase``
    after every batch.

    Example:

    >>> schedule = PhasedSchedule([Phase(2000, 1e-2, 5e-3, threshold=0.01),
    ...                            Phase(1000, 1e-3, 0.0)])
    >>> schedule.total_steps
    3000
    """

    def __init__(self, phases, strengths=None):
        super().__init__()
        given = phases
        phases = list(phases) if isinstance(phases, Iterable) else []
        if not phases or not all(isinstance(p, Phase) for p in phases):
            raise ValueError(
                "Invalid value for argument `phases`: expected a non-empty list of Phase. "
                f"Received: phases={given!r}"
            )
        if strengths is not None:
            given = strengths
            strengths = list(given) if isinstance(given, (list, tuple)) else None
            if strengths is None or not all(hasattr(v, "assign") for v in strengths):
                raise ValueError(
                    "Invalid value for argument `strengths`: expected None or a list of "
                    f"variables (e.g. `[model.reg_lambda]`). Received: strengths={given!r}"
                )
        self.phases = phases
        self.ends = np.cumsum([p.steps for p in phases]).tolist()
        self._explicit_strengths = strengths
        #: The strength names the phases set: sparsity first, then the others as found.
        self.strength_names = [SPARSITY] + list(
            dict.fromkeys(name for p in phases for name in p.strengths)
        )

    @property
    def total_steps(self):
        return self.ends[-1]

    def batches_needed(self, model_or_steps_per_batch):
        """Keras batches that cover the whole schedule."""
        per = model_or_steps_per_batch
        if not isinstance(per, int):
            per = _steps_per_batch(per)
        return -(-self.total_steps // per)

    def phase_index(self, step):
        for i, end in enumerate(self.ends):
            if step < end:
                return i
        return len(self.phases) - 1

    def curve(self, quantity):
        """The step-indexed curve over all phases of ``"learning_rate"``, ``"reg_lambda"``
        (the sparsity strength) or another strength name (e.g. ``"smoothness"``)."""
        starts = [0, *self.ends[:-1]]
        if quantity == "learning_rate":
            pieces = [p.learning_rate for p in self.phases]
        elif quantity in ("reg_lambda", *self.strength_names):
            name = SPARSITY if quantity == "reg_lambda" else quantity
            pieces = [p.strength(name) for p in self.phases]
        else:
            raise ValueError(
                "Invalid value for argument `quantity`: expected 'learning_rate', "
                f"'reg_lambda' or one of {self.strength_names}. Received: quantity={quantity!r}"
            )
        return schedules_lib.Piecewise(starts, pieces)

    def on_train_begin(self, logs=None):
        per = _steps_per_batch(self.model)
        bad = [e for e in self.ends if e % per]
        if bad:
            raise ValueError(
                f"The phase boundaries {self.ends} must be multiples of the optimizer "
                f"steps per batch ({per}); these are not: {bad}."
            )
        self._rate, self._lambda = self.curve("learning_rate"), self.curve("reg_lambda")
        self._curves = {name: self.curve(name) for name in self.strength_names}
        optimizer = self.model.optimizer
        optimizer.learning_rate = self._rate
        self.variables = list(self._explicit_strengths or [])
        self.bound = [
            reg for reg in _strength_regularizers(self.model)
            if reg.strength_name in self._curves
            and not (reg.strength_name == SPARSITY and self._explicit_strengths is not None)
        ]
        for reg in self.bound:
            reg.bind_schedule(self._curves[reg.strength_name], optimizer.iterations)
        # The compiled step captures the schedules when traced: trace it anew.
        self.model.make_train_function(force=True)
        self._current = None
        self._thresholded = set()

    def on_train_end(self, logs=None):
        for reg in self.bound:
            reg.unbind_schedule()
        # A later fit without this schedule must not run the step traced with it.
        self.model.train_function = None

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations)
        index = self.phase_index(step)
        if self._current is not None and index < self._current:  # the optimizer restarted
            self._thresholded = {i for i in self._thresholded if i < index}
        self._current = index
        # Readers between batches see the strength of the coming step (the compiled
        # step assigns it again at every step it runs).
        for var in self.variables:
            var.assign(self._lambda.value_at(step))
        for reg in self.bound:
            reg.reg_lambda.assign(self._curves[reg.strength_name].value_at(step))

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations)
        phase = self.phases[self._current]
        if (
            phase.threshold is not None
            and step >= self.ends[self._current]
            and self._current not in self._thresholded
        ):
            threshold_weights(self.model, phase.threshold)
            self._thresholded.add(self._current)
        self._log(logs, step - 1)
        if step >= self.total_steps:
            self.model.stop_training = True

    def _log(self, logs, step):
        """The rate and lambda of optimizer step ``step`` (the last one run), and its phase."""
        if logs is not None and self._current is not None:
            step = max(step, 0)
            logs["learning_rate"] = self._rate.value_at(step)
            logs["reg_lambda"] = self._lambda.value_at(step)
            for name in self.strength_names[1:]:
                logs[name] = self._curves[name].value_at(step)
            logs["phase"] = self.phase_index(step)

    def on_epoch_end(self, epoch, logs=None):
        # Batch logs are per-batch copies; epoch logs are what History keeps.
        self._log(logs, int(self.model.optimizer.iterations) - 1)


class OneCycle(PhasedSchedule):
    """The one-cycle policy of the parametric-EQL paper (Zhang et al. 2022, Fig. 11).

    Over ``total_steps`` optimizer steps, with ``r = step / total_steps``, the learning
    rate follows :class:`~deepsymreg.schedules.OneCycleRate` (up from ``0.05 base_rate``
    to ``5 base_rate`` at ``r = 5/12`` and back, then ``1e-4 base_rate`` after ``r =
    5/6``) and the sparsity strength :class:`~deepsymreg.schedules.OneCycleStrength`
    (``base_lambda (2.4 r)^2`` up to ``1.9^2 base_lambda``, down to ``base_lambda`` at
    ``r = 5/6``); with ``smoothness = theta``, the ``"smoothness"`` penalty follows
    ``theta`` times the same strength curve (the paper's ``lambda (L_R + theta L_S)``).
    Both are evaluated at every optimizer step inside the compiled loop and logged
    (``learning_rate``, ``reg_lambda``, ``smoothness``) in ``History`` per epoch. It
    works with any Keras model: a model without deepsymreg penalties just follows the
    learning rate.

    Args:
        total_steps: optimizer steps of the whole cycle; training stops there.
        base_rate: ``base_lr`` of the paper's figure.
        base_lambda: ``base_rw`` of the paper's figure.
        smoothness: ``theta``, or None to leave smoothness penalties alone.

    Example:

    >>> cycle = OneCycle(10000, base_rate=1e-3, base_lambda=1e-3, smoothness=0.1)
    >>> round(cycle.curve("learning_rate").value_at(0), 6)  # 0.05 * base_rate
    5e-05
    """

    def __init__(self, total_steps, base_rate=1e-3, base_lambda=1e-3, smoothness=None):
        total = check_int("total_steps", total_steps)
        base_lambda = check_number("base_lambda", base_lambda, 0.0)
        strengths = {}
        if smoothness is not None:
            theta = check_number("smoothness", smoothness, 0.0)
            strengths["smoothness"] = schedules_lib.OneCycleStrength(base_lambda * theta, total)
        super().__init__([Phase(
            total,
            schedules_lib.OneCycleRate(base_rate, total),
            schedules_lib.OneCycleStrength(base_lambda, total),
            strengths=strengths,
        )])


class WeightThreshold(keras.callbacks.Callback):
    """Zero and freeze weights with ``|w| < alpha`` once ``at_step`` optimizer steps are done.

    With ``at_step=None`` it acts at the end of training.
    """

    def __init__(self, alpha, at_step=None):
        super().__init__()
        check_number("alpha", alpha, 0.0)
        check_int("at_step", at_step, minimum=0, allow_none=True)
        self.alpha, self.at_step = float(alpha), at_step

    def on_train_begin(self, logs=None):
        self.done = False
        self.kept = None

    def on_train_batch_end(self, batch, logs=None):
        if self.at_step is not None and not self.done:
            if int(self.model.optimizer.iterations) >= self.at_step:
                self._apply()

    def on_train_end(self, logs=None):
        if self.at_step is None and not self.done:
            self._apply()

    def _apply(self):
        self.kept = threshold_weights(self.model, self.alpha)
        self.done = True


def _slot_start(optimizer, var):
    if hasattr(optimizer, "slot_initial_value"):
        return optimizer.slot_initial_value(var)
    return 0.0


def _per_restart(model):
    """True for a model whose restarts recover one by one (an ``EQL(trials=K)``: it has
    per-restart losses and re-draws restarts by index); a model that merely holds
    several heads on one shared part restarts as a whole."""
    return bool(getattr(model, "trials", None)) and hasattr(model, "initialize_trials")


def _eql_models(model):
    return [m for m in _all_layers(model) if isinstance(m, EqlNetwork)]


class NaNRecovery(keras.callbacks.Callback):
    """Restart from fresh weights when the training loss stops being finite.

    For a model without restarts axis (an EQL, or any model holding EQL sub-models such
    as an encoder + EQL pipeline), a non-finite loss returns every weight to where it
    was when training began (encoders, batch-norm statistics, masks), re-draws the EQL
    weights from fresh seeds and resets the optimizer, step counter included, so a
    :class:`PhasedSchedule` starts over: the paper's "restart the trial". For ``EQL(trials=K)``, only the restarts whose own loss
    is not finite are re-drawn (and their optimizer slots cleared); the others go on
    untouched. Their indices are kept in :attr:`restarted`.

    Args:
        max_restarts: stop training after this many restarts (None: no limit).
        seed: seed for the fresh weights; for ``EQL(trials=K)`` also a list of ``K``
            seeds, one stream per restart, so that a restart's fresh weights do not
            depend on which other restarts train beside it.
    """

    def __init__(self, max_restarts=None, seed=None):
        super().__init__()
        check_int("max_restarts", max_restarts, minimum=0, allow_none=True)
        if isinstance(seed, (list, tuple)):
            if not seed:
                raise ValueError(
                    "Invalid value for argument `seed`: expected None, a seed or a non-empty "
                    f"list of seeds. Received: seed={seed!r}"
                )
            seed = [check_int("seed", s, minimum=0) for s in seed]
        else:
            seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.max_restarts, self.seed = max_restarts, seed

    def on_train_begin(self, logs=None):
        if isinstance(self.seed, (list, tuple)):
            self._rngs = [np.random.default_rng(int(s)) for s in self.seed]
        else:
            self._rngs, self._rng = None, np.random.default_rng(self.seed)
        self.restarts = 0
        self.restarted = []
        self._start = None

    def on_train_batch_begin(self, batch, logs=None):
        if self._start is None and self.model.built and not _per_restart(self.model):
            # The weights the model starts from (taken once it is built): a restart
            # returns every layer (encoders, batch-norm statistics, masks) here.
            weights = self.model.get_weights()
            if weights:
                self._start = [np.array(w) for w in weights]

    def _new_seeds(self, indices):
        """A fresh seed for each restart index (from its own stream when given per restart)."""
        if self._rngs is not None:
            if len(self._rngs) < max(indices) + 1:
                raise ValueError(
                    f"NaNRecovery got {len(self._rngs)} seeds but the model has restart "
                    f"{max(indices)}; pass one seed per restart."
                )
            return [int(self._rngs[k].integers(0, 2**31 - 1)) for k in indices]
        return [int(s) for s in self._rng.integers(0, 2**31 - 1, size=len(indices))]

    def on_train_batch_end(self, batch, logs=None):
        models = _eql_models(self.model)
        trial_model = self.model if _per_restart(self.model) else None
        if trial_model is not None:
            losses = np.asarray(trial_model.trial_loss.numpy())
            bad = np.flatnonzero(~np.isfinite(losses)).tolist()
            if not bad:
                return
            trial_model.initialize_trials(self._new_seeds(bad), bad)
            self._reset_optimizer_entries(trial_model, bad)
            self.restarted.extend(bad)
            self.restarts += len(bad)
        else:
            loss = (logs or {}).get("loss")
            finite = loss is None or np.isfinite(float(loss))
            if hasattr(self.model, "trial_loss"):  # EQL masks non-finite losses in logs
                finite = finite and bool(np.all(np.isfinite(self.model.trial_loss.numpy())))
            if finite:
                if self._start is None and self.model.built:
                    # Built by its first step (a subclassed model): the weights after
                    # the first finite step are the best start there is.
                    self._start = [np.array(w) for w in self.model.get_weights()]
                return
            if self._start is not None and len(self._start) == len(self.model.weights):
                # (A layer built lazily after the first batch has no start value: then
                # only the EQL weights are re-drawn.)
                self.model.set_weights(self._start)
            for m in models:
                m.initialize_trials(self._new_seeds(list(range(m.trials or 1))))
            optimizer = self.model.optimizer
            for var in optimizer.variables:
                if "learning_rate" not in var.name:
                    var.assign(np.full(var.shape, _slot_start(optimizer, var), var.dtype))
            # The logged loss is a running mean over the epoch: without a reset it
            # would stay NaN and trigger a restart on every following batch.
            self.model.reset_metrics()
            self.restarts += 1
        if self.max_restarts is not None and self.restarts > self.max_restarts:
            self.model.stop_training = True

    def _reset_optimizer_entries(self, model, indices):
        shapes = {tuple(v.shape) for v in model.trainable_variables}
        k = model.trials
        for var in self.model.optimizer.variables:
            shape = tuple(var.shape)
            if shape in shapes and shape and shape[0] == k:
                start = np.full(shape[1:], _slot_start(self.model.optimizer, var), var.dtype)
                for i in indices:
                    stacking.assign_entries(var, start, i)


class HorizonCurriculum(keras.callbacks.Callback):
    """Grows the prediction horizon ``T_y`` during ``fit`` (curriculum learning).

    ``schedule`` lists ``(step, horizon)`` pairs: from optimizer step ``step`` on, the
    horizon variable (e.g. :attr:`deepsymreg.losses.HorizonMSE.horizon`) is
    ``horizon``. The paper's kinematics run is ``[(0, 1), (1000, 5)]``.

    Args:
        horizon: the integer variable to assign (or an object with a ``horizon``
            variable, such as a ``HorizonMSE`` loss).
        schedule: ``(step, horizon)`` pairs with increasing steps, the first at 0.

    Logs ``horizon`` after every batch and epoch.
    """

    def __init__(self, horizon, schedule):
        super().__init__()
        self.variable = getattr(horizon, "horizon", horizon)
        if not isinstance(self.variable, keras.Variable):
            raise ValueError(
                "Invalid value for argument `horizon`: expected a keras.Variable or an "
                f"object with a `horizon` variable. Received: horizon={horizon!r}"
            )
        try:
            pairs = [(check_int("step", s, minimum=0), check_int("horizon", h)) for s, h in schedule]
        except (TypeError, ValueError):  # not a list of pairs of integers
            pairs = []
        steps = [s for s, _ in pairs]
        if not pairs or steps[0] != 0 or steps != sorted(set(steps)):
            raise ValueError(
                "Invalid value for argument `schedule`: expected (step, horizon) pairs of "
                "integers with strictly increasing steps starting at 0 and horizons >= 1. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = pairs

    def horizon_at(self, step):
        return [h for s, h in self.schedule if s <= step][-1]

    def on_train_batch_begin(self, batch, logs=None):
        value = self.horizon_at(int(self.model.optimizer.iterations))
        if int(self.variable.numpy()) != value:
            self.variable.assign(value)

    def on_train_batch_end(self, batch, logs=None):
        if logs is not None:
            logs["horizon"] = int(self.variable.numpy())

    on_epoch_end = on_train_batch_end


class MemeticRefit(keras.callbacks.Callback):
    """The memetic step of a Gumbel-max EQL search: every ``every`` stage-2 iterations,
    the best elites not refitted before get their own weights
    (:meth:`deepsymreg.models.GMEQL.refit_elites`), and their refit MAE ranks them in
    the repository.

    Pass it to :meth:`GMEQL.search` (or ``fit``) in ``callbacks``; it checks the
    model's iteration after every compiled call, so ``every`` is effectively rounded up
    to a multiple of ``steps_per_call``.

    Args:
        x, y: the training data.
        every: stage-2 iterations between refits (default 12000: four in the paper's
            48000).
        top, starts, steps, learning_rate, curriculum, adopt, chunk: as in
            :meth:`GMEQL.refit_elites`.

    Named settings: ``deepsymreg.gmeql.MEMETIC_PRESETS`` (``"screen"`` refits every new
    elite from one start: ``top=400, starts=1, steps=1000, curriculum=(0.03, 500)``;
    ``"screen-adopt"``, the benchmark's default, adds ``adopt=True``).

    Logs ``memetic_best`` (the lowest refit MAE of the last refit) after every epoch;
    ``history`` keeps every refit's iteration and MAEs.
    """

    def __init__(self, x, y, every=12000, top=10, starts=4, steps=3000, learning_rate=1e-2,
                 curriculum=(0.03, 1500), adopt=False, chunk=None):
        super().__init__()
        self.x, self.y = x, y
        self.every = check_int("every", every)
        self.options = dict(top=check_int("top", top), starts=check_int("starts", starts),
                            steps=check_int("steps", steps, minimum=0),
                            learning_rate=check_number("learning_rate", learning_rate, 0.0,
                                                       strict=True),
                            curriculum=check_curriculum(curriculum), adopt=bool(adopt),
                            chunk=None if chunk is None else check_int("chunk", chunk))
        self.skip = None
        self.history = []  # per refit: the model's iteration and the refit MAEs (runs, top)
        self.refits = 0
        self.best = float("inf")
        self._stage_start = None
        self._done = 0

    def on_train_batch_end(self, batch, logs=None):
        model = self.model
        if int(model.stage.numpy()) < 2:
            return
        start = int(model.stage_start.numpy())
        if start != self._stage_start:  # a new stage 2: count from its start
            self._stage_start, self._done = start, 0
        due = (int(model.iteration.numpy()) - start) // self.every
        if due <= self._done:
            return
        self._done = due
        if self.skip is None:
            self.skip = [set() for _ in range(model.n_runs)]
        maes = model.refit_elites(self.x, self.y, skip=self.skip, **self.options)
        self.refits += 1
        self.best = float(np.min(maes))
        self.history.append({"iteration": int(model.iteration.numpy()),
                             "refit_mae": [[float(v) for v in row] for row in maes]})

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.refits:
            logs["memetic_best"] = self.best
