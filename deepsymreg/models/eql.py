"""`EQL`: the equation-learner network as a Keras training model."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from deepsymreg import primitives as primitives_lib
from deepsymreg._validation import check_int
from deepsymreg.curriculum import check_curriculum, origin_rank, share_weights
from deepsymreg.layers.network import PAPER_INIT_STDDEV, EqlNetwork

__all__ = ["EQL", "PAPER_INIT_STDDEV"]

# The network's settings, readable on the model as attributes of the same name.
_NETWORK_ATTRIBUTES = (
    "n_outputs", "depth", "layer_primitives", "regularizer", "reg_lambda", "linear_kind",
    "linear_options", "skip", "init_stddev", "trials", "seed", "hidden", "output_layer",
    "n_inputs",
)


@keras.saving.register_keras_serializable(package="deepsymreg")
class EQL(keras.Model):
    """Equation learner as a Keras model: an :class:`~deepsymreg.layers.EqlNetwork` trained fast.

    The structure (hidden :class:`EqlLayer` s and a linear output layer, their
    initialization, penalties and read-out) is the :attr:`network` layer; this model
    adds how it trains. It trains like any Keras model, with two additions that make
    EQL training fast on a CPU: ``steps_per_call`` optimizer steps run inside one
    compiled call on each batch (full-batch training, as in the paper), and
    ``trials=K`` trains ``K`` independent random restarts in one graph (a leading trial
    axis on every weight; the loss is the sum of the per-restart losses, so each
    restart gets its own gradient, and a restart whose loss is not finite does not
    touch the others). :meth:`predict` puts the trial axis first.

    The network's settings (``n_outputs``, ``trials``, ``regularizer``, ``hidden`` ...)
    read as attributes of the model; :meth:`to_sympy`, :meth:`latex`,
    :meth:`trial_seeds` and :meth:`initialize_trials` are the network's.

    Args:
        n_outputs, depth, primitives, regularizer, reg_lambda, linear, skip,
            init_stddev, trials, seed, linear_options: the network's, see
            :class:`~deepsymreg.layers.EqlNetwork`.
        steps_per_call: optimizer steps per batch in ``fit`` (default 1).
        curriculum: None (default) or ``(start, steps)``: at optimizer step ``t`` the
            data loss counts only the points of the batch nearest the origin (by
            ``max_j |x_j|``), a share growing linearly from ``start`` to 1 over
            ``steps`` steps (:mod:`deepsymreg.curriculum`). Meant for full-batch
            training, where the batch is the whole data set.

    Call arguments:
        inputs: ``(batch, n_inputs)``.
        training: passed to the layers.

    Output shape:
        ``(batch, n_outputs)``; ``(trials, batch, n_outputs)`` with ``trials``.

    Example:

    >>> model = EQL(n_outputs=1, depth=1, primitives=["identity", "square"])
    >>> model(np.zeros((4, 2), "float32")).shape
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
        steps_per_call=1,
        seed=None,
        linear_options=None,
        curriculum=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.steps_per_call = check_int("steps_per_call", steps_per_call)
        self.curriculum = check_curriculum(curriculum)
        self.network = EqlNetwork(
            n_outputs=n_outputs, depth=depth, primitives=primitives, regularizer=regularizer,
            reg_lambda=reg_lambda, linear=linear, skip=skip, init_stddev=init_stddev,
            trials=trials, seed=seed, linear_options=linear_options, name="network",
        )
        # Per-restart data loss of the last training step; read by callbacks. A plain
        # tf.Variable, so it is not part of the saved model.
        self.trial_loss = tf.Variable(
            tf.zeros([self.trials or 1]), trainable=False, name="trial_loss"
        )

    def __getattr__(self, name):
        # Only reached when normal lookup fails: the network's settings and layers.
        network = self.__dict__.get("network")
        if network is not None and name in _NETWORK_ATTRIBUTES:
            return getattr(network, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def build(self, input_shape):
        self.network.build(tuple(input_shape))

    def call(self, inputs, training=None):
        return self.network(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return self.network.compute_output_shape(input_shape)

    # -- restarts ------------------------------------------------------------------
    def trial_seeds(self):
        """Seed of each restart's initial weights (see :meth:`EqlNetwork.trial_seeds`)."""
        return self.network.trial_seeds()

    def initialize_trials(self, seeds, indices=None):
        """Re-draw restarts ``indices`` from ``seeds`` (see :meth:`EqlNetwork.initialize_trials`)."""
        self.network.initialize_trials(seeds, indices)

    # -- training ------------------------------------------------------------------
    def _per_trial_loss(self, y, y_pred, sample_weight=None):
        """Loss of each restart ``(K,)`` (or a scalar): the mean over every other axis,
        weighted by ``sample_weight`` ``(batch,)`` when given (``sum w l / sum w``)."""
        loss = self.loss if self.loss is not None else "mse"
        if self.trials is not None:
            y = tf.broadcast_to(tf.cast(y, y_pred.dtype), tf.shape(y_pred))
        if isinstance(loss, keras.losses.Loss):
            pointwise = loss.call(y, y_pred)
        else:
            pointwise = keras.losses.get(loss)(y, y_pred)
        pointwise = tf.reshape(pointwise, [self.trials or 1, -1])  # every axis but the trials'
        if sample_weight is None:
            per_trial = tf.reduce_mean(pointwise, axis=-1)
        else:
            w = tf.reshape(tf.cast(sample_weight, pointwise.dtype), [1, -1])
            per_trial = tf.reduce_sum(pointwise * w, axis=-1) / tf.reduce_sum(w)
        return per_trial if self.trials is not None else per_trial[0]

    def _loss_terms(self, x, y, sample_weight=None):
        y_pred = self(x, training=True)
        per_trial = tf.reshape(self._per_trial_loss(y, y_pred, sample_weight), [-1])
        finite = tf.math.is_finite(per_trial)
        data = tf.reduce_sum(tf.where(finite, per_trial, tf.zeros_like(per_trial)))
        reg = tf.add_n(self.losses) if self.losses else tf.constant(0.0)
        return data, reg, per_trial

    def train_step(self, data):
        # ``sample_weight`` (one weight per row of ``x``) weights the data loss:
        # ``sum_i w_i l_i / sum_i w_i`` per restart.
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if not self.built:
            self.build(x.shape)
        variables = self.trainable_variables
        if not self.optimizer.built:
            # Slot variables must exist before the step loop is traced.
            self.optimizer.build(variables)

        rank = None if self.curriculum is None else origin_rank(x)

        def one_step():
            weight = sample_weight
            if rank is not None:
                keep = share_weights(rank, self.curriculum, self.optimizer.iterations)
                weight = keep if sample_weight is None else keep * tf.reshape(
                    tf.cast(sample_weight, keep.dtype), [-1])
            with tf.GradientTape() as tape:
                data_loss, reg, per_trial = self._loss_terms(x, y, weight)
                total = data_loss + reg
            grads = tape.gradient(total, variables)
            self.optimizer.apply(grads, variables)
            return data_loss, reg, per_trial

        if self.steps_per_call == 1:
            data_loss, reg, per_trial = one_step()
        else:

            def body(i, *_):
                return (i + 1, *one_step())

            k = self.trials or 1
            init = (tf.constant(0), tf.constant(0.0), tf.constant(0.0), tf.zeros([k]))
            _, data_loss, reg, per_trial = tf.while_loop(
                lambda i, *_: i < self.steps_per_call, body, init
            )
        self.trial_loss.assign(per_trial)
        finite = tf.math.is_finite(reg)
        return {
            "loss": data_loss + tf.where(finite, reg, 0.0),
            "data_loss": data_loss,
            "reg_loss": reg,
        }

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        per_trial = tf.reshape(self._per_trial_loss(y, self(x, training=False)), [-1])
        reg = tf.add_n(self.losses) if self.losses else tf.constant(0.0)
        return {"loss": tf.reduce_sum(per_trial) + reg, "data_loss": tf.reduce_sum(per_trial)}

    def predict_step(self, data):
        out = super().predict_step(data)
        # Keras joins predicted batches along axis 0: put the batch axis there.
        return out if self.trials is None else tf.transpose(out, [1, 0, 2])

    def predict(self, x, *args, **kwargs):
        """As ``keras.Model.predict``; with ``trials`` the output is ``(trials, n, out)``."""
        out = super().predict(x, *args, **kwargs)
        return out if self.trials is None else np.transpose(out, (1, 0, 2))

    def trial_errors(self, x, y, batch_size=4096):
        """Mean squared error of each restart on ``(x, y)``: array ``(trials,)``."""
        pred = self.predict(x, batch_size=batch_size, verbose=0)
        pred = pred if self.trials else pred[None]
        y = np.asarray(y, dtype=pred.dtype).reshape(pred.shape[1:])
        err = np.mean((pred - y[None]) ** 2, axis=(1, 2))
        return np.where(np.isfinite(err), err, np.inf)

    # -- symbolic view ---------------------------------------------------------------
    def to_sympy(self, var_names=None, threshold=0.01, trial=None):
        """The network as SymPy (see :meth:`EqlNetwork.to_sympy`)."""
        return self.network.to_sympy(var_names, threshold, trial)

    def latex(self, var_names=None, threshold=0.01, trial=None):
        """LaTeX of :meth:`to_sympy` (see :meth:`EqlNetwork.latex`)."""
        return self.network.latex(var_names, threshold, trial)

    @property
    def eql_layers(self):
        """Hidden layers followed by the output layer.

        (Also where ``.keras`` files keep their weights: this name sorts before
        ``network``, so files saved before the network became a layer still load.)
        """
        return self.network.eql_layers

    def get_config(self):
        network = self.network.get_config()
        for key in ("name", "trainable", "dtype"):
            network.pop(key, None)
        return {**super().get_config(), **network, "steps_per_call": self.steps_per_call,
                "curriculum": None if self.curriculum is None else list(self.curriculum)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        reg = config.get("regularizer")
        if isinstance(reg, dict):
            config["regularizer"] = keras.regularizers.deserialize(reg)
        return cls(**config)
