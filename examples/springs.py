"""Discover a spring law from pairs of particle images (Zhang et al. 2022, §III-C).

Each example is two 64-pixel images of one particle each (``deepsymreg.data.springs``)
and a time ``t``; the target is the spring force ``F = -k(t) (psi2 - psi1)`` or energy
``E = k(t)/2 (psi2 - psi1)^2``, ``k(t) = (5 - t)/2``. Nothing tells the network where
the particles are. One encoder (2 conv1d + 3 dense + batch norm, shared by both images)
turns each image into one latent, ``z1`` and ``z2``, and a parametric EQL (``--method
stacked``, SEQL, or ``meta``, PEQL) maps ``(z1, z2)`` at ``t`` to the target; everything
trains end to end with the EQL's phased relaxed-L0 schedule, on pairs with ``|psi2 -
psi1| <= 4`` only. ``--trials`` restarts train in one graph (every restart has its own
encoder and EQL, weights with a leading restart axis); the restart with the lowest error
on held-out training-region pairs is kept. The baseline (``--baseline relu``) is the
same encoder with a dense ReLU head that sees ``(z1, z2, t)``.

Then each latent is fitted linearly to its particle's position, ``psi = a z + b``, and the
equation read off the EQL at the paper's ``t`` values is printed in the latents and, with
that fit substituted, in ``psi1, psi2`` beside the paper's Tables IV (force, SEQL) and V
(energy, PEQL); both models are scored on pairs with ``|psi2 - psi1| > 4``. The figure
holds the latent against the position (Fig. 9), predictions against ``psi2 - psi1``
inside and outside the training region (Figs. 8a, 10a) and the learned ``k(t)``.

    python examples/springs.py --target force [--quick] [--method stacked|meta]
        [--baseline relu|none] [--trials 4] [--seed 0] [--json PATH] [--figure PATH] [--quiet]
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import sympy  # noqa: E402
import tensorflow as tf  # noqa: E402

from deepsymreg import symbolic  # noqa: E402
from deepsymreg._validation import check_choice, check_int  # noqa: E402
from deepsymreg.callbacks import Phase, PhasedSchedule  # noqa: E402
from deepsymreg.data import repeated  # noqa: E402
from deepsymreg.data.springs import TARGETS, spring_constant, spring_images  # noqa: E402
from deepsymreg.layers.network import EqlNetwork  # noqa: E402
from deepsymreg.optimizers import RMSprop  # noqa: E402
from deepsymreg.parametric import parametric_schedule  # noqa: E402
from deepsymreg.reports import (  # noqa: E402
    StepProgress, finite_or_none, latent_fit, on_terminal, progress_bar, run_script, save_outputs,
)

METHODS = ("stacked", "meta")
HEADS = ("eql", "relu")
#: The paper's method for each target: Table IV is the stacked EQL's, Table V the PEQL's.
DEFAULT_METHOD = {"force": "stacked", "energy": "meta"}
#: Hidden-layer primitives of the EQL (those of deepsymreg.parametric.PRIMITIVES).
PRIMITIVES = ["identity"] * 2 + ["square"] * 2 + ["sin"] * 2 + ["product"] * 2
#: Fraction of the training-region pairs of every t held out for selecting the restart.
HOLDOUT = 0.2
T_RANGE = (-3.0, 3.0)

#: The paper's Tables IV and V: t, the true law, the learned equation in the latents and
#: transformed to the positions.
PAPER = {
    "force": {
        "at": (-2.619, -1.095, 0.381, 1.905),
        "true": ["-3.81(psi2 - psi1)", "-3.05(psi2 - psi1)", "-2.31(psi2 - psi1)",
                 "-1.55(psi2 - psi1)"],
        "latents": ["-4.66z1 + 4.66z2", "-3.72z1 + 3.72z2", "-2.82z1 + 2.82z2",
                    "-1.89z1 + 1.89z2"],
        "psi": ["3.82psi1 - 3.82psi2", "3.05psi1 - 3.05psi2", "2.31psi1 - 2.31psi2",
                "1.55psi1 - 1.55psi2"],
    },
    "energy": {
        "at": (-2.619, -1.095, 0.381, 1.905),
        "true": ["1.90(psi2 - psi1)^2", "1.52(psi2 - psi1)^2", "1.16(psi2 - psi1)^2",
                 "0.77(psi2 - psi1)^2"],
        "latents": ["6.59z1^2 + 6.59z2^2 - 13.18z1z2 + 0.02",
                    "5.27z1^2 + 5.27z2^2 - 10.55z1z2 + 0.01",
                    "4.01z1^2 + 4.01z2^2 - 8.02z1z2 + 0.01",
                    "2.64z1^2 + 2.64z2^2 - 5.28z1z2 + 0.01"],
        "psi": ["1.91psi1^2 + 1.91psi2^2 - 3.82psi1psi2 + 0.02",
                "1.53psi1^2 + 1.53psi2^2 - 3.06psi1psi2 + 0.01",
                "1.16psi1^2 + 1.16psi2^2 - 2.33psi1psi2 + 0.01",
                "0.77psi1^2 + 0.77psi2^2 - 1.53psi1psi2 + 0.01"],
    },
}

#: Run sizes: the paper's data (full) and a smaller problem for --quick. ``n_extrapolation``:
#: pairs with |psi2 - psi1| > 4 at every t for scoring.
#: Each optimizer step trains on ``batch_per_step`` pairs of every t step (``t_per_step``
#: of them, None: all). Quick energy runs with 3000 steps kept a spurious sin unit (EQL
#: extrapolation MSE 3.5 against ReLU 11.5); 6000 removed it (2026-12-01).
SETTINGS = {
    "full": {"n_t": 128, "n_per_t": 512, "n_extrapolation": 128, "trials": 4, "steps": 10000,
             "batch_per_step": 4, "t_per_step": None, "relu_steps": 10000},
    "quick": {"n_t": 32, "n_per_t": 128, "n_extrapolation": 64, "trials": 4, "steps": 6000,
              "batch_per_step": 8, "t_per_step": None, "relu_steps": 6000},
}


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------
class SpringEncoder(keras.layers.Layer):
    """``K`` independent copies of the paper's image encoder, one per restart.

    Each copy: conv1d (``filters[0]``, length ``kernel_size``, stride ``strides``,
    relu) -> conv1d (``filters[1]``) -> dense ``widths[0]`` relu -> dense
    ``widths[1]`` relu -> dense 1 -> batch norm without scale or shift (so the latent
    has mean 0 and variance 1 over a training batch and cannot be switched off). The
    convolutions are written as frames times kernels so that every restart has its
    own weights in one graph.

    Args:
        trials: restarts ``K``.
        filters, kernel_size, strides: of the two conv1d layers.
        widths: the two hidden dense layers.
        seed: seed of the initial weights.

    Call arguments:
        images: ``(..., n_pixels)``.

    Output shape: ``(K, ..., 1)``.
    """

    def __init__(self, trials=1, filters=(8, 8), kernel_size=5, strides=2,
                 widths=(32, 16), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.trials = check_int("trials", trials)
        self.filters = tuple(check_int("filters", f) for f in filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.strides = check_int("strides", strides)
        self.widths = tuple(check_int("widths", w) for w in widths)
        if len(self.filters) != 2 or len(self.widths) != 2:
            raise ValueError(
                "Invalid value for arguments `filters`, `widths`: expected two of each "
                f"(2 conv1d, then 2 hidden dense layers). Received: filters={filters!r}, "
                f"widths={widths!r}"
            )
        self.seed = seed
        self.norm = keras.layers.BatchNormalization(axis=0, center=False, scale=False)

    def _weight(self, name, shape, fan_in, index):
        # He-uniform per restart (Keras' own fan computation would count the
        # restart axis as part of the receptive field).
        limit = float(np.sqrt(6.0 / fan_in))
        seed = None if self.seed is None else int(self.seed) * 100 + index
        init = keras.initializers.RandomUniform(-limit, limit, seed=seed)
        return self.add_weight(name=name, shape=shape, initializer=init)

    def build(self, input_shape):
        n_pixels = int(input_shape[-1])
        k, ks, s = self.trials, self.kernel_size, self.strides
        length1 = (n_pixels - ks) // s + 1
        length2 = (length1 - ks) // s + 1
        if length2 < 1:
            raise ValueError(
                f"Images of {n_pixels} pixels are too short for two convolutions of "
                f"length {ks} and stride {s}."
            )
        f1, f2 = self.filters
        self.conv = [self._weight("conv1_kernel", (k, ks, f1), ks, 0),
                     self._weight("conv2_kernel", (k, ks, f1, f2), ks * f1, 1)]
        self.conv_bias = [self.add_weight(name=f"conv{i + 1}_bias", shape=(k, 1, 1, f),
                                          initializer="zeros")
                          for i, f in enumerate(self.filters)]
        sizes = [length2 * f2, *self.widths, 1]
        self.dense = [self._weight(f"dense{i + 1}_kernel", (k, a, b), a, 2 + i)
                      for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.dense_bias = [self.add_weight(name=f"dense{i + 1}_bias", shape=(k, 1, b),
                                           initializer="zeros")
                           for i, b in enumerate(sizes[1:])]
        self.norm.build((k, None, 1))

    def _frames(self, h, axis):
        """Windows of ``kernel_size`` along ``axis`` every ``strides``: a new axis after
        ``axis`` (strided slices, whose gradients are cheap pads)."""
        ks, s = self.kernel_size, self.strides
        n = (h.shape[axis] - ks) // s + 1
        pieces = []
        for i in range(ks):
            begin = [0] * h.shape.rank
            end = list(h.shape)
            strides = [1] * h.shape.rank
            begin[axis], end[axis], strides[axis] = i, i + s * (n - 1) + 1, s
            end = [e if e is not None else 0 for e in end]
            mask = sum(1 << a for a, e in enumerate(h.shape) if e is None)
            pieces.append(tf.strided_slice(h, begin, end, strides, end_mask=mask))
        return tf.stack(pieces, axis=axis + 1)

    def call(self, images, training=None):
        lead = tf.shape(images)[:-1]
        x = tf.reshape(images, [-1, images.shape[-1]])                   # (M, P)
        frames = self._frames(x[:, :, None], axis=1)                     # (M, L1, ks, 1)
        h = tf.einsum("mli,kif->kmlf", frames[..., 0], self.conv[0])
        h = tf.nn.relu(h + self.conv_bias[0])                              # (K, M, L1, f1)
        frames = self._frames(h, axis=2)                                   # (K, M, L2, ks, f1)
        h = tf.einsum("kmlif,kifg->kmlg", frames, self.conv[1])
        h = tf.nn.relu(h + self.conv_bias[1])                              # (K, M, L2, f2)
        h = tf.reshape(h, [self.trials, tf.shape(h)[1], h.shape[2] * h.shape[3]])
        for i, (w, b) in enumerate(zip(self.dense, self.dense_bias)):
            h = tf.matmul(h, w) + b
            if i < len(self.dense) - 1:
                h = tf.nn.relu(h)
        h = self.norm(h, training=training)                                # (K, M, 1)
        return tf.reshape(h, tf.concat([[self.trials], lead, [1]], 0))

    def get_config(self):
        return {**super().get_config(), "trials": self.trials, "filters": list(self.filters),
                "kernel_size": self.kernel_size, "strides": self.strides,
                "widths": list(self.widths), "seed": self.seed}


class ReluHead(keras.layers.Layer):
    """``K`` independent dense ReLU networks: ``(K, ..., n_in)`` -> ``(K, ..., 1)``."""

    def __init__(self, trials=1, widths=(64, 64), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.trials = check_int("trials", trials)
        self.widths = tuple(check_int("relu_widths", w) for w in widths)
        self.seed = seed

    def build(self, input_shape):
        sizes = [int(input_shape[-1]), *self.widths, 1]
        self.kernels, self.biases = [], []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            limit = float(np.sqrt(6.0 / (a + b)))  # Glorot-uniform per restart
            seed = None if self.seed is None else int(self.seed) * 100 + 50 + i
            self.kernels.append(self.add_weight(
                name=f"kernel{i}", shape=(self.trials, a, b),
                initializer=keras.initializers.RandomUniform(-limit, limit, seed=seed)))
            self.biases.append(self.add_weight(name=f"bias{i}", shape=(self.trials, 1, b),
                                               initializer="zeros"))

    def call(self, inputs):
        shape = tf.shape(inputs)
        h = tf.reshape(inputs, [self.trials, -1, inputs.shape[-1]])
        for i, (w, b) in enumerate(zip(self.kernels, self.biases)):
            h = tf.matmul(h, w) + b
            if i < len(self.kernels) - 1:
                h = tf.nn.relu(h)
        return tf.reshape(h, tf.concat([shape[:-1], [1]], 0))

    def get_config(self):
        return {**super().get_config(), "trials": self.trials, "widths": list(self.widths),
                "seed": self.seed}


class SpringModel(keras.Model):
    """Image pairs and ``t`` -> spring force or energy: encoder, then an EQL or ReLU head.

    Both images of a pair go through the same encoder (one per restart) to ``z1,
    z2``; the head maps them at ``t`` to the (scaled) target: a parametric
    :class:`~deepsymreg.layers.EqlNetwork` (relaxed-L0 gates, ``t`` as its context)
    or a ReLU network of ``(z1, z2, t)``. ``fit`` runs ``steps_per_call`` optimizer
    steps per batch on random rows of gridded data, summing the restarts' losses so
    that each gets its own gradient (a restart whose loss is not finite adds 0).

    Args:
        head: ``"eql"`` or ``"relu"``.
        method: the EQL's linear kind, ``"stacked"`` (needs ``t_steps``) or ``"meta"``.
        t_range, t_steps: the parameter range and the stacked grid's size.
        trials: restarts ``K``.
        encoder: keyword arguments of the encoder (filters, widths, ...).
        relu_widths: hidden widths of the ReLU head.
        batch_per_step, t_per_step: rows of every t step and t steps drawn for each
            optimizer step from gridded data (None: all).
        steps_per_call: optimizer steps per ``fit`` batch.
        seed: seed of the initial weights and of the row draws.

    Call arguments:
        inputs: ``(batch, 2 n_pixels + 1)`` or gridded ``(N, per_step, 2 n_pixels +
            1)``: the first image, the second image, then ``t``.

    Output shape: ``(K, batch, 1)`` or ``(K, N, per_step, 1)``.
    """

    def __init__(self, head="eql", method="stacked", t_range=T_RANGE, t_steps=None,
                 trials=1, depth=2, primitives=None, encoder=None, relu_widths=(64, 64),
                 batch_per_step=None, t_per_step=None, steps_per_call=1, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        check_choice("head", head, HEADS)
        check_choice("method", method, METHODS)
        self.head_kind, self.method = head, method
        self.trials = check_int("trials", trials)
        self.steps_per_call = check_int("steps_per_call", steps_per_call)
        self.batch_per_step = check_int("batch_per_step", batch_per_step, allow_none=True)
        self.t_per_step = check_int("t_per_step", t_per_step, allow_none=True)
        self.t_range = tuple(float(v) for v in t_range)
        self.depth, self.primitives = depth, list(primitives or PRIMITIVES)
        self.encoder_options, self.relu_widths = dict(encoder or {}), tuple(relu_widths)
        self.seed = seed
        self.encoder = SpringEncoder(self.trials, seed=seed, name="encoder",
                                     **(encoder or {}))
        self.draws = keras.random.SeedGenerator(None if seed is None else int(seed) + 7919)
        if head == "relu":
            self.head = ReluHead(self.trials, relu_widths, seed=seed, name="relu")
            self.t_steps = None
            return
        if method == "stacked":
            self.t_steps = check_int("t_steps", t_steps)
            options = {"t_steps": self.t_steps, "t_range": list(self.t_range),
                       "smoothness": 0.0}
        else:
            self.t_steps = None
            options = {"t_range": list(self.t_range), "hidden": [64, 64, 256]}
        self.head = EqlNetwork(
            n_outputs=1, depth=depth, primitives=self.primitives,
            regularizer="l0", linear=method, skip=True, init_stddev=(1.0, 0.5, 0.5),
            trials=self.trials, seed=seed, linear_options=options, name="eql")

    @staticmethod
    def split(inputs):
        """``(images1, images2, t)`` of inputs laid out as in the class docstring;
        ``t`` is ``(batch, 1)`` or, gridded, ``(N, 1, 1)``."""
        inputs = tf.convert_to_tensor(inputs)
        n_pixels = (inputs.shape[-1] - 1) // 2
        t = inputs[:, -1:] if inputs.shape.rank == 2 else inputs[:, :1, -1:]
        return inputs[..., :n_pixels], inputs[..., n_pixels:2 * n_pixels], t

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.encoder.build((*shape[:-1], (shape[-1] - 1) // 2))
        n_in = 2 if self.head_kind == "eql" else 3
        self.head.build((*shape[:-1], n_in))

    def latents(self, inputs, training=None):
        """``(K, ..., 2)``: the latents ``z1, z2`` of each pair of ``inputs``."""
        first, second, _ = self.split(inputs)
        both = tf.stack([first, second], axis=-2)                     # (..., 2, P)
        return self.encoder(both, training=training)[..., 0]

    def call(self, inputs, training=None):
        inputs = tf.convert_to_tensor(inputs)
        z = self.latents(inputs, training=training)
        _, _, t = self.split(inputs)
        if self.head_kind == "eql":
            return self.head(z, context=t, training=training)
        t_column = tf.broadcast_to(inputs[..., -1:], tf.shape(z[..., :1]))
        return self.head(tf.concat([z, t_column], -1))

    def minibatch(self, x, y):
        """Random rows of gridded ``(N, per_step, .)`` data for one optimizer step:
        ``t_per_step`` distinct steps of ``t``, ``batch_per_step`` rows of each."""
        if x.shape.rank != 3:
            return x, y
        if self.t_per_step is not None and self.t_per_step < x.shape[0]:
            order = tf.argsort(keras.random.uniform((x.shape[0],), seed=self.draws))
            keep = order[: self.t_per_step]
            x, y = tf.gather(x, keep), tf.gather(y, keep)
        if self.batch_per_step is not None:
            rows = keras.random.randint((x.shape[0], self.batch_per_step), 0, x.shape[1],
                                        seed=self.draws)
            x = tf.gather(x, rows, axis=1, batch_dims=1)
            y = tf.gather(y, rows, axis=1, batch_dims=1)
        return x, y

    def train_step(self, data):
        x, y = data[0], data[1]
        variables = self.trainable_variables
        if not self.optimizer.built:
            self.optimizer.build(variables)

        def one_step(i, *_):
            xb, yb = self.minibatch(x, y)
            with tf.GradientTape() as tape:
                pred = self(xb, training=True)
                error = tf.reshape((pred - tf.cast(yb, pred.dtype)) ** 2, [self.trials, -1])
                per_trial = tf.reduce_mean(error, axis=1)
                ok = tf.math.is_finite(per_trial)
                data_loss = tf.reduce_sum(tf.where(ok, per_trial, tf.zeros_like(per_trial)))
                reg = tf.add_n(self.losses) if self.losses else tf.constant(0.0)
                total = data_loss + reg
            self.optimizer.apply(tape.gradient(total, variables), variables)
            return i + 1, data_loss, reg

        _, data_loss, reg = tf.while_loop(
            lambda i, *_: i < self.steps_per_call, one_step,
            (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))
        return {"loss": data_loss + reg, "data_loss": data_loss, "reg_loss": reg}

    def get_config(self):
        return {**super().get_config(), "head": self.head_kind, "method": self.method,
                "t_range": list(self.t_range), "t_steps": self.t_steps, "trials": self.trials,
                "depth": self.depth, "primitives": self.primitives,
                "encoder": self.encoder_options, "relu_widths": list(self.relu_widths),
                "batch_per_step": self.batch_per_step, "t_per_step": self.t_per_step,
                "steps_per_call": self.steps_per_call, "seed": self.seed}


# --------------------------------------------------------------------------------------
# Data, training, evaluation
# --------------------------------------------------------------------------------------
def layout(data):
    """``(n_t, n_per_t, 2 n_pixels + 1)`` float32 inputs of a :class:`SpringData`: the
    first image, the second image, then ``t``."""
    t = np.broadcast_to(data.t[:, None, None], (*data.psi1.shape, 1))
    return np.concatenate([data.images1, data.images2, t], -1).astype("float32")


def split_rows(n_t, n_per_t, fraction=HOLDOUT, seed=0):
    """Row indices ``(fit, held)`` of every t step: ``(n_t, n_fit)`` and ``(n_t, n_held)``,
    a random ``fraction`` (at least one row) held out at each step."""
    n_held = max(1, int(round(fraction * n_per_t)))
    if n_held >= n_per_t:
        raise ValueError(
            f"Invalid value for argument `n_per_t`: holding out {n_held} of {n_per_t} "
            f"pairs per step leaves none to train on. Received: n_per_t={n_per_t}"
        )
    order = np.argsort(np.random.default_rng(seed).random((n_t, n_per_t)), axis=1)
    return order[:, n_held:], order[:, :n_held]


def rows(array, index):
    """``array[j, index[j]]`` for every step ``j`` (``array`` of shape ``(n_t, n, ...)``)."""
    extra = (1,) * (array.ndim - 2)
    return np.take_along_axis(array, index.reshape(*index.shape, *extra), axis=1)


def train(model, inputs, targets, steps, head, steps_per_call=250, verbose=0, progress=None):
    """Train ``model`` on gridded ``inputs`` / ``targets``: for the EQL head the phases of
    :func:`deepsymreg.parametric.parametric_schedule` (warm-up, relaxed L0 with a
    threshold at its end, fine-tuning), for the ReLU head 80% of ``steps`` at learning
    rate 1e-3 then 20% at 1e-4; RMSprop. ``progress`` (a ``progress_bar``) hears of the
    steps, times the restarts."""
    if head == "eql":
        phases = parametric_schedule(steps)
    else:
        main = int(0.8 * steps)
        phases = [Phase(main, 1e-3), Phase(steps - main, 1e-4)]
    model.steps_per_call = math.gcd(steps_per_call, *[p.steps for p in phases])
    if not model.built:
        model.build(inputs.shape)
    model.compile(optimizer=RMSprop(phases[0].learning_rate, epsilon=1e-10), jit_compile=True)
    schedule = PhasedSchedule(phases)
    data = repeated((inputs, targets))
    model.fit(data, epochs=1, steps_per_epoch=schedule.batches_needed(model), shuffle=False,
              callbacks=[schedule, StepProgress(progress, model.trials or 1)], verbose=verbose)
    return model


def _chunked(fn, inputs, chunk):
    """``fn`` (compiled once) on ``chunk`` t steps of gridded ``inputs`` at a time, joined
    along axis 1 (the axis after the restarts)."""
    run = tf.function(fn, autograph=False)
    return np.concatenate([np.asarray(run(tf.constant(inputs[i:i + chunk])))
                           for i in range(0, inputs.shape[0], chunk)], axis=1)


def predict(model, inputs, chunk=16):
    """``(K, n_t, n, 1)`` predictions on gridded ``inputs`` (inference mode)."""
    return _chunked(lambda x: model(x, training=False), inputs, chunk)


def latents(model, inputs, chunk=16):
    """``(K, n_t, n, 2)`` latents ``z1, z2`` of gridded ``inputs`` (inference mode)."""
    return _chunked(lambda x: model.latents(x, training=False), inputs, chunk)


def per_trial_mse(pred, target):
    """Mean squared error of each restart, ``(K,)``; inf where not finite."""
    with np.errstate(all="ignore"):
        mse = np.mean((pred - target[None]) ** 2, axis=tuple(range(1, pred.ndim)))
    return np.where(np.isfinite(mse), mse, np.inf)


def fit_latents(z1, z2, psi1, psi2):
    """Each latent fitted linearly to its particle's position, ``psi_i = a_i z_i + b_i``.

    Returns ``{"z1": {"slope", "intercept", "r"}, "z2": {...}}`` (least squares; ``r`` the
    correlation of ``z_i`` with ``psi_i``).
    """
    out = {}
    for name, z, psi in (("z1", z1, psi1), ("z2", z2, psi2)):
        slope, intercept, r = latent_fit(z, psi)
        out[name] = {"slope": slope, "intercept": intercept, "r": r}
    return out


def in_positions(expr, fits, threshold=0.01):
    """The equation in the latents rewritten in the positions: ``z_i = (psi_i - b_i) / a_i``
    substituted from the linear ``fits`` (:func:`fit_latents`), expanded, terms with
    ``|coefficient| < threshold`` dropped."""
    z1, z2, psi1, psi2 = sympy.symbols("z1 z2 psi1 psi2")
    subs = {z: (psi - fits[name]["intercept"]) / fits[name]["slope"]
            for z, psi, name in ((z1, psi1, "z1"), (z2, psi2, "z2"))}
    return symbolic.clean(sympy.expand(sympy.sympify(expr).xreplace(subs)), threshold)


def true_law(target, t):
    """The true law at ``t`` in ``psi1, psi2`` (SymPy)."""
    psi1, psi2 = sympy.symbols("psi1 psi2")
    k = float(spring_constant(t))
    gap = psi2 - psi1
    return sympy.expand(-k * gap if target == "force" else k / 2 * gap**2)


def relative_error(expr, target, t, n=4000, seed=0):
    """RMS difference of an equation in ``psi1, psi2`` from the true law at ``t`` over
    ``psi1, psi2 ~ U(-3, 3)``, relative to the law's RMS."""
    symbols = sympy.symbols("psi1 psi2")
    x = np.random.default_rng(seed).uniform(-3, 3, (n, 2))
    want = symbolic.to_numpy_function(true_law(target, t), symbols)(x)
    got = symbolic.to_numpy_function(sympy.sympify(expr), symbols)(x)
    with np.errstate(all="ignore"):
        err = float(np.sqrt(np.mean((got - want) ** 2)) / np.sqrt(np.mean(want**2)))
    return err if np.isfinite(err) else float("inf")


def learned_k(expr_at, target, t_values, n=41):
    """``k(t)`` of the learned law: ``expr_at(t)`` (a function of ``psi (m, 2)``) fitted by
    least squares as ``-k (psi2 - psi1) + c`` (force) or ``k/2 (psi2 - psi1)^2 + c``
    (energy) on a grid of ``[-3, 3]^2``."""
    g = np.linspace(-3, 3, n)
    psi = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    gap = psi[:, 1] - psi[:, 0]
    basis = -gap if target == "force" else gap**2 / 2
    design = np.stack([basis, np.ones_like(basis)], 1)
    out = []
    for t in t_values:
        values = expr_at(float(t), psi)
        ok = np.all(np.isfinite(values))
        out.append(float(np.linalg.lstsq(design, values, rcond=None)[0][0]) if ok else np.nan)
    return np.array(out)


def _network_at(model, trial, fits, target_scale):
    """``f(t, psi (m, 2))``: the selected EQL head's prediction at positions ``psi``
    (mapped to latents by the inverse of the linear fits), in target units."""
    a = np.array([fits["z1"]["slope"], fits["z2"]["slope"]])
    b = np.array([fits["z1"]["intercept"], fits["z2"]["intercept"]])

    def at(t, psi):
        z = ((psi - b) / a).astype("float32")
        context = np.full((len(z), 1), t, "float32")
        out = model.head(tf.constant(z), context=tf.constant(context), training=False)
        return np.asarray(out)[trial, :, 0] * target_scale

    return at


def _key(t):
    return f"{t:.4g}"


def run(target, quick=False, method=None, baseline="relu", trials=None, steps=None, seed=0,
        size=None, verbose=0, log=print, progress=False):
    """Train, select and read the spring law; returns the JSON-ready result.

    Args:
        target: ``"force"`` or ``"energy"``.
        quick: the smaller :data:`SETTINGS` (otherwise the paper's 128 x 512 data).
        method: ``"stacked"`` or ``"meta"`` (default :data:`DEFAULT_METHOD`).
        baseline: ``"relu"`` or None.
        trials, steps: restarts and optimizer steps per restart (default: the settings').
        size: overrides of the settings (``n_t``, ``n_per_t``, ``n_extrapolation``,
            ``batch_per_step``, ``t_per_step``, ``relu_steps``); the tests' tiny runs.
        progress: show one progress bar over all the training (``log`` lines above it).
    """
    check_choice("target", target, TARGETS)
    method = method or DEFAULT_METHOD[target]
    check_choice("method", method, METHODS)
    check_choice("baseline", baseline, ("relu", None))
    start = time.time()
    settings = {**SETTINGS["quick" if quick else "full"], **(size or {})}
    unknown = set(size or {}) - set(SETTINGS["full"])
    if unknown:
        raise ValueError(
            f"Invalid value for argument `size`: unknown keys {sorted(unknown)}; expected "
            f"some of {sorted(SETTINGS['full'])}. Received: size={size!r}"
        )
    settings["trials"] = check_int("trials", trials or settings["trials"])
    settings["steps"] = check_int("steps", steps or settings["steps"])
    if steps and not (size or {}).get("relu_steps"):
        settings["relu_steps"] = settings["steps"]
    n_t, n_per_t, k_trials = settings["n_t"], settings["n_per_t"], settings["trials"]

    data = spring_images(n_t=n_t, n_per_t=n_per_t, region="train", t_range=T_RANGE, seed=seed)
    far = spring_images(n_t=n_t, n_per_t=settings["n_extrapolation"], region="extrapolation",
                        t_range=T_RANGE, seed=seed + 1)
    inputs, far_inputs = layout(data), layout(far)
    y = data.target(target)[..., None].astype("float32")
    y_far = far.target(target)[..., None]
    target_scale = float(np.sqrt(np.mean(y.astype(float) ** 2)))
    fit_rows, held_rows = split_rows(n_t, n_per_t, HOLDOUT, seed)
    x_fit, y_fit = rows(inputs, fit_rows), rows(y, fit_rows) / np.float32(target_scale)
    x_held, y_held = rows(inputs, held_rows), rows(y, held_rows)
    seconds = {"data": time.time() - start}

    common = dict(method=method, t_range=T_RANGE, t_steps=n_t if method == "stacked" else None,
                  trials=k_trials, batch_per_step=min(settings["batch_per_step"], x_fit.shape[1]),
                  t_per_step=settings["t_per_step"], seed=seed)
    heads = ["eql"] + (["relu"] if baseline == "relu" else [])
    planned = {"eql": settings["steps"], "relu": settings["relu_steps"]}
    bar = progress_bar(k_trials * sum(planned[h] for h in heads), bool(progress))
    log = bar.write if bar else log
    out = {}
    for head in heads:
        t0 = time.time()
        n_steps = settings["steps"] if head == "eql" else settings["relu_steps"]
        log(f"[springs] {target}: {head} head, {k_trials} restarts x {n_steps} steps")
        model = train(SpringModel(head=head, **common), x_fit, y_fit, n_steps, head,
                      verbose=verbose, progress=bar)
        held_mse = per_trial_mse(predict(model, x_held) * target_scale, y_held)
        if not np.any(np.isfinite(held_mse)):
            raise RuntimeError(f"Every {head} restart diverged (non-finite held-out error).")
        best = int(np.argmin(held_mse))
        z = latents(model, x_fit)[best]
        fits = fit_latents(z[..., 0], z[..., 1], rows(data.psi1, fit_rows), rows(data.psi2, fit_rows))
        far_pred = predict(model, far_inputs)[best] * target_scale
        held_pred = predict(model, x_held)[best] * target_scale
        out[head] = {"model": model, "best": best, "held_mse": held_mse, "fits": fits, "z": z,
                     "far_pred": far_pred[..., 0], "held_pred": held_pred[..., 0],
                     "far_mse": float(np.mean((far_pred - y_far) ** 2)),
                     "seconds": time.time() - t0}
        seconds[head] = out[head]["seconds"]

    eql = out["eql"]
    model, best, fits = eql["model"], eql["best"], eql["fits"]
    t0 = time.time()
    grid = np.linspace(*T_RANGE, n_t)
    equations, table, errors = {}, [], {}
    for i, at in enumerate(PAPER[target]["at"]):
        where = float(grid[np.argmin(np.abs(grid - at))]) if method == "stacked" else float(at)
        latent = symbolic.clean(
            sympy.expand(target_scale * model.head.to_sympy(["z1", "z2"], trial=best, t=where)),
            0.01)
        psi = in_positions(latent, fits)
        equations[_key(where)] = {"latents": str(symbolic.rounded(latent, 3)),
                                  "psi": str(symbolic.rounded(psi, 3))}
        errors[_key(where)] = relative_error(psi, target, where)
        table.append([where, str(symbolic.rounded(true_law(target, where), 3)),
                      equations[_key(where)]["latents"], equations[_key(where)]["psi"],
                      PAPER[target]["psi"][i]])
    curve_t = grid if method == "stacked" else np.linspace(*T_RANGE, 64)
    k_learned = learned_k(_network_at(model, best, fits, target_scale), target, curve_t)
    seconds["read"] = time.time() - t0

    # Samples for the figure: the selected restarts' latents and predictions.
    rng = np.random.default_rng(seed)
    pick = rng.choice(x_fit.shape[0] * x_fit.shape[1], size=min(600, x_fit[..., 0].size),
                      replace=False)
    psi_fit = np.stack([rows(data.psi1, fit_rows), rows(data.psi2, fit_rows)], -1).reshape(-1, 2)
    plot_steps = sorted({int(np.argmin(np.abs(grid - at))) for at in PAPER[target]["at"]})
    gap_held = rows(data.psi2 - data.psi1, held_rows)
    gap_far = far.psi2 - far.psi1
    plot = {"psi": _short(psi_fit[pick]), "t_steps": [float(grid[j]) for j in plot_steps]}
    for head, o in out.items():
        plot[head] = {
            "z": _short(o["z"].reshape(-1, 2)[pick]),
            "fits": o["fits"],
            "inside": [{"gap": _short(gap_held[j]), "true": _short(y_held[j, :, 0]),
                        "predicted": _short(o["held_pred"][j])} for j in plot_steps],
            "outside": [{"gap": _short(gap_far[j]), "true": _short(y_far[j, :, 0]),
                         "predicted": _short(o["far_pred"][j])} for j in plot_steps],
        }
    rs = [abs(fits[name]["r"]) for name in ("z1", "z2")]
    relu = out.get("relu")
    return {
        "latent_correlation": finite_or_none(min(rs)),
        "equations": equations,
        "extrapolation_mse": {"eql": finite_or_none(eql["far_mse"]),
                              "relu": None if relu is None else finite_or_none(relu["far_mse"])},
        "wall_seconds": time.time() - start,
        "target": target,
        "method": method,
        "quick": bool(quick),
        "latent_fit": fits,
        "relu_latent_correlation": None if relu is None else finite_or_none(
            min(abs(relu["fits"][n]["r"]) for n in ("z1", "z2"))),
        "psi_relative_error": errors,
        "held_out_mse": {h: finite_or_none(o["held_mse"][o["best"]]) for h, o in out.items()},
        "trial_held_out_mse": {h: [finite_or_none(v) for v in o["held_mse"]]
                               for h, o in out.items()},
        "selected_trial": {h: o["best"] for h, o in out.items()},
        "k_curve": {"t": curve_t.tolist(), "learned": [finite_or_none(v) for v in k_learned],
                    "true": spring_constant(curve_t).tolist()},
        "table": table,
        "seconds": seconds,
        "settings": {**settings, "target_scale": target_scale, "holdout": HOLDOUT,
                     "seed": seed, "baseline": baseline, "primitives": PRIMITIVES,
                     "encoder": "2 conv1d (8 filters, length 5, stride 2) + dense 32, 16, 1 "
                                "+ batch norm (no scale, no shift)",
                     "relu_widths": [64, 64]},
        "plot": plot,
    }


def _short(values):
    return [float(f"{v:.5g}") for v in np.asarray(values, float).ravel()]


# --------------------------------------------------------------------------------------
# Report and figure
# --------------------------------------------------------------------------------------
def _line(fit, var, digits):
    """``"psi1 = 1.62 z1 - 0.03"`` from a latent fit of ``var`` (``"z1"`` or ``"z2"``)."""
    sign = "-" if fit["intercept"] < 0 else "+"
    return (f"psi{var[-1]} = {fit['slope']:.{digits}f} {var} {sign} "
            f"{abs(fit['intercept']):.{digits}f}")


def report(result):
    """The printed comparison with the paper's Table IV or V."""
    s = result["settings"]
    label = {"stacked": "SEQL", "meta": "PEQL"}[result["method"]]
    number = "IV" if result["target"] == "force" else "V"
    mse = result["extrapolation_mse"]
    relu = "-" if mse["relu"] is None else f"{mse['relu']:.4g}"
    lines = [
        f"spring {result['target']}, {result['method']} ({label}): {s['trials']} restarts of "
        f"{s['steps']} steps, {s['n_t']} x {s['n_per_t']} training pairs, "
        f"{result['wall_seconds']:.0f} s",
        "  latent fit: " + ", ".join(
            f"{_line(f, n, 3)} (r = {f['r']:.4f})" for n, f in result["latent_fit"].items()),
        f"  extrapolation MSE (|psi2 - psi1| > 4): EQL {mse['eql']:.4g}, ReLU {relu}",
        f"  {'t':>7}  {'true':<26} {'ours (latents)':<40} {'ours (psi)':<44} "
        f"paper Table {number} (psi)",
    ]
    for where, true, latent, psi, paper in result["table"]:
        lines.append(f"  {where:>7.4g}  {true:<26} {latent:<40} {psi:<44} {paper}")
    return "\n".join(lines)


def plot(result, path):
    """The paper's Figs. 8-10 in one PNG: latents against positions (EQL, ReLU),
    predictions against ``psi2 - psi1`` inside and outside the training region (EQL,
    ReLU), and the learned ``k(t)`` against the truth."""
    from deepsymreg.reports import pyplot

    plt = pyplot()
    p = result["plot"]
    heads = [h for h in HEADS if h in p]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    psi = np.asarray(p["psi"]).reshape(-1, 2)
    name = {"eql": "EQL", "relu": "ReLU"}
    for col, head in enumerate(heads):
        ax = axes[0][col]
        z = np.asarray(p[head]["z"]).reshape(-1, 2)
        for i, var in enumerate(("z1", "z2")):
            f = p[head]["fits"][var]
            ax.plot(psi[:, i], z[:, i], ".", ms=2, alpha=0.5,
                    label=f"{_line(f, var, 2)} (r = {f['r']:.3f})")
        ax.set_xlabel("true position psi")
        ax.set_ylabel("latent z")
        ax.set_title(f"{name[head]}: latent against position", fontsize=10)
        ax.legend(fontsize=7)
        ax = axes[1][col]
        for j, t in enumerate(p["t_steps"]):
            color = f"C{j}"
            for part, marker in (("inside", "."), ("outside", "x")):
                d = p[head][part][j]
                ax.plot(d["gap"], d["predicted"], marker, ms=3, color=color,
                        label=f"t = {t:.2f}" if part == "inside" else None)
            gap = np.linspace(-6, 6, 121)
            k = float(spring_constant(t))
            ax.plot(gap, -k * gap if result["target"] == "force" else k / 2 * gap**2,
                    "-", lw=0.7, color=color)
        for edge in (-4, 4):
            ax.axvline(edge, color="k", lw=0.6, ls=":")
        ax.axvspan(-6, -4, color="red", alpha=0.07)
        ax.axvspan(4, 6, color="red", alpha=0.07)
        ax.set_xlabel("psi2 - psi1 (shaded: extrapolation, x markers)")
        ax.set_ylabel(result["target"])
        ax.set_title(f"{name[head]}: predicted (points) and true (lines)", fontsize=10)
        ax.legend(fontsize=7)
    for col in range(len(heads), 2):
        axes[0][col].axis("off")
        axes[1][col].axis("off")
    ax = axes[0][2]
    curve = result["k_curve"]
    learned = np.array([np.nan if v is None else v for v in curve["learned"]])
    ax.plot(curve["t"], learned, label="learned")
    ax.plot(curve["t"], curve["true"], "k--", label="true (5 - t)/2")
    ax.set_xlabel("t")
    ax.set_ylabel("k(t)")
    ax.set_title("spring constant", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[1][2]
    ax.plot(curve["t"], learned - np.asarray(curve["true"]), color="C3")
    ax.set_xlabel("t")
    ax.set_title("learned k - true k", fontsize=10)
    mse = result["extrapolation_mse"]
    relu = "" if mse["relu"] is None else f", ReLU {mse['relu']:.3g}"
    fig.suptitle(f"spring {result['target']} ({result['method']}): latent |r| >= "
                 f"{result['latent_correlation']:.3f}, extrapolation MSE EQL "
                 f"{mse['eql']:.3g}{relu}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=TARGETS, required=True)
    parser.add_argument("--quick", action="store_true",
                        help="32 x 128 training pairs, 6000 steps (under 5 minutes)")
    parser.add_argument("--baseline", choices=("relu", "none"), default="relu",
                        help="also train the ReLU head (default) or not")
    parser.add_argument("--method", choices=METHODS, default=None,
                        help="stacked (SEQL) or meta (PEQL); default: stacked for the force, "
                             "meta for the energy, as the paper")
    parser.add_argument("--trials", type=int, default=None, help="restarts (default 4)")
    parser.add_argument("--steps", type=int, default=None,
                        help="optimizer steps per restart, EQL and ReLU (default 10000; "
                             "quick 6000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", dest="json_path", help="write the results here")
    parser.add_argument("--figure", help="save the figure here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--n-t", type=int, default=None, help=argparse.SUPPRESS)  # tests
    parser.add_argument("--n-per-t", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("trials", "steps", "n_t", "n_per_t"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"argument --{name.replace('_', '-')}: expected a positive integer, "
                         f"got {value}")
    if args.steps is not None and args.steps < 10:
        parser.error(f"argument --steps: expected at least 10, got {args.steps}")
    size = {k: v for k, v in (("n_t", args.n_t), ("n_per_t", args.n_per_t)) if v is not None}
    if args.n_per_t is not None:
        size["n_extrapolation"] = args.n_per_t
    result = run(args.target, quick=args.quick, method=args.method,
                 baseline=None if args.baseline == "none" else "relu", trials=args.trials,
                 steps=args.steps, seed=args.seed, size=size, progress=on_terminal(args.quiet))
    print(report(result))
    save_outputs(result, args.json_path, args.figure, plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
