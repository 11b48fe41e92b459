"""`DigitArithmetic`: arithmetic on images of digits (Kim et al. 2020, §III-B)."""

from __future__ import annotations

import keras
import tensorflow as tf

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

    Call arguments:
        images: ``(batch, n_digits, 28, 28)``.

    Output shape: ``(batch, 1)``.
    """

    def __init__(self, n_digits=2, head="eql", eql=None, relu_widths=(50, 50), scale=9.0,
                 offset=9.0, **kwargs):
        super().__init__(**kwargs)
        check_choice("head", head, HEADS)
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
            self.head = EqlNetwork(n_outputs=1, name="eql", **self.eql_kwargs)
        else:
            self.head = relu_mlp(self.relu_widths, 1, name="relu")

    def build(self, input_shape):
        if not self.encoder.built:  # encode() may have built it already
            self.encoder.build((None, 28, 28))
        if not self.head.built:
            self.head.build((None, self.n_digits))

    def encode(self, images, training=False):
        """Latent of each single image: ``(batch, 28, 28)`` -> ``(batch,)``."""
        return self.encoder(images, training=training)[:, 0]

    def latents(self, images, training=False):
        """Latents of every image of every example: ``(batch, n_digits)``."""
        images = tf.convert_to_tensor(images)
        flat = tf.reshape(images, [-1, 28, 28])
        return tf.reshape(self.encode(flat, training=training), [-1, self.n_digits])

    def call(self, images, training=None):
        z = self.latents(images, training=training)
        return self.scale * self.head(z, training=training) + self.offset

    def to_sympy(self, var_names=None, threshold=0.01):
        """The learned combination of the latents as SymPy (EQL head only)."""
        if self.head_kind != "eql":
            raise ValueError(
                f"to_sympy needs head='eql'; this model's head is {self.head_kind!r}."
            )
        names = var_names or [f"z{i + 1}" for i in range(self.n_digits)]
        return self.scale * self.head.to_sympy(names, threshold=threshold) + self.offset

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
        }
