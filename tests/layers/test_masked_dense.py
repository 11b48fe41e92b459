"""MaskedDense: x @ (W * M) + b, thresholding that freezes weights, stacked weight sets."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from deepsymreg import L1, MaskedDense
from layer_checks import config_round_trip, eager_matches_graph, one_training_step, save_and_load

KERNEL = np.array([[0.5, -0.02, 1.5], [0.003, -2.0, 0.25]], "float32")


@pytest.fixture
def layer():
    """A built MaskedDense(3) with KERNEL and bias [0.1, 0.2, 0.3]."""
    layer = MaskedDense(3, use_bias=True)
    layer.build((None, 2))
    layer.kernel.assign(KERNEL)
    layer.bias.assign([0.1, 0.2, 0.3])
    return layer


@pytest.fixture
def x(rng):
    return rng.uniform(-1, 1, (5, 2)).astype("float32")


def test_output_is_masked_matmul_plus_bias(layer, x):
    mask = np.array([[1, 0, 1], [1, 1, 0]], "float32")
    layer.mask.assign(mask)
    expected = x @ (KERNEL * mask) + [0.1, 0.2, 0.3]
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)


def test_threshold_zeroes_and_masks_small_weights(layer, x):
    kept = layer.threshold(0.1)
    small = np.abs(KERNEL) < 0.1
    assert kept == np.sum(~small) == 4
    np.testing.assert_array_equal(layer.mask.numpy(), (~small).astype("float32"))
    np.testing.assert_array_equal(layer.kernel.numpy(), np.where(small, 0.0, KERNEL))
    np.testing.assert_allclose(
        layer(x).numpy(), x @ np.where(small, 0.0, KERNEL) + [0.1, 0.2, 0.3], rtol=1e-6
    )


def test_lower_threshold_does_not_reopen_masks(layer):
    layer.threshold(0.1)
    assert layer.threshold(0.0) == 4


@pytest.mark.parametrize("alpha", [-0.1, float("nan")])
def test_threshold_rejects_bad_alpha(layer, alpha):
    with pytest.raises(ValueError, match="argument `alpha`"):
        layer.threshold(alpha)


def test_thresholded_weights_stay_exactly_zero_under_training(rng):
    layer = MaskedDense(4, kernel_regularizer=L1(0.01))
    model = keras.Sequential([keras.Input((3,)), layer])
    # Adam: its momentum would move a frozen weight if the mask did not hold it.
    model.compile(optimizer=keras.optimizers.Adam(0.5), loss="mse")
    x = rng.uniform(-1, 1, (64, 3)).astype("float32")
    y = rng.normal(size=(64, 4)).astype("float32")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    layer.threshold(float(np.median(np.abs(layer.kernel.numpy()))))
    frozen = layer.mask.numpy() == 0
    assert 0 < frozen.sum() < frozen.size
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert np.all(layer.mask.numpy()[frozen] == 0)
    assert np.all(layer.effective_kernel.numpy()[frozen] == 0.0)
    assert np.all(layer.effective_kernel.numpy()[~frozen] != 0.0)


def test_penalty_is_taken_on_masked_weights(layer, x):
    layer.kernel_regularizer = L1(reg_lambda=2.0)
    layer.mask.assign(np.array([[1, 1, 0], [0, 1, 1]], "float32"))
    layer(x)
    (penalty,) = layer.losses
    np.testing.assert_allclose(float(penalty), 2.0 * (0.5 + 0.02 + 2.0 + 0.25), rtol=1e-6)


def test_stacked_weights_with_shared_inputs(rng, x):
    layer = MaskedDense(3, trials=4)
    out = layer(x).numpy()
    assert out.shape == (4, 5, 3) == layer.compute_output_shape(x.shape)
    kernels = layer.effective_kernel.numpy()
    for k in range(4):
        np.testing.assert_allclose(out[k], x @ kernels[k], rtol=1e-5, atol=1e-6)


def test_stacked_weights_with_per_set_inputs(rng):
    xs = rng.uniform(-1, 1, (4, 5, 2)).astype("float32")
    layer = MaskedDense(3, trials=4, use_bias=True, bias_initializer="ones")
    out = layer(xs).numpy()
    assert out.shape == (4, 5, 3) == layer.compute_output_shape(xs.shape)
    kernels = layer.effective_kernel.numpy()
    for k in range(4):
        np.testing.assert_allclose(out[k], xs[k] @ kernels[k] + 1.0, rtol=1e-5, atol=1e-6)


def test_stacked_layer_rejects_rank_4_inputs():
    with pytest.raises(ValueError, match="weight axes \\(2,\\)"):
        MaskedDense(3, trials=2)(tf.zeros((2, 2, 5, 4)))


def test_initialize_entry_touches_only_that_entry():
    layer = MaskedDense(3, trials=3, kernel_initializer=keras.initializers.TruncatedNormal(0.5))
    layer.build((None, 2))
    layer.threshold(0.4)
    before_kernel, before_mask = layer.kernel.numpy(), layer.mask.numpy()
    layer.initialize_entry(index=1, seed=7)
    # The entry is what an unstacked map with the same initializer seeded 7 starts from.
    single = MaskedDense(3, kernel_initializer=keras.initializers.TruncatedNormal(0.5, seed=7))
    single.build((None, 2))
    np.testing.assert_array_equal(layer.kernel.numpy()[1], single.kernel.numpy())
    np.testing.assert_array_equal(layer.mask.numpy()[1], 1.0)
    for k in (0, 2):
        np.testing.assert_array_equal(layer.kernel.numpy()[k], before_kernel[k])
        np.testing.assert_array_equal(layer.mask.numpy()[k], before_mask[k])


@pytest.mark.parametrize("units", [0, -3, 2.5, "4", None])
def test_rejects_bad_units(units):
    with pytest.raises(ValueError, match=f"argument `units`.*units={units!r}"):
        MaskedDense(units)


@pytest.mark.parametrize("trials", [0, -1, 1.5, True])
def test_rejects_bad_trials(trials):
    with pytest.raises(ValueError, match="argument `trials`"):
        MaskedDense(2, trials=trials)


@pytest.mark.parametrize("trials", [None, 3])
def test_config_round_trip(trials):
    layer = MaskedDense(
        3, trials=trials, use_bias=True, kernel_regularizer=L1(0.5),
        kernel_initializer=keras.initializers.RandomUniform(seed=3),
    )
    clone = config_round_trip(layer)
    assert isinstance(clone.kernel_regularizer, L1)
    assert float(clone.kernel_regularizer.reg_lambda.numpy()) == 0.5


@pytest.mark.parametrize("trials", [None, 2])
def test_keras_file_keeps_masks_and_outputs(trials, x, tmp_path):
    inputs = keras.Input((2,))
    outputs = MaskedDense(3, trials=trials, use_bias=True, kernel_regularizer="l05",
                          name="masked")(inputs)
    model = keras.Model(inputs, outputs)
    kept = model.get_layer("masked").threshold(0.5)
    assert 0 < kept < model.get_layer("masked").mask.numpy().size
    loaded = save_and_load(model, x, tmp_path)
    np.testing.assert_array_equal(
        loaded.get_layer("masked").mask.numpy(), model.get_layer("masked").mask.numpy()
    )


def test_one_training_step(x):
    model = keras.Sequential([keras.Input((2,)), MaskedDense(3, use_bias=True)])
    model.layers[0].threshold(0.3)
    one_training_step(model, x, np.ones((5, 3), "float32"))


def test_eager_matches_graph(layer, x):
    eager_matches_graph(layer, x)
