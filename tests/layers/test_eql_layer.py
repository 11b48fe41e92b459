"""EqlLayer: linear map, primitives grouped by kind, skip connections, SymPy view."""

import keras
import numpy as np
import pytest
import sympy

from deepsymreg import EqlLayer, MaskedDense, SmoothL05, primitives, symbolic
from deepsymreg.layers import eql as eql_module
from layer_checks import config_round_trip, eager_matches_graph, one_training_step, save_and_load

MIXED = ["identity", "product", "square", "constant", "product"]
ALL_PRIMITIVES = primitives.registered_names()


@pytest.fixture
def x(rng):
    return rng.uniform(-1, 1, (7, 3)).astype("float32")


def _built(layer, x):
    layer(x)
    return layer


def test_grouped_layout_by_hand(x, rng):
    layer = _built(EqlLayer(MIXED), x)
    assert layer.n_pre_activations == 6 and layer.n_outputs == 5
    assert layer.output_names == ["identity", "product", "product", "square", "constant"]
    w = rng.normal(size=(3, 6)).astype("float32")
    layer.linear.kernel.assign(w)
    g = x.astype(float) @ w
    # identity: g0; product copy c: g[1 + c] * g[3 + c]; square: g5; constant: 1.
    expected = np.stack(
        [g[:, 0], g[:, 1] * g[:, 3], g[:, 2] * g[:, 4], g[:, 5] ** 2, np.ones(len(x))], axis=1
    )
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_skip_appends_the_input(x):
    layer = _built(EqlLayer(["identity", "sin"], skip=True), x)
    out = layer(x).numpy()
    assert out.shape == (7, 5) == layer.compute_output_shape(x.shape)
    np.testing.assert_array_equal(out[:, 2:], x)


def test_stacked_layer_applies_each_weight_set(x):
    layer = _built(EqlLayer(MIXED, trials=3, skip=True), x)
    out = layer(x).numpy()
    assert out.shape == (3, 7, 8) == layer.compute_output_shape(x.shape)
    single = EqlLayer(MIXED, skip=True)
    single(x)
    for k in range(3):
        single.linear.kernel.assign(layer.linear.effective_kernel[k])
        np.testing.assert_allclose(out[k], single(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("trials, skip", [(None, False), (None, True), (2, False)])
def test_sympy_view_equals_call(trials, skip, rng):
    x = rng.uniform(-1, 1, (20, 2)).astype("float32")
    layer = EqlLayer(ALL_PRIMITIVES, trials=trials, skip=skip, use_bias=True,
                     kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.4, seed=2))
    layer(x)  # build
    layer.linear.bias.assign(rng.normal(scale=0.3, size=layer.linear.bias.shape))
    out = layer(x).numpy()
    symbols = sympy.symbols("u v")
    for k in [None] if trials is None else range(trials):
        exprs = layer.to_sympy(list(symbols), trial=k)
        got = np.stack([symbolic.to_numpy_function(e, symbols)(x) for e in exprs], axis=1)
        expected = out if k is None else out[k]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_to_sympy_threshold_drops_small_weights():
    layer = EqlLayer(["identity"])
    layer.build((None, 2))
    layer.linear.kernel.assign([[0.005], [1.5]])
    a, b = sympy.symbols("a b")
    (kept,) = layer.to_sympy([a, b], threshold=0.01)
    assert kept.free_symbols == {b} and float(kept.coeff(b)) == 1.5
    (everything,) = layer.to_sympy([a, b], threshold=0.0)
    assert everything.free_symbols == {a, b}


def test_to_sympy_needs_trial_and_matching_inputs():
    layer = EqlLayer(["identity"], trials=2)
    layer.build((None, 2))
    with pytest.raises(ValueError, match="argument `trial`"):
        layer.to_sympy(list(sympy.symbols("a b")))
    with pytest.raises(ValueError, match="Expected 2 input expressions"):
        layer.to_sympy([sympy.Symbol("a")], trial=0)


def test_rejects_only_constants():
    with pytest.raises(ValueError, match="argument `primitives`"):
        EqlLayer(["constant", "constant"])


def test_rejects_unknown_primitive():
    with pytest.raises(ValueError, match="Unknown primitive 'nope'"):
        EqlLayer(["identity", "nope"])


def test_rejects_unknown_linear_kind():
    with pytest.raises(ValueError, match="argument `linear`.*'dense'.*linear='sparse'"):
        EqlLayer(["identity"], linear="sparse")


def test_rejects_linear_layer_of_wrong_width():
    with pytest.raises(ValueError, match="units=3"):
        EqlLayer(["identity", "product"], linear=MaskedDense(4))


def test_accepts_a_linear_layer_or_its_config():
    layer = EqlLayer(["identity", "product"], linear=MaskedDense(3, use_bias=True))
    assert layer.linear.use_bias
    from_config = EqlLayer(
        ["identity", "product"], linear=keras.saving.serialize_keras_object(MaskedDense(7))
    )
    assert from_config.linear.units == 3


def test_registered_linear_kind(monkeypatch, x):
    monkeypatch.setattr(eql_module, "LINEAR_KINDS", dict(eql_module.LINEAR_KINDS))
    eql_module.register_linear_kind("masked", "deepsymreg>MaskedDense")
    layer = EqlLayer(["identity"], linear="masked", use_bias=True)
    assert isinstance(layer.linear, MaskedDense) and layer.linear.use_bias


def test_config_round_trip_unbuilt(x):
    layer = EqlLayer(MIXED, skip=True, trials=2, kernel_regularizer=SmoothL05(0.1, a=0.05))
    clone = config_round_trip(layer)
    assert clone.trials == 2 and clone.skip
    assert clone.linear.kernel_regularizer.a == 0.05
    assert clone(x).shape == layer(x).shape


def test_config_round_trip_built(x):
    layer = _built(EqlLayer(MIXED, kernel_regularizer="l05"), x)
    clone = config_round_trip(layer)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def _functional(skip=False):
    inputs = keras.Input((3,))
    h = EqlLayer(MIXED, skip=skip, kernel_regularizer="l05", name="eql")(inputs)
    outputs = MaskedDense(2, name="out")(h)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("skip", [False, True])
def test_keras_file_keeps_masks_and_outputs(skip, x, tmp_path):
    model = _functional(skip)
    linear = model.get_layer("eql").linear
    assert 0 < linear.threshold(0.5) < linear.mask.numpy().size
    loaded = save_and_load(model, x, tmp_path)
    np.testing.assert_array_equal(
        loaded.get_layer("eql").linear.mask.numpy(), linear.mask.numpy()
    )


def test_one_training_step(x):
    model = _functional()
    model.get_layer("eql").linear.threshold(0.3)
    one_training_step(model, x, np.zeros((7, 2), "float32"))


def test_penalty_reaches_the_model_losses(x):
    layer = EqlLayer(["identity", "square"], kernel_regularizer=SmoothL05(reg_lambda=1.0))
    layer(x)
    (penalty,) = layer.losses
    w = layer.linear.effective_kernel
    np.testing.assert_allclose(float(penalty), float(SmoothL05(1.0)(w)), rtol=1e-6)


def test_eager_matches_graph(x):
    eager_matches_graph(_built(EqlLayer(MIXED, skip=True), x), x)


def test_non_finite_weights_give_a_clear_error():
    layer = EqlLayer(["identity", "square"])
    layer.build((None, 2))
    layer.linear.kernel.assign(np.full((2, 2), np.nan, "float32"))
    with pytest.raises(ValueError, match="non-finite"):
        layer.to_sympy(list(sympy.symbols("a b")))
