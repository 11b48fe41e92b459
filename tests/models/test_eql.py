"""The EQL model: maths, equations read from it, restarts in one graph, training, files."""

import keras
import numpy as np
import pytest
import sympy
import tensorflow as tf

from deepsymreg import EQL, callbacks, primitives, symbolic
from deepsymreg.data import repeated
from layer_checks import save_and_load

# Every primitive but the high powers of the Gumbel-max EQL: expanding pow4..pow6 of
# two layers of 20-term sums takes minutes and gigabytes.
ALL_PRIMITIVES = [n for n in primitives.registered_names() if n not in ("pow4", "pow5", "pow6")]
SMALL_SET = ["constant", "identity", "square", "sin", "exp", "product", "sigmoid20"]
SMALL_INIT = (0.4, 0.4, 0.4)  # keeps exp and cube moderate on [-1, 1]


@pytest.fixture
def x30(rng):
    return rng.uniform(-1, 1, (30, 2)).astype("float32")


def _effective_kernels(model):
    return [layer.linear.effective_kernel.numpy() for layer in model.eql_layers]


# -- maths --------------------------------------------------------------------------


def test_hand_picked_weights(x30):
    # y = 3 * x0 * x1 - x0 + 2 through identity and product units.
    model = EQL(depth=1, primitives=["constant", "identity", "product"])
    model(x30)
    hidden, output = model.hidden[0].linear, model.output_layer.linear
    # pre-activations: identity <- x0, product <- (x0, x1)
    hidden.kernel.assign([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    output.kernel.assign([[2.0], [-1.0], [3.0]])  # constant, identity, product
    expected = 3 * x30[:, 0] * x30[:, 1] - x30[:, 0] + 2
    np.testing.assert_allclose(model.predict(x30, verbose=0)[:, 0], expected, rtol=1e-5)


def _assert_sympy_equals_predict(model, x, trial=None):
    pred = model.predict(x, verbose=0)
    pred = pred if trial is None else pred[trial]
    exprs = model.to_sympy(threshold=0, trial=trial)
    exprs = exprs if isinstance(exprs, list) else [exprs]
    assert len(exprs) == model.n_outputs
    symbols = sympy.symbols(f"x0:{x.shape[1]}")
    for i, expr in enumerate(exprs):
        got = symbolic.to_numpy_function(expr, symbols)(x)
        np.testing.assert_allclose(got, pred[:, i], rtol=1e-4, atol=1e-4)


def test_sympy_equals_predict_with_every_primitive(x30):
    model = EQL(depth=2, primitives=ALL_PRIMITIVES, init_stddev=SMALL_INIT, seed=3)
    model(x30)
    _assert_sympy_equals_predict(model, x30)


@pytest.mark.parametrize(
    "settings, trial",
    [
        ({"trials": 3}, 1),
        ({"trials": 3}, 2),
        ({"n_outputs": 3}, None),
        ({"skip": True}, None),
    ],
    ids=["trials-1", "trials-2", "three-outputs", "skip"],
)
def test_sympy_equals_predict(settings, trial, x30):
    model = EQL(depth=2, primitives=SMALL_SET, init_stddev=SMALL_INIT, seed=4, **settings)
    model(x30)
    _assert_sympy_equals_predict(model, x30, trial)


def test_to_sympy_drops_small_terms_and_names_variables(x30):
    model = EQL(depth=1, primitives=["identity", "square"])
    model(x30)
    model.hidden[0].linear.kernel.assign([[1.0, 0.0], [0.0, 1.0]])
    model.output_layer.linear.kernel.assign([[2.0], [0.004]])  # 2 a + 0.004 b^2
    a, b = sympy.symbols("a b")
    expr = model.to_sympy(["a", "b"])
    assert expr.free_symbols == {a}
    assert float(expr.coeff(a)) == 2.0
    assert model.to_sympy(["a", "b"], threshold=0).free_symbols == {a, b}
    assert "a" in model.latex(["a", "b"])


def test_to_sympy_needs_a_trial_and_a_built_model(x30):
    model = EQL(depth=1, primitives=["identity"], trials=2)
    with pytest.raises(ValueError, match="not built"):
        model.to_sympy()
    model(x30)
    with pytest.raises(ValueError, match="trials=2.*`trial`"):
        model.to_sympy()
    with pytest.raises(ValueError, match="argument `var_names`"):
        model.to_sympy(["a"], trial=0)


def test_predict_with_trials_keeps_the_trial_axis(rng):
    # More points than predict's default batch size (32).
    x = rng.uniform(-1, 1, (100, 2)).astype("float32")
    model = EQL(n_outputs=2, depth=1, primitives=["identity", "square"], trials=3, seed=0)
    pred = model.predict(x, verbose=0)
    assert pred.shape == (3, 100, 2)
    np.testing.assert_allclose(pred, model(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"n_outputs": 0}, "n_outputs"),
        ({"depth": 0}, "depth"),
        ({"trials": 0}, "trials"),
        ({"trials": True}, "trials"),
        ({"steps_per_call": 1.5}, "steps_per_call"),
        ({"init_stddev": (0.1, 0.5)}, "init_stddev"),
        ({"init_stddev": (0.1, -0.5, 1.0)}, "init_stddev"),
        ({"regularizer": "l2"}, "regularizer"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        EQL(**kwargs)


def test_per_layer_primitive_lists(x30):
    model = EQL(primitives=[["identity", "square"], ["sin"], ["product", "identity"]])
    assert model(x30).shape == (30, 1)
    assert model.depth == 3
    assert [layer.output_names for layer in model.hidden] == [
        ["identity", "square"], ["sin"], ["product", "identity"]
    ]


def test_one_regularizer_one_lambda_for_all_layers():
    model = EQL(depth=2, reg_lambda=0.25)
    regs = {id(layer.linear.kernel_regularizer) for layer in model.eql_layers}
    assert regs == {id(model.regularizer)}
    assert float(model.reg_lambda.numpy()) == 0.25
    assert callbacks.penalty_strengths(model) == [model.reg_lambda]


def test_loss_includes_the_penalty_of_every_layer(x30):
    model = EQL(depth=2, primitives=SMALL_SET, reg_lambda=0.5)
    model(x30)
    expected = sum(float(model.regularizer(tf.constant(w))) for w in _effective_kernels(model))
    np.testing.assert_allclose(float(tf.add_n(model.losses)), expected, rtol=1e-5)


# -- restarts -----------------------------------------------------------------------


def test_initialize_trials_reproduces_single_models(x30):
    model = EQL(depth=2, primitives=SMALL_SET, trials=3, seed=7)
    model(x30)
    assert model.trial_seeds() == [7, 8, 9]
    model.initialize_trials(model.trial_seeds())
    for k, seed in enumerate(model.trial_seeds()):
        single = EQL(depth=2, primitives=SMALL_SET, seed=seed)
        single(x30)
        for stacked, alone in zip(_effective_kernels(model), _effective_kernels(single)):
            np.testing.assert_array_equal(stacked[k], alone)


def test_initialize_one_trial_leaves_the_others(x30):
    model = EQL(depth=1, primitives=SMALL_SET, trials=3, seed=0)
    model(x30)
    callbacks.threshold_weights(model, 0.3)
    before = _effective_kernels(model)
    model.initialize_trials([123], indices=[1])
    for layer, old in zip(model.eql_layers, before):
        np.testing.assert_array_equal(layer.linear.effective_kernel.numpy()[[0, 2]], old[[0, 2]])
        np.testing.assert_array_equal(layer.linear.mask.numpy()[1], 1.0)
    with pytest.raises(ValueError, match="one seed per restart"):
        model.initialize_trials([1, 2], indices=[0])


def test_trials_train_as_independent_models(linear_law_data, fit_full_batch):
    """The loss is a sum over restarts: each restart gets exactly its own gradient."""
    x, y = linear_law_data
    settings = dict(depth=1, primitives=SMALL_SET, reg_lambda=1e-3, steps_per_call=3)
    together = EQL(trials=2, **settings)
    together.build(x.shape)
    together.initialize_trials([11, 12])
    together.compile(optimizer=keras.optimizers.SGD(0.05))
    fit_full_batch(together, x, y, 2)
    for k, seed in enumerate([11, 12]):
        alone = EQL(seed=seed, **settings)
        alone.build(x.shape)
        alone.compile(optimizer=keras.optimizers.SGD(0.05))
        fit_full_batch(alone, x, y, 2)
        for stacked, single in zip(_effective_kernels(together), _effective_kernels(alone)):
            np.testing.assert_allclose(stacked[k], single, rtol=1e-5, atol=1e-6)


def test_trial_errors_and_evaluate_sum_over_trials(x30):
    y = (x30[:, 0] ** 2)[:, None]
    model = EQL(depth=1, primitives=SMALL_SET, trials=3, seed=1)
    model.compile()
    errors = model.trial_errors(x30, y)
    pred = model(x30).numpy()
    np.testing.assert_allclose(errors, np.mean((pred - y[None]) ** 2, axis=(1, 2)), rtol=1e-5)
    logs = model.evaluate(x30, y, batch_size=30, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["data_loss"], errors.sum(), rtol=1e-5)


def test_trial_errors_are_inf_for_non_finite_trials(x30):
    model = EQL(depth=1, primitives=["identity"], trials=2, seed=1)
    model(x30)
    kernel = model.output_layer.linear.kernel
    kernel.assign(tf.tensor_scatter_nd_update(kernel, [[0]], [tf.fill(kernel.shape[1:], np.nan)]))
    errors = model.trial_errors(x30, x30[:, :1])
    assert errors[0] == np.inf and np.isfinite(errors[1])


# -- training -----------------------------------------------------------------------


def test_steps_per_call_runs_that_many_optimizer_steps(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    model = EQL(depth=1, primitives=SMALL_SET, steps_per_call=7, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    history = fit_full_batch(model, x, y, 3, epochs=2)
    assert int(model.optimizer.iterations) == 2 * 3 * 7
    assert set(history.history) >= {"loss", "data_loss", "reg_loss"}
    assert history.history["data_loss"][-1] < history.history["data_loss"][0]


def test_reg_lambda_assigned_mid_fit_changes_the_loss(linear_law_data, fit_full_batch):
    """A lambda assigned by a callback reaches the compiled (XLA) step at once."""
    x, y = linear_law_data
    model = EQL(depth=1, primitives=SMALL_SET, reg_lambda=1e-3, steps_per_call=5, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(1e-4), jit_compile=True)

    class RaiseLambda(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                model.reg_lambda.assign(1.0)

    history = fit_full_batch(model, x, y, 1, epochs=4, callbacks=[RaiseLambda()])
    reg = history.history["reg_loss"]
    # Tiny learning rate: the weights barely move, so reg_loss scales with lambda.
    np.testing.assert_allclose(reg[2] / reg[1], 1000.0, rtol=1e-2)
    np.testing.assert_allclose(reg[3] / reg[2], 1.0, rtol=1e-2)
    assert history.history["loss"][2] > history.history["loss"][1] + 0.5 * reg[2]


def test_thresholded_weights_stay_zero_through_training(linear_law_data, fit_full_batch):
    x, y = linear_law_data
    model = EQL(depth=2, primitives=SMALL_SET, trials=2, steps_per_call=10, seed=0,
                reg_lambda=1e-2, init_stddev=SMALL_INIT)
    model.build(x.shape)
    callbacks.threshold_weights(model, 0.3)
    frozen = [layer.linear.mask.numpy() == 0 for layer in model.eql_layers]
    assert all(f.any() and not f.all() for f in frozen)
    model.compile(optimizer=keras.optimizers.RMSprop(0.5), jit_compile=False)
    fit_full_batch(model, x, y, 3)
    for layer, f in zip(model.eql_layers, frozen):
        assert np.all(layer.linear.mask.numpy()[f] == 0)
        assert np.all(layer.linear.effective_kernel.numpy()[f] == 0.0)


@pytest.mark.parametrize("trials", [None, 2])
def test_sample_weights_weight_the_data_loss(x30, trials):
    # Weight 0 on the second half: the loss is the first half's mean alone; weights
    # 2 and 1 count the first half twice.
    model = EQL(depth=1, primitives=["identity"], trials=trials, seed=0)
    model.build(x30.shape)
    y = (x30[:, :1] + 1.0).astype("float32")
    pred = model(x30).numpy()
    pointwise = np.mean((pred - y) ** 2, axis=-1)  # (K?, 30)
    half = np.r_[np.ones(15), np.zeros(15)].astype("float32")
    got = model._per_trial_loss(tf.constant(y), tf.constant(pred), tf.constant(half)).numpy()
    np.testing.assert_allclose(got, pointwise[..., :15].mean(-1), rtol=1e-5)
    twice = np.r_[2 * np.ones(15), np.ones(15)].astype("float32")
    got = model._per_trial_loss(tf.constant(y), tf.constant(pred), tf.constant(twice)).numpy()
    want = (2 * pointwise[..., :15].sum(-1) + pointwise[..., 15:].sum(-1)) / 45
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_fit_with_sample_weights_follows_the_weighted_rows(x30):
    # Two laws in one data set: rows weighted 1 follow y = 2 x0, rows weighted 0 are noise.
    # A weighted fit learns the first law as if the other rows were absent.
    y = np.where(np.arange(30)[:, None] < 20, 2 * x30[:, :1], 5.0).astype("float32")
    w = (np.arange(30) < 20).astype("float32")
    model = EQL(depth=1, primitives=["identity"], seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.05), jit_compile=False)
    weighted = repeated((x30, y, w))  # 300 full-batch steps
    model.fit(weighted, epochs=1, steps_per_epoch=300, shuffle=False, verbose=0)
    pred = model.predict(x30[:20], verbose=0)
    np.testing.assert_allclose(pred, 2 * x30[:20, :1], atol=0.05)


# -- files --------------------------------------------------------------------------


@pytest.mark.parametrize("trials", [None, 2])
def test_keras_file_keeps_masks_lambda_and_outputs(trials, x30, tmp_path):
    model = EQL(depth=2, primitives=SMALL_SET, trials=trials, reg_lambda=0.02,
                steps_per_call=5, seed=2)
    model(x30)
    kept = callbacks.threshold_weights(model, 0.3)
    assert 0 < kept < sum(f.size for f in _effective_kernels(model))
    loaded = save_and_load(model, x30, tmp_path)
    assert isinstance(loaded, EQL)
    assert (loaded.trials, loaded.steps_per_call, loaded.depth) == (trials, 5, 2)
    assert float(loaded.reg_lambda.numpy()) == pytest.approx(0.02)
    assert callbacks.penalty_strengths(loaded) == [loaded.reg_lambda]
    for a, b in zip(_effective_kernels(loaded), _effective_kernels(model)):
        np.testing.assert_array_equal(a, b)
    assert str(loaded.to_sympy(trial=trials and 1)) == str(model.to_sympy(trial=trials and 1))


def test_seeded_trials_start_like_single_models():
    stacked = EQL(depth=1, primitives=["identity", "square"], trials=3, seed=4)
    stacked.build((None, 2))
    for k in range(3):
        single = EQL(depth=1, primitives=["identity", "square"], seed=4 + k)
        single.build((None, 2))
        for a, b in zip(stacked.eql_layers, single.eql_layers):
            np.testing.assert_array_equal(a.linear.kernel.numpy()[k], b.linear.kernel.numpy())


def test_curriculum_trains_on_the_points_nearest_the_origin_first(rng):
    from deepsymreg.curriculum import origin_rank, share_weights

    x = rng.uniform(-1, 1, (40, 2)).astype("float32")
    near = np.argsort(np.max(np.abs(x), -1))[:10]
    rank = origin_rank(x)
    np.testing.assert_array_equal(np.flatnonzero(share_weights(rank, (0.25, 8), 0).numpy()),
                                  np.sort(near))
    assert share_weights(rank, (0.25, 8), 4).numpy().sum() == 25  # 0.25 + 0.75 / 2
    assert share_weights(rank, (0.25, 8), 100).numpy().sum() == 40
    y = np.where(np.isin(np.arange(40), near), 2.0 * x[:, 0], 5.0)[:, None].astype("float32")
    errors = {}
    for curriculum in (None, (0.24, 10**6)):  # the nearest 10 of 40 for 13 000 steps
        model = EQL(depth=1, primitives=["identity"], seed=0, steps_per_call=100,
                    curriculum=curriculum)
        model.compile(optimizer=keras.optimizers.Adam(0.05), jit_compile=False)
        model.fit(repeated((x, y)), epochs=1, steps_per_epoch=3,
                  shuffle=False, verbose=0)
        errors[curriculum] = np.max(np.abs(model.predict(x, verbose=0)[near] - y[near]))
    # Only the near points train the model under the curriculum: it fits them.
    assert errors[(0.24, 10**6)] < 0.05 < 0.5 < errors[None]
    assert EQL.from_config(model.get_config()).curriculum == (0.24, 10**6)
    with pytest.raises(ValueError, match="`curriculum`"):
        EQL(curriculum=(0.0, 10))
