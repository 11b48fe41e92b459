"""GMEQL: read-out, structure keys, the elite repository, bad input, a tiny search."""

import warnings

import keras
import numpy as np
import pytest
import sympy
import tensorflow as tf

from deepsymreg import symbolic
from deepsymreg.data import repeated
from deepsymreg.gmeql import run_gmeql
from deepsymreg.models.elites import merge_repository, pick_elites, resample_mask
from deepsymreg.models.gmeql import GMEQL

SMALL = [["identity", "identity", "square", "sin"], ["add", "product", "sum"]]


@pytest.fixture
def small(rng):
    model = GMEQL(SMALL, samples=3, repository_size=8, seed=0, xla=False)
    x = rng.uniform(0.5, 2, (50, 2)).astype("float32")
    model(x)
    return model, x


def test_read_out_of_a_hand_set_structure(small):
    model, x = small
    # layer 0 slots (one per node): id<-x0, id<-x1, square<-x0, sin<-x1
    # layer 1 slots: add(a, b), product(a, b); then the output picks a node.
    c0, c1 = np.array([0, 1, 0, 1]), np.array([2, 1, 0, 0])
    for out, expected_free in ((1, {"x0"}), (0, {"x0", "x1"})):
        choices = [c0, c1, np.array([out])]
        expr = model.to_sympy(["x0", "x1"], choices)
        pred = model(x, choices=[c[None] for c in choices]).numpy()[0]
        got = symbolic.to_numpy_function(expr, sympy.symbols("x0 x1"))(x)
        np.testing.assert_allclose(got, pred, rtol=1e-4, atol=1e-5)
        assert {s.name for s in expr.free_symbols} == expected_free
    # product(id(x0), id(x0)) reads as a square, with the weights folded in front.
    expr = model.to_sympy(["x0", "x1"], [c0, c1, np.array([1])])
    assert expr.as_coeff_Mul()[1] == sympy.Symbol("x0") ** 2
    # The sum node reads every first-layer node, pruned branches stay out.
    expr = model.to_sympy(["x0", "x1"], [c0, c1, np.array([2])])
    assert sympy.Symbol("x1") in expr.free_symbols and expr.has(sympy.sin)


def test_structure_key_ignores_weights_unused_slots_and_argument_order(small):
    model, _ = small
    base = [np.array([0, 1, 0, 2]), np.array([2, 1, 0, 0]), np.array([1])]
    key = model.structure_key(base)
    unused_changed = [base[0], np.array([3, 0, 0, 0]), base[2]]  # add's slots: unused
    assert model.structure_key(unused_changed) == key
    swapped = [base[0], np.array([2, 1, 0, 0])[[0, 1, 3, 2]], base[2]]  # product(b, a)
    assert model.structure_key(swapped) == key
    other = [np.array([0, 1, 1, 2]), base[1], base[2]]  # square(x1): a used slot
    assert model.structure_key(other) == key  # slot 2 is unused by product(id0, id0)
    used = [np.array([1, 1, 0, 2]), base[1], base[2]]  # id <- x1: used
    assert model.structure_key(used) != key
    model.connections[0].kernel.assign(model.connections[0].kernel * 3)
    assert model.structure_key(base) == key


def test_merge_keeps_capacity_sorted_distinct():
    rep_mae = tf.constant([[1.0, 2.0, 3.0, np.inf]])
    rep_key = tf.constant([[10, 20, 30, 0]], tf.int64)
    rep_item = tf.constant([[[1.0], [2.0], [3.0], [0.0]]])
    new_mae = tf.constant([[2.5, 0.5, 0.7, 5.0, 1.5]])
    new_key = tf.constant([[20, 40, 40, 50, 30]], tf.int64)  # 20: worse, 40 twice, 30: better
    new_item = tf.constant([[[4.0], [5.0], [6.0], [7.0], [8.0]]])
    mae, key, (item,) = merge_repository(rep_mae, rep_key, [rep_item], new_mae, new_key, [new_item])
    np.testing.assert_array_equal(mae.numpy(), [[0.5, 1.0, 1.5, 2.0]])
    np.testing.assert_array_equal(key.numpy(), [[40, 10, 30, 20]])
    np.testing.assert_array_equal(item.numpy()[0, :, 0], [5.0, 1.0, 8.0, 2.0])


def test_power_law_parent_choice_frequencies():
    filled = tf.constant([[True] * 5 + [False]])
    u = tf.constant(np.random.default_rng(0).uniform(size=(1, 40000)), tf.float32)
    picks = pick_elites(filled, u, "power", 1.5).numpy()[0]
    freq = np.bincount(picks, minlength=6) / picks.size
    expected = np.arange(1, 6) ** -1.5
    np.testing.assert_allclose(freq[:5], expected / expected.sum(), atol=0.01)
    assert freq[5] == 0


def test_rank_parent_law_is_the_authors_flatter_weighting():
    filled = tf.constant([[True] * 5 + [False]])
    u = tf.constant(np.random.default_rng(0).uniform(size=(1, 40000)), tf.float32)
    freq = np.bincount(pick_elites(filled, u, "rank", 1.5).numpy()[0], minlength=6) / 40000
    expected = np.arange(5, 0, -1) ** 1.5
    np.testing.assert_allclose(freq[:5], expected / expected.sum(), atol=0.01)


@pytest.mark.parametrize("rule", ["eq7", "eq11"])
def test_offline_rules(small, rule):
    model, _ = small
    model.offline_rule = rule
    conn = model.connections[0]
    log_v = [c.sample(5) for c in model.connections]  # (1, r=5, slots, n)
    variables = [c.logits for c in model.connections]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model._offline_loss(log_v))
    grads = tape.gradient(loss, variables)
    if rule == "eq7":
        # Gradient of minus the mean log-density of the concrete distribution (TFP).
        import tensorflow_probability as tfp

        with tf.GradientTape() as tape:
            log_p = 0.0
            for c, lv in zip(model.connections, log_v):
                dist = tfp.distributions.ExpRelaxedOneHotCategorical(model.temperature,
                                                                     logits=tf.convert_to_tensor(c.logits)[:, None])
                log_p += tf.reduce_sum(tf.reduce_mean(dist.log_prob(lv), 1))
            loss = -log_p
        for got, want in zip(grads, tape.gradient(loss, variables)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
    else:
        # Zero where exp(z) = V ** lambda for a single elite (eq. 11).
        one = [lv[:, :1] for lv in log_v]
        conn.logits.assign(model.temperature * one[0][:, 0])
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model._offline_loss(one))
        g = tape.gradient(loss, conn.logits).numpy()
        np.testing.assert_allclose(g, 0.0, atol=1e-6)


def test_twenty_percent_of_slots_resampled(small):
    model, _ = small
    n = model.total_slots  # 4 + 4 + 1 = 9 -> round(1.8) = 2
    assert model.resampled_slots == max(1, round(0.2 * n)) == 2
    u = tf.constant(np.random.default_rng(1).uniform(size=(1, 50, n)), tf.float32)
    mask = resample_mask(u, model.resampled_slots, tf.constant([True])).numpy()
    np.testing.assert_array_equal(mask.sum(-1), 2)
    assert mask.mean(axis=(0, 1)).min() > 0.05  # every slot gets re-sampled sometimes
    assert resample_mask(u, 2, tf.constant([False])).numpy().all()  # empty repository
    assert resample_mask(u, 2, tf.constant([True]), elites=False).numpy().all()  # ablation
    with pytest.raises(ValueError, match="`law`"):
        pick_elites(tf.constant([[True]]), tf.constant([[0.5]]), "uniform")


def test_search_fills_a_distinct_sorted_repository(small, tmp_path):
    model, x = small
    y = x[:, 0] ** 2 + x[:, 1]
    model.steps_per_call = 20
    model.search(x, y, rounds=1, round_iterations=20, iterations=40)
    mae = model.repository_mae.numpy()[0]
    filled = np.isfinite(mae)
    assert filled.sum() == 8  # capacity
    assert np.all(np.diff(mae) >= 0)
    keys = model.repository_key.numpy()[0]
    assert len(set(keys)) == 8
    structures = [model.structure_key([np.argmax(v.numpy()[0, i], -1)
                                       for v in model.repository_log_weights]) for i in range(8)]
    assert len(set(structures)) == 8
    assert model.best_mae.numpy()[0] <= mae[0] + 1e-6
    assert int(model.iteration.numpy()) == 60
    rows = model.elite_table(["x0", "x1"])
    assert rows and [m for _, m in rows] == sorted(m for _, m in rows)
    # Selection, then a .keras round trip keeps the repository, the choice and the maths.
    (mae, choices), = model.select(x, y, top=3, polish_steps=5, score="network")
    pred = model(x).numpy()
    np.testing.assert_allclose(np.mean(np.abs(pred - y)), mae, rtol=1e-4)
    path = tmp_path / "gmeql.keras"
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Keras skipping an optimizer's variables
        loaded = keras.models.load_model(path)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    # The three Adams' moments and step counts come back too (a resumed search goes on).
    for name in ("structure_optimizer", "regression_optimizer", "offline_optimizer"):
        saved, restored = getattr(model, name).variables, getattr(loaded, name).variables
        assert len(saved) == len(restored) > 1
        assert int(getattr(loaded, name).iterations.numpy()) > 0
        for a, b in zip(saved, restored):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{name}: {a.path}")
    np.testing.assert_array_equal(loaded(x).numpy(), pred)
    assert loaded.to_sympy(["x0", "x1"]) == model.to_sympy(["x0", "x1"])
    # Loaded compiled, its training goes on from the restored step counts.
    steps = int(loaded.structure_optimizer.iterations.numpy())
    loaded.fit(repeated((x, y)), epochs=1, steps_per_epoch=1, shuffle=False, verbose=0)
    assert int(loaded.iteration.numpy()) == 60 + loaded.steps_per_call
    assert int(loaded.structure_optimizer.iterations.numpy()) == steps + loaded.steps_per_call


def _one_hot_log(choice, n):
    return np.where(np.arange(n)[None, :] == np.asarray(choice)[:, None], 0.0, -30.0)


def test_refit_score_finds_the_law_the_shared_weights_hide(small):
    """An elite ranked second by the search's MAE is the law once its additive terms
    are refitted; the refit score selects it, the network's MAE does not."""
    model, x = small
    y = 2.5 * x[:, 0] ** 2 - 1.5 * x[:, 1]
    c0 = np.array([0, 1, 0, 1])  # id(x0), id(x1), square(x0), sin(x1)
    wrong = [c0, np.array([0, 3, 0, 0]), np.array([0])]  # add(id(x0), sin(x1))
    right = [c0, np.array([0, 0, 0, 0]), np.array([2])]  # sum of every first-layer node
    for k, conn in enumerate(model.connections):
        logs = np.full(tuple(model.repository_log_weights[k].shape), -30.0, "float32")
        logs[0, 0] = _one_hot_log(wrong[k], conn.n_prev)
        logs[0, 1] = _one_hot_log(right[k], conn.n_prev)
        model.repository_log_weights[k].assign(logs)
    mae = np.full(tuple(model.repository_mae.shape), np.inf, "float32")
    mae[0, :2] = [0.1, 0.2]
    model.repository_mae.assign(mae)
    model.best_mae.assign([np.inf])
    (net_mae, net_choices), = model.select(x, y, top=2, polish_steps=0, score="network")
    (mae, choices), = model.select(x, y, top=2, polish_steps=0, score="refit")
    assert mae < 1e-4 < net_mae
    assert model.structure_key(choices) == model.structure_key(right)
    refitted = symbolic.polish(model.to_sympy(["x0", "x1"]), sympy.symbols("x0 x1"), x, y)
    assert sympy.simplify(symbolic.rounded(refitted, 3) - sympy.sympify("2.5*x0**2 - 1.5*x1")) == 0
    with pytest.raises(ValueError, match="`score`"):
        model.select(x, y, score="mse")


def test_bad_input_is_a_value_error(small):
    model, x = small
    with pytest.raises(ValueError, match="unknown function 'cosh2'"):
        GMEQL([["identity", "cosh2"], ["add"]])
    with pytest.raises(ValueError, match="`samples`"):
        GMEQL(SMALL, samples=0)
    with pytest.raises(ValueError, match="`offline_rule`"):
        GMEQL(SMALL, offline_rule="eq8")
    with pytest.raises(ValueError, match="3 columns"):
        model.search(np.ones((5, 3)), np.ones(5))
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.search(bad, np.ones(len(x)))
    with pytest.raises(ValueError, match="targets"):
        model.search(x, np.ones(3))
    with pytest.raises(ValueError, match="`first_trial`.*first_trial=2"):
        run_gmeql("x1", "x1", trials=2, first_trial=2)
    with pytest.raises(ValueError, match="`memetic`.*'bad'"):
        run_gmeql("x1", "x1", memetic={"bad": 1})
    with pytest.raises(ValueError, match="`memetic`.*'screen'.*memetic='bogus'"):
        run_gmeql("x1", "x1", memetic="bogus")
    with pytest.raises(ValueError, match="`top`"):
        run_gmeql("x1", "x1", memetic={"top": 0})


def test_tiny_run_finds_a_b_like_law():
    # 1200 iterations of the default network (the paper's run has 54000). Such tiny
    # runs find the law in 4 of 6 trials (seeds 0-5 in one call, 2026-12-04, before and
    # after a change of rounding in the network): this checks the pipeline end to end
    # on a seed that finds it.
    result = run_gmeql(
        "x1**2 + x2", "x1,x2", trials=1, seed=2, rounds=1, round_iterations=200,
        iterations=1000, steps_per_call=200, polish_steps=300, top=5,
    )
    assert set(result) >= {"expr", "vars", "success_rate", "best_expression", "best_success",
                           "wall_seconds", "steps", "trials"}
    trial = result["trials"][0]
    assert trial["success"], result
    assert result["success_rate"] == 1.0 and result["steps"] == 1200
    assert result["settings"]["refit"] and result["settings"]["refine"]  # the read-out's defaults


def test_loss_quantile_trains_on_the_best_instances_only(rng):
    x = rng.uniform(0.5, 2, (50, 2)).astype("float32")
    y = x[:, 0] ** 2 + x[:, 1]
    model = GMEQL(SMALL, samples=3, repository_size=8, seed=0, xla=False, rank_by="relaxed",
                  steps_per_call=1, loss_quantile=1 / 3)
    model.build(x.shape)
    model.start_stage(2)
    model.compile()
    loss = model.fit(repeated((x, y)), epochs=1, steps_per_epoch=1, shuffle=False,
                     verbose=0).history["loss"][-1]
    mae = model.repository_mae.numpy()[0]  # the three instances' relaxed MAE
    assert np.isfinite(mae).sum() == 3
    np.testing.assert_allclose(loss, np.min(mae), rtol=1e-5)  # the best one, not the mean
    assert loss < np.mean(mae[np.isfinite(mae)])
    assert GMEQL.from_config(model.get_config()).loss_quantile == pytest.approx(1 / 3)
    for bad in (0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="`loss_quantile`"):
            GMEQL(SMALL, loss_quantile=bad)


def test_expression_key_merges_copies_identities_and_argument_order():
    model = GMEQL([["identity", "identity", "sin", "sin", "square"], ["add", "div"]],
                  samples=6, seed=0, xla=False, elite_key="expression")
    model.build((None, 2))
    inputs = {  # (layer-1 slots: id0 id1 sin0 sin1 square -> x0=0, x1=1, one=2;
        # layer-2 slots: add a, add b, div a, div b -> id0 id1 sin0 sin1 square; output)
        "sin(x0) + x1": ([1, 2, 0, 2, 2], [2, 0, 0, 0], [0]),
        "x1 + sin(x0) via the other copies": ([2, 1, 1, 0, 0], [1, 3, 1, 1], [0]),
        "sin(x0) + x1, an unused slot changed": ([1, 2, 0, 2, 0], [2, 0, 4, 4], [0]),
        "sin(x0)/x1": ([1, 2, 0, 2, 2], [2, 0, 2, 0], [1]),
        "x1/sin(x0)": ([1, 2, 0, 2, 2], [2, 0, 0, 2], [1]),
        "sin(x1) + x1": ([1, 2, 1, 2, 2], [2, 0, 0, 0], [0]),
    }
    choices = [tf.constant([[c[k] for c in inputs.values()]], tf.int32) for k in range(3)]
    keys = model._expression_hash(choices).numpy()[0]
    assert keys[0] == keys[1] == keys[2]
    assert len(set(keys[[0, 3, 4, 5]])) == 4
    structure = model._structure_hash(choices).numpy()[0]
    assert structure[0] != structure[1]  # the default key tells the copies apart
    assert GMEQL.from_config(model.get_config()).elite_key == "expression"
    with pytest.raises(ValueError, match="`elite_key`"):
        GMEQL(SMALL, elite_key="weights")


def test_curriculum_trains_on_the_points_nearest_the_origin_first(rng):
    x = rng.uniform(0.0, 10.0, (40, 2)).astype("float32")
    model = GMEQL(SMALL, samples=3, repository_size=8, seed=0, xla=False, rank_by="relaxed",
                  steps_per_call=1, curriculum=(0.25, 4))
    model.build(x.shape)
    size = np.max(np.abs(x), -1)
    rank = np.argsort(np.argsort(size)) / len(x)
    model.start_stage(1)  # stage 1: every point
    assert model._point_weights(tf.constant(rank, tf.float32)).numpy().sum() == len(x)
    model.start_stage(2)
    weights = model._point_weights(tf.constant(rank, tf.float32)).numpy()
    near = np.argsort(size)[:10]
    assert weights.sum() == 10 and weights[near].sum() == 10  # the 25% nearest the origin
    # Far points 1e4 off: the training loss does not see them, the repository does.
    y = np.where(np.isin(np.arange(len(x)), near), np.sin(x[:, 0]), 1e4).astype("float32")
    model.compile()
    loss = model.fit(repeated((x, y)), epochs=1, steps_per_epoch=1, shuffle=False,
                     verbose=0).history["loss"][-1]
    assert loss < 1e3 < np.min(model.repository_mae.numpy()[0])
    model.iteration.assign(model.iteration + 3)  # 4 iterations into stage 2: all points
    assert model._point_weights(tf.constant(rank, tf.float32)).numpy().sum() == len(x)
    assert GMEQL.from_config(model.get_config()).curriculum == (0.25, 4)
    for bad in ((0.0, 10), (0.5, 0), 0.5, (0.5, 1.5)):
        with pytest.raises(ValueError, match="`curriculum`"):
            GMEQL(SMALL, curriculum=bad)


def test_fit_weights_curriculum_fits_the_near_points_first(small):
    model, x = small
    near = np.argsort(np.max(np.abs(x), -1))[:len(x) // 4]
    y = np.full(len(x), 1e3, "float32")
    y[near] = 3.0 * x[near, 0]  # the law on the nearest quarter, far points way off
    choices = [np.array([[0, 1, 0, 1]]), np.array([[0, 0, 0, 0]]), np.array([[0]])]  # w*x0
    start = [v.numpy() for v in model._regression_variables()]
    near_error = {}
    for curriculum in (None, (0.25, 10**6)):
        for var, value in zip(model._regression_variables(), start):
            var.assign(value)
        mae = model.fit_weights(x, y, choices, steps=300, learning_rate=0.05,
                                curriculum=curriculum)
        pred = model(x, choices=[c[:, None] for c in choices]).numpy()[0]
        np.testing.assert_allclose(mae[0], np.mean(np.abs(pred - y)), rtol=1e-4)  # all points
        near_error[curriculum] = np.max(np.abs(pred[near] - y[near]))
    # Relative to the near targets (1.5-4.5): within 10% with the curriculum, pulled
    # hundreds off by the far points without it.
    assert near_error[(0.25, 10**6)] < 0.15 < 100.0 < near_error[None]
    with pytest.raises(ValueError, match="`curriculum`"):
        model.fit_weights(x, y, choices, steps=1, curriculum=(2.0, 10))


def _hand_set_repository(model, entries):
    """Fill run 0's repository with ``(choices, mae)`` entries, T* empty."""
    for k, conn in enumerate(model.connections):
        logs = np.full(tuple(model.repository_log_weights[k].shape), -30.0, "float32")
        for i, (choices, _) in enumerate(entries):
            logs[0, i] = _one_hot_log(choices[k], conn.n_prev)
        model.repository_log_weights[k].assign(logs)
    mae = np.full(tuple(model.repository_mae.shape), np.inf, "float32")
    mae[0, :len(entries)] = [m for _, m in entries]
    model.repository_mae.assign(mae)
    model.repository_key.assign(np.arange(mae.size, dtype="int64").reshape(mae.shape) + 1)
    model.best_mae.assign([np.inf])


@pytest.mark.parametrize("chunk", [None, 1])
def test_refit_elites_reranks_the_repository_and_sets_t_star(small, chunk):
    """The memetic step: an elite ranked second under the shared weights is the law
    with its own weights; after the refit it ranks first, is T*, and a second call
    with the same ``skip`` refits nothing. With ``chunk=1`` the two elites are refitted
    in two graph calls, to the same effect."""
    model, x = small
    y = 2.5 * x[:, 0] ** 2 - 1.5 * x[:, 1]
    c0 = np.array([0, 1, 0, 1])
    wrong = [c0, np.array([0, 3, 0, 0]), np.array([0])]  # add(id(x0), sin(x1))
    right = [c0, np.array([0, 0, 0, 0]), np.array([2])]  # sum of every first-layer node
    _hand_set_repository(model, [(wrong, 0.1), (right, 0.2)])
    shared = [v.numpy() for v in model._regression_variables()]
    skip = [set()]
    maes = model.refit_elites(x, y, top=2, starts=3, steps=1500, learning_rate=0.02,
                              curriculum=None, skip=skip, chunk=chunk)
    assert maes.shape == (1, 2) and maes[0, 1] < 0.05 < 1.0 < maes[0, 0]
    assert skip == [{1, 2}]
    rep = model.repository_mae.numpy()[0]
    assert rep[0] == pytest.approx(maes[0, 1]) and rep[1] == pytest.approx(0.1)  # min(old, refit)
    assert model.structure_key([np.argmax(v.numpy()[0, 0], -1) for v in model.repository_log_weights]) \
        == model.structure_key(right)
    assert list(model.repository_key.numpy()[0, :2]) == [2, 1]
    for var, before in zip(model._regression_variables(), shared):  # adopt=False
        np.testing.assert_array_equal(var.numpy(), before)
    # T* carries the refit weights: selecting on the network's MAE without polishing
    # reproduces the refit MAE.
    (mae, choices), = model.select(x, y, top=0, polish_steps=0, score="network")
    assert model.structure_key(choices) == model.structure_key(right)
    assert mae == pytest.approx(maes[0, 1], rel=1e-3)
    assert np.all(np.isinf(model.refit_elites(x, y, top=2, starts=2, steps=5, skip=skip)))
    with pytest.raises(ValueError, match="`skip`"):
        model.refit_elites(x, y, skip=[set(), set()])
    with pytest.raises(ValueError, match="`starts`"):
        model.refit_elites(x, y, starts=0)
    with pytest.raises(ValueError, match="`chunk`"):
        model.refit_elites(x, y, chunk=0)


#: Three elites of run 0 (choices, MAE): add, the sum node (the law of the tests'
#: quadratic data), product.
_THREE = [([np.array([0, 1, 0, 1]), np.array([0, 3, 0, 0]), np.array([0])], 0.1),
          ([np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]), np.array([2])], 0.2),
          ([np.array([0, 1, 0, 1]), np.array([1, 2, 0, 0]), np.array([1])], 0.3)]


@pytest.mark.parametrize("chunk", [1, 2])
def test_refit_elites_result_does_not_depend_on_the_chunk(rng, chunk):
    """Three elites refitted in one graph call or in calls of ``chunk`` elites (the
    last one padded) start from the same weights and end with the same MAEs and the
    same adopted weights; a second refit of the same elites starts from new draws."""
    x = rng.uniform(0.5, 2, (50, 2)).astype("float32")
    y = 2.5 * x[:, 0] ** 2 - 1.5 * x[:, 1]
    results = []
    for size in (None, chunk):
        model = GMEQL(SMALL, samples=3, repository_size=8, seed=0, xla=False)
        model(x)
        _hand_set_repository(model, _THREE)
        maes = model.refit_elites(x, y, top=3, starts=2, steps=200, learning_rate=0.02,
                                  curriculum=None, adopt=True, chunk=size)
        again = model.refit_elites(x, y, top=3, starts=2, steps=200, learning_rate=0.02,
                                   curriculum=None, chunk=size)
        results.append((maes, again, [v.numpy() for v in model._regression_variables()]))
    (maes, again, shared), (chunked, chunked_again, chunked_shared) = results
    assert np.all(np.isfinite(maes)) and maes.shape == (1, 3)
    np.testing.assert_allclose(chunked, maes, rtol=1e-5)
    np.testing.assert_allclose(chunked_again, again, rtol=1e-5)
    for a, b in zip(chunked_shared, shared):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(again, maes)  # the second refit drew new starting weights


def test_refit_elites_adopt_moves_the_shared_weights(small):
    model, x = small
    y = 2.5 * x[:, 0] ** 2 - 1.5 * x[:, 1]
    right = [np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]), np.array([2])]
    _hand_set_repository(model, [(right, 5.0)])
    maes = model.refit_elites(x, y, top=1, starts=2, steps=1500, learning_rate=0.02,
                              curriculum=None, adopt=True)
    pred = model(x, choices=[c[None] for c in right]).numpy()[0]
    assert np.mean(np.abs(pred - y)) == pytest.approx(maes[0, 0], rel=1e-3) and maes[0, 0] < 0.05


@pytest.mark.parametrize("chunk", [1, 2])
def test_select_result_does_not_depend_on_the_chunk(rng, monkeypatch, chunk):
    """The read-out polishes its candidates in graph calls of REFIT_CHUNK (the last
    one padded): one call or several give the same choice, MAE and weights."""
    import deepsymreg.models.gmeql as gmeql_module

    x = rng.uniform(0.5, 2, (50, 2)).astype("float32")
    y = 2.5 * x[:, 0] ** 2 - 1.5 * x[:, 1] + 0.3 * np.sin(x[:, 1])
    results = []
    for size in (64, chunk):
        monkeypatch.setattr(gmeql_module, "REFIT_CHUNK", size)
        model = GMEQL(SMALL, samples=3, repository_size=8, seed=0, xla=False)
        model(x)
        model.start_stage(2)  # the same shared weights in both models (from the seed)
        _hand_set_repository(model, _THREE)
        (mae, choices), = model.select(x, y, top=3, polish_steps=40, learning_rate=0.02,
                                       score="expression")
        (helper,) = model._weight_models.values()
        assert helper.n_runs == min(size, 3)
        results.append((mae, choices, [v.numpy() for v in model._regression_variables()]))
    (mae, choices, weights), (mae_c, choices_c, weights_c) = results
    assert np.isfinite(mae)
    assert mae_c == pytest.approx(mae, rel=1e-5)
    for a, b in zip(choices, choices_c):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights, weights_c):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_refits_and_read_out_share_one_compiled_trainer(rng, monkeypatch):
    """The refits (their learning rate and curriculum) and the read-out's polish
    (another learning rate, no curriculum) run on one weight model and one traced
    function when the read-out's candidates fill one REFIT_CHUNK."""
    import deepsymreg.models.gmeql as gmeql_module

    monkeypatch.setattr(gmeql_module, "REFIT_CHUNK", 4)
    x = rng.uniform(0.5, 2, (50, 2)).astype("float32")
    y = 2.5 * x[:, 0] ** 2 - 1.5 * x[:, 1]
    model = GMEQL(SMALL, samples=3, repository_size=8, seed=0, xla=False)
    model(x)
    _hand_set_repository(model, _THREE)
    maes = model.refit_elites(x, y, top=8, starts=1, steps=300, learning_rate=0.02,
                              curriculum=(0.2, 100))
    assert np.sum(np.isfinite(maes)) == 3 and np.nanmin(maes) < 0.05
    (mae, _), = model.select(x, y, top=3, polish_steps=10, learning_rate=1e-3)
    assert mae < 0.05  # T* (the refitted law) and three elites: four candidates
    (helper,) = model._weight_models.values()
    assert helper.n_runs == 4  # REFIT_CHUNK elites, one start each
    (trainer, _), = helper._weight_trainers.values()
    assert trainer.experimental_get_tracing_count() == 1


def test_memetic_refit_callback_refits_during_stage_two(small):
    from deepsymreg.callbacks import MemeticRefit

    model, x = small
    y = x[:, 0] ** 2 + x[:, 1]
    model.steps_per_call = 10
    n_weights = len(model.weights)
    memetic = MemeticRefit(x, y, every=20, top=2, starts=2, steps=20, curriculum=None)
    history = model.search(x, y, rounds=1, round_iterations=20, iterations=40,
                           callbacks=[memetic])
    assert memetic.refits == 2  # after 20 and 40 stage-2 iterations, none in stage 1
    # Both refits ran on one weight model and one compiled loop, kept outside the
    # model's state.
    (helper,) = model._weight_models.values()
    (trainer, _), = helper._weight_trainers.values()
    assert trainer.experimental_get_tracing_count() == 1
    assert len(model.weights) == n_weights
    assert [h["iteration"] for h in memetic.history] == [40, 60]  # 20 of stage 1 first
    assert len(memetic.skip[0]) == 4  # two new elites each time
    assert np.isfinite(history[-1].history["memetic_best"][-1])
    mae = model.repository_mae.numpy()[0]
    assert np.all(np.diff(mae[np.isfinite(mae)]) >= 0)
    with pytest.raises(ValueError, match="`every`"):
        MemeticRefit(x, y, every=0)
    from deepsymreg.gmeql import MEMETIC_PRESETS

    for preset in MEMETIC_PRESETS.values():  # every named setting is a valid one
        MemeticRefit(x, y, **preset)


def test_read_out_screen_lifts_a_right_structure_ranked_last(small, monkeypatch):
    """Under the search's shared weights the law's structure can rank last; the read-out
    of the top 2 misses it, the screen (every elite refitted with its own weights)
    puts it first and the read-out then finds the law."""
    from deepsymreg import gmeql

    model, x = small
    y = 2.5 * x[:, 0] ** 2 - 1.5 * x[:, 1]
    truth, symbols = symbolic.parse("2.5*x0**2 - 1.5*x1", "x0,x1")
    c0 = np.array([0, 1, 0, 1])  # id(x0), id(x1), square(x0), sin(x1)
    wrong = [[c0, np.array([a, b, 0, 0]), np.array([0])] for a, b in
             ((0, 3), (0, 1), (2, 3), (0, 0), (1, 3))]  # add(a, b)
    wrong += [[c0, np.array([0, 0, a, b]), np.array([1])] for a, b in ((0, 1), (2, 3))]  # product
    right = [c0, np.array([0, 0, 0, 0]), np.array([2])]  # the weighted sum of every node
    entries = [(w, 0.1 * (i + 1)) for i, w in enumerate(wrong)] + [(right, 5.0)]
    monkeypatch.setattr(gmeql, "SCREEN_REFIT", {"top": 2, "starts": 2, "steps": 300,
                                                "learning_rate": 0.02, "curriculum": None})
    rows = {}
    for name, screen in (("default", None),
                         ("screen", {"starts": 3, "steps": 1500, "learning_rate": 0.02,
                                     "curriculum": None})):
        _hand_set_repository(model, entries)
        rows[name], = gmeql.read_out(model, truth, symbols, x, y, (0.125, 2.375), seed=7,
                                     screen=screen, top=2, polish_steps=50)
    assert not rows["default"]["success"], rows["default"]
    assert rows["screen"]["success"], rows["screen"]
    assert rows["screen"]["seed"] == 7 and rows["screen"]["relative_rms"] < 0.02
    assert rows["default"]["elite_mae"] == pytest.approx(0.1)  # the search's best, as given
    with pytest.raises(ValueError, match="`screen`"):
        run_gmeql("x1", "x1", screen=True)
