"""DigitArithmetic: shared encoder -> latents -> head; rescaling, equations, saving."""

import numpy as np
import pytest
import sympy
from layer_checks import save_and_load

from deepsymreg import symbolic
from deepsymreg.models import DigitArithmetic

SMALL = {"depth": 1, "primitives": ["identity", "square", "product10"], "seed": 0}


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(2).random((5, 2, 28, 28)).astype("float32")


def _model(head="eql", **kwargs):
    if head == "eql":
        kwargs.setdefault("eql", SMALL)
    else:
        kwargs.setdefault("relu_widths", (8,))
    return DigitArithmetic(head=head, **kwargs)


@pytest.mark.parametrize("head", ["eql", "relu"])
def test_shapes_and_shared_encoder(images, head):
    model = _model(head)
    out = model(images).numpy()
    assert out.shape == (5, 1) and np.all(np.isfinite(out))
    z = model.latents(images).numpy()
    assert z.shape == (5, 2)
    # One encoder for both digits: latent j is encode() of image j alone.
    for j in range(2):
        np.testing.assert_allclose(z[:, j], model.encode(images[:, j]).numpy(),
                                   rtol=1e-5, atol=1e-6)
    # Swapping the two images swaps the latents.
    np.testing.assert_allclose(model.latents(images[:, ::-1]).numpy(), z[:, ::-1],
                               rtol=1e-5, atol=1e-6)
    assert len(z[:, 0]) == len(set(np.round(z[:, 0], 6)))  # different images, different z


@pytest.mark.parametrize("head", ["eql", "relu"])
def test_output_is_the_rescaled_head(images, head):
    model = _model(head, scale=2.0, offset=3.0)
    out = model(images).numpy()
    z = model.latents(images)
    head_out = model.head(z).numpy()
    np.testing.assert_allclose(out, 2.0 * head_out + 3.0, rtol=1e-5, atol=1e-5)
    assert not np.allclose(out, head_out, atol=1e-3)


def test_three_digits(rng):
    model = _model("eql", n_digits=3)
    images = rng.random((4, 3, 28, 28)).astype("float32")
    assert model(images).shape == (4, 1)
    assert model.latents(images).shape == (4, 3)
    assert model.to_sympy(threshold=0.0).free_symbols <= set(sympy.symbols("z1 z2 z3"))


def test_to_sympy_is_the_rescaled_eql(images):
    model = _model("eql", scale=2.0, offset=3.0)
    model(images)
    z1, z2 = sympy.symbols("z1 z2")
    expr = model.to_sympy(threshold=0.0)
    head = model.head.to_sympy(["z1", "z2"], threshold=0.0)
    assert expr.free_symbols <= {z1, z2} and expr.free_symbols
    points = np.random.default_rng(3).uniform(-1, 1, (20, 2))
    f = symbolic.to_numpy_function(expr, [z1, z2])
    g = symbolic.to_numpy_function(head, [z1, z2])
    np.testing.assert_allclose(f(points), 2.0 * g(points) + 3.0, rtol=1e-6, atol=1e-6)
    # ... and it is what the model computes from the latents.
    z = model.latents(images).numpy()
    np.testing.assert_allclose(f(z), model(images).numpy()[:, 0], rtol=1e-4, atol=1e-4)
    a, b = sympy.symbols("a b")
    assert model.to_sympy(var_names=["a", "b"], threshold=0.0).free_symbols <= {a, b}


def test_latents_before_the_first_call(images):
    model = _model("eql")
    z = model.latents(images).numpy()  # builds the encoder only
    np.testing.assert_allclose(model.latents(images).numpy(), z)
    assert model(images).shape == (5, 1)


def test_relu_head_has_no_equation(images):
    model = _model("relu")
    model(images)
    with pytest.raises(ValueError, match="head"):
        model.to_sympy()


@pytest.mark.parametrize("kwargs, name", [({"head": "cnn"}, "head"),
                                          ({"n_digits": 0}, "n_digits"),
                                          ({"eql": {"n_outputs": 2}}, "eql"),
                                          ({"head": "relu", "relu_widths": [0]}, "relu_widths")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        DigitArithmetic(**kwargs)


@pytest.mark.parametrize("head", ["eql", "relu"])
def test_keras_file_round_trip(images, tmp_path, head):
    model = _model(head, scale=2.0, offset=3.0)
    model(images)
    config = model.get_config()
    assert DigitArithmetic.from_config(config).get_config() == config
    loaded = save_and_load(model, images, tmp_path)
    assert isinstance(loaded, DigitArithmetic)
    assert (loaded.head_kind, loaded.scale, loaded.offset) == (head, 2.0, 3.0)
    np.testing.assert_array_equal(loaded.latents(images).numpy(), model.latents(images).numpy())


def test_portfolio_of_heads_trains_the_sum_and_infers_with_the_selected_head(images):
    import keras
    import tensorflow as tf

    model = _model("eql", trials=3, scale=2.0, offset=3.0)
    train_out = model(images, training=True).numpy()  # (batch-norm in training mode)
    assert train_out.shape == (5, 3) and model(images).shape == (5, 1)
    train_z = model.latents(images, training=True)
    np.testing.assert_allclose(train_out, 2.0 * model.head(train_z).numpy()[..., 0].T + 3.0,
                               rtol=1e-5, atol=1e-5)
    z = model.latents(images)
    heads = 2.0 * model.head(z).numpy()[..., 0] + 3.0  # (3, batch), inference mode
    np.testing.assert_allclose(model(images).numpy()[:, 0], heads[0], rtol=1e-5, atol=1e-5)
    # The training loss is the sum of the heads' MSE plus their penalties.
    y = tf.constant(np.arange(5, dtype="float32")[:, None])
    loss = model.compute_loss(images, y, tf.constant(train_out), training=True)
    per_head = np.mean((train_out - np.arange(5)[:, None]) ** 2, axis=0)
    penalty = float(keras.ops.sum(model.losses)) if model.losses else 0.0
    np.testing.assert_allclose(float(loss), per_head.sum() + penalty, rtol=1e-4)
    np.testing.assert_allclose(model.trial_loss.numpy(), per_head, rtol=1e-4)
    # Selection: the head with the lowest MAE on the given pairs serves inference.
    target = heads[2]  # head 2 is exact on these targets
    errors = model.select_trial(images, target)
    assert errors.shape == (3,) and np.argmin(errors) == 2 and errors[2] < 1e-4
    assert int(model.selected_trial.numpy()) == 2
    np.testing.assert_allclose(model(images).numpy()[:, 0], heads[2], rtol=1e-5, atol=1e-5)
    for trial, want in ((None, heads[2]), (0, heads[0])):  # default: the selected head
        f = symbolic.to_numpy_function(model.to_sympy(threshold=0.0, trial=trial),
                                       sympy.symbols("z1 z2"))
        np.testing.assert_allclose(f(z.numpy()), want, rtol=1e-4, atol=1e-4)


def test_portfolio_round_trip_keeps_the_selection(images, tmp_path):
    model = _model("eql", trials=2)
    model(images)
    heads = 9.0 * model.head(model.latents(images)).numpy()[..., 0] + 9.0
    model.select_trial(images, heads[1])
    assert int(model.selected_trial.numpy()) == 1
    loaded = save_and_load(model, images, tmp_path)
    assert loaded.trials == 2 and int(loaded.selected_trial.numpy()) == 1
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="`trials`"):
        DigitArithmetic(head="relu", trials=2)
    with pytest.raises(ValueError, match="`trials`"):
        DigitArithmetic(trials=0)


def test_nan_recovery_restarts_a_portfolio_model_as_a_whole(images):
    import keras

    from deepsymreg.callbacks import NaNRecovery

    model = _model("eql", trials=2)
    model(images)  # built before fit (as recipes._fit does): the start is kept
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    y = np.full((5, 1), np.nan, "float32")  # every step's loss is NaN
    nan = NaNRecovery(max_restarts=2, seed=0)
    model.fit(images, y, epochs=3, batch_size=5, verbose=0, callbacks=[nan])
    # Every NaN step restarts the whole model (both heads re-drawn, one seed each).
    assert nan.restarts == 3 and model.stop_training
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_select_trial_near_prefers_the_simplest_head_among_ties(images):
    model = _model("eql", trials=2)
    model(images)
    for w in model.head.weights:  # head 1 becomes a constant: the simplest equation
        if w.shape and w.shape[0] == 2:
            value = w.numpy()
            value[1] = 0.0
            w.assign(value)
    heads = 9.0 * model.head(model.latents(images)).numpy()[..., 0] + 9.0
    target = heads[0] + 0.01
    sizes = [symbolic.complexity(model.to_sympy(trial=k)) for k in range(2)]
    assert sizes[1] < sizes[0]
    errors = model.select_trial(images, target, near=0.0)
    assert errors[0] < errors[1] and int(model.selected_trial.numpy()) == 0
    margin = errors[1] / errors[0]  # head 1 is tied once the margin covers its error
    model.select_trial(images, target, near=margin * 0.99 - 1.0)
    assert int(model.selected_trial.numpy()) == 0
    model.select_trial(images, target, near=margin * 1.01 - 1.0)
    assert int(model.selected_trial.numpy()) == 1
    with pytest.raises(ValueError, match="`near`"):
        model.select_trial(images, target, near=-1.0)


def test_polished_sympy_drops_what_the_fit_does_not_need():
    """Targets linear in the latents: the head's squares and products give way to the
    latents themselves, refitted by least squares."""
    model = _model("eql")
    images = np.random.default_rng(4).random((60, 2, 28, 28)).astype("float32")
    model(images)
    z = model.equation_inputs(images)
    assert z.shape == (60, 2) and z.dtype == np.float64
    z = (z - z.mean(0)) / z.std(0)  # standardized latents: the law is linear in the raw ones too
    targets = 3.0 * z[:, 0] - 2.0 * z[:, 1] + 1.0
    raw = model.equation_inputs(images)
    expr = model.polished_sympy(images, targets)
    z1, z2 = sympy.symbols("z1 z2")
    assert sympy.Poly(expr, z1, z2).total_degree() == 1  # no square or product left
    pred = symbolic.to_numpy_function(expr, [z1, z2])(raw)
    np.testing.assert_allclose(pred, targets, atol=1e-3)
    with pytest.raises(ValueError, match="`tolerance`"):
        model.polished_sympy(images, targets, tolerance=-1.0)
