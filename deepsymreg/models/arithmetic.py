"""`DigitArithmetic`: arithmetic on images of digits (Kim et al. 2020, §III-B)."""

from __future__ import annotations

import keras
import numpy as np
import sympy
import tensorflow as tf

from deepsymreg import symbolic
from deepsymreg._validation import check_choice, check_int, check_number
from deepsymreg.layers.mlp_cell import check_widths
from deepsymreg.models.encoders import DigitEncoder, relu_mlp
from deepsymreg.layers.network import EqlNetwork

HEADS = ("eql", "relu")


@keras.saving.register_keras_serializable(package="deepsymreg")
class DigitArithmetic(keras.Model):
    """Images of digits -> one latent per digit -> a head that combines the latents.

    Every image goes through the same :class:`DigitEncoder` (shared weights) to an
    unconstrained scalar ``z_i``; the head maps ``(z_1, ..., z_n)`` to the answer. With
    an EQL head the combination can be read as an equation (:meth:`to_sympy`); the
    ReLU head is the papers' baseline. The head's output ``y*`` is rescaled to
    ``y = scale * y* + offset`` (the paper uses 9 and 9 for sums of two digits, so the
    EQL works on targets in [-1, 1]).

    Args:
        n_digits: number of images per example.
        head: ``"eql"`` or ``"relu"``.
        eql: keyword arguments of the EQL head, an
            :class:`~deepsymreg.layers.EqlNetwork` (``depth``, ``primitives``, ...).
        relu_widths: hidden widths of the ReLU head.
        scale, offset: output rescaling.
        trials: ``None`` or the number K of EQL heads trained side by side on the one
            shared encoder (a portfolio of restarts of the head: head ``k`` drawn from
            the EQL's ``seed + k``). Training minimizes the sum of the heads' MSE (and
            their penalties); inference uses the selected head
            (:meth:`select_trial`, head 0 until one is selected).

    Call arguments:
        images: ``(batch, n_digits, 28, 28)``.

    Output shape: ``(batch, 1)``; ``(batch, trials)`` in training with ``trials`` (one
    column per head).
    """

    def __init__(self, n_digits=2, head="eql", eql=None, relu_widths=(50, 50), scale=9.0,
                 offset=9.0, trials=None, **kwargs):
        super().__init__(**kwargs)
        check_choice("head", head, HEADS)
        self.trials = check_int("trials", trials, allow_none=True)
        if self.trials is not None and head != "eql":
            raise ValueError(
                "Invalid value for argument `trials`: a portfolio of heads needs head='eql'. "
                f"Received: trials={trials!r} with head={head!r}"
            )
        self.n_digits = check_int("n_digits", n_digits)
        self.head_kind = head
        if eql is not None and not isinstance(eql, dict):
            raise ValueError(
                "Invalid value for argument `eql`: expected None or a dict of EqlNetwork "
                f"arguments. Received: eql={eql!r}"
            )
        self.eql_kwargs = dict(eql or {})
        if "n_outputs" in self.eql_kwargs or "trials" in self.eql_kwargs:
            raise ValueError(
                "Invalid value for argument `eql`: `n_outputs` and `trials` are set by the "
                f"model. Received: eql={eql!r}"
            )
        self.relu_widths = check_widths("relu_widths", relu_widths)
        self.scale = check_number("scale", scale)
        self.offset = check_number("offset", offset)
        self.encoder = DigitEncoder(1, name="encoder")
        if head == "eql":
            self.head = EqlNetwork(n_outputs=1, name="eql", trials=self.trials,
                                   **self.eql_kwargs)
        else:
            self.head = relu_mlp(self.relu_widths, 1, name="relu")

    def build(self, input_shape):
        if not self.encoder.built:  # encode() may have built it already
            self.encoder.build((None, 28, 28))
        if not self.head.built:
            self.head.build((None, self.n_digits))
        k = self.trials or 1
        self.selected_trial = self.add_weight(
            name="selected_trial", shape=(), dtype="int32", trainable=False,
            initializer="zeros")
        self.trial_loss = self.add_weight(
            name="trial_loss", shape=(k,), trainable=False, initializer="zeros")

    def encode(self, images, training=False):
        """Latent of each single image: ``(batch, 28, 28)`` -> ``(batch,)``."""
        return self.encoder(images, training=training)[:, 0]

    def latents(self, images, training=False):
        """Latents of every image of every example: ``(batch, n_digits)``."""
        images = tf.convert_to_tensor(images)
        flat = tf.reshape(images, [-1, 28, 28])
        return tf.reshape(self.encode(flat, training=training), [-1, self.n_digits])

    def call(self, images, training=None):
        out = self._rescaled_head(self.latents(images, training=training), training)
        if self.trials is None:
            return out
        if training:
            return tf.transpose(out[..., 0])  # (batch, trials)
        return tf.gather(out, self.selected_trial)

    def _rescaled_head(self, z, training=None):
        """``scale * head(z) + offset``: ``(batch, 1)``, or ``(trials, batch, 1)``."""
        return self.scale * self.head(z, training=training) + self.offset

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """With ``trials`` in training: the sum of the heads' MSE (each kept in
        :attr:`trial_loss`) plus the penalties; otherwise Keras' compiled loss."""
        if self.trials is None or not training:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        if sample_weight is not None:
            raise ValueError("DigitArithmetic(trials=K) does not take sample weights.")
        y = tf.reshape(tf.cast(y, y_pred.dtype), [-1, 1])
        per_trial = tf.reduce_mean(tf.square(y_pred - y), axis=0)
        self.trial_loss.assign(per_trial)
        total = tf.reduce_sum(per_trial)
        return total + tf.add_n(self.losses) if self.losses else total

    # -- a portfolio of heads ----------------------------------------------------------
    def trial_errors(self, images, targets, batch_size=500):
        """Mean absolute error of every head on ``(images, targets)``: ``(trials,)``."""
        images = tf.convert_to_tensor(images, "float32")
        targets = np.asarray(targets, "float32").reshape(-1)
        outs = []
        for start in range(0, len(targets), batch_size):
            out = self._rescaled_head(self.latents(images[start:start + batch_size]))
            outs.append(np.asarray(out).reshape(self.trials or 1, -1))
        pred = np.concatenate(outs, axis=1)
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.mean(np.abs(pred - targets[None]), axis=1)
        return np.where(np.isfinite(err), err, np.inf)

    def select_trial(self, images, targets, near=None):
        """Keep the head with the lowest MAE on ``(images, targets)`` (e.g. a held-out
        slice of sums); returns every head's MAE.

        With ``near`` (relative, e.g. 0.1), heads within ``(1 + near)`` of the lowest
        MAE are tied and the simplest equation (fewest SymPy nodes,
        :func:`deepsymreg.symbolic.complexity`) wins: a choice that needs no held-out
        sums."""
        if near is not None:
            near = check_number("near", near, 0.0)
        if not self.built:
            self.build((None, self.n_digits, 28, 28))
        errors = self.trial_errors(images, targets)
        best = int(np.argmin(errors))
        if near is not None and np.isfinite(errors[best]):
            tied = [k for k in range(len(errors)) if errors[k] <= errors[best] * (1.0 + near)]
            best = min(tied, key=lambda k: (symbolic.complexity(self.to_sympy(trial=k)), errors[k]))
        self.selected_trial.assign(best)
        return errors

    def to_sympy(self, var_names=None, threshold=0.01, trial=None):
        """The learned combination of the latents as SymPy (EQL head only); with
        ``trials``, of head ``trial`` (default: the selected head)."""
        if self.head_kind != "eql":
            raise ValueError(
                f"to_sympy needs head='eql'; this model's head is {self.head_kind!r}."
            )
        names = var_names or [f"z{i + 1}" for i in range(self.n_digits)]
        if self.trials is not None and trial is None:
            trial = int(self.selected_trial.numpy())
        return self.scale * self.head.to_sympy(names, threshold=threshold, trial=trial) + self.offset

    def polished_sympy(self, images, targets, tolerance=1e-3, trial=None, batch_size=500):
        """The head's equation with its additive terms refitted by least squares on the
        latents of ``(images, targets)``, and the terms the fit does not need dropped
        (:func:`deepsymreg.symbolic.polish`, with every latent as a candidate term, so
        a sine or exponential used in its near-linear range can give way to the line).

        ``tolerance`` is the allowed rise of the mean squared error, relative to the
        targets' variance (1e-3: for sums of two digits, variance about 10, an RMS
        change of about 0.1, a fifth of the rounding margin). Returns SymPy in
        ``z1 .. zn``.
        """
        tolerance = check_number("tolerance", tolerance, 0.0)
        names = [f"z{i + 1}" for i in range(self.n_digits)]
        expr = self.to_sympy(names, trial=trial)
        z = self.equation_inputs(images, batch_size)
        symbols = sympy.symbols(names)
        return symbolic.polish(expr, symbols, z, np.asarray(targets, float).reshape(-1),
                               tolerance=tolerance, extra_terms=symbols)

    def equation_inputs(self, images, batch_size=500):
        """The latents as float64 NumPy, ``(batch, n_digits)``: what :meth:`to_sympy`'s
        and :meth:`polished_sympy`'s equations read."""
        images = tf.convert_to_tensor(images, "float32")
        return np.concatenate([self.latents(images[i:i + batch_size]).numpy()
                               for i in range(0, len(images), batch_size)]).astype(float)

    def get_config(self):
        eql = dict(self.eql_kwargs)
        if self.head_kind == "eql":
            reg = self.head.regularizer
            eql["regularizer"] = keras.regularizers.serialize(reg) if reg is not None else None
            eql.pop("reg_lambda", None)
        return {
            **super().get_config(),
            "n_digits": self.n_digits,
            "head": self.head_kind,
            "eql": eql,
            "relu_widths": self.relu_widths,
            "scale": self.scale,
            "offset": self.offset,
            "trials": self.trials,
        }
