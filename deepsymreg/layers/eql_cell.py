"""`EqlCell`: a recurrent cell whose update rule is one EQL network per state variable."""

from __future__ import annotations

import keras
import sympy
import tensorflow as tf

from deepsymreg import regularizers as regularizers_lib
from deepsymreg._validation import check_int, check_saved_format
from deepsymreg.layers.network import EqlNetwork


# Version of the saved form: 2 since the cell holds EqlNetwork layers (0.1 held EQL models).
_FORMAT = 2


@keras.saving.register_keras_serializable(package="deepsymreg")
class EqlCell(keras.layers.Layer):
    """Recurrent cell ``s_{t+1, i} = EQL_i([s_t, x_t])`` for use with ``keras.layers.RNN``.

    The propagating decoder of Kim et al. (2020, §III-C): each state variable has its own
    EQL network reading the whole current state and the step's input (e.g. a latent
    parameter ``z`` repeated over time). Unrolled by ``keras.layers.RNN`` it predicts a
    trajectory one step at a time; :meth:`to_sympy` reads the learned update rule.

    Args:
        n_state: number of state variables.
        eql: keyword arguments of every :class:`~deepsymreg.layers.EqlNetwork` (``depth``,
            ``primitives``, ``regularizer``, ``seed`` ...). A regularizer given by name is
            created once and shared, so one lambda governs the whole cell; with a
            ``seed``, state variable ``i``'s network uses ``seed + i``.
        residual: predict the change of the state, ``s_{t+1, i} = s_{t, i} +
            EQL_i([s_t, x_t])`` (the form of an explicit integrator), instead of the
            next state itself. :meth:`to_sympy` includes the ``s_{t, i} +``.

    Call arguments:
        inputs: ``(batch, n_inputs)`` the step's input.
        states: ``[(batch, n_state)]``.

    Output shape:
        ``(batch, n_state)``, the next state (also the new cell state).

    Example:

    >>> cell = EqlCell(2, eql={"depth": 1, "primitives": ["identity", "product10"]})
    >>> rnn = EqlRNN(cell, return_sequences=True)
    >>> rnn(np.zeros((4, 7, 1), "float32"), initial_state=[np.ones((4, 2), "float32")]).shape
    TensorShape([4, 7, 2])
    """

    def __init__(self, n_state, eql=None, residual=False, **kwargs):
        super().__init__(**kwargs)
        self.residual = bool(residual)
        if eql is not None and not isinstance(eql, dict):
            raise ValueError(
                "Invalid value for argument `eql`: expected None or a dict of EqlNetwork "
                f"arguments. Received: eql={eql!r}"
            )
        eql = dict(eql or {})
        if "n_outputs" in eql or "trials" in eql:
            raise ValueError(
                "Invalid value for argument `eql`: `n_outputs` and `trials` are set by "
                f"the cell. Received: eql={eql!r}"
            )
        self.n_state = check_int("n_state", n_state)
        self.eql_kwargs = eql
        reg = eql.get("regularizer", "l05")
        shared = reg if isinstance(reg, keras.regularizers.Regularizer) else (
            regularizers_lib.get(reg, reg_lambda=eql.get("reg_lambda", 0.0))
            if not isinstance(reg, dict)
            else keras.regularizers.deserialize(reg)
        )
        options = {k: v for k, v in eql.items() if k not in ("regularizer", "reg_lambda", "seed")}
        seed = check_int("seed", eql.get("seed"), minimum=0, allow_none=True)
        # Each state variable's network gets its own seed (seed + i): equal seeds would
        # start all of them from the same weights.
        self.eqls = [
            EqlNetwork(n_outputs=1, regularizer=shared, name=f"eql_{i}",
                seed=None if seed is None else int(seed) + i, **options)
            for i in range(self.n_state)
        ]
        self.state_size = self.n_state
        self.output_size = self.n_state

    def build(self, input_shape):
        width = self.n_state + int(input_shape[-1])
        for network in self.eqls:
            network.build((None, width))
            # Losses added inside the RNN's step loop cannot leave it: EqlRNN adds
            # `penalty()` once per sequence instead.
            network.defer_penalty = True

    def penalty(self):
        """The sparsity penalty of all the cell's weights (added once by :class:`EqlRNN`)."""
        return tf.add_n([network.penalty() for network in self.eqls])

    def call(self, inputs, states, training=None):
        state = states[0] if isinstance(states, (list, tuple)) else states
        full = tf.concat([state, inputs], axis=-1)
        new = tf.concat([model(full, training=training) for model in self.eqls], axis=-1)
        if self.residual:
            new = state + new
        return new, [new]

    def to_sympy(self, state_names=None, input_names=None, threshold=0.01):
        """The update rule: one SymPy expression per state variable.

        Names default to ``u0, u1, ...`` for the state and ``z0, ...`` for the inputs.
        """
        n_inputs = self.eqls[0].n_inputs - self.n_state
        state_names = list(state_names or [f"u{i}" for i in range(self.n_state)])
        input_names = list(input_names or [f"z{i}" for i in range(n_inputs)])
        names = state_names + input_names
        exprs = [model.to_sympy(names, threshold=threshold) for model in self.eqls]
        if self.residual:
            exprs = [sympy.Symbol(name) + e for name, e in zip(state_names, exprs)]
        return exprs

    def get_config(self):
        eql = dict(self.eql_kwargs)
        reg = self.eqls[0].regularizer
        eql["regularizer"] = keras.regularizers.serialize(reg) if reg is not None else None
        eql.pop("reg_lambda", None)
        return {**super().get_config(), "n_state": self.n_state, "eql": eql,
                "residual": self.residual, "format": _FORMAT}

    @classmethod
    def from_config(cls, config):
        return cls(**check_saved_format(cls.__name__, dict(config), _FORMAT))


@keras.saving.register_keras_serializable(package="deepsymreg")
class EqlRNN(keras.layers.RNN):
    """``keras.layers.RNN`` over an :class:`EqlCell` that adds the cell's penalty once.

    Use it instead of ``keras.layers.RNN(EqlCell(...))`` whenever the cell's EQL
    networks are regularized: the penalty of the weights is added to the model's losses
    once per call, not once per time step, and from outside the step loop.

    Args:
        cell: an :class:`EqlCell`.
        **kwargs: as for ``keras.layers.RNN`` (``return_sequences=True`` is typical).
    """

    def __init__(self, cell, **kwargs):
        if isinstance(cell, dict):
            cell = keras.saving.deserialize_keras_object(cell)
        if not isinstance(cell, EqlCell):
            raise ValueError(
                f"Invalid value for argument `cell`: expected an EqlCell. Received: cell={cell!r}"
            )
        super().__init__(cell, **kwargs)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        out = super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        self.add_loss(self.cell.penalty())
        return out
