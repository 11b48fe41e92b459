"""`MlpCell`: the ReLU baseline of the propagating decoder."""

from __future__ import annotations

import keras
import tensorflow as tf

from deepsymreg._validation import check_int


def check_widths(name, widths):
    """``widths`` as a list of ints, or a ValueError naming ``name`` if it is not a list
    of positive integers (an empty list is allowed: no hidden layer)."""
    try:
        values = None if isinstance(widths, str) else list(widths)
    except TypeError:
        values = None
    if values is None:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a list of positive integers. "
            f"Received: {name}={widths!r}"
        )
    return [check_int(name, w) for w in values]


@keras.saving.register_keras_serializable(package="deepsymreg")
class MlpCell(keras.layers.Layer):
    """Recurrent cell ``s_{t+1} = MLP([s_t, x_t])`` with ReLU hidden layers.

    The conventional network the papers put in place of the :class:`EqlCell` to show
    what an equation buys: it fits the training horizon but has no reason to
    extrapolate. ``MlpCell(2, [50, 50])`` is the kinematics baseline, ``[50] * 4`` the
    oscillator one.

    Args:
        n_state: number of state variables.
        widths: widths of the ReLU hidden layers.
        residual: predict the change of the state, ``s_{t+1} = s_t + MLP([s_t, x_t])``.

    Call arguments:
        inputs: ``(batch, n_inputs)``; states: ``[(batch, n_state)]``.

    Output shape: ``(batch, n_state)``, the next state (also the new cell state).
    """

    def __init__(self, n_state, widths=(50, 50), residual=False, **kwargs):
        super().__init__(**kwargs)
        self.residual = bool(residual)
        self.n_state = check_int("n_state", n_state)
        self.widths = check_widths("widths", widths)
        self.hidden = [
            keras.layers.Dense(w, activation="relu", name=f"dense_{i}")
            for i, w in enumerate(self.widths)
        ]
        self.out = keras.layers.Dense(self.n_state, name="next_state")
        self.state_size = self.n_state
        self.output_size = self.n_state

    def build(self, input_shape):
        shape = (None, self.n_state + int(input_shape[-1]))
        for layer in self.hidden:
            layer.build(shape)
            shape = (None, layer.units)
        self.out.build(shape)

    def call(self, inputs, states, training=None):
        state = states[0] if isinstance(states, (list, tuple)) else states
        h = tf.concat([state, inputs], axis=-1)
        for layer in self.hidden:
            h = layer(h)
        new = self.out(h)
        if self.residual:
            new = state + new
        return new, [new]

    def get_config(self):
        return {**super().get_config(), "n_state": self.n_state, "widths": self.widths,
                "residual": self.residual}
