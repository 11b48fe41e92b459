import math
"""Recipes: the papers' training numbers, scaling, and the restart loop of fit_dynamics."""

import numpy as np
import pytest

import deepsymreg as dsr
from deepsymreg import recipes
from deepsymreg.data import kinematics
from deepsymreg.recipes import Recipe


def _phases(recipe):
    return [(p.steps, p.learning_rate, p.reg_lambda, p.threshold) for p in recipe.phases]


def test_kinematics_recipe_holds_the_papers_numbers():
    r = recipes.kinematics_recipe()
    assert _phases(r) == [(5000, 1e-2, 1e-3, 0.1), (10000, 1e-3, 0.0, None)]
    assert r.curriculum == ((0, 1), (1000, 5))
    assert r.horizon == 5 and r.batch_size is None
    assert r.total_steps == 15000
    assert r.eql["depth"] == 2 and tuple(r.relu_widths) == (50, 50)


def test_sho_recipe_holds_the_papers_numbers():
    r = recipes.sho_recipe()
    assert _phases(r) == [(2000, 1e-2, 4e-5, None), (5000, 2e-3, 2e-4, 0.01),
                          (5000, 1e-3, 0.0, None)]
    assert r.curriculum == ((0, 1), (500, 3), (1000, 5), (1500, 7), (2000, 25))
    assert r.horizon == 25 and r.batch_size == 128
    assert r.total_steps == 12000
    assert tuple(r.relu_widths) == (50, 50, 50, 50)


def test_arithmetic_recipe_holds_the_papers_numbers():
    r = recipes.arithmetic_recipe(ramp=False)
    assert _phases(r) == [(10000, 1e-2, 0.05, 0.01), (10000, 1e-3, 0.0, None)]
    assert r.batch_size == 100 and r.total_steps == 20000
    assert r.curriculum == ()


def test_arithmetic_recipe_ramps_the_penalty_as_the_authors_code():
    r = recipes.arithmetic_recipe()  # the ramped penalty phase, then fine-tuning
    first, last = r.phases
    assert first.steps == 10000 and r.total_steps == 20000 and first.learning_rate == 1e-2
    # lambda = 0.05 sin^2(pi t / (1.1 T)) at every step: from 0 up to 0.05 past the
    # middle, down again before the freeze.
    t = np.array([0, 1, 2500, 5500, 9999])
    lams = [first.reg_lambda.value_at(s) for s in t]
    np.testing.assert_allclose(lams, 0.05 * np.sin(np.pi * t / 11000) ** 2, rtol=1e-5, atol=1e-9)
    assert lams[0] == 0.0 and lams[3] == pytest.approx(0.05, rel=1e-6) and lams[-1] < 0.01
    # Only the end of the penalty phase freezes small weights.
    assert first.threshold == 0.01
    assert (last.steps, last.learning_rate, last.reg_lambda, last.threshold) == (
        10000, 1e-3, 0.0, None)


def test_arithmetic_recipe_ramp_fits_short_schedules():
    r = recipes.arithmetic_recipe(0.01, steps=(1500, 300))  # 15 + 3 steps
    assert [p.steps for p in r.phases] == [15, 3]
    assert r.phases[0].threshold == 0.01
    ramp = r.phases[0].reg_lambda  # followed step by step, not in stairs
    assert [ramp.value_at(t) for t in (0, 15)] == pytest.approx(
        [0.0, 0.05 * math.sin(math.pi * 15 / (1.1 * 15)) ** 2])
    assert ramp.value_at(7) == pytest.approx(0.05 * math.sin(math.pi * 7 / 16.5) ** 2)
    with pytest.raises(ValueError, match="batch_size"):
        recipes.arithmetic_recipe(batch_size=0)


def test_arithmetic_recipe_batch_size():
    assert recipes.arithmetic_recipe(batch_size=64).batch_size == 64
    with pytest.raises(ValueError, match="batch_size"):
        recipes.arithmetic_recipe(batch_size=0)


@pytest.mark.parametrize("make", [recipes.kinematics_recipe, recipes.sho_recipe,
                                  recipes.arithmetic_recipe])
def test_fraction_scales_every_phase_and_curriculum_step(make):
    full, short = make(), make(fraction=0.1)
    assert [p.steps for p in short.phases] == [p.steps // 10 for p in full.phases]
    assert short.curriculum == tuple((s // 10, h) for s, h in full.curriculum)
    # Only the lengths change: a curve over a phase is the same curve, shrunk.
    def values(phase, share):
        lam = phase.reg_lambda
        lam = lam if isinstance(lam, float) else lam.value_at(int(share * phase.steps))
        return phase.learning_rate, pytest.approx(lam, rel=1e-3, abs=1e-12), phase.threshold

    for share in (0.0, 0.5, 0.9):
        assert [values(p, share) for p in short.phases] == [values(p, share) for p in full.phases]
    assert (short.horizon, short.batch_size, short.eql) == (full.horizon, full.batch_size,
                                                            full.eql)
    assert short.total_steps == full.total_steps // 10
    # No phase shrinks to nothing.
    assert all(p.steps >= 1 for p in make(fraction=1e-6).phases)


# -- fit_dynamics -----------------------------------------------------------------------

TINY = Recipe(
    phases=(dsr.Phase(10, 1e-2, 1e-3, threshold=0.01), dsr.Phase(10, 1e-3, 0.0)),
    batch_size=None,
    eql={"depth": 1, "primitives": ["identity"]},
    relu_widths=(8,),
    curriculum=((0, 1), (5, 3)),
    horizon=3,
)

#: Decoder weights (hidden kernel over [u, v, z], output kernel) of each state variable.
ZERO = [([0, 0, 0], 0), ([0, 0, 0], 0)]  # predicts 0
RULE = [([1, 1, 0], 1), ([0, 1, 0], 1)]  # u' = u + v, v' = v: right up to the a terms


@pytest.fixture(scope="module")
def data():
    return kinematics(n=16, t_x=20, t_y=3, seed=0)


def _frozen_decoder(rule):
    """A DynamicsModel whose decoder is a fixed rule: the restarts differ by design."""

    def make(seed):
        model = dsr.DynamicsModel(horizon=3, eql={**TINY.eql, "seed": seed})
        model.build(((None, 20, 2), (None, 2)))
        for net, (hidden, out) in zip(model.cell.eqls, rule):
            net.hidden[0].linear.kernel.assign(np.array(hidden, "float32")[:, None])
            net.output_layer.linear.kernel.assign(np.full((1, 1), out, "float32"))
        model.decoder.trainable = False
        return model

    return make


def _mse(model, data, steps):
    pred = model.propagate(data.x, data.y0, steps).numpy()
    return float(np.mean((pred - data.y[:, :steps]) ** 2))


@pytest.fixture(scope="module")
def three_restarts(data):
    made = []
    makers = [_frozen_decoder(ZERO), _frozen_decoder(RULE), _frozen_decoder(ZERO)]

    def make(seed):  # restart k gets seed + k
        made.append(makers[seed - 10](seed))
        return made[-1]

    best, info = recipes.fit_dynamics(make, data, TINY, restarts=3, seed=10)
    return best, info, made


def test_fit_dynamics_keeps_the_best_restart(three_restarts, data):
    best, info, made = three_restarts
    assert len(made) == 3 and len(info["losses"]) == 3 and len(info["nan_restarts"]) == 3
    # info["losses"] is each restart's MSE over the training horizon.
    expected = [_mse(m, data, TINY.horizon) for m in made]
    np.testing.assert_allclose(info["losses"], expected, rtol=1e-5)
    # The fixed update rule beats the zero predictors: neither first nor last is kept.
    assert info["losses"][1] < min(info["losses"][0], info["losses"][2])
    assert info["best"] == int(np.argmin(info["losses"])) == 1
    assert best is made[1]
    assert info["nan_restarts"] == [0, 0, 0]


def test_fit_dynamics_follows_the_recipe(three_restarts):
    best, info, made = three_restarts
    for model in made:
        assert int(model.optimizer.iterations) == TINY.total_steps
        assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)  # last phase
    history = info["history"]
    assert history["horizon"][-1] == 3  # the curriculum reached T_y = 3
    assert history["phase"][-1] == 1
    assert np.all(np.isfinite(history["loss"]))
    # The first phase ended by freezing |w| < 0.01: the rule's zero weights are masked.
    masks = [net.hidden[0].linear.mask.numpy()[:, 0] for net in best.cell.eqls]
    np.testing.assert_array_equal(masks, [[1, 1, 0], [0, 1, 0]])


def test_fit_dynamics_needs_targets_as_long_as_the_horizon():
    short = kinematics(n=4, t_x=20, t_y=2, seed=0)
    with pytest.raises(ValueError, match="argument `data`"):
        recipes.fit_dynamics(_frozen_decoder(ZERO), short, TINY)
    with pytest.raises(ValueError, match="argument `restarts`"):
        recipes.fit_dynamics(_frozen_decoder(ZERO), kinematics(n=4, t_x=20, t_y=3), TINY,
                             restarts=0)


def test_only_the_oscillator_uses_residual_decoders():
    assert recipes.sho_recipe().residual is True
    assert recipes.kinematics_recipe().residual is False

