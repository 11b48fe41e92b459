"""`GumbelConnection`: input slots that each pick one previous output (Gumbel-max EQL).

Every slot ``s`` of a layer of function nodes (an input of one node) is connected to the
``n_prev`` outputs of the previous layer through one categorical choice, relaxed with
the Gumbel-softmax (concrete) trick:

    V_s = softmax((z_s + G_s) / lambda),   G ~ Gumbel(0, 1),   lambda = 2/3,
    I_s = w_s * sum_l V_s[l] * O_l,

with structure logits ``z`` (slots, n_prev) and one regression weight ``w_s`` per slot
(paper's eq. 2). At inference the choice is hard: the argmax of ``z``, or a given
choice. A leading axis of ``runs`` holds independent networks side by side, and every
call evaluates ``p`` sampled instances of each at once.

References:
    Chen (2021). Learning symbolic expressions via Gumbel-max equation learner
    networks. arXiv:2012.00428.
    Maddison, Mnih & Teh (2016). The concrete distribution: a continuous relaxation of
    discrete random variables. ICLR 2017.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from deepsymreg import concrete
from deepsymreg._validation import check_int, check_number

__all__ = ["GumbelConnection", "TEMPERATURE"]

#: Temperature of the relaxed one-hot samples (Maddison et al. 2016; Chen 2021).
TEMPERATURE = 2 / 3

def gumbel_from_uniform(u):
    """Standard Gumbel noise ``-log(-log u)`` from uniforms in (0, 1)."""
    return -tf.math.log(-tf.math.log(u))


@keras.saving.register_keras_serializable(package="deepsymreg")
class GumbelConnection(keras.layers.Layer):
    """Slots that each pick one output of the previous layer, weighted (Gumbel-max EQL).

    For every slot ``s`` (one input of one function node): structure logits
    ``z_s`` over the ``n_prev`` previous outputs and one regression weight ``w_s``,
    both initialized N(0, 1) as in the paper. A sampled network instance is one choice
    per slot; in training the choice is relaxed,

        log V_s = log_softmax((z_s + G_s) / temperature),   G ~ Gumbel(0, 1),

    and the slot's value is ``w_s * sum_l V_s[l] x_l`` (paper's eq. 2); at inference it
    is hard: ``V_s = one_hot(argmax z_s)`` or the one-hot of a given ``choice``.

    Elite-guided sampling (paper's section 4.2): ``base`` gives each instance the
    log-weights of a parent and ``resample`` says which slots are re-sampled; the other
    slots keep the parent's. Only re-sampled slots pass gradient to ``z``: without a
    ``base``, the kept slots use the sample through ``stop_gradient``.

    The noise is the package's own (:func:`deepsymreg.concrete.gumbel_noise` from the
    layer's seed generator, or uniforms handed in by the caller, e.g.
    :func:`deepsymreg.concrete.counter_uniform`), not TFP's ``RelaxedOneHotCategorical``: the maths is two
    lines, sampling then works inside XLA-compiled loops with the package's seeding,
    and ``import deepsymreg`` does not pay TFP's import (1-1.5 s). Samples are kept in
    log space (``log_softmax``): finite where ``softmax`` underflows to 0, which the
    offline rules of the model (eq. 7 and 11) need.

    Args:
        slots: number of input slots (a positive integer).
        runs: ``None`` or the number of independent networks held side by side (a
            leading axis on both weights).
        temperature: the relaxation temperature (default 2/3).
        logits_initializer, kernel_initializer: initializers of ``z`` and ``w``
            (default N(0, 1)).
        seed: seed of the layer's own noise (calls with ``training=True`` and no
            ``uniform``).

    Call arguments:
        inputs: previous outputs ``(runs?, p?, batch, n_prev)``.
        training: sample relaxed choices when true; hard choices otherwise.
        choice: int ``(runs?, p, slots)``: hard choices to use (any ``training``).
        resample: bool ``(runs?, p, slots)``: slots re-sampled in training (default
            all). (Not ``mask``: Keras reserves that name for sequence masks.)
        base: float ``(runs?, p, slots, n_prev)``: the parents' log-weights for the
            slots not in ``resample``.
        samples: number ``p`` of instances when nothing else sets it (default: the
            inputs' ``p`` axis, or 1).

    Input shape:
        ``(runs?, p?, batch, n_prev)``.

    Output shape:
        ``(runs?, p, batch, slots)``.

    Example:

    >>> layer = GumbelConnection(3, seed=0)
    >>> layer(tf.ones((5, 4)), samples=2, training=True).shape
    TensorShape([2, 5, 3])

    References:
        Chen (2021). Learning symbolic expressions via Gumbel-max equation learner
        networks. arXiv:2012.00428.
        Maddison, Mnih & Teh (2016). The concrete distribution. ICLR 2017.
    """

    def __init__(
        self,
        slots,
        runs=None,
        temperature=TEMPERATURE,
        logits_initializer=None,
        kernel_initializer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.slots = check_int("slots", slots)
        self.runs = check_int("runs", runs, allow_none=True)
        self.temperature = check_number("temperature", temperature, 0.0, strict=True)
        normal = {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 1.0}}
        self.logits_initializer = keras.initializers.get(logits_initializer or normal)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or normal)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.lead = () if self.runs is None else (self.runs,)

    def build(self, input_shape):
        self.n_prev = int(input_shape[-1])
        self.logits = self.add_weight(
            name="logits", shape=(*self.lead, self.slots, self.n_prev),
            initializer=self.logits_initializer,
        )
        self.kernel = self.add_weight(
            name="kernel", shape=(*self.lead, self.slots), initializer=self.kernel_initializer
        )

    # -- sampling ------------------------------------------------------------------
    def sample(self, samples=1, mask=None, base=None, uniform=None):
        """Relaxed log-weights ``log V`` of ``samples`` instances: ``(runs?, p, slots, n_prev)``.

        ``uniform`` (same shape, in (0, 1)) supplies the noise; by default the layer's
        seed generator does. ``mask`` (bool ``(runs?, p, slots)``, the slots
        re-sampled) and ``base``: see the class docstring.
        """
        shape = (*self.lead, samples, self.slots, self.n_prev)
        if uniform is None:
            noise = concrete.gumbel_noise(shape, self.seed_generator, self.logits.dtype)
        else:
            noise = gumbel_from_uniform(uniform)
        z = tf.expand_dims(self.logits, -3)
        log_v = tf.nn.log_softmax((z + noise) / self.temperature, axis=-1)
        if mask is None:
            return log_v
        mask = tf.cast(mask, tf.bool)[..., None]
        if base is None:
            # Straight stop_gradient: the same values, gradient only where re-sampled.
            return tf.where(mask, log_v, tf.stop_gradient(log_v))
        return tf.where(mask, log_v, tf.cast(base, log_v.dtype))

    def hard_weights(self, choice=None, samples=1):
        """One-hot weights of ``choice`` (default: the argmax of the logits)."""
        if choice is None:
            choice = tf.argmax(self.logits, axis=-1, output_type=tf.int32)
            choice = tf.repeat(tf.expand_dims(choice, -2), samples, axis=-2)
        return tf.one_hot(choice, self.n_prev, dtype=self.logits.dtype)

    def mix(self, inputs, weights):
        """``w_s sum_l weights[s, l] inputs[l]``: ``(runs?, p, batch, slots)``.

        ``inputs`` ``(runs?, p?, batch, n_prev)``; ``weights`` ``(runs?, p, slots, n_prev)``.
        """
        inputs = tf.convert_to_tensor(inputs, self.logits.dtype)
        if inputs.shape.rank == len(self.lead) + 2:  # no p axis: the same for every instance
            inputs = tf.expand_dims(inputs, -3)
            inputs = tf.broadcast_to(
                inputs, tf.concat([tf.shape(weights)[:-2], tf.shape(inputs)[-2:]], 0)
            )
        values = tf.matmul(inputs, weights, transpose_b=True)
        return values * tf.expand_dims(tf.expand_dims(self.kernel, -2), -2)

    def mix_columns(self, inputs, weights, kernel=None):
        """:meth:`mix` in the features-first layout (batch last, as models use inside
        their compiled loops: one matrix product per run for inputs shared by all
        instances, and contiguous rows for the node functions).

        ``inputs`` ``(runs, p?, n_prev, batch)``; ``weights`` ``(runs, p, slots,
        n_prev)``; ``kernel`` (default the layer's) ``(runs, slots)``. Returns
        ``(runs, p, slots, batch)``. Needs ``runs`` (a leading axis).
        """
        kernel = self.kernel if kernel is None else kernel
        # The regression weight scales the mixing weights, not the product: the same
        # values, and its gradient sums over the previous outputs instead of over
        # every instance and point.
        weights = weights * kernel[:, None, :, None]
        if inputs.shape.rank == 3:  # (R, n_prev, B): one product for all p instances
            shape = tf.shape(weights)
            flat = tf.reshape(weights, [shape[0], shape[1] * shape[2], shape[3]])
            values = tf.reshape(tf.matmul(flat, inputs),
                                [shape[0], shape[1], shape[2], tf.shape(inputs)[-1]])
        else:
            values = tf.matmul(weights, inputs)
        return values

    def gather_columns(self, inputs, choice, kernel=None):
        """The hard choice ``(runs, p, slots)`` as a gather, features-first layout (see
        :meth:`mix_columns`): ``(runs, p, slots, batch)``."""
        kernel = self.kernel if kernel is None else kernel
        if inputs.shape.rank == 3:
            values = tf.gather(inputs, choice, axis=1, batch_dims=1)
        else:
            values = tf.gather(inputs, choice, axis=2, batch_dims=2)
        return values * kernel[:, None, :, None]

    def _samples(self, inputs, choice, mask, base, samples):
        for given, axis in ((choice, -2), (mask, -2), (base, -3)):
            if given is not None:
                return int(given.shape[axis])
        if samples is not None:
            return check_int("samples", samples)
        if len(inputs.shape) == len(self.lead) + 3:
            return int(inputs.shape[-3])
        return 1

    def call(self, inputs, training=None, choice=None, resample=None, base=None, samples=None):
        p = self._samples(inputs, choice, resample, base, samples)
        if choice is not None:
            weights = self.hard_weights(tf.cast(choice, tf.int32))
        elif training:
            weights = tf.exp(self.sample(p, resample, base))
        else:
            weights = self.hard_weights(samples=p)
        return self.mix(inputs, weights)

    def compute_output_shape(self, input_shape):
        p = input_shape[-3] if len(input_shape) == len(self.lead) + 3 else None
        return (*self.lead, p, input_shape[-2], self.slots)

    def get_config(self):
        return {
            **super().get_config(),
            "slots": self.slots,
            "runs": self.runs,
            "temperature": self.temperature,
            "logits_initializer": keras.initializers.serialize(self.logits_initializer),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "seed": self.seed,
        }
