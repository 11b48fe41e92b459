"""`GMEQL`: the Gumbel-max equation learner and its training (Chen 2021, Algorithm 1)."""

from __future__ import annotations

import keras
import numpy as np
import sympy
import tensorflow as tf

from deepsymreg import symbolic
from deepsymreg.concrete import counter_uniform
from deepsymreg.curriculum import check_curriculum, origin_rank, share_mask, share_weights
from deepsymreg.data import feed
from deepsymreg._validation import check_choice, check_int, check_number
from deepsymreg.layers.function_nodes import DEFAULT_BOUND, SUM, FunctionNodes
from deepsymreg.models.elites import PARENT_LAWS, merge_repository, pick_elites, resample_mask
from deepsymreg.layers.gumbel import TEMPERATURE, GumbelConnection
from deepsymreg.primitives import elementary

__all__ = ["GMEQL", "GMEQLStages", "DEFAULT_FUNCTIONS", "OFFLINE_RULES"]

#: The default stack: the authors' ``[id, ^2..^6, sin, cos] -> [+, *, /, sum] -> [+, *]``
#: extended so that each of the paper's b1-b8 is one structure: three identities, two
#: sines, a product and a division in the first layer (b5's two sines, b7's x1*x2,
#: b8's x2/x1), a square root and an identity in the last (b8's root, pass-through).
DEFAULT_FUNCTIONS = (
    ("identity",) * 3 + ("square", "cube", "pow4", "pow5", "pow6", "sin", "sin", "cos",
                         "product", "div"),
    ("add", "product", "div", SUM),
    ("add", "product", "sqrt_abs", "identity"),
)

#: Offline rules for the structure logits: eq. 7 (log-likelihood of elite samples) and
#: eq. 11 (squared difference of exp(z) and V**lambda); None turns offline training off.
OFFLINE_RULES = ("eq7", "eq11", None)

_INF = float("inf")
#: Elites whose weights :meth:`GMEQL.refit_elites` trains in one graph call when no
#: ``chunk`` is given: a screen of a few new elites then trains this many networks,
#: not the whole repository's worth (docs/performance.md). Also the candidates per
#: call of the read-out's polish (:meth:`GMEQL.select`): 101 is T* and the 100 best
#: elites of one run, so a one-run read-out reuses the refits' compiled graph.
REFIT_CHUNK = 101


def _reset_moments(optimizer):
    """Zero an Adam's moments and step count (its learning rate stays)."""
    for var in optimizer.variables:
        if var.name.endswith(("_momentum", "_velocity")) or var.name == "iteration":
            var.assign(tf.zeros_like(var))


def _padded_chunks(n, size):
    """Indices of ``n`` items in calls of ``size``: ``(part, padded)`` per call, the last
    ``padded`` filled up with its first index, so every call has one shape."""
    for c in range(0, n, size):
        part = np.arange(c, min(c + size, n))
        yield part, np.concatenate([part, np.full(size - len(part), c)])


def _side_cache(model, name):
    """A dict kept on ``model`` outside Keras' tracking: never saved, never weights."""
    cache = model.__dict__.get(name)
    if cache is None:
        cache = {}
        object.__setattr__(model, name, cache)
    return cache


def _check_functions(functions):
    if (isinstance(functions, str) or not isinstance(functions, (list, tuple)) or not functions
            or any(isinstance(f, str) or not isinstance(f, (list, tuple)) for f in functions)):
        raise ValueError(
            "Invalid value for argument `functions`: expected a non-empty list of layers, "
            "each a list of function names. Received: functions="
            f"{functions!r}"
        )
    return [list(f) for f in functions]


def _sanitize(grads, bound):
    """Non-finite entries -> 0, the rest clipped to +-bound (as the authors' code)."""
    out = []
    for g in grads:
        if g is None:
            out.append(g)
            continue
        g = tf.convert_to_tensor(g)
        out.append(tf.where(tf.math.is_finite(g), tf.clip_by_value(g, -bound, bound), 0.0))
    return out


#: What makes two elites the same (``elite_key``): their used slots' choices
#: (``"structure"``) or their expressions read from the output ignoring weights
#: (``"expression"``, the paper's rule: copies of one function and identities merge).
ELITE_KEYS = ("structure", "expression")
_MIX = (np.int64(-4658895280553007687), np.int64(-7723592293110705685))  # splitmix64


def _stable_int64(text):
    """A fixed odd int64 for ``text`` (the same in every process)."""
    import zlib

    rng = np.random.default_rng(zlib.crc32(text.encode()))
    return np.int64(rng.integers(1, 2**62) * 2 + 1)


def _function_code(name):
    return _stable_int64(f"function:{name}")


def _input_codes(n):
    return np.array([_stable_int64(f"input:{i}") for i in range(n)], np.int64)


@keras.saving.register_keras_serializable(package="deepsymreg")
class GMEQL(keras.Model):
    """Gumbel-max equation learner: a network whose *structure* is learned.

    Input nodes are the variables and the constant 1; then layers of function nodes
    (:class:`~deepsymreg.layers.function_nodes.FunctionNodes`), every input slot of
    which picks one output of the previous layer through a
    :class:`~deepsymreg.layers.GumbelConnection` (structure logits ``z``, one
    regression weight ``w``); an output slot picks one output of the last layer. One
    sampled *network instance* is one choice per slot; ``samples`` (p) instances of
    each of ``runs`` independent networks are evaluated at once. Loss: mean absolute
    error (MAE).

    Training (Algorithm 1) is Keras-native: ``fit`` runs ``steps_per_call`` iterations
    per compiled call (a ``tf.while_loop`` under XLA), each iteration doing for every
    run:

    1. choose ``p`` parents from the *elite repository* (the ``repository_size`` best
       distinct instances so far, sorted by MAE) by a power law over their rank,
       ``P(rank i) ~ (i + 1) ** -parent_exponent``; copy them and re-sample
       ``resample_fraction`` of their slots (all slots while the repository is empty,
       or with ``elites=False``);
    2. evaluate the ``p`` relaxed instances; one Adam step on the mean MAE for the
       structure logits (only re-sampled slots get gradient) and, in stage 2, for the
       regression weights;
    3. in stage 2, one offline Adam step on the logits from ``offline_samples`` elites
       drawn by the same power law, by ``offline_rule`` (eq. 7 or 11);
    4. merge the ``p`` instances into the repository (distinct structures only: the
       used slots' choices, commutative arguments sorted, hashed) and keep the best
       instance ever seen (T*) with its weights.

    The repository lives in the graph as tensors (MAE, key, sampled log-weights of
    every slot), so the whole iteration is one compiled loop. :meth:`start_stage`
    re-initializes the weights between Algorithm 1's rounds (see :class:`GMEQLStages`
    and :meth:`search`); :meth:`select` reads the best structures out, refits their
    weights and keeps the one with the lowest training MAE.

    Args:
        functions: list of layers, each a list of registered primitive names or
            ``"sum"`` (default :data:`DEFAULT_FUNCTIONS`).
        runs: ``None`` or the number of independent runs held side by side.
        samples: instances per iteration, p (default 40).
        temperature: of the relaxed one-hot samples (default 2/3).
        bound: clip of every node's output (default 1e6).
        repository_size: capacity of the elite repository (default 400).
        parent_exponent: exponent of the power law over elite ranks (default 1.5).
        resample_fraction: fraction of a parent's slots re-sampled (default 0.2).
        offline_rule: ``"eq7"`` (default), ``"eq11"`` or None.
        offline_samples: elites per offline step, r (default 40).
        elites: sample children of elites (default True); False re-samples every slot.
        learning_rates: Adam rates (structure online, regression, structure offline),
            default (1e-3, 1e-3, 3e-4).
        gradient_bound: gradients are clipped to +-this, non-finite ones zeroed (1.0).
        steps_per_call: iterations per compiled call in ``fit`` (default 100).
        seed: seed of run 0; run ``k`` uses ``seed + k`` (default 0).
        rank_by: the MAE that ranks instances in the repository and picks T*:
            ``"hard"`` (default: of the hard structure, argmax of each sample, with the
            same weights; one more forward pass) or ``"relaxed"`` (of the relaxed
            sample, as the paper's eq. 1 with V in place of S).
        elite_key: what makes two elites the same: ``"structure"`` (default: the
            choices of the slots the output uses) or ``"expression"`` (the expression read
            from the output ignoring weights, as the paper: identities and copies of one
            function on the same input merge, so one function cannot fill the repository
            under many structures).
        loss_quantile: the share of each iteration's ``p`` instances whose MAE trains
            the parameters: 1.0 (default, the paper: the mean over all of them) or less
            (the mean over the best ones; an instance far off, e.g. a sixth power on
            [0, 10], then does not steer the regression weights shared by all).
        parent_law: how elites are drawn (parents, and offline samples): ``"power"``
            (default, the paper's text: P(rank i) ~ (i + 1) ** -parent_exponent, the
            best drawn most, 40% of the time with 400 elites) or ``"rank"`` (the
            authors' public code: weights ``position ** parent_exponent`` over the list
            sorted worst first, i.e. ~ (n_filled - i) ** parent_exponent: far flatter).
        xla: compile training with XLA (default True; False compiles in seconds
            instead of tens of seconds, and runs several times slower).
        curriculum: None (default, the paper: every iteration trains on all points) or
            ``(start, iterations)``: in stage 2 the loss that trains the parameters is
            the MAE over the share ``start`` of the points nearest the origin (by
            ``max_j |x_j|``), a share growing linearly to 1 over ``iterations``
            iterations. A rate inside ``sin(w x)`` then starts on a short range, where
            the error is smooth in ``w``, and follows as the range widens; on [0, 10]
            the error of ``sin(w x)`` has a local minimum every ~0.6 in ``w``. The
            repository and T* are still ranked on all points.

    Call arguments:
        inputs: ``(batch, n_variables)``.
        training: sample ``samples`` relaxed instances when true.
        choices: hard choices, one int array ``(runs?, p, slots)`` per connection.

    Output shape:
        training or ``choices``: ``(runs?, p, batch)``; inference: ``(batch,)`` or
        ``(batch, runs)`` from the selected structure (see :meth:`select`), or the
        argmax of the logits before one is selected.

    Example:

    >>> model = GMEQL([["identity", "square"], ["add"]], samples=4, seed=0)
    >>> model(np.zeros((5, 2), "float32"), training=True).shape
    TensorShape([4, 5])

    References:
        Chen (2021). Learning symbolic expressions via Gumbel-max equation learner
        networks. arXiv:2012.00428.
    """

    def __init__(
        self,
        functions=DEFAULT_FUNCTIONS,
        runs=None,
        samples=40,
        temperature=TEMPERATURE,
        bound=DEFAULT_BOUND,
        repository_size=400,
        parent_exponent=1.5,
        resample_fraction=0.2,
        offline_rule="eq7",
        offline_samples=40,
        elites=True,
        learning_rates=(1e-3, 1e-3, 3e-4),
        gradient_bound=1.0,
        steps_per_call=100,
        seed=0,
        rank_by="hard",
        xla=True,
        parent_law="power",
        loss_quantile=1.0,
        elite_key="structure",
        curriculum=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.curriculum = check_curriculum(curriculum)
        self.parent_law = check_choice("parent_law", parent_law, PARENT_LAWS)
        self.elite_key = check_choice("elite_key", elite_key, ELITE_KEYS)
        self.loss_quantile = check_number("loss_quantile", loss_quantile, 0.0, 1.0)
        if self.loss_quantile == 0.0:
            raise ValueError("Invalid value for argument `loss_quantile`: expected 0 < "
                             f"loss_quantile <= 1. Received: loss_quantile={loss_quantile!r}")
        self.rank_by = check_choice("rank_by", rank_by, ("hard", "relaxed"))
        self.xla = bool(xla)
        self.functions = _check_functions(functions)
        self.runs = check_int("runs", runs, allow_none=True)
        self.samples = check_int("samples", samples)
        self.temperature = check_number("temperature", temperature, 0.0, strict=True)
        self.bound = check_number("bound", bound, 0.0, strict=True)
        self.repository_size = check_int("repository_size", repository_size)
        self.parent_exponent = check_number("parent_exponent", parent_exponent, 0.0)
        self.resample_fraction = check_number("resample_fraction", resample_fraction, 0.0, 1.0)
        self.offline_rule = check_choice("offline_rule", offline_rule, OFFLINE_RULES)
        self.offline_samples = check_int("offline_samples", offline_samples)
        self.elites = bool(elites)
        rates = tuple(learning_rates) if isinstance(learning_rates, (list, tuple)) else ()
        if len(rates) != 3:
            raise ValueError(
                "Invalid value for argument `learning_rates`: expected three rates "
                "(structure, regression, offline). Received: "
                f"learning_rates={learning_rates!r}"
            )
        self.learning_rates = tuple(check_number("learning_rates", r, 0.0) for r in rates)
        self.gradient_bound = check_number("gradient_bound", gradient_bound, 0.0, strict=True)
        self.steps_per_call = check_int("steps_per_call", steps_per_call)
        self.seed = check_int("seed", seed, minimum=0)
        self.n_runs = self.runs or 1
        self.node_layers = [
            FunctionNodes(f, runs=self.n_runs, bound=self.bound, name=f"nodes_{k}")
            for k, f in enumerate(self.functions)
        ]
        self.connections = [
            GumbelConnection(max(nodes.slots, 1), runs=self.n_runs, temperature=self.temperature,
                             name=f"connection_{k}")
            for k, nodes in enumerate(self.node_layers)
        ] + [GumbelConnection(1, runs=self.n_runs, temperature=self.temperature,
                              name="connection_out")]
        self.structure_optimizer = keras.optimizers.Adam(self.learning_rates[0])
        self.regression_optimizer = keras.optimizers.Adam(self.learning_rates[1])
        self.offline_optimizer = keras.optimizers.Adam(self.learning_rates[2])
        self.total_slots = sum(c.slots for c in self.connections)
        self.resampled_slots = max(1, int(round(self.resample_fraction * self.total_slots)))

    # -- construction --------------------------------------------------------------
    def build(self, input_shape):
        self.n_variables = int(input_shape[-1])
        prev = self.n_variables + 1
        self.widths = [prev]
        for conn, nodes in zip(self.connections, self.node_layers):
            conn.build((self.n_runs, 1, prev))
            nodes.build((self.n_runs, 1, 1, conn.slots), (self.n_runs, 1, 1, prev))
            prev = nodes.n_nodes
            self.widths.append(prev)
        self.connections[-1].build((self.n_runs, 1, prev))
        R, C = self.n_runs, self.repository_size

        def state(name, shape, dtype="float32", value=0.0):
            return self.add_weight(name=name, shape=shape, dtype=dtype, trainable=False,
                                   initializer=keras.initializers.Constant(value))

        self.run_seeds = state("run_seeds", (R,), "int32")
        self.run_seeds.assign(self.seed + np.arange(R, dtype="int32"))
        self.iteration = state("iteration", (), "int32")
        self.stage = state("stage", (), "int32", 2)
        self.stage_start = state("stage_start", (), "int32")
        self.rounds_started = state("rounds_started", (), "int32")
        self.repository_mae = state("repository_mae", (R, C), value=_INF)
        self.repository_key = state("repository_key", (R, C), "int64")
        self.repository_log_weights = [
            state(f"repository_log_weights_{k}", (R, C, c.slots, c.n_prev))
            for k, c in enumerate(self.connections)
        ]
        self.best_mae = state("best_mae", (R,), value=_INF)
        self.best_log_weights = [
            state(f"best_log_weights_{k}", (R, c.slots, c.n_prev))
            for k, c in enumerate(self.connections)
        ]
        self.best_kernels = [
            state(f"best_kernel_{k}", tuple(v.shape)) for k, v in enumerate(self._regression_variables())
        ]
        self.selected = [state(f"selected_{k}", (R, c.slots), "int32")
                         for k, c in enumerate(self.connections)]
        self.has_selection = state("has_selection", (), "int32")
        # Random odd multipliers of the structure hash, one per key position.
        n_key = sum(c.slots for c in self.connections)
        rng = np.random.default_rng(20211)
        self._key_multipliers = (rng.integers(1, 2**62, n_key, dtype=np.int64) * 2 + 1)
        # The optimizers' moments are state too: built with the model, so that a loaded
        # model restores them (its next `fit` goes on from them; a new stage resets them).
        self._build_optimizers()

    def _build_optimizers(self):
        for opt, variables in ((self.structure_optimizer, self._structure_variables()),
                               (self.regression_optimizer, self._regression_variables()),
                               (self.offline_optimizer, self._structure_variables())):
            if not opt.built:
                opt.build(variables)

    def _structure_variables(self):
        return [c.logits for c in self.connections]

    def _regression_variables(self):
        return [c.kernel for c in self.connections] + [
            n.sum_kernel for n in self.node_layers if n.n_sum
        ]

    # -- forward -------------------------------------------------------------------
    def _inputs(self, x):
        """Inputs and the constant 1, features-first: ``(runs, n_variables + 1, batch)``."""
        x = tf.convert_to_tensor(x, "float32")
        h = tf.concat([tf.transpose(x), tf.ones([1, tf.shape(x)[0]], x.dtype)], 0)
        return tf.broadcast_to(h, tf.concat([[self.n_runs], tf.shape(h)], 0))

    def _forward(self, x, weights, kernels=None):
        """Predictions ``(runs, p, batch)`` of instances given each connection's weights
        ``(runs, p, slots, n_prev)`` (relaxed) or int choices ``(runs, p, slots)`` (hard;
        evaluated as gathers), with the regression weights ``kernels`` (tensors in the
        order of ``_regression_variables``; default the variables)."""
        kernels = self._regression_variables() if kernels is None else kernels
        n_conn = len(self.connections)
        sums = iter(kernels[n_conn:])
        h = self._inputs(x)
        for k, (conn, nodes, v) in enumerate(zip(self.connections, self.node_layers, weights)):
            values = (conn.gather_columns(h, v, kernels[k]) if v.dtype.is_integer
                      else conn.mix_columns(h, v, kernels[k]))
            h = nodes.apply(values, h, next(sums) if nodes.n_sum else None, columns=True)
        conn, v = self.connections[-1], weights[-1]
        values = (conn.gather_columns(h, v, kernels[n_conn - 1]) if v.dtype.is_integer
                  else conn.mix_columns(h, v, kernels[n_conn - 1]))
        return values[:, :, 0]

    def call(self, inputs, training=None, choices=None):
        if choices is not None:
            weights = [tf.reshape(tf.cast(ch, tf.int32), [self.n_runs, -1, c.slots])
                       for c, ch in zip(self.connections, choices)]
            out = self._forward(inputs, weights)
            return out if self.runs else out[0]
        if training:
            weights = [tf.exp(c.sample(self.samples)) for c in self.connections]
            out = self._forward(inputs, weights)
            return out if self.runs else out[0]
        argmax = [tf.argmax(c.logits, -1, output_type=tf.int32) for c in self.connections]
        picked = [tf.where(self.has_selection > 0, s, a) for s, a in zip(self.selected, argmax)]
        out = self._forward(inputs, [ch[:, None] for ch in picked])
        out = tf.transpose(out[:, 0], [1, 0])  # (batch, runs)
        return out if self.runs else out[:, 0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.runs) if self.runs else (input_shape[0],)

    # -- structure keys ------------------------------------------------------------
    def _used_key_columns(self, choices):
        """Per connection: the choice of every used slot (-1 if unused), commutative
        arguments sorted. ``choices``: int tensors ``(..., slots)``; tensors out."""
        out = [None] * len(self.connections)
        last = self.node_layers[-1].n_nodes
        out[-1] = choices[-1]
        used = tf.one_hot(choices[-1][..., 0], last, on_value=True, off_value=False, dtype=tf.bool)
        for k in range(len(self.node_layers) - 1, -1, -1):
            nodes, choice = self.node_layers[k], choices[k]
            if nodes.slots:
                used_slots = tf.gather(used, tf.constant(nodes.slot_nodes, tf.int32), axis=-1)
                keyed = tf.where(used_slots, choice, -1)
                pairs = nodes.commutative_pairs
                if pairs:
                    def cols(idx):
                        return tf.gather(keyed, tf.constant(idx, tf.int32), axis=-1)

                    a, b = cols([i for i, _ in pairs]), cols([j for _, j in pairs])
                    others = [s for s in range(nodes.slots) if all(s not in pr for pr in pairs)]
                    keyed = tf.concat([cols(others), tf.minimum(a, b), tf.maximum(a, b)], -1)
            else:
                used_slots = tf.zeros_like(choice, tf.bool)
                keyed = tf.fill(tf.shape(choice), -1)
            out[k] = keyed
            prev_used = tf.reduce_any(
                tf.one_hot(choice, self.widths[k], on_value=True, off_value=False, dtype=tf.bool)
                & used_slots[..., None], axis=-2)
            if nodes.n_sum:
                sum_used = tf.reduce_any(used[..., nodes.n_nodes - nodes.n_sum:], -1, keepdims=True)
                prev_used = prev_used | sum_used
            used = prev_used
        return out

    def _structure_hash(self, choices):
        cols = tf.concat(self._used_key_columns(choices), -1)
        return tf.reduce_sum(tf.cast(cols + 2, tf.int64) * self._key_multipliers, -1)

    def _expression_hash(self, choices):
        """A hash of each instance's expression read from the output, weights ignored
        (the paper's rule): a node's hash mixes its function with its inputs' hashes
        (sorted for symmetric functions), an identity passes its input's on, and copies
        of one function on the same input agree. ``choices``: int tensors ``(R, p,
        slots)`` per connection; returns ``(R, p)`` int64."""
        def mix(h):  # an avalanche step of splitmix64 (int64 arithmetic wraps)
            h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 31)) * _MIX[0]
            h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 29)) * _MIX[1]
            return tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 32))

        lead = tf.shape(choices[0])[:2]
        h = tf.broadcast_to(tf.constant(_input_codes(self.n_variables + 1)),
                            tf.concat([lead, [self.n_variables + 1]], 0))
        for k, nodes in enumerate(self.node_layers):
            slot = tf.gather(h, choices[k], batch_dims=2) if nodes.slots else None
            symmetric = set(nodes.commutative_pairs)  # each lookup runs SymPy: once per layer
            out, col = [], 0
            for prim, count in nodes._groups:
                code = _function_code(prim.name)
                args = [slot[..., col + j * count: col + (j + 1) * count] for j in range(prim.arity)]
                col += prim.arity * count
                if prim.arity == 0:
                    out.append(tf.fill(tf.concat([lead, [count]], 0), code))
                elif prim.name == "identity":
                    out.append(args[0])
                elif prim.arity == 1:
                    out.append(mix(args[0] + code))
                elif (col - 2 * count, col - count) in symmetric:
                    a, b = mix(args[0]), mix(args[1])
                    out.append(mix(a + b + code) + mix(a * b))
                else:
                    out.append(mix(mix(args[0] + code) * 3 + args[1]))
            if nodes.n_sum:  # a sum reads every previous output
                total = tf.reduce_sum(mix(h), -1, keepdims=True) + _function_code(SUM)
                out.append(tf.repeat(mix(total), nodes.n_sum, axis=-1))
            h = tf.concat(out, -1)
        return tf.gather(h, choices[-1], batch_dims=2)[..., 0]

    def structure_key(self, choices):
        """A hashable key of a hard structure, ignoring weights: the choices of the
        slots the output depends on (others -1), arguments of symmetric functions
        sorted. ``choices``: one int sequence ``(slots,)`` per connection."""
        cols = self._used_key_columns([tf.constant(np.asarray(c, "int32")[None]) for c in choices])
        return tuple(int(v) for c in cols for v in np.asarray(c)[0])

    # -- training --------------------------------------------------------------------
    def _offline_loss(self, log_weights):
        """Offline objective of the logits on elite log-weights ``(runs, r, slots, n)``:
        eq. 7 (minus the log-density of the concrete distribution, z-terms only) or
        eq. 11 (squared difference of exp(z) and V**lambda)."""
        lam = self.temperature
        total = 0.0
        for conn, lv in zip(self.connections, log_weights):
            z = conn.logits[:, None]
            if self.offline_rule == "eq7":
                n = float(conn.n_prev)
                per = tf.reduce_sum(z, -1) - n * tf.reduce_logsumexp(z - lam * lv, -1)
                total += -tf.reduce_mean(tf.reduce_sum(per, -1), -1)
            else:
                per = tf.reduce_sum((tf.exp(z) - tf.exp(lam * lv)) ** 2, [-2, -1])
                total += tf.reduce_mean(per, -1)
        return total  # (runs,)

    def _point_weights(self, point_rank):
        """Weights (batch,) of the points in this iteration's training loss under
        ``curriculum``: in stage 2, 1 for the growing share nearest the origin
        (``point_rank``: each point's rank by ``max_j |x_j|`` over the number of points,
        in [0, 1)) and 0 elsewhere; all 1 in stage 1."""
        w = share_weights(point_rank, self.curriculum, self.iteration - self.stage_start)
        return tf.where(self.stage >= 2, w, tf.ones_like(w))

    def _iteration(self, x, y, point_rank=None):
        R, p = self.n_runs, self.samples
        it, seeds = self.iteration, self.run_seeds
        n_conn = len(self.connections)
        uniforms = [counter_uniform([p, c.slots, c.n_prev], seeds, it, k)
                    for k, c in enumerate(self.connections)]
        u_parent = counter_uniform([p], seeds, it, 100)
        u_mask = counter_uniform([p, self.total_slots], seeds, it, 101)
        u_offline = counter_uniform([self.offline_samples], seeds, it, 102)

        rep_mae = self.repository_mae.value
        rep_lw = [v.value for v in self.repository_log_weights]
        filled = tf.math.is_finite(rep_mae)
        any_filled = tf.reduce_any(filled, -1)  # (R,)
        parent = pick_elites(filled, u_parent, self.parent_law, self.parent_exponent)
        mask = resample_mask(u_mask, self.resampled_slots, any_filled, self.elites)
        masks = tf.split(mask, [c.slots for c in self.connections], axis=-1) if n_conn > 1 else [mask]
        bases = [tf.gather(lw, parent, batch_dims=1) for lw in rep_lw]

        structure = self._structure_variables()
        regression = self._regression_variables()
        kernels_before = [tf.identity(v) for v in regression]
        stage2 = tf.cast(self.stage >= 2, tf.float32)
        with tf.GradientTape() as tape:
            log_w = [c.sample(p, m, b, u) for c, m, b, u in zip(self.connections, masks, bases, uniforms)]
            pred = self._forward(x, [tf.exp(lw) for lw in log_w])
            error = tf.abs(pred - y[None, None, :])
            mae = tf.reduce_mean(error, -1)  # (R, p)
            if self.curriculum is None:
                train_mae = mae
            else:
                point_w = self._point_weights(point_rank)
                train_mae = tf.reduce_sum(error * point_w, -1) / tf.reduce_sum(point_w)
            finite = tf.math.is_finite(train_mae)
            kept = finite
            if self.loss_quantile < 1.0:  # only the best instances train the weights
                k = max(1, int(np.ceil(self.loss_quantile * p)))
                ranked = tf.sort(tf.where(finite, tf.stop_gradient(train_mae), _INF), axis=-1)
                kept = finite & (train_mae <= ranked[:, k - 1:k])
            n_kept = tf.reduce_sum(tf.cast(kept, tf.float32), -1)
            per_run = tf.reduce_sum(tf.where(kept, train_mae, 0.0), -1) / tf.maximum(n_kept, 1.0)
            loss = tf.reduce_sum(per_run)
        grads = _sanitize(tape.gradient(loss, structure + regression), self.gradient_bound)
        self.structure_optimizer.apply(grads[:len(structure)], structure)
        self.regression_optimizer.apply([g * stage2 for g in grads[len(structure):]], regression)

        if self.offline_rule is not None:
            picks = pick_elites(filled, u_offline, self.parent_law, self.parent_exponent)
            elite_lw = [tf.gather(lw, picks, batch_dims=1) for lw in rep_lw]
            weight = stage2 * tf.cast(any_filled, tf.float32)
            with tf.GradientTape() as tape:
                off = tf.reduce_sum(self._offline_loss(elite_lw) * weight)
            off_grads = _sanitize(tape.gradient(off, structure), self.gradient_bound)
            self.offline_optimizer.apply(off_grads, structure)

        # Merge the instances into the repository (distinct structures, best MAE each).
        log_w = [tf.stop_gradient(lw) for lw in log_w]
        choices = [tf.argmax(lw, -1, output_type=tf.int32) for lw in log_w]
        finite = tf.math.is_finite(mae)
        if self.rank_by == "hard":
            # The MAE of the hard structures (the expressions read out), same weights.
            pred = tf.stop_gradient(self._forward(x, choices, kernels_before))
            mae = tf.reduce_mean(tf.abs(pred - y[None, None, :]), -1)
            finite = tf.math.is_finite(mae)
        new_mae = tf.where(finite, mae, _INF)
        new_key = (self._structure_hash(choices) if self.elite_key == "structure"
                   else self._expression_hash(choices))  # (R, p)
        maes, keys, lws = merge_repository(rep_mae, self.repository_key.value, rep_lw,
                                           new_mae, new_key, log_w)
        self.repository_mae.assign(maes)
        self.repository_key.assign(keys)
        for var, lw in zip(self.repository_log_weights, lws):
            var.assign(lw)

        # The best instance ever sampled (T*), with the weights it was evaluated with.
        best_i = tf.argmin(new_mae, -1, output_type=tf.int32)
        best_m = tf.reduce_min(new_mae, -1)
        improved = best_m < self.best_mae
        self.best_mae.assign(tf.where(improved, best_m, self.best_mae))
        for var, lw in zip(self.best_log_weights, log_w):
            var.assign(tf.where(improved[:, None, None], tf.gather(lw, best_i, batch_dims=1), var))
        for var, before in zip(self.best_kernels, kernels_before):
            shape = [R] + [1] * (before.shape.rank - 1)
            var.assign(tf.where(tf.reshape(improved, shape), before, var))
        self.iteration.assign_add(1)
        return tf.reduce_mean(per_run)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError(
                "Invalid value for argument `sample_weight`: GMEQL.fit does not support "
                "sample weights. Received sample weights."
            )
        if not self.built:
            self.build(x.shape)
        x = tf.convert_to_tensor(x, "float32")
        y = tf.reshape(tf.cast(y, "float32"), [-1])
        self._build_optimizers()

        point_rank = None if self.curriculum is None else origin_rank(x)

        def body(i, _):
            return i + 1, self._iteration(x, y, point_rank)

        _, loss = tf.while_loop(lambda i, _: i < self.steps_per_call, body,
                                (tf.constant(0), tf.constant(0.0)))
        filled = tf.reduce_sum(tf.cast(tf.math.is_finite(self.repository_mae), tf.float32), -1)
        return {
            "loss": loss,
            "best_mae": tf.reduce_min(self.best_mae),
            "elite_mae": tf.reduce_mean(tf.where(tf.math.is_finite(self.repository_mae[:, 0]),
                                                 self.repository_mae[:, 0], 0.0)),
            "repository": tf.reduce_mean(filled),
        }

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        pred = self(x, training=False)
        y = tf.cast(y, pred.dtype)
        y = tf.reshape(y, [-1, 1]) if self.runs else tf.reshape(y, [-1])
        return {"loss": tf.reduce_mean(tf.abs(pred - y))}

    def compile(self, **kwargs):
        """``keras.Model.compile`` with GMEQL's settings: its three Adam optimizers are
        its own (``learning_rates``), and training is compiled with XLA by default."""
        kwargs.setdefault("optimizer", self.structure_optimizer)
        kwargs.setdefault("jit_compile", self.xla)
        super().compile(**kwargs)

    def get_compile_config(self):
        # GMEQL's compile takes no settings worth saving, but whether it was compiled
        # matters: Keras saves the compiled optimizer (the structure Adam) under the
        # model's ``optimizer``, so a loaded model must be compiled again for that Adam's
        # moments to find their way back.
        return {"jit_compile": bool(self.jit_compile)} if self.compiled else None

    def compile_from_config(self, config):
        self.compile(jit_compile=config.get("jit_compile", self.xla))

    # -- Algorithm 1 ---------------------------------------------------------------
    def start_stage(self, stage):
        """Start a round of ``stage`` 1 (structure logits only) or 2 (both, offline too):
        re-initialize logits and regression weights (N(0, 1); every run from its own
        seed and the round's number) and reset the optimizers' moments."""
        stage = check_choice("stage", stage, (1, 2))
        if not self.built:
            raise ValueError("Build the model (call it on data, or fit it) before start_stage.")
        round_index = int(self.rounds_started.numpy())
        seeds = self.run_seeds.numpy()
        for i, var in enumerate(self._structure_variables() + self._regression_variables()):
            shape = tuple(var.shape)[1:]
            values = np.stack([
                np.random.default_rng([int(s), round_index, i]).standard_normal(shape)
                for s in seeds
            ]).astype("float32")
            var.assign(values)
        for opt in (self.structure_optimizer, self.regression_optimizer, self.offline_optimizer):
            _reset_moments(opt)
        self.stage.assign(stage)
        self.stage_start.assign(self.iteration)
        self.rounds_started.assign(round_index + 1)

    def search(self, x, y, rounds=3, round_iterations=2000, iterations=48000, stage1=True,
               verbose=0, callbacks=None):
        """Algorithm 1: ``rounds`` rounds of ``round_iterations`` training the logits only
        (stage 1, skipped with ``stage1=False``), then ``iterations`` training both
        (stage 2). Iteration counts are rounded up to multiples of ``steps_per_call``.
        Returns the Keras ``History`` of each ``fit``."""
        x = np.asarray(x, "float32")
        y = np.asarray(y, "float32").reshape(-1)
        self.check_data(x, y)
        if not self.built:
            self.build(x.shape)
        if not getattr(self, "compiled", False):
            self.compile()
        data = feed.repeated((x, y))
        histories = []

        def calls(n):
            return max(1, -(-int(n) // self.steps_per_call))

        plan = [(1, round_iterations)] * (check_int("rounds", rounds, minimum=0) if stage1 else 0)
        plan.append((2, iterations))
        for stage, n in plan:
            self.start_stage(stage)
            histories.append(self.fit(data, epochs=1, steps_per_epoch=calls(n), verbose=verbose,
                                      shuffle=False,
                                      callbacks=callbacks))
        return histories

    def check_data(self, x, y):
        """ValueError unless ``x`` is ``(n, n_variables)`` and ``x``, ``y`` finite with n rows."""
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 2:
            raise ValueError(f"Invalid value for argument `x`: expected a 2-D array (n, variables). "
                             f"Received shape {x.shape}")
        if self.built and x.shape[1] != self.n_variables:
            raise ValueError(
                f"Invalid value for argument `x`: this GMEQL has {self.n_variables} variables; "
                f"x has {x.shape[1]} columns."
            )
        if y.reshape(len(y), -1).shape != (x.shape[0], 1):
            raise ValueError(f"Invalid value for argument `y`: expected {x.shape[0]} targets, one "
                             f"per row of x. Received shape {y.shape}")
        for name, a in (("x", x), ("y", y)):
            if not np.all(np.isfinite(a)):
                raise ValueError(f"Invalid value for argument `{name}`: it contains NaN or "
                                 "infinite values.")

    # -- read-out --------------------------------------------------------------------
    def candidate_choices(self, top=10):
        """Hard structures to read out, per run: T* first, then the ``top`` best elites.

        Returns a list over runs of lists of candidates; a candidate is a list of int
        arrays ``(slots,)``, one per connection.
        """
        best = [np.argmax(v.numpy(), -1) for v in self.best_log_weights]
        rep = [np.argmax(v.numpy(), -1) for v in self.repository_log_weights]
        rep_mae = self.repository_mae.numpy()
        best_mae = self.best_mae.numpy()
        out = []
        for r in range(self.n_runs):
            cands = [[b[r] for b in best]] if np.isfinite(best_mae[r]) else []
            n = int(np.sum(np.isfinite(rep_mae[r])))
            cands += [[c[r, i] for c in rep] for i in range(min(top, n))]
            out.append(cands)
        return out

    def elite_table(self, var_names=None, run=0):
        """The repository of ``run`` as rows ``(structure, mae)``, best first, one row per
        distinct SymPy structure (read with every weight 1)."""
        rep = [np.argmax(v.numpy(), -1) for v in self.repository_log_weights]
        maes = self.repository_mae.numpy()[run]
        rows, seen = [], set()
        for i in np.flatnonzero(np.isfinite(maes)):
            expr = self.to_sympy(var_names, [c[run, i] for c in rep], run=run, weights=False)
            key = sympy.srepr(expr)
            if key not in seen:
                seen.add(key)
                rows.append((expr, float(maes[i])))
        return rows

    def to_sympy(self, var_names=None, choices=None, run=None, weights=True):
        """The expression of a hard structure, breadth-first from the output.

        Only the nodes the output depends on are read; SymPy's own simplification then
        folds constants and writes ``x*x`` as ``x**2``.

        Args:
            var_names: names of the variables (default ``x0, x1, ...``).
            choices: one int sequence ``(slots,)`` per connection (default: the selected
                structure, or the argmax of the logits).
            run: which run (needed with ``runs``).
            weights: use the regression weights (False: every weight 1, the structure).
        """
        if self.runs is not None and run is None:
            raise ValueError(f"Invalid value for argument `run`: this GMEQL holds {self.runs} "
                             "runs; pass run in [0, runs). Received: run=None")
        r = 0 if run is None else int(run)
        if var_names is None:
            var_names = [f"x{i}" for i in range(self.n_variables)]
        if isinstance(var_names, str):
            var_names = [v.strip() for v in var_names.split(",") if v.strip()]
        if len(var_names) != self.n_variables:
            raise ValueError(f"Invalid value for argument `var_names`: expected {self.n_variables} "
                             f"names. Received: {list(var_names)!r}")
        if choices is None:
            source = self.selected if int(self.has_selection.numpy()) else None
            if source is None:
                choices = [np.argmax(c.logits.numpy()[r], -1) for c in self.connections]
            else:
                choices = [v.numpy()[r] for v in source]
        choices = [np.asarray(c, int).reshape(-1) for c in choices]
        symbols = [sympy.Symbol(str(v)) for v in var_names]
        layer_exprs = [symbols + [sympy.Integer(1)]]

        def kernel(conn):
            return conn.kernel.numpy()[r] if weights else np.ones(conn.slots)

        # Breadth-first from the output: which nodes of each layer are needed.
        needed = [set() for _ in self.widths]
        needed[-1] = {int(choices[-1][0])}
        for k in range(len(self.node_layers) - 1, -1, -1):
            nodes = self.node_layers[k]
            slot_nodes = nodes.slot_nodes
            for s in range(nodes.slots):
                if slot_nodes[s] in needed[k + 1]:
                    needed[k].add(int(choices[k][s]))
            if any(i >= nodes.n_nodes - nodes.n_sum for i in needed[k + 1]):
                needed[k] = set(range(self.widths[k]))
        for k, (conn, nodes) in enumerate(zip(self.connections, self.node_layers)):
            prev = layer_exprs[-1]
            w = kernel(conn)
            slot_exprs = [sympy.Float(float(w[s])) * prev[choices[k][s]]
                          if weights else prev[choices[k][s]] for s in range(nodes.slots)]
            prev_for_sum = [e if i in needed[k] else sympy.Integer(0) for i, e in enumerate(prev)]
            outs = self._node_exprs(nodes, slot_exprs[:nodes.slots], prev_for_sum, r, weights)
            layer_exprs.append([e if i in needed[k + 1] else sympy.Integer(0)
                                for i, e in enumerate(outs)])
        w_out = kernel(self.connections[-1])[0]
        expr = layer_exprs[-1][int(choices[-1][0])]
        return elementary(sympy.Float(float(w_out)) * expr if weights else expr)

    @staticmethod
    def _node_exprs(nodes, slot_exprs, previous, run, weights):
        if weights or not nodes.n_sum:
            return nodes.to_sympy(slot_exprs, previous, run=run)
        out = nodes.to_sympy(slot_exprs, previous, run=run)
        n = nodes.n_nodes - nodes.n_sum
        return out[:n] + [sympy.Add(*previous)] * nodes.n_sum

    # -- selection -------------------------------------------------------------------
    def fit_weights(self, x, y, choices, steps=1000, learning_rate=1e-3, curriculum=None):
        """Train the regression weights of fixed hard structures (one per run), MAE loss,
        Adam; ``choices``: one int array ``(runs, slots)`` per connection. With
        ``curriculum=(start, iterations)`` step ``i`` trains on the share
        ``start + (1 - start) * min(1, i / iterations)`` of the points nearest the origin
        (as the model's ``curriculum`` in stage 2). Returns the training MAE of each run
        (on every point) after training."""
        curriculum = check_curriculum(curriculum)
        x = tf.convert_to_tensor(np.asarray(x, "float32"))
        y = tf.reshape(tf.convert_to_tensor(np.asarray(y, "float32")), [-1])
        if not self.built:
            self.build(x.shape)
        hard = [tf.reshape(tf.constant(np.asarray(ch, "int32")), [self.n_runs, 1, c.slots])
                for c, ch in zip(self.connections, choices)]
        run, opt = self._weight_trainer()
        _reset_moments(opt)  # a fresh Adam for every call
        opt.learning_rate.assign(float(learning_rate))
        # (start, 1 - start, span) as float32, each rounded from float64 as a constant
        # in the graph would be; no curriculum is the share 1 from the first step.
        start, span = (1.0, 1) if curriculum is None else curriculum
        share = tf.constant([start, 1.0 - start, span], tf.float32)
        result = run(x, y, hard, tf.constant(int(steps)), share).numpy()
        return np.where(np.isfinite(result), result, np.inf)

    def _weight_trainer(self):
        """The compiled loop of :meth:`fit_weights` and its Adam, made once and kept
        beside the model (not in its state): the hard structures, the data, the
        learning rate (the Adam's variable) and the curriculum are arguments, so the
        memetic refits and the read-out's polish (:meth:`select`) share one compiled
        graph (an XLA compile of 5-7 s saved per run, docs/performance.md)."""
        cache = _side_cache(self, "_weight_trainers")
        if "trainer" in cache:
            return cache["trainer"]
        variables = self._regression_variables()
        opt = keras.optimizers.Adam(1e-3)
        opt.build(variables)

        @tf.function(jit_compile=self.xla)
        def run(x, y, hard, n, share):
            rank = origin_rank(x)

            def errors():
                return tf.abs(self._forward(x, hard)[:, 0] - y[None])

            def body(i):
                with tf.GradientTape() as tape:
                    w = share_mask(rank, share[0], share[1], share[2], i)
                    m = tf.reduce_sum(errors() * w, -1) / tf.reduce_sum(w)
                    loss = tf.reduce_sum(tf.where(tf.math.is_finite(m), m, 0.0))
                grads = _sanitize(tape.gradient(loss, variables), self.gradient_bound)
                opt.apply(grads, variables)
                return i + 1

            tf.while_loop(lambda i: i < n, body, [tf.constant(0)])
            return tf.reduce_mean(errors(), -1)

        cache["trainer"] = (run, opt)
        return cache["trainer"]

    def _weight_model(self, runs, seed, cached=False):
        """A built GMEQL of this one's functions with ``runs`` runs, for training the
        regression weights of given hard structures (:meth:`fit_weights`). With
        ``cached``, the one made for ``runs`` by an earlier call is returned (its
        compiled :meth:`fit_weights` is reused; ``seed`` then only seeds the first)."""
        models = _side_cache(self, "_weight_models") if cached else {}
        if runs not in models:
            model = GMEQL(self.functions, runs=runs, bound=self.bound,
                          gradient_bound=self.gradient_bound, seed=seed, xla=self.xla)
            model.build((None, self.n_variables))
            models[runs] = model
        return models[runs]

    def refit_elites(self, x, y, top=10, starts=4, steps=3000, learning_rate=1e-2,
                     curriculum=(0.03, 1500), skip=None, adopt=False, chunk=None):
        """The memetic step: refit the best elites' weights, each from several starts.

        During the search every sampled instance shares the regression weights, so an
        elite is ranked by its error under weights that belong to none of the
        structures; a right structure with a frequency inside ``sin`` is then ranked
        below polynomial look-alikes. Here the ``top`` best elites of each run (not in
        ``skip``) get their own weights: ``starts`` draws from N(0, 1) each, trained
        ``steps`` Adam steps (``learning_rate``, ``curriculum`` as in
        :meth:`fit_weights`), all in one graph. An elite's MAE in the repository becomes
        its best refit MAE when that is lower (the repository is re-sorted, so parents
        and the offline rule favour it); a refit better than T* becomes T* with its
        weights. With ``adopt``, each run's shared regression weights are set to those
        of its best refit (Lamarckian: the next instances start from them).

        With the right structure of b5 or b6 given, 3000 steps at 1e-2 with the default
        curriculum find both frequencies from 33 and 40 of 50 starts (1500 steps at 2e-2:
        25 and 22 with the curriculum, 2 and 3 without; ``benchmarks/gmeql_frequency.py``).

        Args:
            x, y: the training data, ``(n, n_variables)`` and ``(n,)``.
            skip: per run, a set of elite keys (as in ``repository_key``) not to refit;
                the keys refitted are added to it (pass the same list each call).
            chunk: elites refitted in one graph call (None: :data:`REFIT_CHUNK`, or
                ``runs * top`` if fewer). Every call trains ``chunk * starts`` networks
                (the last one padded), so a small chunk wastes less on a refit of a few
                elites; memory grows with it times the rows of ``x``. The chunk changes
                the cost, not the result: an elite's starting weights depend on its
                place among the elites refitted and on the number of earlier refits.

        Returns:
            ``(runs, top)`` refit MAEs of the elites refitted (inf where none).
        """
        top = check_int("top", top)
        starts = check_int("starts", starts)
        steps = check_int("steps", steps, minimum=0)
        learning_rate = check_number("learning_rate", learning_rate, 0.0, strict=True)
        curriculum = check_curriculum(curriculum)
        chunk = None if chunk is None else check_int("chunk", chunk)
        x = np.asarray(x, "float32")
        y = np.asarray(y, "float32").reshape(-1)
        self.check_data(x, y)
        if skip is not None and len(skip) != self.n_runs:
            raise ValueError(f"Invalid value for argument `skip`: expected one set of keys per "
                             f"run ({self.n_runs}). Received {len(skip)} entries.")
        rep_mae = self.repository_mae.numpy()
        rep_key = self.repository_key.numpy()
        picks = []  # (run, index) of the elites to refit
        for r in range(self.n_runs):
            done = skip[r] if skip is not None else set()
            idx = [i for i in np.flatnonzero(np.isfinite(rep_mae[r])) if int(rep_key[r, i]) not in done]
            picks.append(idx[:top])
        flat = [(r, i) for r, idx in enumerate(picks) for i in idx]
        result = np.full((self.n_runs, top), np.inf)
        if not flat:
            return result
        rep_lw = [v.numpy() for v in self.repository_log_weights]
        hard = [np.argmax(lw, -1) for lw in rep_lw]  # (runs, C, slots)
        # A fixed number of elites per graph call (the last call padded with its first
        # pick), so that every call reuses one weight model and its compiled training.
        # The starting weights are those of one virtual model holding every elite of
        # the refit (start s of the j-th elite: run seed `seed + j * starts + s`, round:
        # the number of earlier refits), so the chunk changes the cost, not the result.
        size = min(REFIT_CHUNK if chunk is None else chunk, self.n_runs * top)
        # int32 run seeds for every place, the last call's padding (< runs * top) included
        seed = self.seed % (2**31 - 1 - 2 * self.n_runs * top * starts)
        model = self._weight_model(size * starts, seed, cached=True)
        refits = _side_cache(self, "_refits")
        best, fitted = [], []  # per elite of `flat`: best refit MAE, its weights
        for part, padded in _padded_chunks(len(flat), size):
            choices = [np.repeat(np.stack([h[flat[k]] for k in padded]), starts, axis=0)
                       for h in hard]
            model.run_seeds.assign(seed + int(part[0]) * starts + np.arange(size * starts, dtype="int32"))
            model.rounds_started.assign(refits.get("count", 0))
            model.start_stage(2)  # every weight from N(0, 1): a new draw per start and refit
            maes = model.fit_weights(x, y, choices, steps, learning_rate, curriculum)
            maes = maes.reshape(size, starts)[:len(part)]
            best_start = np.argmin(maes, -1)
            best.extend(maes[np.arange(len(part)), best_start])
            weights = [v.numpy() for v in model._regression_variables()]
            fitted.extend([np.array(w[j * starts + b]) for w in weights]
                          for j, b in enumerate(best_start))
        refits["count"] = refits.get("count", 0) + 1
        shared = [v.numpy() for v in self._regression_variables()]
        t_mae, t_lw, t_kernels = self.best_mae.numpy(), [v.numpy() for v in self.best_log_weights], [
            v.numpy() for v in self.best_kernels]
        adopted = np.full(self.n_runs, np.inf)
        for j, (r, i) in enumerate(flat):
            result[r, picks[r].index(i)] = best[j]
            if skip is not None:
                skip[r].add(int(rep_key[r, i]))
            if not np.isfinite(best[j]):
                continue
            if best[j] < rep_mae[r, i]:
                rep_mae[r, i] = best[j]
            if best[j] < t_mae[r]:
                t_mae[r] = best[j]
                for tl, lw in zip(t_lw, rep_lw):
                    tl[r] = lw[r, i]
                for tk, f in zip(t_kernels, fitted[j]):
                    tk[r] = f
            if adopt and best[j] < adopted[r]:
                adopted[r] = best[j]
                for sv, f in zip(shared, fitted[j]):
                    sv[r] = f
        order = np.argsort(rep_mae, axis=-1, kind="stable")
        self.repository_mae.assign(np.take_along_axis(rep_mae, order, -1))
        self.repository_key.assign(np.take_along_axis(rep_key, order, -1))
        for var, lw in zip(self.repository_log_weights, rep_lw):
            var.assign(np.take_along_axis(lw, order[:, :, None, None], 1))
        self.best_mae.assign(t_mae)
        for var, value in zip(self.best_log_weights + self.best_kernels, t_lw + t_kernels):
            var.assign(value)
        if adopt:
            for var, value in zip(self._regression_variables(), shared):
                var.assign(value)
        return result

    def _expression_mae(self, x, y, choices, run, refit=False):
        """Training MAE and complexity of the read-out expression (no clipping: what is
        reported); with ``refit``, of the expression after a least-squares refit of its
        additive terms (:func:`deepsymreg.symbolic.polish`)."""
        names = [f"x{i}" for i in range(self.n_variables)]
        symbols = sympy.symbols(names)
        try:
            expr = self.to_sympy(names, choices, run=run)
            if refit:
                expr = symbolic.polish(expr, symbols, x.astype("float64"), y.astype("float64"))
            pred = symbolic.to_numpy_function(expr, symbols)(x)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            return np.inf, np.inf
        with np.errstate(all="ignore"):
            mae = float(np.mean(np.abs(pred - y)))
        return (mae, symbolic.complexity(expr)) if np.isfinite(mae) else (np.inf, np.inf)

    def select(self, x, y, top=100, polish_steps=1000, learning_rate=1e-3, score="refit",
               near=0.01):
        """Read the best structures out, refit their weights, keep the best of each run.

        For every run the candidates are T* (with its weights) and the ``top`` best
        elites (with the current weights), each a hard structure; their regression
        weights are trained ``polish_steps`` more Adam steps on the MAE (all candidates
        of all runs at once), and the one with the lowest score becomes the run's
        selected structure (used by ``call`` and :meth:`to_sympy`), its weights the
        run's weights. Returns ``[(mae, choices), ...]`` per run.

        ``score`` ranks the candidates by their training MAE:

        - ``"refit"`` (default): of the read-out expression after a least-squares refit
          of its additive terms (:func:`deepsymreg.symbolic.polish`), which is what
          :func:`deepsymreg.gmeql.run_gmeql` reports. During the search the regression
          weights are shared by every sampled instance, so an elite's expression with
          them is rarely the law even when its structure is: on b1 after 9000
          iterations, none of T* and the 100 best elites was the law as read, against
          10 and 101 of them once refitted (seeds 0 and 1,
          ``benchmarks/gmeql_readout.py``; the first right one ranked 23rd for seed 0,
          hence ``top=100``). Candidates within ``near`` (relative) of the lowest MAE
          are tied and the simplest (fewest expression nodes) wins.
        - ``"expression"``: of the read-out expression as it is (a saturated division
          or exponential is clipped in the network but not in the expression);
        - ``"network"``: of the network.
        """
        score = check_choice("score", score, ("refit", "expression", "network"))
        near = check_number("near", near, 0.0)
        x = np.asarray(x, "float32")
        y = np.asarray(y, "float32").reshape(-1)
        cands = self.candidate_choices(top)
        flat, owner, from_best = [], [], []
        best_finite = np.isfinite(self.best_mae.numpy())
        for r, cs in enumerate(cands):
            for i, c in enumerate(cs):
                flat.append(c)
                owner.append(r)
                from_best.append(i == 0 and best_finite[r])
        if not flat:
            raise ValueError("Nothing to select: the model has not been trained (empty repository).")
        # The candidates' starting weights: T*'s own, or the run's current shared ones.
        start = [np.stack([snap[o] if b else cur[o] for o, b in zip(owner, from_best)])
                 for cur, snap in ((v.numpy(), t.numpy()) for v, t in
                                   zip(self._regression_variables(), self.best_kernels))]
        choices = [np.stack([c[k] for c in flat]) for k in range(len(self.connections))]
        # Polished in calls of REFIT_CHUNK candidates (the last one padded with its
        # first) on the weight model of the memetic refits: one compiled graph for both.
        # Every candidate's weights train on their own, so the calls change the cost,
        # not the result.
        size = min(REFIT_CHUNK, len(flat))
        polish = self._weight_model(size, self.seed, cached=True)
        maes, sizes, polished = [], [], [[] for _ in start]
        for part, padded in _padded_chunks(len(flat), size):
            for pv, sv in zip(polish._regression_variables(), start):
                pv.assign(sv[padded])
            part_choices = [ch[padded] for ch in choices]
            part_maes = polish.fit_weights(x, y, part_choices, polish_steps, learning_rate)
            for j in range(len(part)):
                if score == "network" or not np.isfinite(part_maes[j]):
                    maes.append(part_maes[j])
                    sizes.append(0.0 if score == "network" else np.inf)
                    continue
                mae, complexity = polish._expression_mae(
                    x, y, [ch[j] for ch in part_choices], j, score == "refit")
                maes.append(mae)
                sizes.append(complexity)
            for out, pv in zip(polished, polish._regression_variables()):
                out.append(pv.numpy()[:len(part)])
        maes, sizes = np.array(maes, float), np.array(sizes, float)
        polished = [np.concatenate(p) for p in polished]
        result = []
        new_vals = [v.numpy() for v in self._regression_variables()]
        sel = [v.numpy() for v in self.selected]
        for r in range(self.n_runs):
            idx = [i for i, o in enumerate(owner) if o == r]
            if not idx:
                result.append((np.inf, None))
                continue
            lowest = np.min(maes[idx])
            tied = [i for i in idx if maes[i] <= lowest * (1.0 + near)] if np.isfinite(lowest) else idx
            i = min(tied, key=lambda j: (sizes[j], maes[j]))
            for nv, w in zip(new_vals, polished):
                nv[r] = w[i]
            for s, ch in zip(sel, choices):
                s[r] = ch[i]
            result.append((float(maes[i]), [ch[i] for ch in choices]))
        for var, nv in zip(self._regression_variables(), new_vals):
            var.assign(nv)
        for var, s in zip(self.selected, sel):
            var.assign(s)
        self.has_selection.assign(1)
        return result

    def get_config(self):
        return {
            **super().get_config(),
            "functions": [list(f) for f in self.functions],
            "runs": self.runs,
            "samples": self.samples,
            "temperature": self.temperature,
            "bound": self.bound,
            "repository_size": self.repository_size,
            "parent_exponent": self.parent_exponent,
            "resample_fraction": self.resample_fraction,
            "offline_rule": self.offline_rule,
            "offline_samples": self.offline_samples,
            "elites": self.elites,
            "learning_rates": list(self.learning_rates),
            "gradient_bound": self.gradient_bound,
            "steps_per_call": self.steps_per_call,
            "seed": self.seed,
            "rank_by": self.rank_by,
            "xla": self.xla,
            "parent_law": self.parent_law,
            "loss_quantile": self.loss_quantile,
            "elite_key": self.elite_key,
            "curriculum": None if self.curriculum is None else list(self.curriculum),
        }


class GMEQLStages(keras.callbacks.Callback):
    """Algorithm 1's stages over the epochs of one ``fit``: epochs ``[0, rounds *
    round_epochs)`` are stage 1 (a new round, re-initialized, every ``round_epochs``),
    the rest stage 2 (re-initialized once at its start)."""

    def __init__(self, rounds=3, round_epochs=1):
        super().__init__()
        self.rounds = check_int("rounds", rounds, minimum=0)
        self.round_epochs = check_int("round_epochs", round_epochs)

    def on_epoch_begin(self, epoch, logs=None):
        stage1 = self.rounds * self.round_epochs
        if epoch < stage1 and epoch % self.round_epochs == 0:
            self.model.start_stage(1)
        elif epoch == stage1:
            self.model.start_stage(2)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["stage"] = int(self.model.stage.numpy())
