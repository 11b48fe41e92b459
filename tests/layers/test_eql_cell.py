"""EqlCell: a recurrent EQL propagator; shapes, equation extraction, saving."""

import keras
import numpy as np
import pytest
import sympy

import deepsymreg as dsr
from deepsymreg import symbolic
from deepsymreg.layers import EqlCell, EqlRNN

EQL_ARGS = {"depth": 1, "primitives": ["identity", "square", "product10"], "seed": 0}


def _rnn(cell):
    return EqlRNN(cell, return_sequences=True)


def test_unrolls_one_step_at_a_time(rng):
    cell = EqlCell(2, eql=EQL_ARGS)
    z = rng.normal(size=(3, 6, 1)).astype("float32")
    y0 = rng.normal(size=(3, 2)).astype("float32")
    seq = _rnn(cell)(z, initial_state=[y0]).numpy()
    assert seq.shape == (3, 6, 2)
    # Step t is the cell applied to step t-1 (and the first to y0).
    state = y0
    for t in range(6):
        state, _ = cell(z[:, t], [state])
        np.testing.assert_allclose(seq[:, t], state.numpy(), rtol=1e-5, atol=1e-6)


def test_update_rule_reads_as_equations(rng):
    cell = EqlCell(2, eql=EQL_ARGS)
    cell.build((None, 1))
    u, v, z = sympy.symbols("u v z")
    rules = cell.to_sympy(["u", "v"], ["z"], threshold=0.0)
    x = rng.normal(size=(20, 3)).astype("float32")
    new, _ = cell(x[:, 2:], [x[:, :2]])
    for i, rule in enumerate(rules):
        f = symbolic.to_numpy_function(rule, [u, v, z])
        np.testing.assert_allclose(f(x), new.numpy()[:, i], rtol=1e-4, atol=1e-5)


def test_one_shared_lambda_and_keras_round_trip(tmp_path, rng):
    cell = EqlCell(2, eql={**EQL_ARGS, "regularizer": "l05"})
    z_in = keras.Input((5, 1))
    y0_in = keras.Input((2,))
    model = keras.Model([z_in, y0_in], _rnn(cell)(z_in, initial_state=[y0_in]))
    assert len(dsr.callbacks.penalty_strengths(model)) == 1
    data = [rng.normal(size=(4, 5, 1)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")]
    path = tmp_path / "cell.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("kwargs, name", [({"n_state": 0}, "n_state"),
                                          ({"n_state": 2, "eql": {"n_outputs": 3}}, "eql")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        EqlCell(**kwargs)


def test_penalty_is_added_once_and_training_works(rng):
    cell = EqlCell(2, eql={**EQL_ARGS, "regularizer": "l05", "reg_lambda": 1e-3})
    z_in, y0_in = keras.Input((4, 1)), keras.Input((2,))
    model = keras.Model([z_in, y0_in], _rnn(cell)(z_in, initial_state=[y0_in]))
    z = rng.normal(size=(16, 4, 1)).astype("float32")
    y0 = rng.normal(size=(16, 2)).astype("float32")
    model([z, y0])
    assert len(model.losses) == 1  # once per sequence, not per step or per layer
    np.testing.assert_allclose(float(model.losses[0]), float(cell.penalty()), rtol=1e-6)
    model.compile(keras.optimizers.Adam(1e-2), loss="mse", jit_compile=True)
    target = np.repeat(y0[:, None], 4, axis=1)  # "stay where you are"
    history = model.fit([z, y0], target, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]


def test_eql_rnn_needs_an_eql_cell():
    with pytest.raises(ValueError, match="cell"):
        EqlRNN(keras.layers.SimpleRNNCell(2))


def test_residual_cell_predicts_the_change(rng):
    plain, res = EqlCell(2, eql=EQL_ARGS), EqlCell(2, eql=EQL_ARGS, residual=True)
    x = rng.normal(size=(10, 3)).astype("float32")
    a, _ = plain(x[:, 2:], [x[:, :2]])
    b, _ = res(x[:, 2:], [x[:, :2]])
    np.testing.assert_allclose(b.numpy(), x[:, :2] + a.numpy(), rtol=1e-5, atol=1e-6)
    u, v, z = sympy.symbols("u v z")
    rules = res.to_sympy(["u", "v"], ["z"], threshold=0.0)
    for i, rule in enumerate(rules):
        f = symbolic.to_numpy_function(rule, [u, v, z])
        np.testing.assert_allclose(f(x), b.numpy()[:, i], rtol=1e-4, atol=1e-5)
    assert EqlCell.from_config(res.get_config()).residual
