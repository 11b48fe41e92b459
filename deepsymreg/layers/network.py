"""`EqlNetwork`: the equation-learner network (hidden EQL layers + linear output) as a layer."""

from __future__ import annotations

from collections.abc import Iterable

import keras
import sympy
import tensorflow as tf

from deepsymreg import primitives as primitives_lib
from deepsymreg import regularizers as regularizers_lib
from deepsymreg import symbolic
from deepsymreg._validation import check_int
from deepsymreg.layers.eql import EqlLayer, check_options, linear_kind

#: Initial standard deviations of the first, middle and last weight matrices, from the
#: paper's reference benchmark code (truncated normal).
PAPER_INIT_STDDEV = (0.1, 0.5, 1.0)


@keras.saving.register_keras_serializable(package="deepsymreg")
class EqlNetwork(keras.layers.Layer):
    """Equation learner network: hidden :class:`EqlLayer` s and a linear output layer.

    ``h_0 = x``; ``h_i = f(W_i h_{i-1})`` for the hidden layers; ``y = W_{L+1} h_L``.
    All weight matrices share one sparsity regularizer (one lambda). After training,
    :meth:`to_sympy` reads the network as an equation.

    This is the structure only: the layers, their initialization (restart ``k`` of
    ``trials=K`` drawn from seed ``seed + k``), penalties and read-out. It drops into
    any Keras model (a head on an encoder, the update rule of a recurrent cell);
    :class:`~deepsymreg.EQL` is the training model around one, with fast full-batch
    steps and restarts.

    Args:
        n_outputs: number of outputs.
        depth: number of hidden layers L (default 2); ignored when ``primitives`` is
            a list of per-layer lists.
        primitives: primitive names of each hidden layer (default: the paper's set),
            or a list with one such list per hidden layer.
        regularizer: sparsity penalty on all weights: ``"l05"`` (smoothed L0.5,
            default), ``"l1"``, ``"lq"``, ``"l0"`` (relaxed L0 on hard-concrete gates;
            selects ``linear="hard_concrete"``), ``None``, or a regularizer instance. Its
            strength ``reg_lambda`` starts at ``reg_lambda`` and is set by callbacks.
        reg_lambda: initial strength (default 0).
        linear: kind of linear map in every layer (``"dense"`` or ``"hard_concrete"``).
            A kind whose ``plain_output`` is set (``"hard_concrete"``) leaves the output
            layer a plain, unpenalized dense map. ``regularizer="l0"`` needs a gated
            kind (an error with ``"dense"``).
        skip: DenseNet-style skip connections in the hidden layers.
        init_stddev: truncated-normal standard deviations of the (first, middle, last)
            weight matrices.
        trials: ``None`` or the number K of restarts held along a leading axis.
        seed: seed of the initial weights (restart k uses ``seed + k``) and of the
            hard-concrete gate noise (one noise stream per layer, shared by the
            restarts), so that seeded L0 runs repeat exactly.
        linear_options: further arguments of the kind, e.g. ``{"drop_rate": 0.3}``.

    Call arguments:
        inputs: ``(batch, n_inputs)``.
        context: passed on to linear kinds that take one (e.g. a parameter ``t``).
        training: passed to the layers.

    Output shape:
        ``(batch, n_outputs)``; ``(trials, batch, n_outputs)`` with ``trials``.

    Example:

    >>> net = EqlNetwork(n_outputs=1, depth=1, primitives=["identity", "square"])
    >>> net(np.zeros((4, 2), "float32")).shape
    TensorShape([4, 1])
    """

    def __init__(
        self,
        n_outputs=1,
        depth=2,
        primitives=primitives_lib.DEFAULT,
        regularizer="l05",
        reg_lambda=0.0,
        linear=None,
        skip=False,
        init_stddev=PAPER_INIT_STDDEV,
        trials=None,
        seed=None,
        linear_options=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_outputs = check_int("n_outputs", n_outputs)
        if primitives and not isinstance(primitives, str) and all(
            isinstance(p, (list, tuple)) for p in primitives
        ):
            layer_primitives = [list(p) for p in primitives]
        else:
            depth = check_int("depth", depth)
            if isinstance(primitives, Iterable) and not isinstance(primitives, str):
                primitives = list(primitives)  # anything else: EqlLayer says what is wrong
            layer_primitives = [primitives] * depth
        self.layer_primitives = layer_primitives
        self.depth = len(layer_primitives)
        if isinstance(regularizer, keras.regularizers.Regularizer):
            self.regularizer = regularizer
        else:
            self.regularizer = regularizers_lib.get(regularizer, reg_lambda=reg_lambda)
        if linear is None and isinstance(self.regularizer, regularizers_lib.ExpectedL0):
            linear = "hard_concrete"  # the L0 penalty lives on hard-concrete gates
        self.linear_kind = linear
        kind = linear_kind(linear)
        self.linear_options = check_options(linear_options)
        self.skip = bool(skip)
        try:
            stddev = [float(s) for s in init_stddev]
        except (TypeError, ValueError):
            stddev = []
        if isinstance(init_stddev, str) or len(stddev) != 3 or not all(s > 0 for s in stddev):
            raise ValueError(
                "Invalid value for argument `init_stddev`: expected three positive "
                f"numbers (first, middle, last). Received: init_stddev={init_stddev!r}"
            )
        self.init_stddev = tuple(stddev)
        self.trials = None if trials is None else check_int("trials", trials)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)

        n_layers = self.depth + 1
        self.hidden = []
        for i, prims in enumerate(layer_primitives):
            self.hidden.append(
                EqlLayer(
                    prims,
                    linear=linear,
                    skip=self.skip,
                    trials=self.trials,
                    kernel_initializer=self._initializer(i, n_layers),
                    kernel_regularizer=self.regularizer,
                    seed=self._noise_seed(i),
                    linear_options=self.linear_options,
                    name=f"eql_{i}",
                )
            )
        plain = kind.plain_output  # see the kind's docstring (L0 gates: a plain map)
        self.output_layer = EqlLayer(
            ["identity"] * self.n_outputs,
            linear="dense" if plain else linear,
            trials=self.trials,
            kernel_initializer=self._initializer(n_layers - 1, n_layers),
            kernel_regularizer=None if plain else self.regularizer,
            linear_options=None if plain else self.linear_options,
            name="output",
        )

    def _noise_seed(self, index):
        """Seed of layer ``index``'s gate noise, apart from its weight seeds."""
        return None if self.seed is None else int(self.seed) * 1000 + 500 + index

    def _initializer(self, index, n_layers):
        """Layer ``index``'s truncated normal; seeded ``seed * 1000 + index`` when seeded
        (:meth:`initialize_trials` re-seeds it per restart the same way)."""
        if index == 0:
            sd = self.init_stddev[0]
        elif index == n_layers - 1:
            sd = self.init_stddev[2]
        else:
            sd = self.init_stddev[1]
        seed = None if self.seed is None else int(self.seed) * 1000 + index
        return keras.initializers.TruncatedNormal(stddev=sd, seed=seed)

    @property
    def eql_layers(self):
        """Hidden layers followed by the output layer."""
        return [*self.hidden, self.output_layer]

    @property
    def reg_lambda(self):
        """The strength variable of the shared regularizer (None without one)."""
        return getattr(self.regularizer, "reg_lambda", None)

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.n_inputs = int(shape[-1])
        for layer in self.eql_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        if self.trials is not None and self.seed is not None:
            # Restart k starts exactly where EQL(seed=seed + k) would.
            self.initialize_trials(self.trial_seeds())

    def call(self, inputs, context=None, training=None):
        h = inputs
        for layer in self.eql_layers:
            h = layer(h, context=context, training=training)
        return h

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.eql_layers:
            shape = layer.compute_output_shape(shape)
        return shape

    # -- penalties -------------------------------------------------------------------
    def linear_maps(self):
        """The linear map of every layer, hidden layers first."""
        return [layer.linear for layer in self.eql_layers]

    def penalty(self):
        """The sum of every linear map's penalty (what the layers add as losses)."""
        return tf.add_n([linear.penalty() for linear in self.linear_maps()])

    @property
    def defer_penalty(self):
        """When True, the maps add no losses in ``call``; the owner adds :meth:`penalty`
        once (an RNN cell runs inside a loop, where per-step losses cannot escape)."""
        return all(linear.defer_penalty for linear in self.linear_maps())

    @defer_penalty.setter
    def defer_penalty(self, value):
        for linear in self.linear_maps():
            linear.defer_penalty = bool(value)

    # -- restarts ------------------------------------------------------------------
    def trial_seeds(self):
        """Seed of each restart's initial weights: ``seed + k`` (None when unseeded)."""
        k = self.trials or 1
        return [None if self.seed is None else int(self.seed) + i for i in range(k)]

    def initialize_trials(self, seeds, indices=None):
        """Re-draw the weights of restarts ``indices`` (all by default) from ``seeds``.

        Restart ``k`` drawn with seed ``s`` gets exactly the weights of an untrialled
        ``EQL(seed=s)`` with the same settings.
        """
        indices = list(range(self.trials or 1)) if indices is None else list(indices)
        if len(seeds) != len(indices):
            raise ValueError(
                f"Expected one seed per restart ({len(indices)}). Received: {len(seeds)}"
            )
        for i, layer in enumerate(self.eql_layers):
            for k, s in zip(indices, seeds):
                # Each kind draws its own entry (kernel, masks, gates) from its initializer.
                layer.linear.initialize_entry(
                    k if self.trials else None, None if s is None else int(s) * 1000 + i
                )

    # -- symbolic view ---------------------------------------------------------------
    def to_sympy(self, var_names=None, threshold=0.01, trial=None, t=None):
        """The network as SymPy: one expression, or a list for several outputs.

        Args:
            var_names: names (or SymPy symbols) of the inputs; default ``x0, x1, ...``.
            threshold: weights with ``|w| < threshold`` and terms of the final
                expanded expression with ``|coefficient| < threshold`` are dropped.
            trial: which restart to read (required when ``trials`` is set).
            t: the parameter value to read the network at, for linear kinds that
                depend on one (required then).
        """
        if not self.built:
            raise ValueError("The model is not built yet; call it on data first.")
        symbols = symbolic.make_symbols(var_names, self.n_inputs)
        if self.trials is not None and trial is None:
            raise ValueError(
                f"This model holds trials={self.trials} restarts; pass `trial`."
            )
        exprs = list(symbols)
        for layer in self.eql_layers:
            exprs = layer.to_sympy(exprs, trial=trial, threshold=threshold, t=t)
        exprs = [symbolic.clean(e, threshold) for e in exprs]
        return exprs[0] if self.n_outputs == 1 else exprs

    def latex(self, var_names=None, threshold=0.01, trial=None, t=None):
        """LaTeX of :meth:`to_sympy` (a list of strings for several outputs)."""
        expr = self.to_sympy(var_names, threshold, trial, t)
        if isinstance(expr, list):
            return [sympy.latex(symbolic.rounded(e)) for e in expr]
        return sympy.latex(symbolic.rounded(expr))

    def get_config(self):
        return {
            **super().get_config(),
            "n_outputs": self.n_outputs,
            "primitives": self.layer_primitives,
            "regularizer": keras.regularizers.serialize(self.regularizer)
            if self.regularizer is not None
            else None,
            "linear": self.linear_kind,
            "skip": self.skip,
            "init_stddev": list(self.init_stddev),
            "trials": self.trials,
            "seed": self.seed,
            "linear_options": self.linear_options,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        reg = config.get("regularizer")
        if isinstance(reg, dict):
            config["regularizer"] = keras.regularizers.deserialize(reg)
        return cls(**config)
