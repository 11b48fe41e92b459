"""MlpCell: the ReLU propagator baseline; unrolling, the maths of one step, config."""

import keras
import numpy as np
import pytest
from layer_checks import config_round_trip, save_and_load

from deepsymreg.layers import MlpCell


def _step_by_hand(cell, state, x):
    """``out(relu(...relu([state, x] W0 + b0)...))`` in NumPy from the cell's weights."""
    h = np.concatenate([state, x], axis=-1)
    for layer in cell.hidden:
        h = np.maximum(h @ layer.kernel.numpy() + layer.bias.numpy(), 0.0)
    return h @ cell.out.kernel.numpy() + cell.out.bias.numpy()


def test_unrolled_by_keras_rnn(rng):
    cell = MlpCell(2, [8, 6])
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    x = rng.normal(size=(3, 5, 1)).astype("float32")
    y0 = rng.normal(size=(3, 2)).astype("float32")
    seq, last = rnn(x, initial_state=[y0])
    seq, last = seq.numpy(), last.numpy()
    assert seq.shape == (3, 5, 2)
    np.testing.assert_array_equal(last, seq[:, -1])  # the output is the new state
    # Weights: [2 state + 1 input] -> 8 -> 6 -> 2.
    assert [tuple(w.shape) for w in cell.weights] == [(3, 8), (8,), (8, 6), (6,), (6, 2), (2,)]
    state = y0
    for t in range(5):
        state = _step_by_hand(cell, state, x[:, t])
        np.testing.assert_allclose(seq[:, t], state, rtol=1e-5, atol=1e-5)


def test_next_state_depends_on_state_and_input(rng):
    cell = MlpCell(2, [16])
    x = rng.normal(size=(6, 3)).astype("float32")
    s = rng.normal(size=(6, 2)).astype("float32")
    new, states = cell(x, [s])
    np.testing.assert_array_equal(states[0].numpy(), new.numpy())
    assert new.shape == (6, 2)
    other_state, _ = cell(x, [s + 1.0])
    other_input, _ = cell(x + 1.0, [s])
    assert np.max(np.abs(other_state.numpy() - new.numpy())) > 1e-3
    assert np.max(np.abs(other_input.numpy() - new.numpy())) > 1e-3
    # A plain list of states and a bare tensor give the same step.
    np.testing.assert_array_equal(cell(x, s)[0].numpy(), new.numpy())


def test_config_round_trip():
    cell = MlpCell(3, (7, 5), name="mlp")
    clone = config_round_trip(cell)
    assert (clone.n_state, clone.widths, clone.name) == (3, [7, 5], "mlp")
    assert [layer.units for layer in clone.hidden] == [7, 5]
    assert clone.state_size == clone.output_size == 3


def test_keras_file_round_trip(tmp_path, rng):
    x_in, y0_in = keras.Input((4, 1)), keras.Input((2,))
    out = keras.layers.RNN(MlpCell(2, [8]), return_sequences=True)(x_in, initial_state=[y0_in])
    model = keras.Model([x_in, y0_in], out)
    data = [rng.normal(size=(3, 4, 1)).astype("float32"), rng.normal(size=(3, 2)).astype("float32")]
    save_and_load(model, data, tmp_path)


@pytest.mark.parametrize("kwargs, name", [({"n_state": 0}, "n_state"),
                                          ({"n_state": 2, "widths": [8, 0]}, "widths"),
                                          ({"n_state": 2, "widths": [2.5]}, "widths")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"argument `{name}`"):
        MlpCell(**kwargs)
