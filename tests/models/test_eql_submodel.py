"""EQL as a sub-model inside ordinary Keras models (functional and subclassed)."""

import keras
import numpy as np
import sympy

import deepsymreg as dsr
from deepsymreg import symbolic


def _data(rng):
    x = rng.uniform(-1, 1, (256, 2)).astype("float32")
    return x, (3 * x[:, :1] - x[:, 1:]).astype("float32")


def _eql():
    return dsr.EQL(depth=1, primitives=["identity", "square"], reg_lambda=1e-4, seed=0)


def test_inside_a_functional_model(rng):
    x, y = _data(rng)
    eql = _eql()
    inputs = keras.Input((2,))
    scaled = keras.layers.Rescaling(2.0)(inputs)  # an ordinary layer in front
    model = keras.Model(inputs, eql(scaled))
    model.compile(keras.optimizers.Adam(0.02), loss="mse")
    model(x[:4])
    assert len(model.losses) == 2  # the EQL penalty of both layers reaches the outer model
    history = model.fit(x, y, batch_size=64, epochs=40, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    # The equation is read in terms of the EQL's own inputs (here 2x): u = 2x.
    u, v = sympy.symbols("u v")
    expr = eql.to_sympy(["u", "v"], threshold=0.0)
    f = symbolic.to_numpy_function(expr, [u, v])
    np.testing.assert_allclose(f(2 * x), model.predict(x, verbose=0)[:, 0], rtol=1e-3, atol=1e-4)


class EncoderThenEql(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2, kernel_initializer="identity", use_bias=False)
        self.eql = _eql()

    def call(self, x, training=None):
        return self.eql(self.dense(x), training=training)


def test_inside_a_subclassed_model(rng):
    x, y = _data(rng)
    model = EncoderThenEql()
    model.compile(keras.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, y, batch_size=64, epochs=40, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert len(model.losses) == 2
    # A phased schedule finds the EQL's lambda through the outer model.
    assert dsr.callbacks.penalty_strengths(model) == [model.eql.reg_lambda]
