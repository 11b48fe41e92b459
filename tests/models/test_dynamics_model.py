"""DynamicsModel: encoder + propagating decoder; shapes, propagation, equations, saving."""

import keras
import numpy as np
import pytest
import sympy
import tensorflow as tf
from layer_checks import save_and_load

import deepsymreg as dsr
from deepsymreg import EQL, symbolic
from deepsymreg.data import kinematics
from deepsymreg.layers import EqlCell
from deepsymreg.models import DynamicsModel

SMALL = {"depth": 1, "primitives": ["identity", "square", "product10"]}


@pytest.fixture(scope="module")
def data():
    return kinematics(n=16, t_x=20, t_y=3, seed=0)


def _model(decoder="eql", horizon=3, **kwargs):
    if decoder == "eql":
        kwargs.setdefault("eql", {**SMALL, "seed": 0})
    else:
        kwargs.setdefault("relu_widths", (8,))
    return DynamicsModel(n_state=2, horizon=horizon, decoder=decoder, **kwargs)


@pytest.mark.parametrize("decoder", ["eql", "relu"])
def test_call_shape_and_longer_propagation(data, decoder):
    model = _model(decoder)
    out = model((data.x, data.y0), training=False).numpy()
    assert out.shape == (16, 3, 2)
    assert np.all(np.isfinite(out))
    long = model.propagate(data.x, data.y0, 7).numpy()
    short = model.propagate(data.x, data.y0, 2).numpy()
    assert long.shape == (16, 7, 2) and short.shape == (16, 2, 2)
    # Propagation is causal: the first `horizon` steps do not depend on how far we go.
    np.testing.assert_allclose(long[:, :3], out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(short, out[:, :2], rtol=1e-5, atol=1e-6)
    assert model.encode(data.x).shape == (16, 1)
    with pytest.raises(ValueError, match="steps"):
        model.propagate(data.x, data.y0, 0)


def test_decoder_reads_y0_and_z(data):
    """Step 1 is the cell applied to (y0, z): changing either changes the prediction."""
    model = _model("eql")
    z = model.encode(data.x).numpy()
    first = model.propagate(data.x, data.y0, 1).numpy()[:, 0]
    by_hand, _ = model.cell(tf.constant(z), [tf.constant(data.y0)])
    np.testing.assert_allclose(first, by_hand.numpy(), rtol=1e-5, atol=1e-6)
    moved = model.propagate(data.x, data.y0 + 0.5, 1).numpy()[:, 0]
    assert np.max(np.abs(moved - first)) > 1e-4


def test_to_sympy_is_the_update_rule(data):
    model = _model("eql")
    model((data.x, data.y0))
    rules = model.to_sympy(threshold=0.0)
    u, v, z = sympy.symbols("u v z")
    assert isinstance(rules, list) and len(rules) == 2
    for rule in rules:
        assert isinstance(rule, sympy.Expr)
        assert rule.free_symbols <= {u, v, z}
        assert rule.free_symbols  # a random network reads at least one input
    # Evaluated at (y0, z) the equations give the first predicted step.
    latent = model.encode(data.x).numpy()
    points = np.concatenate([data.y0, latent], axis=1)
    first = model.propagate(data.x, data.y0, 1).numpy()[:, 0]
    for i, rule in enumerate(rules):
        f = symbolic.to_numpy_function(rule, [u, v, z])
        np.testing.assert_allclose(f(points), first[:, i], rtol=1e-4, atol=1e-5)
    # Custom names.
    x, p = sympy.symbols("x p")
    named = model.to_sympy(state_names=("x", "p"), latent_names=("a",), threshold=0.0)
    assert set().union(*(r.free_symbols for r in named)) <= {x, p, sympy.Symbol("a")}


def test_propagate_before_the_first_call(data):
    model = _model("eql")
    long = model.propagate(data.x, data.y0, 5).numpy()  # builds encoder and decoder
    np.testing.assert_allclose(model((data.x, data.y0)).numpy(), long[:, :3], rtol=1e-5)


def test_to_sympy_needs_the_eql_decoder(data):
    model = _model("relu")
    model((data.x, data.y0))
    with pytest.raises(ValueError, match="decoder"):
        model.to_sympy()


@pytest.mark.parametrize("kwargs, name", [({"decoder": "lstm"}, "decoder"),
                                          ({"horizon": 0}, "horizon"),
                                          ({"n_state": 0}, "n_state"),
                                          ({"latent_dim": 0}, "latent_dim")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        DynamicsModel(**kwargs)


@pytest.mark.parametrize("decoder", ["eql", "relu"])
def test_keras_file_round_trip(data, tmp_path, decoder):
    model = _model(decoder)
    inputs = (data.x, data.y0)
    model(inputs)
    config = model.get_config()
    assert DynamicsModel.from_config(config).get_config() == config
    loaded = save_and_load(model, inputs, tmp_path)
    assert isinstance(loaded, DynamicsModel) and loaded.decoder_kind == decoder
    np.testing.assert_array_equal(loaded.propagate(data.x, data.y0, 6).numpy(),
                                  model.propagate(data.x, data.y0, 6).numpy())


def test_short_fit_reduces_the_horizon_loss(data, fit_full_batch):
    model = _model("eql")
    loss_fn = dsr.HorizonMSE(3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss_fn, jit_compile=False)

    def loss():  # what the training step sees: batch statistics in the encoder
        return float(loss_fn(data.y, model((data.x, data.y0), training=True)))

    before = loss()
    history = fit_full_batch(model, (data.x, data.y0), data.y, 20)
    after = loss()
    assert np.isfinite(history.history["loss"][0])
    assert int(model.optimizer.iterations) == 20
    # The decoder starts near "everything is 0"; 20 steps already do clearly better.
    assert after < 0.9 * before


# -- one seed per state variable (EqlCell) ------------------------------------------


def _first_kernels(cell):
    return [m.hidden[0].linear.kernel.numpy() for m in cell.eqls]


def _all_weights(cell):
    return [w.numpy() for w in cell.weights]


def test_each_state_variable_gets_its_own_seed():
    cell = EqlCell(2, eql={**SMALL, "seed": 3})
    cell.build((None, 1))
    first, second = _first_kernels(cell)
    assert first.shape == second.shape
    assert not np.allclose(first, second)
    # Network i starts exactly where an EQL seeded with seed + i would.
    for i, net in enumerate(cell.eqls):
        alone = EQL(n_outputs=1, seed=3 + i, **SMALL)
        alone.build((None, 3))
        for a, b in zip(alone.weights, net.weights):
            np.testing.assert_array_equal(b.numpy(), a.numpy())


def test_same_seed_gives_the_same_cell():
    cells = [EqlCell(2, eql={**SMALL, "seed": 3}) for _ in range(2)]
    other = EqlCell(2, eql={**SMALL, "seed": 4})
    for cell in (*cells, other):
        cell.build((None, 1))
    for a, b in zip(_all_weights(cells[0]), _all_weights(cells[1])):
        np.testing.assert_array_equal(a, b)
    # Seed 4 shifts every network by one: its first is the seed-3 cell's second.
    np.testing.assert_array_equal(_first_kernels(other)[0], _first_kernels(cells[0])[1])
    assert not np.allclose(_first_kernels(other)[1], _first_kernels(cells[0])[1])


def test_same_seed_gives_the_same_decoder(data):
    a, b = _model("eql", eql={**SMALL, "seed": 5}), _model("eql", eql={**SMALL, "seed": 5})
    for m in (a, b):
        m((data.x, data.y0))
    for wa, wb in zip(a.cell.weights, b.cell.weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())


def test_constant_input_feeds_a_one_and_drops_it_from_the_equations(data, tmp_path):
    import sympy

    model = DynamicsModel(horizon=3, constant_input=True,
                          eql={"depth": 1, "primitives": ["identity", "product10"], "seed": 0})
    out = model((data.x, data.y0)).numpy()
    assert out.shape == (len(data.x), 3, 2)
    # Each EQL of the cell reads (u, v, z, 1).
    assert model.cell.eqls[0].n_inputs == 4
    u, v, z = sympy.symbols("u v z")
    rules = model.to_sympy(("u", "v"), threshold=0.0)
    assert all(r.free_symbols <= {u, v, z} for r in rules)
    # The rules, evaluated at (y0, z), reproduce the first predicted step.
    zs = model.encode(data.x).numpy()[:, 0]
    for i, rule in enumerate(rules):
        f = sympy.lambdify((u, v, z), rule, "numpy")
        expected = np.broadcast_to(f(data.y0[:, 0], data.y0[:, 1], zs), (len(zs),))
        np.testing.assert_allclose(expected, out[:, 0, i], rtol=1e-3, atol=1e-4)
    path = tmp_path / "c.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.constant_input is True
    np.testing.assert_allclose(loaded((data.x, data.y0)).numpy(), out, rtol=1e-5, atol=1e-6)


# -- roll-out length, residual decoders, the latent's scale ---------------------------


def test_rollout_steps_stops_the_decoder(data):
    model = _model("eql", horizon=5)
    full = model((data.x, data.y0)).numpy()
    assert int(model.rollout_steps.numpy()) == 5  # starts at the horizon
    model.rollout_steps.assign(2)
    out = model((data.x, data.y0)).numpy()
    assert out.shape == (16, 5, 2)
    np.testing.assert_allclose(out[:, :2], full[:, :2], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out[:, 2:], 0.0)
    # propagate() is not limited by it.
    np.testing.assert_allclose(model.propagate(data.x, data.y0, 5).numpy(), full,
                               rtol=1e-5, atol=1e-6)


def _exploding_model():
    """u' = 3 (u + v + z)^2 ...: finite for a step or two, inf long before 25 steps."""
    model = DynamicsModel(horizon=25, eql={"depth": 1, "primitives": ["square"], "seed": 0})
    model.build(((None, 20, 2), (None, 2)))
    for net in model.cell.eqls:
        for layer in net.eql_layers:
            layer.linear.kernel.assign(np.full(layer.linear.kernel.shape, 3.0, "float32"))
    return model


@pytest.mark.parametrize("rollout, finite", [(2, True), (25, False)])
def test_no_nan_from_steps_past_the_rollout(data, rollout, finite):
    """A loss that only counts the first steps must not see the overflow of later ones
    (inf * 0 = NaN): the decoder is not run past rollout_steps."""
    model = _exploding_model()
    model.rollout_steps.assign(rollout)
    loss_fn = dsr.HorizonMSE(2)
    y = np.zeros((16, 25, 2), "float32")
    y0 = np.full((16, 2), 0.1, "float32")

    @tf.function(jit_compile=True)
    def loss_and_grads(x, y0, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model((x, y0), training=True))
        return loss, tape.gradient(loss, model.trainable_variables)

    loss, grads = loss_and_grads(data.x, y0, y)
    values = [loss.numpy()] + [g.numpy() for g in grads if g is not None]
    assert all(np.all(np.isfinite(v)) for v in values) == finite


def test_residual_decoder_adds_the_state(data):
    plain, res = _model("eql"), _model("eql", residual=True)
    for m in (plain, res):
        m((data.x, data.y0))
    res.set_weights(plain.get_weights())  # same encoder and cell weights
    step = [m.propagate(data.x, data.y0, 1).numpy()[:, 0] for m in (plain, res)]
    z = plain.encode(data.x).numpy()
    np.testing.assert_allclose(step[1], data.y0 + step[0], rtol=1e-5, atol=1e-6)
    # The equations are the update rule, state included.
    u, v, zs = sympy.symbols("u v z")
    for i, rule in enumerate(res.to_sympy(("u", "v"), threshold=0.0)):
        f = sympy.lambdify((u, v, zs), rule, "numpy")
        got = np.broadcast_to(f(data.y0[:, 0], data.y0[:, 1], z[:, 0]), (16,))
        np.testing.assert_allclose(got, step[1][:, i], rtol=1e-3, atol=1e-4)
    relu = [_model("relu", residual=r) for r in (False, True)]
    for m in relu:
        m((data.x, data.y0))
    relu[1].set_weights(relu[0].get_weights())
    first = [m.propagate(data.x, data.y0, 1).numpy()[:, 0] for m in relu]
    np.testing.assert_allclose(first[1], data.y0 + first[0], rtol=1e-5, atol=1e-6)
    assert DynamicsModel.from_config(res.get_config()).residual


def test_latent_keeps_standard_deviation_half_in_training(data):
    model = _model("eql")
    z = model.encode(data.x, training=True).numpy()[:, 0]
    assert np.std(z) == pytest.approx(0.5, rel=0.02)
    bn = model.encoder.body[-1]
    assert bn.gamma is None and not model.encoder.trainable_scale
    scaled = dsr.models.encoders.DynamicsEncoder(trainable_scale=True)
    scaled.build((None, 20, 2))
    assert scaled.body[-1].gamma is not None
