"""`DynamicsModel`: dynamics encoder + propagating decoder (Kim et al. 2020, §III-C)."""

from __future__ import annotations

import keras
import sympy
import tensorflow as tf

from deepsymreg import symbolic
from deepsymreg._validation import check_choice, check_int, check_saved_format
from deepsymreg.layers.eql_cell import EqlCell, EqlRNN
from deepsymreg.layers.mlp_cell import MlpCell, check_widths
from deepsymreg.models.encoders import DynamicsEncoder

DECODERS = ("eql", "relu")
# Version of the saved form: 2 since the EQL decoder holds EqlNetwork layers.
_FORMAT = 2


@keras.saving.register_keras_serializable(package="deepsymreg")
class DynamicsModel(keras.Model):
    """Learns a hidden parameter and the update rule of a dynamical system end to end.

    A :class:`DynamicsEncoder` reads an input series and outputs a latent ``z`` (the
    system's hidden parameter, up to an affine map). A recurrent propagating decoder
    starts from an initial state ``y0`` and predicts the following states one step at
    a time from ``(state, z)``: an :class:`EqlCell` (one EQL network per state
    variable, so the update rule can be read as equations) or, as the papers'
    baseline, a ReLU :class:`MlpCell`.

    Args:
        n_state: number of state variables (2 for position and velocity).
        horizon: number of predicted steps ``T_y`` of :meth:`call` (the training
            horizon; :meth:`propagate` predicts any number of steps).
        decoder: ``"eql"`` or ``"relu"``.
        eql: keyword arguments of the cell's EQL networks (see :class:`EqlCell`).
        relu_widths: hidden widths of the ReLU decoder.
        latent_dim: size of ``z``.
        constant_input: also feed the decoder a constant 1 at every step, next to the
            state and ``z`` (as the authors' code does): every first-layer unit of the
            EQL networks then has a bias (see docs/results.md for what it did in
            oscillator probes).
        residual: the decoder predicts the change of the state, ``s_{t+1} = s_t +
            cell(s_t, z)`` (see :class:`EqlCell`); the equations still read as the
            update rule ``s_{t+1} = ...``.

    Call arguments:
        inputs: a pair ``(series, y0)``: ``(batch, T_x, features)`` and
            ``(batch, n_state)``.

    Output shape: ``(batch, horizon, n_state)``, states ``1..horizon``. Only the first
    :attr:`rollout_steps` of them are predicted; the rest are zeros (see below).

    Attributes:
        rollout_steps: non-trainable int variable (starts at ``horizon``): how many of
            the ``horizon`` steps :meth:`call` predicts. A horizon curriculum sets it
            together with the loss's horizon (``HorizonCurriculum(model.rollout_steps,
            ...)``). The decoder is not run past it, and that matters: an update rule
            fitted on one step can overflow to inf when iterated 25 times, and a loss
            that only *masks* those steps still gets ``inf * 0 = NaN`` in its value and
            its gradient (in our oscillator probes this caused nearly every "NaN
            restart"). :meth:`propagate` always predicts every step it is asked for.
    """

    def __init__(self, n_state=2, horizon=1, decoder="eql", eql=None, relu_widths=(50, 50),
                 latent_dim=1, constant_input=False, residual=False, **kwargs):
        super().__init__(**kwargs)
        check_choice("decoder", decoder, DECODERS)
        self.n_state = check_int("n_state", n_state)
        self.horizon = check_int("horizon", horizon)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.constant_input = bool(constant_input)
        self.residual = bool(residual)
        self.decoder_kind = decoder
        if eql is not None and not isinstance(eql, dict):
            raise ValueError(
                "Invalid value for argument `eql`: expected None or a dict of EqlNetwork "
                f"arguments. Received: eql={eql!r}"
            )
        self.eql_kwargs = dict(eql or {})
        self.relu_widths = check_widths("relu_widths", relu_widths)
        self.encoder = DynamicsEncoder(self.latent_dim, name="encoder")
        self.rollout_steps = keras.Variable(
            self.horizon, trainable=False, dtype="int32", name="rollout_steps"
        )
        if decoder == "eql":
            self.cell = EqlCell(self.n_state, eql=self.eql_kwargs,
                                             residual=self.residual, name="eql_cell")
            self.decoder = EqlRNN(self.cell, return_sequences=True, name="decoder")
        else:
            self.cell = MlpCell(self.n_state, self.relu_widths, residual=self.residual,
                                name="relu_cell")
            self.decoder = keras.layers.RNN(self.cell, return_sequences=True, name="decoder")

    def build(self, input_shape):
        series_shape, _ = input_shape
        if not self.encoder.built:  # encode() may have built it already
            self.encoder.build(tuple(series_shape))
        if not self.decoder.built:
            self.decoder.build((None, None, self.latent_dim + self.constant_input))

    def encode(self, series, training=False):
        """The latent ``z`` of each series: ``(batch, latent_dim)``."""
        return self.encoder(series, training=training)

    def _step_input(self, z):
        return tf.concat([z, tf.ones_like(z[:, :1])], -1) if self.constant_input else z

    def propagate(self, series, y0, steps, training=False):
        """Predicted states ``1..steps`` from ``y0``: ``(batch, steps, n_state)``."""
        steps = check_int("steps", steps)
        z = self.encode(series, training=training)
        inputs = tf.repeat(self._step_input(z)[:, None, :], steps, axis=1)
        y0 = tf.cast(y0, z.dtype)
        return self.decoder(inputs, initial_state=[y0], training=training)

    def _unroll(self, step_input, y0, steps, active, training=None):
        """States ``1..steps`` from ``y0``; the cell runs for the first ``active`` steps
        only (a ``tf.cond`` per step, so nothing past them is computed, forward or
        backward) and later steps are zeros. Static shapes, so it compiles with XLA."""
        y0 = tf.cast(y0, step_input.dtype)
        out = tf.TensorArray(step_input.dtype, size=steps, element_shape=y0.shape)

        def body(t, state, out):
            new = tf.cond(
                t < active,
                lambda: self.cell(step_input, [state], training=training)[0],
                lambda: tf.zeros_like(state),
            )
            return t + 1, new, out.write(t, new)

        _, _, out = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), y0, out), maximum_iterations=steps
        )
        return tf.transpose(out.stack(), [1, 0, 2])

    def call(self, inputs, training=None):
        series, y0 = inputs
        z = self.encode(series, training=training)
        active = tf.minimum(tf.cast(self.rollout_steps, tf.int32), self.horizon)
        out = self._unroll(self._step_input(z), y0, self.horizon, active, training=training)
        if self.decoder_kind == "eql":
            # What EqlRNN does for propagate(): the penalty once per sequence.
            self.add_loss(self.cell.penalty())
        return out

    def to_sympy(self, state_names=("u", "v"), latent_names=None, threshold=0.01):
        """The learned update rule, one SymPy expression per state variable (EQL only)."""
        if self.decoder_kind != "eql":
            raise ValueError(
                "to_sympy needs decoder='eql'; this model's decoder is "
                f"{self.decoder_kind!r}."
            )
        names = list(state_names)[: self.n_state] if state_names else None
        latent = list(latent_names) if latent_names else (
            ["z"] if self.latent_dim == 1 else [f"z{i}" for i in range(self.latent_dim)]
        )
        if not self.constant_input:
            return self.cell.to_sympy(names, latent, threshold=threshold)
        one = sympy.Dummy("one")
        exprs = self.cell.to_sympy(names, [*latent, one], threshold=threshold)
        return [symbolic.clean(e.subs(one, 1), threshold) for e in exprs]

    def get_config(self):
        return {
            **super().get_config(),
            "n_state": self.n_state,
            "horizon": self.horizon,
            "decoder": self.decoder_kind,
            "eql": self.cell.get_config()["eql"] if self.decoder_kind == "eql" else {},
            "relu_widths": self.relu_widths,
            "latent_dim": self.latent_dim,
            "constant_input": self.constant_input,
            "residual": self.residual,
            "format": _FORMAT,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**check_saved_format(cls.__name__, dict(config), _FORMAT))
