"""Leading weight axes with roles: ``trials`` (restarts) and ``t_steps`` (parameter steps).

A linear map may hold several weight sets in front of its ``(in, out)`` kernel:

- ``trials = K``: ``K`` independent random restarts trained together in one graph. No
  penalty or gate ever couples two trials; :meth:`initialize_entry` draws one trial.
- ``t_steps = N``: one weight set per step ``t_1 .. t_N`` of a parameter grid (the
  stacked EQL). Gates may be shared along this axis, and a smoothness penalty ties
  adjacent steps together.

Weights have shape ``(*lead, in, out)`` with ``lead = (K?, N?)`` in this order, so the
step axis is always the third from the end of a kernel. Inputs are ``(batch, in)``
(shared by every set), ``(*lead, batch, in)`` (one batch per set) or, with both axes,
``(N, batch, in)`` (one batch per step, shared by the trials); outputs are
``(*lead, batch, out)``.

Kernels that depend on a parameter ``t`` (linear kinds with ``takes_context``) receive
``t`` as a *context* in one of two layouts, and produce one matrix per context entry:

- per sample: ``t`` of shape ``(batch, 1)``, inputs ``(K?, batch, in)``; kernel
  ``(K?, batch, in, out)``: every sample has its own ``t``;
- per step: ``t`` of shape ``(N, 1, 1)``, inputs ``(K?, N, batch, in)``; kernel
  ``(K?, N, in, out)``: all samples of step ``j`` share ``t_j`` (the fast layout of
  gridded data).

:func:`context_layout` tells them apart and :func:`context_matmul` applies such kernels.
"""

from __future__ import annotations

import tensorflow as tf

from deepsymreg._validation import check_int

#: Axis of the parameter steps in a kernel ``(*lead, in, out)`` (and ``-2`` in a bias).
STEP_AXIS = -3


def check_axes(trials, t_steps):
    """Validate the two axis sizes (each None or a positive int); return ``lead``."""
    trials = check_int("trials", trials, allow_none=True)
    t_steps = check_int("t_steps", t_steps, allow_none=True)
    return lead_axes(trials, t_steps)


def lead_axes(trials, t_steps):
    """The leading shape ``(K?, N?)`` of weights with these axes."""
    return tuple(n for n in (trials, t_steps) if n is not None)


def stacked_shape(lead, shape):
    return (*lead, *shape)


def stacked_matmul(inputs, kernel, lead):
    """``inputs @ kernel`` for a kernel ``(*lead, in, out)`` (see module docstring)."""
    rank = inputs.shape.rank
    if not lead:
        if rank == 2:
            return tf.matmul(inputs, kernel)
        return tf.tensordot(inputs, kernel, axes=[[rank - 1], [0]])
    if rank == 2:
        return tf.einsum("bi,...io->...bo", inputs, kernel)
    in_lead = tuple(inputs.shape[:-2])
    if in_lead == tuple(lead) or (len(lead) == 2 and in_lead == tuple(lead[1:])):
        # BatchMatMul broadcasts (N, batch, in) over the trial axis.
        return tf.matmul(inputs, kernel)
    raise ValueError(
        f"A layer with weight axes {tuple(lead)} takes inputs of shape (batch, in), "
        f"({', '.join(map(str, lead))}, batch, in)"
        + (f" or ({lead[1]}, batch, in)" if len(lead) == 2 else "")
        + f". Received input shape {tuple(inputs.shape)}"
    )


def stacked_output_shape(input_shape, units, lead):
    input_shape = tuple(input_shape)
    if not lead:
        return (*input_shape[:-1], units)
    return (*lead, input_shape[-2], units)


def context_layout(context):
    """``"sample"`` for a context ``(batch, 1)``, ``"step"`` for ``(N, 1, 1)``; else a ValueError."""
    shape = tuple(context.shape)
    if len(shape) == 2 and shape[-1] == 1:
        return "sample"
    if len(shape) == 3 and shape[-2:] == (1, 1):
        return "step"
    raise ValueError(
        "Invalid value for argument `context`: expected the parameter t with shape "
        "(batch, 1) (one t per sample) or (N, 1, 1) (one t per step of inputs "
        f"(N, batch, in)). Received shape {shape}"
    )


def context_matmul(inputs, kernel, bias=None, layout="sample"):
    """``inputs @ kernel (+ bias)`` with one matrix per context entry.

    ``kernel`` is ``(K?, S, in, out)`` and ``bias`` ``(K?, S, out)`` or None, with ``S``
    the batch (``layout="sample"``, inputs ``(K?, batch, in)``) or the steps
    (``layout="step"``, inputs ``(K?, N, batch, in)``); see the module docstring.
    """
    if layout == "sample":
        out = tf.squeeze(tf.matmul(inputs[..., None, :], kernel), -2)
        return out if bias is None else out + bias
    out = tf.matmul(inputs, kernel)
    return out if bias is None else out + bias[..., None, :]


def broadcast_like(inputs, like):
    """Broadcast ``inputs (..., batch, n)`` to the leading axes of ``like (*lead, batch, m)``."""
    if inputs.shape.rank == like.shape.rank:
        return inputs
    shape = tf.concat([tf.shape(like)[:-1], tf.shape(inputs)[-1:]], 0)
    return tf.broadcast_to(inputs, shape)


def assign_entries(variable, values, index=None):
    """Assign ``values`` to all of ``variable``, or to its trial entry ``index`` (axis 0).

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


def upgrade_config(config):
    """Read a configuration saved before the axes had roles (deepsymreg 0.1).

    Its single ``n_stack`` axis held restarts, or parameter steps when the gates were
    shared along it; it becomes ``trials`` or ``t_steps`` accordingly.
    """
    config = dict(config)
    if "n_stack" in config:
        n = config.pop("n_stack")
        key = "t_steps" if config.get("share_gates") else "trials"
        config.setdefault(key, n)
    return config


__all__ = [
    "STEP_AXIS",
    "check_axes",
    "lead_axes",
    "stacked_shape",
    "stacked_matmul",
    "stacked_output_shape",
    "broadcast_like",
    "context_layout",
    "context_matmul",
    "assign_entries",
    "upgrade_config",
]
