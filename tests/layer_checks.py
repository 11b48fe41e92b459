"""Checks every deepsymreg layer should pass: config round trip, `.keras` files, training."""

import keras
import numpy as np
import tensorflow as tf


def config_round_trip(layer):
    """Rebuild ``layer`` from its config; the clone must report the same config."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


def save_and_load(model, x, tmp_path):
    """Save ``model`` as ``.keras``, load it without custom_objects, compare everything.

    Every weight (masks included) and the outputs on ``x`` must be identical.
    """
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [(w.name, w.shape) for w in loaded.weights] == [(w.name, w.shape) for w in model.weights]
    for original, restored in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(restored.numpy(), original.numpy(), err_msg=original.path)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )
    return loaded


def eager_matches_graph(layer, x):
    """The layer gives the same outputs eagerly and inside ``tf.function``."""
    eager = layer(x)
    graph = tf.function(lambda t: layer(t))(tf.constant(x))
    np.testing.assert_allclose(graph.numpy(), eager.numpy(), rtol=1e-6, atol=1e-6)


def one_training_step(model, x, y):
    """One SGD step: trainable weights move and stay finite, the others stay put."""
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model(x)  # build
    trainable = [w.numpy() for w in model.trainable_weights]
    frozen = [w.numpy() for w in model.non_trainable_weights]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"])
    moved = [not np.array_equal(w.numpy(), before)
             for w, before in zip(model.trainable_weights, trainable)]
    assert any(moved)
    for w in model.trainable_weights:
        assert np.all(np.isfinite(w.numpy())), w.path
    for w, before in zip(model.non_trainable_weights, frozen):
        np.testing.assert_array_equal(w.numpy(), before, err_msg=w.path)
