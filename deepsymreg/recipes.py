"""Training recipes: which schedule and settings each of the papers' experiments uses.

The step-indexed curves themselves live in :mod:`deepsymreg.schedules` and the
callbacks that follow them in :mod:`deepsymreg.callbacks`; this module says which to
use where. For symbolic regression on a table of data: :func:`paper_schedule` (L0.5),
:func:`l0_schedule` (relaxed L0) and :func:`model_settings`. For the deep models, a
:class:`Recipe` holds what Kim et al. (2020, appendix C) specify for an experiment: the
phases (learning rate, lambda, thresholds), the prediction-horizon curriculum, the
batch size and the decoder's primitives. :func:`fit_dynamics` trains a
:class:`~deepsymreg.DynamicsModel` with a recipe through plain ``model.fit`` and our
callbacks, over several random restarts, and keeps the best one.
"""

from __future__ import annotations

import dataclasses
import warnings

import keras
import numpy as np
import tensorflow as tf

from deepsymreg import optimizers, primitives, schedules
from deepsymreg._validation import check_choice, check_int
from deepsymreg.callbacks import HorizonCurriculum, NaNRecovery, Phase, PhasedSchedule
from deepsymreg.data import feed
from deepsymreg.data.digits import pair_dataset
from deepsymreg.losses import HorizonMSE
from deepsymreg.reports import StepProgress

__all__ = [
    "REGULARIZATIONS", "L0_INIT_STDDEV", "paper_schedule", "l0_schedule", "model_settings", "restart_steps",
    "Recipe", "arithmetic_recipe", "fit_arithmetic", "kinematics_recipe", "sho_recipe", "fit_dynamics",
]


# -- symbolic regression on a table of data (benchmark, restarts) ------------------

#: Sparsity methods accepted by the benchmark, the estimator and the command line.
REGULARIZATIONS = ("l05", "l0")


def paper_schedule(reg_lambda=5e-3, learning_rate=1e-2, alpha=0.01, steps=(2000, 10000, 10000)):
    """The benchmark schedule of the paper's reference code (about 22000 steps).

    Warm-up at 10x the learning rate, then the regularized phase, then weights below
    ``alpha`` frozen at 0 and a final phase with lambda = 0 at a tenth of the rate.
    """
    warm, main, final = steps
    return [
        Phase(warm, 10 * learning_rate, reg_lambda),
        Phase(main, learning_rate, reg_lambda, threshold=alpha),
        Phase(final, learning_rate / 10, 0.0),
    ]


#: Initial standard deviations (first, middle, last layer) of the L0 benchmark EQL.
L0_INIT_STDDEV = (1.0, 0.5, 0.5)


def l0_schedule(reference=False):
    """The relaxed-L0 schedule: 20000 steps, gates fixed before a fine-tuning phase.

    The default runs 2000 steps without penalty (the gates already sample), 14000
    with lambda = 3e-3 at learning rate 1e-2, then fixes the gates at their
    deterministic values, closing those whose weights are below 0.01 (see
    :meth:`deepsymreg.layers.HardConcreteDense.threshold`), and fine-tunes the
    surviving weights for 4000 steps at 1e-3 without penalty, as the paper's last
    phase does for L0.5. Without that phase, gate noise left the coefficients a few
    percent off (``sin(2.02*pi*x)``), enough to fail the judge on the wider domain.
    ``reference=True`` is the authors' code: one phase of 20000 steps with
    lambda = 1e-2 from the first step; in our runs the early penalty closed the gates
    of periodic terms before their weights had grown (see docs/results.md).
    """
    if reference:
        return [Phase(20000, 1e-2, 1e-2)]
    return [
        Phase(2000, 1e-2, 0.0),
        Phase(14000, 1e-2, 3e-3, threshold=0.01),
        Phase(4000, 1e-3, 0.0),
    ]


def model_settings(regularization):
    """EQL settings for a sparsity method (see :data:`REGULARIZATIONS`)."""
    check_choice("regularization", regularization, REGULARIZATIONS)
    if regularization == "l0":
        # Wider first-layer weights than the L0.5 recipe's 0.1: the gates of a sine
        # close unless its argument starts out of the linear range (measurements in
        # docs/results.md). Raw targets, as in the authors' code: standardizing
        # multiplies the data term by 1/var(y) (about 30 for exp(-x**2) on [-1, 1]),
        # which weakens the L0 penalty next to it.
        settings = {"regularizer": "l0", "init_stddev": L0_INIT_STDDEV, "standardize": False}
        return settings, l0_schedule()
    return {"regularizer": "l05"}, paper_schedule()


def restart_steps(regularization):
    """Optimizer steps of one restart under :func:`model_settings`' schedule."""
    return sum(p.steps for p in model_settings(regularization)[1])


# -- the deep-learning experiments -----------------------------------------------

@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to train one of the papers' deep models.

    Attributes:
        phases: the :class:`Phase` list (steps, learning rate, lambda, threshold).
        batch_size: examples per step (None: the whole data set, as for kinematics).
        eql: keyword arguments of the EQL networks.
        relu_widths: hidden widths of the ReLU baseline.
        curriculum: ``(step, T_y)`` pairs for :class:`HorizonCurriculum` (dynamics).
        horizon: the largest training horizon ``T_y`` (dynamics).
        residual: the dynamics decoders (EQL and ReLU alike) predict the change of
            the state, ``s_{t+1} = s_t + cell(s_t, z)`` (see :class:`DynamicsModel`).
    """

    phases: tuple
    batch_size: int | None
    eql: dict
    relu_widths: tuple
    curriculum: tuple = ()
    horizon: int | None = None
    residual: bool = False

    @property
    def total_steps(self):
        return sum(p.steps for p in self.phases)


def _recurrent(names):
    """A primitive set for a recurrent decoder: ``exp`` becomes ``(e^g - 1) / e`` (the
    exponential of the authors' code), which a state fed through it at every step
    blows up far less often."""
    return [{"exp": "expm1_e"}.get(p, p) for p in names]


def _scaled(steps, fraction):
    return max(1, int(round(steps * fraction)))


def kinematics_recipe(fraction=1.0):
    """Kinematics (appendix C-B): 5000 steps lr 1e-2, lambda 1e-3 with T_y = 1 for the
    first 1000 then 5; freeze |w| < 0.1; 10000 steps lr 1e-3, lambda 0; full batch.

    ``fraction`` shortens every phase and curriculum step (quick runs).
    """
    s = lambda n: _scaled(n, fraction)  # noqa: E731
    return Recipe(
        phases=(Phase(s(5000), 1e-2, 1e-3, threshold=0.1), Phase(s(10000), 1e-3, 0.0)),
        curriculum=((0, 1), (s(1000), 5)),
        horizon=5,
        batch_size=None,
        eql={"depth": 2, "primitives": _recurrent(primitives.DEFAULT10),
             "init_stddev": (0.1, 0.1, 0.5)},
        relu_widths=(50, 50),
    )


def sho_recipe(fraction=1.0):
    """Harmonic oscillator (appendix C-C): 2000 steps lr 1e-2, lambda 4e-5 with T_y = 1
    for 500 steps, then +2 every 500 up to 7; T_y = 25 with lr 2e-3, lambda 2e-4;
    freeze |w| < 0.01; lr 1e-3, lambda 0. The paper leaves the lengths of the last two
    phases open: 5000 steps each, as in the authors' code; batches of 128.

    One departure from the paper: the decoders are *residual*, ``s_{t+1} = s_t +
    cell(s_t, z)``. With ``dt = 0.1`` an update rule is the identity plus a 10%
    change, and the part that depends on omega^2, ``0.1 omega^2 u``, is about 1% of
    ``v``. A plain EQL cell must first rebuild the identity from its primitives, and
    until it does the encoder gets no useful gradient; a residual cell starts from the
    identity. With the latent's batch-norm scale fixed as well (see
    :class:`~deepsymreg.models.encoders.DynamicsEncoder`) the recipe learns omega^2;
    the probes behind this choice are in docs/deep_models.md and docs/results.md. The
    ReLU baseline gets the same form, so the comparison stays fair. The equations still
    read as the update rule.
    """
    s = lambda n: _scaled(n, fraction)  # noqa: E731
    return Recipe(
        phases=(
            Phase(s(2000), 1e-2, 4e-5),
            Phase(s(5000), 2e-3, 2e-4, threshold=0.01),
            Phase(s(5000), 1e-3, 0.0),
        ),
        curriculum=((0, 1), (s(500), 3), (s(1000), 5), (s(1500), 7), (s(2000), 25)),
        horizon=25,
        batch_size=128,
        eql={"depth": 2, "primitives": _recurrent(primitives.SHO),
             "init_stddev": (0.1, 0.1, 0.5)},
        relu_widths=(50, 50, 50, 50),
        residual=True,
    )


def arithmetic_recipe(fraction=1.0, steps=(10000, 10000), ramp=True, batch_size=100):
    """MNIST arithmetic (appendix C-A): 10000 steps lr 1e-2, penalty up to lambda
    0.05; freeze |w| < 0.01; 10000 steps lr 1e-3, lambda 0; batches of 100 fresh pairs
    (the batch size of the authors' code). EQL: the paper's default primitives, depth 2.

    Two choices follow the authors' code rather than the paper's text. The penalty is
    not switched on at full strength from the first step but ramped as ``0.05 sin^2(pi
    t / (1.1 T))`` over the first phase (their code for Table II; the paper's §III-D
    "optional first phase with a small lambda", which lets the encoder find the digit
    before the EQL is pruned), a :class:`~deepsymreg.schedules.SinSquaredRamp` followed
    at every step. The second phase runs at lr 1e-3 (the text says 1e-4).

    ``steps`` sets the two phase lengths (before ``fraction``); ``ramp=False`` gives a
    constant lambda of 0.05; ``batch_size`` is the number of pairs per step.
    """
    s = lambda n: _scaled(n, fraction)  # noqa: E731
    batch_size = check_int("batch_size", batch_size)
    first = s(steps[0])
    lam = schedules.SinSquaredRamp(0.05, first, stretch=1.1) if ramp else 0.05
    return Recipe(
        phases=(Phase(first, 1e-2, lam, threshold=0.01), Phase(s(steps[1]), 1e-3, 0.0)),
        batch_size=batch_size,
        eql={"depth": 2, "primitives": list(primitives.DEFAULT),
             "init_stddev": (0.1, 0.1, 0.5)},
        relu_widths=(50, 50),
    )


def _fit(model, dataset, recipe, loss, seed, callbacks=(), verbose=0, jit_compile=True,
         progress=None):
    """``model.fit`` over the recipe's phases with NaN recovery; ``progress`` (a
    :func:`~deepsymreg.reports.progress_bar`) hears of the optimizer steps."""
    model.compile(optimizer=optimizers.RMSprop(recipe.phases[0].learning_rate),
                  loss=loss, jit_compile=jit_compile)
    schedule = PhasedSchedule(recipe.phases)
    nan = NaNRecovery(max_restarts=20, seed=seed)
    per_epoch = min(500, recipe.total_steps)
    history = model.fit(
        dataset,
        epochs=100 * -(-recipe.total_steps // per_epoch),  # room for NaN restarts
        steps_per_epoch=per_epoch,
        callbacks=[nan, schedule, *callbacks, *([StepProgress(progress)] if progress else [])],
        shuffle=False,  # the data sets shuffle themselves
        verbose=verbose,
    )
    return history, nan


def fit_arithmetic(make_model, images, labels, recipe, max_sum=None, seed=0, verbose=0,
                   progress=None):
    """Train ``make_model(seed)`` (a :class:`~deepsymreg.DigitArithmetic`) on fresh
    random pairs of ``images`` with ``recipe``; ``max_sum`` keeps only pairs whose sum
    is below it; ``progress`` hears of the optimizer steps. Returns ``(model, info)``."""
    keras.utils.set_random_seed(seed)
    model = make_model(seed)
    data = pair_dataset(images, labels, recipe.batch_size, seed=seed, max_sum=max_sum)
    # Built before fit (a subclassed model builds in its first step otherwise), so that a
    # NaN restart returns the encoder to its true starting weights.
    model.build((None, model.n_digits, 28, 28))
    # Not XLA: on CPU, XLA's convolutions ran this model ~3x slower than the default
    # (oneDNN) kernels (204 vs 62 ms per step of 100 pairs, measured here).
    history, nan = _fit(model, data, recipe, "mse", seed, verbose=verbose, jit_compile=False,
                        progress=progress)
    return model, {"nan_restarts": nan.restarts, "history": history.history}


def _mse(pred, target):
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged roll-out is inf
        err = float(np.mean((np.asarray(pred) - np.asarray(target)) ** 2))
    return err if np.isfinite(err) else float("inf")


def _dataset(data, horizon, batch_size, seed):
    inputs = (data.x, data.y0)
    targets = data.y[:, :horizon]
    if batch_size is None:
        return feed.repeated((inputs, targets))
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    return feed.without_autotune(
        ds.shuffle(len(data.x), seed=seed).repeat().batch(batch_size, drop_remainder=True))


def fit_dynamics(make_model, data, recipe, restarts=1, seed=0, verbose=0, log=None,
                 progress=None):
    """Train ``restarts`` models from ``make_model(seed)`` with ``recipe``; keep the best.

    Each restart trains with ``model.fit`` on ``data`` (a
    :class:`~deepsymreg.data.DynamicsData`), the recipe's :class:`PhasedSchedule`,
    :class:`HorizonCurriculum` on a :class:`HorizonMSE` loss and :class:`NaNRecovery`.
    The best restart is the one whose roll-out from the first state of each *input*
    series matches that series best over ``2 T_y`` steps (training data only).

    Returns:
        ``(model, info)``; ``info`` holds per-restart ``losses`` (MSE over the training
        horizon), ``rollout_losses`` (the selection criterion), ``nan_restarts``, the
        index ``best`` and the ``history`` of the chosen one. ``log``, if given,
        receives one line per restart; ``progress`` (a
        :func:`~deepsymreg.reports.progress_bar`) hears of the optimizer steps.

    Warns:
        RuntimeWarning: when every restart predicts non-finite states.
    """
    restarts = check_int("restarts", restarts)
    if data.y.shape[1] < recipe.horizon:
        raise ValueError(
            f"Invalid value for argument `data`: the recipe trains on T_y={recipe.horizon} "
            f"steps but the targets have {data.y.shape[1]}."
        )
    best, info = None, {"losses": [], "rollout_losses": [], "nan_restarts": []}
    for k in range(restarts):
        keras.utils.set_random_seed(seed + k)
        model = make_model(seed + k)
        # Build before fit, so NaNRecovery (which waits for a built model) takes the
        # starting weights before the first step, not after it.
        model((data.x[:1], data.y0[:1]))
        loss = HorizonMSE(recipe.curriculum[0][1])
        history, nan = _fit(
            model, _dataset(data, recipe.horizon, recipe.batch_size, seed + k), recipe, loss,
            seed + k, verbose=verbose, progress=progress,
            # The model stops its roll-out where the loss stops counting (see
            # DynamicsModel.rollout_steps): one curriculum for both.
            callbacks=[HorizonCurriculum(loss, recipe.curriculum),
                       HorizonCurriculum(model.rollout_steps, recipe.curriculum)],
        )
        model.rollout_steps.assign(model.horizon)
        fit_mse = _mse(model.propagate(data.x, data.y0, recipe.horizon), data.y[:, : recipe.horizon])
        # Selection: roll the model out from the start of its own input series, over
        # twice the training horizon. This uses training inputs only, and it rewards
        # an update rule that stays right beyond the horizon it was fitted on.
        steps = min(2 * recipe.horizon, data.x.shape[1] - 1)
        rollout = _mse(model.propagate(data.x, data.x[:, 0], steps), data.x[:, 1 : steps + 1])
        info["losses"].append(fit_mse)
        info["rollout_losses"].append(rollout)
        info["nan_restarts"].append(nan.restarts)
        if log is not None:
            log(f"  restart {k}: MSE over T_y {fit_mse:.3g}, roll-out MSE {rollout:.3g}, "
                f"{nan.restarts} NaN restart(s)")
        if best is None or rollout < min(info["rollout_losses"][:-1]):
            best, info["history"], info["best"] = model, history.history, k
    if not np.isfinite(min(info["rollout_losses"])):
        warnings.warn(
            f"Every one of the {restarts} restart(s) predicts non-finite states; the "
            "returned model is not usable. Train longer, with more restarts or a smaller "
            "learning rate.",
            RuntimeWarning,
            stacklevel=2,
        )
    return best, info

