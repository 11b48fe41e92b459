"""`FunctionNodes`: one layer of function nodes of a Gumbel-max EQL network."""

from __future__ import annotations

import keras
import sympy
import tensorflow as tf

from deepsymreg import primitives as primitives_lib
from deepsymreg._validation import check_int, check_number

__all__ = ["FunctionNodes", "SUM", "DEFAULT_BOUND"]

#: The name of a weighted-sum node: ``sum_l v_l O_l`` over *all* previous outputs, with
#: its own regression weights ``v`` (the authors' ``sum``); it has no input slots.
SUM = "sum"

#: Node outputs are clipped to [-DEFAULT_BOUND, DEFAULT_BOUND] by default, so that
#: relaxed mixtures (which touch every previous output) and chains of powers and
#: products stay finite in float32, values and gradients.
DEFAULT_BOUND = 1e6


def _check_functions(functions):
    if isinstance(functions, str) or not isinstance(functions, (list, tuple)) or not functions:
        raise ValueError(
            "Invalid value for argument `functions`: expected a non-empty list of "
            f"registered primitive names or '{SUM}'. Received: functions={functions!r}"
        )
    for name in functions:
        if name != SUM:
            try:
                primitives_lib.get(name)
            except ValueError:
                raise ValueError(
                    f"Invalid value for argument `functions`: unknown function {name!r}. "
                    f"Expected '{SUM}' or one of {primitives_lib.registered_names()}. "
                    f"Received: functions={list(functions)!r}"
                ) from None
    return list(functions)


@keras.saving.register_keras_serializable(package="deepsymreg")
class FunctionNodes(keras.layers.Layer):
    """A layer of function nodes fed by input slots (Gumbel-max EQL).

    Every node applies one registered primitive to its own input slots (unary nodes
    take one slot, binary ones two, constants none), or is a weighted ``"sum"`` of all
    previous outputs with its own regression weights (initialized N(0, 1)). Nodes are
    evaluated grouped by kind, as :class:`EqlLayer` does: group ``(primitive, count)``
    of arity ``a`` owns ``a * count`` contiguous slots (argument ``j`` of copy ``c`` is
    slot ``j * count + c``), and the outputs are laid out in that grouped order (see
    :attr:`node_names`), sum nodes last. Outputs are clipped to ``[-bound, bound]``.

    Args:
        functions: list of registered primitive names and ``"sum"``.
        runs: ``None`` or the number of independent networks (leading weight axis of the
            sum nodes' weights).
        bound: clip of the outputs (default 1e6).
        kernel_initializer: initializer of the sum nodes' weights (default N(0, 1)).

    Call arguments:
        slot_values: ``(runs?, p, batch, slots)``, e.g. a :class:`GumbelConnection`'s output.
        previous: ``(runs?, p?, batch, n_prev)``: the previous layer's outputs (used by
            sum nodes only; may be None without them).

    Output shape:
        ``(runs?, p, batch, n_nodes)``.

    Example:

    >>> nodes = FunctionNodes(["add", "square", "sum"])
    >>> nodes.slots, nodes.node_names
    (3, ['add', 'square', 'sum'])
    """

    def __init__(self, functions, runs=None, bound=DEFAULT_BOUND, kernel_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.functions = _check_functions(functions)
        self.runs = check_int("runs", runs, allow_none=True)
        self.bound = check_number("bound", bound, 0.0, strict=True)
        normal = {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 1.0}}
        self.kernel_initializer = keras.initializers.get(kernel_initializer or normal)
        self.lead = () if self.runs is None else (self.runs,)
        self.n_sum = self.functions.count(SUM)
        named = [f for f in self.functions if f != SUM]
        self._groups = primitives_lib.group(named) if named else []
        self.slots = sum(p.arity * c for p, c in self._groups)
        self.n_nodes = len(self.functions)
        if self.slots == 0 and self.n_sum == 0:
            raise ValueError(
                "Invalid value for argument `functions`: at least one node must take an "
                f"input (a slot or a sum). Received: functions={self.functions!r}"
            )

    @property
    def node_names(self):
        """The function of each output, in the layer's order (grouped, sums last)."""
        return [p.name for p, c in self._groups for _ in range(c)] + [SUM] * self.n_sum

    @property
    def slot_nodes(self):
        """For every slot, the index of the node it feeds."""
        out, node = [], 0
        for prim, count in self._groups:
            for j in range(prim.arity):
                out.extend(node + c for c in range(count))
            node += count
        return out

    @property
    def commutative_pairs(self):
        """``(slot_a, slot_b)`` of every binary node whose primitive is symmetric."""
        pairs, col = [], 0
        a, b = sympy.symbols("a b")
        for prim, count in self._groups:
            if prim.arity == 2 and sympy.simplify(prim.sympy(a, b) - prim.sympy(b, a)) == 0:
                pairs.extend((col + c, col + count + c) for c in range(count))
            col += prim.arity * count
        return pairs

    def build(self, slot_values_shape, previous_shape=None):
        if self.n_sum:
            if previous_shape is None:
                raise ValueError(
                    "FunctionNodes with sum nodes need the previous outputs: call it as "
                    "`nodes(slot_values, previous)`."
                )
            self.n_prev = int(previous_shape[-1])
            self.sum_kernel = self.add_weight(
                name="sum_kernel", shape=(*self.lead, self.n_sum, self.n_prev),
                initializer=self.kernel_initializer,
            )

    def call(self, slot_values, previous=None):
        return self.apply(slot_values, previous, self.sum_kernel if self.n_sum else None)

    def apply(self, slot_values, previous=None, sum_kernel=None, columns=False):
        """The layer's maths with the sum nodes' weights ``sum_kernel`` given.

        With ``columns=True`` the layout is features-first (batch last):
        ``slot_values`` ``(runs, p, slots, batch)``, ``previous`` ``(runs, p?, n_prev,
        batch)``, output ``(runs, p, n_nodes, batch)``.
        """
        slot_values = tf.convert_to_tensor(slot_values)
        if columns:
            return self._apply_columns(slot_values, previous, sum_kernel)
        batch_shape = tf.shape(slot_values)[:-1]
        outputs = primitives_lib.apply_groups(self._groups, slot_values)
        if self.n_sum:
            previous = tf.convert_to_tensor(previous, slot_values.dtype)
            kernel = sum_kernel
            if previous.shape.rank == len(self.lead) + 2:  # no p axis
                summed = tf.einsum("...bl,...kl->...bk", previous, kernel)
                summed = tf.expand_dims(summed, -3)
                summed = tf.broadcast_to(
                    summed, tf.concat([batch_shape[:-1], tf.shape(summed)[-2:]], 0))
            else:
                summed = tf.matmul(previous, tf.expand_dims(kernel, -3), transpose_b=True)
            outputs.append(summed)
        out = outputs[0] if len(outputs) == 1 else tf.concat(outputs, axis=-1)
        return tf.clip_by_value(out, -self.bound, self.bound)

    def _apply_columns(self, slot_values, previous, sum_kernel):
        shape = tf.shape(slot_values)
        outputs = primitives_lib.apply_groups(self._groups, slot_values, axis=2)
        if self.n_sum:
            previous = tf.convert_to_tensor(previous, slot_values.dtype)
            if previous.shape.rank == 3:  # (R, n_prev, B): the same for every instance
                summed = tf.matmul(sum_kernel, previous)[:, None]
                summed = tf.broadcast_to(summed, [shape[0], shape[1], self.n_sum, shape[3]])
            else:
                summed = tf.matmul(sum_kernel[:, None], previous)
            outputs.append(summed)
        out = outputs[0] if len(outputs) == 1 else tf.concat(outputs, axis=2)
        return tf.clip_by_value(out, -self.bound, self.bound)

    def compute_output_shape(self, slot_values_shape, previous_shape=None):
        return (*slot_values_shape[:-1], self.n_nodes)

    def to_sympy(self, slot_exprs, previous=None, run=None):
        """The node outputs as SymPy expressions of the slot expressions (and previous
        outputs for sum nodes); ``run`` picks the sum weights when the layer has runs."""
        if len(slot_exprs) != self.slots:
            raise ValueError(f"Expected {self.slots} slot expressions. Received: {len(slot_exprs)}")
        out = primitives_lib.apply_groups_sympy(self._groups, slot_exprs)
        if self.n_sum:
            kernel = keras.ops.convert_to_numpy(self.sum_kernel)
            if self.runs is not None:
                kernel = kernel[run]
            for k in range(self.n_sum):
                out.append(sympy.Add(*[sympy.Float(float(v)) * e
                                       for v, e in zip(kernel[k], previous) if v != 0]))
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "functions": list(self.functions),
            "runs": self.runs,
            "bound": self.bound,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
