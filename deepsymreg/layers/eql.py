"""`EqlLayer`: a linear map followed by primitive functions (one EQL hidden layer)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

import keras
import numpy as np
import sympy
import tensorflow as tf

from deepsymreg import primitives as primitives_lib
from deepsymreg.layers import stacking
from deepsymreg.layers.linear import StackedLinear

#: Names accepted by the ``linear`` argument, mapped to registered layer classes.
LINEAR_KINDS = {"dense": "deepsymreg>MaskedDense"}


def register_linear_kind(name, registered_name):
    """Let ``EqlLayer(linear=name)`` build the registered layer class ``registered_name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"Invalid value for argument `name`: expected a non-empty string. Received: name={name!r}"
        )
    cls = keras.saving.get_registered_object(registered_name) if isinstance(registered_name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, StackedLinear)):
        raise ValueError(
            "Invalid value for argument `registered_name`: expected the registered name of a "
            "StackedLinear subclass, e.g. 'deepsymreg>MaskedDense'. "
            f"Received: registered_name={registered_name!r}"
        )
    LINEAR_KINDS[name] = registered_name


def check_options(options):
    """``linear_options`` as a dict, or a ValueError if it is neither None nor a dict."""
    if options is not None and not isinstance(options, dict):
        raise ValueError(
            "Invalid value for argument `linear_options`: expected None or a dict of "
            f"arguments of the linear kind. Received: linear_options={options!r}"
        )
    return dict(options or {})


def linear_kind(name):
    """The layer class of the linear kind registered as ``name`` (``"dense"`` for None)."""
    name = "dense" if name is None else name
    if not isinstance(name, str) or name not in LINEAR_KINDS:
        raise ValueError(
            f"Invalid value for argument `linear`: expected one of {sorted(LINEAR_KINDS)}, "
            f"a layer config dict or a layer. Received: linear={name!r}"
        )
    return keras.saving.get_registered_object(LINEAR_KINDS[name])


def _accepted_arguments(cls):
    """Constructor arguments of a kind, including those it forwards with ``**kwargs``."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters
        names.update(k for k, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()) or klass is StackedLinear:
            break
    return names


def make_linear(linear, units, options=None, **defaults):
    """Build the linear sublayer of an EQL layer (see ``EqlLayer``'s ``linear``).

    For a kind given by name, ``defaults`` that are not None and the kind's own
    ``options`` (e.g. ``{"share_gates": True}``) become its arguments; a ``seed`` goes
    only to kinds that take one (kinds without randomness ignore it).
    """
    if linear is None or isinstance(linear, str):
        cls = linear_kind(linear)
        accepted = _accepted_arguments(cls)
        kwargs = {k: v for k, v in defaults.items() if v is not None}
        if "seed" in kwargs and "seed" not in accepted:
            del kwargs["seed"]
        options = check_options(options)
        unknown = sorted(k for k in options if k not in accepted or k in ("units", "self"))
        if unknown:
            raise ValueError(
                f"Invalid value for argument `linear_options`: {cls.__name__} takes no "
                f"argument(s) {unknown}. Received: linear_options={options!r}"
            )
        return cls(units=units, **{**kwargs, **options})
    if check_options(options):
        raise ValueError(
            "Invalid value for argument `linear_options`: options apply to a kind given by "
            f"name, not to {type(linear).__name__} {linear!r}. Received: linear_options={options!r}"
        )
    if isinstance(linear, dict):
        config = dict(linear)
        inner = dict(config.get("config", {}))
        inner["units"] = units
        config["config"] = inner
        layer = keras.saving.deserialize_keras_object(config)
    elif isinstance(linear, keras.layers.Layer):
        layer = linear
    else:
        raise ValueError(
            "Invalid value for argument `linear`: expected a name, a layer config dict "
            f"or a layer. Received: linear={linear!r}"
        )
    if getattr(layer, "units", None) != units:
        raise ValueError(
            f"The linear layer of this EqlLayer must have units={units} (the number of "
            f"pre-activations its primitives consume). Received: units="
            f"{getattr(layer, 'units', None)}"
        )
    return layer


@keras.saving.register_keras_serializable(package="deepsymreg")
class EqlLayer(keras.layers.Layer):
    """One hidden layer of an equation learner (EQL) network.

    ``g = linear(x)`` then ``h = f(g)``: each output applies one primitive function to
    its own pre-activation(s) (unary primitives take one component of ``g``, binary
    ones two, constants none). Primitives may repeat; they are applied grouped by kind,
    one op per kind on a contiguous slice of ``g``, and the outputs are laid out in that
    grouped order (first appearance in ``primitives``; see
    :func:`deepsymreg.primitives.group`). With ``skip=True`` the layer input is
    concatenated after the outputs, DenseNet style: ``h = [f(g), x]``.

    Args:
        primitives: list of registered primitive names (default: the paper's set,
            :data:`deepsymreg.primitives.DEFAULT`).
        linear: the map producing ``g``: ``"dense"`` (a :class:`MaskedDense`, default),
            another registered kind (e.g. ``"hard_concrete"`` for relaxed-L0 gates), a
            layer config dict, or a layer with the right ``units``.
        skip: concatenate the input to the output.
        trials: ``None`` or the number of restarts held side by side (a leading
            weight axis; see :mod:`~deepsymreg.layers.stacking`).
        t_steps: ``None`` or the number of parameter steps, one weight set each
            (the stacked EQL); the axis after ``trials``.
        use_bias, kernel_initializer, kernel_regularizer: passed to the linear layer
            when it is given by name.
        seed: seed of the linear layer's randomness (the gate noise of
            ``"hard_concrete"``), when it is given by name; kinds without randomness
            ignore it.
        linear_options: further arguments of a kind given by name, e.g.
            ``{"drop_rate": 0.3}`` for ``"hard_concrete"``.

    Call arguments:
        inputs: tensor ``(batch, in)`` or ``(*lead, batch, in)``.
        context: passed on to a linear kind that takes one (``takes_context``), e.g.
            the parameter ``t`` its weights depend on; an error for other kinds.
        training: passed to the linear layer (stochastic gates sample only then).

    Input shape:
        ``(batch, in)``, or ``(*lead, batch, in)`` with ``lead = (trials?, t_steps?)``
        (with both, also ``(t_steps, batch, in)``: one batch per step for all trials).

    Output shape:
        ``(*lead, batch, n_outputs [+ in])``, where
        ``n_outputs = len(primitives)``.

    Example:

    >>> layer = EqlLayer(["identity", "square", "product"])
    >>> layer(tf.ones((5, 3))).shape
    TensorShape([5, 3])

    References:
        Martius & Lampert (2016), Extrapolation and learning equations, arXiv:1610.02995.
        Sahoo, Lampert & Martius (2018), Learning equations for extrapolation and
        control, ICML.
        Kim et al. (2020), Integration of neural network-based symbolic regression in
        deep learning for scientific discovery, IEEE TNNLS.
    """

    def __init__(
        self,
        primitives=primitives_lib.DEFAULT,
        linear=None,
        skip=False,
        trials=None,
        t_steps=None,
        use_bias=False,
        kernel_initializer=None,
        kernel_regularizer=None,
        seed=None,
        linear_options=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.seed = seed
        if isinstance(primitives, Iterable) and not isinstance(primitives, str):
            primitives = list(primitives)
        self.primitives = primitives  # anything else: group() says what is wrong
        self._groups = primitives_lib.group(self.primitives)
        self.n_pre_activations = sum(p.arity * c for p, c in self._groups)
        self.n_outputs = sum(c for _, c in self._groups)
        if self.n_pre_activations == 0:
            raise ValueError(
                "Invalid value for argument `primitives`: at least one primitive must "
                f"take an argument. Received: primitives={self.primitives}"
            )
        self.skip = bool(skip)
        self.linear = make_linear(
            linear,
            self.n_pre_activations,
            trials=trials,
            t_steps=t_steps,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            seed=seed,
            options=linear_options,
            name="linear",
        )
        self.trials, self.t_steps = self.linear.trials, self.linear.t_steps
        self.lead = self.linear.lead

    @property
    def output_names(self):
        """The primitive name of each output, in the layer's grouped order."""
        return [p.name for p, c in self._groups for _ in range(c)]

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        if not self.linear.built:  # a layer restored from a config may come built
            self.linear.build(input_shape)

    def apply_primitives(self, g):
        """``f(g)``: the primitives applied, grouped by kind, to pre-activations ``g``."""
        return tf.concat(primitives_lib.apply_groups(self._groups, g), axis=-1)

    def call(self, inputs, context=None, training=None):
        if context is None:
            g = self.linear(inputs, training=training)
        elif self.linear.takes_context:
            g = self.linear(inputs, context=context, training=training)
        else:
            raise ValueError(
                f"{type(self.linear).__name__} takes no `context`; only linear kinds with "
                "takes_context=True do. Received a context."
            )
        h = self.apply_primitives(g)
        if self.skip:
            h = tf.concat([h, stacking.broadcast_like(inputs, h)], -1)
        return h

    def compute_output_shape(self, input_shape):
        shape = self.linear.compute_output_shape(input_shape)
        shape = (*shape[:-1], self.n_outputs)
        if self.skip:
            shape = (*shape[:-1], shape[-1] + input_shape[-1])
        return shape

    # -- symbolic view -----------------------------------------------------------
    def kernel_numpy(self, trial=None, step=None, t=None):
        """Effective kernel ``(in, n_pre)`` and bias (or None) of one weight set, as NumPy.

        ``trial`` and ``step`` pick the set when the layer has those axes (both needed
        then; an error otherwise). A linear kind that depends on a parameter
        (``takes_context``) is read at the parameter value ``t`` instead of a ``step``.
        """
        if self.linear.takes_context:
            if t is None or step is not None:
                raise ValueError(
                    f"Invalid value for argument `t`: layer {self.name!r} depends on a "
                    f"parameter; read it at a value t (not a step). Received: t={t!r}, "
                    f"step={step!r}"
                )
            w, b = self.linear.kernel_at(t)
            steps = ()
        else:
            if t is not None:
                raise ValueError(
                    f"Invalid value for argument `t`: layer {self.name!r} does not depend "
                    f"on a parameter. Received: t={t!r}"
                )
            w = np.asarray(keras.ops.convert_to_numpy(self.linear.effective_kernel))
            b = getattr(self.linear, "bias", None)
            b = None if b is None else np.asarray(keras.ops.convert_to_numpy(b))
            steps = (("step", self.t_steps, step),)
        for name, size, index in (("trial", self.trials, trial), *steps):
            if size is None:
                if index is not None:
                    raise ValueError(
                        f"Invalid value for argument `{name}`: layer {self.name!r} has no "
                        f"{name} axis. Received: {name}={index!r}"
                    )
                continue
            if index is None or not -size <= int(index) < size:
                raise ValueError(
                    f"Invalid value for argument `{name}`: layer {self.name!r} holds {size} "
                    f"weight sets along its {name} axis; pass an index in [0, {size}). "
                    f"Received: {name}={index!r}"
                )
            w = w[int(index)]
            b = None if b is None else b[int(index)]
        return w, b

    def to_sympy(self, inputs, trial=None, step=None, threshold=0.0, t=None):
        """The layer's outputs as SymPy expressions of the SymPy ``inputs`` list.

        ``trial``/``step``/``t`` choose the weight set (see :meth:`kernel_numpy`).
        Weights with ``|w| < threshold`` are treated as zero.
        """
        w, b = self.kernel_numpy(trial, step, t)
        if not (np.all(np.isfinite(w)) and (b is None or np.all(np.isfinite(b)))):
            raise ValueError(
                f"Layer {self.name!r} has non-finite weights (training diverged?); "
                "it cannot be read as an equation."
            )
        if len(inputs) != w.shape[0]:
            raise ValueError(
                f"Expected {w.shape[0]} input expressions. Received: {len(inputs)}"
            )
        w = np.where(np.abs(w) < threshold, 0.0, w)
        g = []
        for j in range(w.shape[1]):
            terms = [sympy.Float(w[i, j]) * inputs[i] for i in range(w.shape[0]) if w[i, j] != 0]
            if b is not None and abs(b[j]) >= threshold:
                terms.append(sympy.Float(b[j]))
            g.append(sympy.Add(*terms))
        outputs = primitives_lib.apply_groups_sympy(self._groups, g)
        if self.skip:
            outputs.extend(inputs)
        return outputs

    def get_config(self):
        return {
            **super().get_config(),
            "primitives": list(self.primitives),
            "skip": self.skip,
            "seed": self.seed,
            "linear": keras.saving.serialize_keras_object(self.linear),
        }
