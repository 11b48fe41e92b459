"""Encoders and baselines of the papers' deep-learning experiments (Kim et al. 2020)."""

from __future__ import annotations

import keras

from deepsymreg._validation import check_int
from deepsymreg.layers.mlp_cell import check_widths

__all__ = ["DigitEncoder", "DynamicsEncoder", "relu_mlp"]


def _build_chain(layers, shape):
    """Build ``layers`` applied one after the other to inputs of ``shape``."""
    for layer in layers:
        if not layer.built:
            layer.build(shape)
        shape = layer.compute_output_shape(shape)
    return shape


@keras.saving.register_keras_serializable(package="deepsymreg")
class DigitEncoder(keras.Model):
    """MNIST digit -> one unconstrained latent ``z`` (appendix C-A).

    conv 32 (5x5) -> max-pool 2 -> conv 64 (5x5) -> max-pool 2 -> dense 128 relu ->
    dense 16 relu -> dense ``latent_dim`` -> batch norm, output divided by 2 (standard
    deviation 0.5, to suit an EQL built for inputs in [-1, 1]).

    Input shape: ``(batch, 28, 28)`` or ``(batch, 28, 28, 1)``. Output: ``(batch, latent_dim)``.
    """

    def __init__(self, latent_dim=1, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.body = [
            keras.layers.Conv2D(32, 5, activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Conv2D(64, 5, activation="relu"),
            keras.layers.MaxPooling2D(2, 2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(self.latent_dim),
            keras.layers.BatchNormalization(),
        ]

    def build(self, input_shape):
        shape = tuple(input_shape)
        _build_chain(self.body, shape if len(shape) == 4 else (*shape, 1))

    def call(self, images, training=None):
        h = images if images.shape.rank == 4 else images[..., None]
        for layer in self.body:
            h = layer(h, training=training)
        return h / 2.0

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim}


@keras.saving.register_keras_serializable(package="deepsymreg")
class DynamicsEncoder(keras.Model):
    """Time series -> one latent ``z`` describing the hidden parameter (appendix C-B).

    Two conv1d layers (16 filters, length 5, relu) -> dense 16 relu -> dense
    ``latent_dim`` -> batch norm scaled to standard deviation 0.5.

    Args:
        latent_dim: size of ``z``.
        filters, kernel_size: of both conv1d layers.
        trainable_scale: give the batch norm a trainable scale (gamma). Off by
            default, so ``z`` keeps the standard deviation 0.5 the paper gives it (over
            a training batch). With a trainable scale the optimizer can switch the
            latent off before it has learned anything: in our oscillator probes the
            scale shrank within 250 steps (inference ``z`` spread 0.05-0.2) while the
            decoder could not yet use ``z``, and the latent never recovered.

    Input shape: ``(batch, T_x, features)``. Output: ``(batch, latent_dim)``.
    """

    def __init__(self, latent_dim=1, filters=16, kernel_size=5, trainable_scale=False, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.trainable_scale = bool(trainable_scale)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.body = [
            keras.layers.Conv1D(self.filters, self.kernel_size, activation="relu"),
            keras.layers.Conv1D(self.filters, self.kernel_size, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(self.latent_dim),
            keras.layers.BatchNormalization(scale=self.trainable_scale),
        ]

    def build(self, input_shape):
        _build_chain(self.body, tuple(input_shape))

    def call(self, series, training=None):
        h = series
        for layer in self.body:
            h = layer(h, training=training)
        return 0.5 * h

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "trainable_scale": self.trainable_scale,
        }


def relu_mlp(widths, n_outputs=1, name="relu_baseline"):
    """The papers' ReLU baseline: dense ``widths`` with ReLU, then a linear output.

    ``relu_mlp([50, 50])`` is the MNIST and kinematics baseline, ``[50] * 4`` the SHO one.
    """
    widths = check_widths("widths", widths)
    layers = [keras.layers.Dense(w, activation="relu") for w in widths]
    return keras.Sequential([*layers, keras.layers.Dense(check_int("n_outputs", n_outputs))],
                            name=name)
