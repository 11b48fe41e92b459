"""GumbelConnection and FunctionNodes: the Gumbel-max EQL's layers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from deepsymreg.concrete import counter_uniform
from deepsymreg.layers.function_nodes import FunctionNodes
from deepsymreg.layers.gumbel import GumbelConnection
from layer_checks import config_round_trip


@pytest.fixture
def x(rng):
    return rng.uniform(-1, 1, (6, 4)).astype("float32")


def _built(layer, x):
    layer(x)
    return layer


@pytest.mark.parametrize("runs", [None, 2])
def test_config_round_trip(runs):
    config_round_trip(GumbelConnection(3, runs=runs, temperature=0.5, seed=4))
    config_round_trip(FunctionNodes(["add", "sin", "sum"], runs=runs, bound=10.0))


def test_keras_file_round_trip(x, tmp_path):
    inputs = keras.Input((4,))
    outputs = GumbelConnection(3, seed=1, name="gumbel")(inputs)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "gumbel.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.get_layer("gumbel").logits.numpy(),
                                  model.get_layer("gumbel").logits.numpy())
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_inference_is_the_hard_argmax_choice(x):
    layer = _built(GumbelConnection(3), x)
    z, w = layer.logits.numpy(), layer.kernel.numpy()
    expected = x[:, np.argmax(z, -1)] * w
    np.testing.assert_allclose(layer(x).numpy()[0], expected, rtol=1e-6)
    np.testing.assert_allclose(layer(x, training=False).numpy()[0], expected, rtol=1e-6)
    choice = np.array([[0, 3, 1]])  # (p, slots)
    np.testing.assert_allclose(layer(x, choice=choice, training=True).numpy()[0],
                               x[:, [0, 3, 1]] * w, rtol=1e-6)


def test_training_samples_relaxed_one_hot_mixtures(x):
    layer = _built(GumbelConnection(3, seed=2), x)
    log_v = layer.sample(500).numpy()  # (p, slots, n_prev)
    v = np.exp(log_v)
    np.testing.assert_allclose(v.sum(-1), 1.0, rtol=1e-5)
    assert 0.0 < v.max(-1).mean() < 1.0  # relaxed, not hard
    # argmax frequencies follow softmax(z) (Gumbel-max trick).
    freq = np.stack([np.bincount(a, minlength=4) for a in np.argmax(log_v, -1).T]) / 500
    probs = tf.nn.softmax(layer.logits).numpy()
    np.testing.assert_allclose(freq, probs, atol=0.08)
    out = layer(x, training=True, samples=5).numpy()
    assert out.shape == (5, 6, 3)
    assert not np.allclose(out[0], layer(x).numpy()[0])


def test_runs_axis_and_shapes(x):
    layer = GumbelConnection(2, runs=3)
    out = layer(np.broadcast_to(x, (3, 6, 4)), samples=4, training=True)
    assert out.shape == (3, 4, 6, 2)
    assert layer.logits.shape == (3, 2, 4) and layer.kernel.shape == (3, 2)
    assert layer(np.broadcast_to(x, (3, 5, 6, 4))).shape == (3, 5, 6, 2)


@pytest.mark.parametrize("with_base", [False, True])
def test_gradient_reaches_only_resampled_slots(x, with_base):
    layer = _built(GumbelConnection(4, seed=3), x)
    mask = np.array([[True, False, True, False], [False, False, True, False]])  # (p=2, slots)
    base = np.log(np.full((2, 4, 4), 0.25, "float32")) if with_base else None
    with tf.GradientTape() as tape:
        out = layer(x, training=True, resample=mask, base=base)
        loss = tf.reduce_sum(tf.abs(out))
    g_z, g_w = tape.gradient(loss, [layer.logits, layer.kernel])
    g_z = g_z.numpy()
    assert np.all(g_z[[1, 3]] == 0.0)
    assert np.all(np.abs(g_z[[0, 2]]).sum(-1) > 0)
    assert np.all(g_w.numpy() != 0)  # the weights of every slot are used


def test_gradients_finite_under_xla():
    layer = GumbelConnection(3, runs=2)
    nodes = FunctionNodes(["div", "sqrt_abs", "pow6", "exp_clip", "sum"], runs=2)
    x = tf.constant(np.array([[0.0, 1e-30, 50.0, -3.0]] * 5, "float32"))
    x = tf.broadcast_to(x, (2, 5, 4))
    layer(x, samples=2)
    # A layer of 5 slots for the nodes (div takes two).
    slots = GumbelConnection(nodes.slots, runs=2)
    slots(x, samples=2)
    nodes(slots(x, samples=2), x)
    u = counter_uniform([2, nodes.slots, 4], tf.constant([1, 2]), tf.constant(0))

    @tf.function(jit_compile=True)
    def grads():
        with tf.GradientTape() as tape:
            v = tf.exp(slots.sample(2, uniform=u))
            out = nodes(slots.mix(x, v), x)
            loss = tf.reduce_sum(out)
        return tape.gradient(loss, [slots.logits, slots.kernel, nodes.sum_kernel])

    for g in grads():
        assert np.all(np.isfinite(g.numpy()))


def test_function_nodes_maths(rng):
    nodes = FunctionNodes(["add", "square", "div", "sum"], runs=None)
    assert nodes.slots == 5 and nodes.node_names == ["add", "square", "div", "sum"]
    assert nodes.commutative_pairs == [(0, 1)]
    slots = rng.uniform(0.5, 1.5, (2, 7, 5)).astype("float32")
    prev = rng.uniform(-1, 1, (7, 3)).astype("float32")
    out = nodes(slots, prev).numpy()
    k = nodes.sum_kernel.numpy()
    np.testing.assert_allclose(out[..., 0], slots[..., 0] + slots[..., 1], rtol=1e-6)
    np.testing.assert_allclose(out[..., 1], slots[..., 2] ** 2, rtol=1e-6)
    np.testing.assert_allclose(out[..., 2], slots[..., 3] / slots[..., 4], rtol=1e-6)
    np.testing.assert_allclose(out[..., 3], np.broadcast_to(prev @ k[0], (2, 7)), rtol=1e-5)


def test_function_nodes_clip_outputs():
    nodes = FunctionNodes(["pow6"], bound=100.0)
    out = nodes(tf.constant([[[10.0], [-1.0]]])).numpy()
    np.testing.assert_allclose(out[0, :, 0], [100.0, 1.0])


def test_unknown_function_name_is_named():
    with pytest.raises(ValueError, match="unknown function 'tan2'"):
        FunctionNodes(["add", "tan2"])
    with pytest.raises(ValueError, match="`slots`"):
        GumbelConnection(0)
