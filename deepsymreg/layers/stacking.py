"""Helpers for weights with a leading *stack* axis.

A stack axis of size ``K`` holds ``K`` independent weight sets: random restarts trained
together in one graph, or the steps of a stacked EQL. Inputs of shape ``(batch, in)``
are shared by all ``K`` sets; inputs of shape ``(K, batch, in)`` are per set.
"""

from __future__ import annotations

import tensorflow as tf

from deepsymreg._validation import check_int


def check_n_stack(n_stack):
    return check_int("n_stack", n_stack, allow_none=True)


def stacked_shape(n_stack, shape):
    return tuple(shape) if n_stack is None else (n_stack, *shape)


def stacked_matmul(inputs, kernel, n_stack):
    """``inputs @ kernel`` for plain or stacked kernels (see module docstring)."""
    if n_stack is None:
        return tf.matmul(inputs, kernel) if inputs.shape.rank == 2 else tf.tensordot(
            inputs, kernel, axes=[[inputs.shape.rank - 1], [0]]
        )
    rank = inputs.shape.rank
    if rank == 2:
        return tf.einsum("bi,kio->kbo", inputs, kernel)
    if rank == 3:
        return tf.matmul(inputs, kernel)
    raise ValueError(
        f"A layer with n_stack={n_stack} takes inputs of shape (batch, in) or "
        f"({n_stack}, batch, in). Received input shape {inputs.shape}"
    )


def stacked_output_shape(input_shape, units, n_stack):
    input_shape = tuple(input_shape)
    if n_stack is None:
        return (*input_shape[:-1], units)
    if len(input_shape) == 2:
        return (n_stack, input_shape[0], units)
    return (*input_shape[:-1], units)


def broadcast_to_stack(inputs, n_stack, like):
    """Give ``(batch, n)`` inputs a leading stack axis matching ``like`` (K, batch, m)."""
    if n_stack is None or inputs.shape.rank == like.shape.rank:
        return inputs
    return tf.broadcast_to(inputs[None], tf.concat([[n_stack], tf.shape(inputs)], 0))


def assign_entries(variable, values, index=None):
    """Assign ``values`` to all of ``variable``, or to its stack entry ``index``.

    With ``index``, ``values`` has the shape of one entry (``variable.shape[1:]``) or of
    the whole variable (then only entry ``index`` is taken from it).
    """
    values = tf.cast(values, variable.dtype)
    if index is None:
        variable.assign(tf.broadcast_to(values, variable.shape))
        return
    if values.shape.rank == len(variable.shape):
        values = values[index]
    variable.assign(tf.tensor_scatter_nd_update(tf.convert_to_tensor(variable), [[index]], values[None]))


__all__ = [
    "check_n_stack",
    "stacked_shape",
    "stacked_matmul",
    "stacked_output_shape",
    "broadcast_to_stack",
    "assign_entries",
]
