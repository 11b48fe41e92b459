"""The L0 EQL: hard-concrete gates by composition, extraction, saving, restarts."""

import keras
import numpy as np
import sympy

import deepsymreg as dsr
from deepsymreg import symbolic
from deepsymreg.data import repeated
from deepsymreg.layers import HardConcreteDense
from deepsymreg.restarts import fit_restarts


def _l0_model(**kwargs):
    model = dsr.EQL(depth=1, primitives=["identity", "square", "product10"],
                    regularizer=dsr.ExpectedL0(0.01), seed=0, **kwargs)
    model.build((None, 2))
    return model


def test_l0_regularizer_gates_the_hidden_layers_only():
    model = _l0_model()
    assert all(isinstance(layer.linear, HardConcreteDense) for layer in model.hidden)
    # As in the reference code, the output layer is an ungated, unpenalized linear map.
    assert isinstance(model.output_layer.linear, dsr.MaskedDense)
    assert model.output_layer.linear.kernel_regularizer is None
    strengths = dsr.callbacks.penalty_strengths(model)
    assert len(strengths) == 1 and strengths[0] is model.reg_lambda
    x = np.zeros((3, 2), "float32")
    model(x, training=True)
    expected = sum(float(layer.linear.expected_l0()) for layer in model.hidden)
    np.testing.assert_allclose(float(sum(model.losses)), 0.01 * expected, rtol=1e-5)


def test_extraction_uses_deterministic_gates_and_drops_closed_ones(rng):
    model = _l0_model()
    x = rng.uniform(-1, 1, (50, 2)).astype("float32")
    for layer in model.hidden:
        la = np.where(rng.random(layer.linear.log_alpha.shape) < 0.5, -20.0, 5.0)
        layer.linear.log_alpha.assign(la.astype("float32"))
    expr = model.to_sympy(["a", "b"], threshold=0.0)
    f = symbolic.to_numpy_function(expr, sympy.symbols("a b"))
    np.testing.assert_allclose(f(x), model.predict(x, verbose=0)[:, 0], rtol=1e-4, atol=1e-5)
    # Close every gate: all primitives see 0 and output 0, so the equation is exactly 0.
    for layer in model.hidden:
        layer.linear.log_alpha.assign(np.full(layer.linear.log_alpha.shape, -20.0, "float32"))
    assert model.to_sympy(["a", "b"], threshold=0.0) == 0


def test_l0_model_keras_round_trip(tmp_path, rng):
    model = _l0_model()
    x = rng.uniform(-1, 1, (20, 2)).astype("float32")
    path = tmp_path / "l0.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.eql_layers[0].linear, HardConcreteDense)


def test_l0_restarts_find_a_product(rng):
    x = rng.uniform(-1, 1, (256, 2)).astype("float32")
    y = x[:, 0] * x[:, 1]
    xt = rng.uniform(-2, 2, (256, 2)).astype("float32")
    results = fit_restarts(
        x, y, xt, xt[:, 0] * xt[:, 1], trials=4, seed=0, var_names=["x", "y"],
        schedule=[dsr.Phase(4000, 1e-2, 1e-2)], regularizer="l0",
        primitives=dsr.primitives.DEFAULT10,
    )
    best = dsr.restarts.select_best(results)
    ok, _ = symbolic.judge(sympy.sympify(best.expression), sympy.sympify("x*y"),
                           sympy.symbols("x y"), (-2, 2))
    assert ok, [r.expression for r in results]


def test_a_phase_threshold_fixes_the_gates_for_fine_tuning(rng):
    x = rng.uniform(-1, 1, (64, 2)).astype("float32")
    y = x[:, :1] * x[:, 1:]
    model = _l0_model(trials=2, steps_per_call=50)
    model.compile(optimizer=dsr.optimizers.RMSprop(1e-2), jit_compile=True)
    schedule = dsr.PhasedSchedule(
        [dsr.Phase(100, 1e-2, 1e-2, threshold=0.01), dsr.Phase(100, 1e-3, 0.0)]
    )
    seen = []
    probe = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(
            float(model.hidden[0].linear.gates_fixed.numpy())
        )
    )
    model.fit(
        repeated((x, y)),
        epochs=1, steps_per_epoch=schedule.batches_needed(model), verbose=0, shuffle=False,
        callbacks=[schedule, probe],
    )
    # Free during the penalty phase, fixed from its end on.
    assert seen == [0.0, 1.0, 1.0, 1.0]
    for layer in model.hidden:
        assert float(layer.linear.gates_fixed.numpy()) == 1.0
    # Fixed gates: no noise and no penalty in training mode any more.
    np.testing.assert_array_equal(model(x, training=True), model(x, training=True))
    assert float(sum(model.losses)) == 0.0
    expr = model.to_sympy(["a", "b"], threshold=0.0, trial=0)
    f = symbolic.to_numpy_function(expr, sympy.symbols("a b"))
    np.testing.assert_allclose(
        f(x), model.predict(x, verbose=0)[0, :, 0], rtol=1e-4, atol=1e-4
    )


def _short_l0_fit(seed, x, y):
    model = dsr.EQL(depth=1, primitives=["identity", "square", "product10"],
                    regularizer=dsr.ExpectedL0(0.01), seed=seed, trials=2, steps_per_call=20)
    model.compile(optimizer=dsr.optimizers.RMSprop(1e-2), jit_compile=True)
    model.fit(x, y, batch_size=len(x), epochs=3, verbose=0, shuffle=False)
    return model.get_weights()


def test_seeded_l0_fits_repeat_exactly_and_the_seed_matters(rng):
    x = rng.uniform(-1, 1, (64, 2)).astype("float32")
    y = x[:, :1] * x[:, 1:]
    first, again, other = _short_l0_fit(3, x, y), _short_l0_fit(3, x, y), _short_l0_fit(4, x, y)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


def test_the_gate_noise_seed_reaches_the_gates_and_differs_per_layer():
    model = dsr.EQL(depth=2, regularizer="l0", seed=7)
    seeds = [layer.linear.seed for layer in model.hidden]
    assert None not in seeds and len(set(seeds)) == len(seeds)
    assert dsr.EQL(depth=2, regularizer="l0").hidden[0].linear.seed is None
    # Dense kinds have no randomness: a seed is accepted and ignored.
    assert not hasattr(dsr.EqlLayer(["identity"], seed=1).linear, "seed")
