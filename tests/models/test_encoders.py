"""Encoders and ReLU baselines: the papers' shapes and output scaling."""

import keras
import numpy as np
import pytest

from deepsymreg.models import DigitEncoder, DynamicsEncoder, relu_mlp


def test_digit_encoder_shapes_and_scale(rng):
    enc = DigitEncoder()
    images = rng.random((64, 28, 28)).astype("float32")
    z = enc(images, training=True).numpy()
    assert z.shape == (64, 1)
    # Batch norm then /2: in training mode the batch is standardized, then halved.
    h = images[..., None]
    for layer in enc.body[:-1]:
        h = layer(h)
    h = h.numpy()
    eps = enc.body[-1].epsilon
    np.testing.assert_allclose(z, (h - h.mean()) / np.sqrt(h.var() + eps) / 2, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(z.mean(), 0.0, atol=1e-5)
    assert enc(images[..., None]).shape == (64, 1)


def test_dynamics_encoder_shapes_and_scale(rng):
    enc = DynamicsEncoder(latent_dim=2)
    series = rng.normal(size=(32, 100, 2)).astype("float32")
    z = enc(series, training=True).numpy()
    assert z.shape == (32, 2)
    h = series
    for layer in enc.body[:-1]:
        h = layer(h)
    h = h.numpy()
    expected = 0.5 * (h - h.mean(0)) / np.sqrt(h.var(0) + enc.body[-1].epsilon)
    np.testing.assert_allclose(z, expected, rtol=1e-3, atol=1e-5)
    convs = [layer for layer in enc.body if isinstance(layer, keras.layers.Conv1D)]
    assert [(c.filters, c.kernel_size[0]) for c in convs] == [(16, 5), (16, 5)]


def test_relu_baselines():
    model = relu_mlp([50] * 4, n_outputs=2)
    assert model(np.zeros((3, 5), "float32")).shape == (3, 2)
    assert [layer.units for layer in model.layers] == [50, 50, 50, 50, 2]
    with pytest.raises(ValueError, match="widths"):
        relu_mlp([50, 0])


def test_encoder_config_round_trip():
    enc = DynamicsEncoder(latent_dim=3, filters=8)
    assert DynamicsEncoder.from_config(enc.get_config()).filters == 8
    with pytest.raises(ValueError, match="latent_dim"):
        DigitEncoder(latent_dim=0)
