"""NaNRecovery on a model that holds an EQL (encoder -> EQL), not on an EQL itself.

A non-finite loss must return every weight to where training began (encoder, batch-norm
statistics, masks), re-draw the EQL's weights, reset the optimizer (step counter
included) and the running metrics, and count one restart.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from deepsymreg import EQL, NaNRecovery
from deepsymreg.data import without_autotune

PRIMS = ["identity", "square", "product10"]
BATCH, NAN_BATCH, N_BATCHES = 8, 2, 5


class Pipeline(keras.Model):
    """Subclassed encoder -> batch norm -> EQL."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.layers.Dense(3, name="encoder")
        self.norm = keras.layers.BatchNormalization(name="norm")
        self.eql = EQL(n_outputs=1, depth=1, primitives=PRIMS, seed=1, name="eql")

    def call(self, x, training=None):
        return self.eql(self.norm(self.encoder(x), training=training), training=training)


def _functional():
    x = keras.Input((2,))
    h = keras.layers.Dense(3, name="encoder")(x)
    h = keras.layers.BatchNormalization(name="norm")(h)
    return keras.Model(x, EQL(n_outputs=1, depth=1, primitives=PRIMS, seed=1, name="eql")(h))


class Snapshots(keras.callbacks.Callback):
    """Weights (by path), optimizer state and logged loss at the end of every batch."""

    def on_train_begin(self, logs=None):
        self.rows = []

    def on_train_batch_end(self, batch, logs=None):
        self.rows.append({
            "weights": {w.path: w.numpy().copy() for w in self.model.weights},
            "optimizer": {v.path: v.numpy().copy() for v in self.model.optimizer.variables
                          if "learning_rate" not in v.name},
            "iterations": int(self.model.optimizer.iterations),
            "loss": float(logs["loss"]),
        })


def _data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (BATCH * N_BATCHES, 2)).astype("float32")
    y = (2 * x[:, :1] - x[:, 1:]).astype("float32")
    y[NAN_BATCH * BATCH:(NAN_BATCH + 1) * BATCH] = np.nan  # one batch of NaN targets
    return without_autotune(tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)), x, y


def _run(kind, seed=0):
    keras.utils.set_random_seed(0)
    model = Pipeline() if kind == "subclassed" else _functional()
    data, x, _ = _data()
    model(x[:BATCH])  # built before training: the start is known
    start = {w.path: w.numpy().copy() for w in model.weights}
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", jit_compile=False)
    before, after = Snapshots(), Snapshots()  # around the recovery callback
    recovery = NaNRecovery(seed=seed)
    model.fit(data, epochs=1, verbose=0, shuffle=False, callbacks=[before, recovery, after])
    return {"model": model, "start": start, "before": before.rows, "after": after.rows,
            "recovery": recovery}


@pytest.fixture(scope="module", params=["functional", "subclassed"])
def run(request):
    return _run(request.param)


def _groups(run):
    paths = list(run["start"])
    eql = [p for p in paths if "eql/" in p]
    kernels = [p for p in eql if p.endswith("kernel")]
    masks = [p for p in eql if p.endswith("mask")]
    others = [p for p in paths if p not in eql]
    assert kernels and masks and len(others) == 6  # encoder kernel, bias; 4 batch-norm
    return kernels, masks, others


def test_the_nan_reached_the_weights(run):
    row = run["before"][NAN_BATCH]
    assert np.isnan(row["loss"])
    assert any(not np.all(np.isfinite(w)) for w in row["weights"].values())
    # Before it, training moved the encoder and the batch-norm statistics.
    _, _, others = _groups(run)
    trained = run["before"][NAN_BATCH - 1]["weights"]
    for path in others:
        assert not np.array_equal(trained[path], run["start"][path]), path


def test_one_restart(run):
    assert run["recovery"].restarts == 1
    assert run["recovery"].restarted == []  # no per-restart indices for a plain model


def test_non_eql_weights_return_to_the_start(run):
    _, masks, others = _groups(run)
    restored = run["after"][NAN_BATCH]["weights"]
    for path in others + masks:
        np.testing.assert_array_equal(restored[path], run["start"][path], err_msg=path)


def test_eql_weights_are_redrawn(run):
    kernels, _, _ = _groups(run)
    restored = run["after"][NAN_BATCH]["weights"]
    trained = run["before"][NAN_BATCH - 1]["weights"]
    for path in kernels:
        w = restored[path]
        assert np.all(np.isfinite(w)), path
        assert not np.allclose(w, run["start"][path]), path
        assert not np.allclose(w, trained[path]), path
        assert np.std(w) > 0  # a random draw, not a constant
    for w in run["model"].weights:  # and everything is finite at the end
        assert np.all(np.isfinite(w.numpy())), w.path


def test_optimizer_is_reset(run):
    row = run["after"][NAN_BATCH]
    assert run["before"][NAN_BATCH - 1]["iterations"] == NAN_BATCH
    assert row["iterations"] == 0
    for path, value in row["optimizer"].items():
        np.testing.assert_array_equal(value, np.zeros_like(value), err_msg=path)  # Adam: 0
    assert [r["iterations"] for r in run["after"][NAN_BATCH + 1:]] == [1, 2]


def test_metrics_are_reset_and_training_goes_on(run):
    losses = [r["loss"] for r in run["after"]]
    assert np.all(np.isfinite(losses[:NAN_BATCH]))
    assert np.isnan(losses[NAN_BATCH])
    assert np.all(np.isfinite(losses[NAN_BATCH + 1:]))
    assert len(run["after"]) == N_BATCHES
    # After the reset the running mean covers only the batches since the restart: the
    # next batch logs its own loss, computed from the restored weights.
    model = run["model"]
    final = [w.numpy() for w in model.weights]
    try:
        restored = run["after"][NAN_BATCH]["weights"]
        for w in model.weights:
            w.assign(restored[w.path])
        _, x, y = _data()
        rows = slice((NAN_BATCH + 1) * BATCH, (NAN_BATCH + 2) * BATCH)
        pred = model(x[rows], training=True).numpy()
        own = float(np.mean((pred - y[rows]) ** 2))
    finally:
        for w, value in zip(model.weights, final):
            w.assign(value)
    assert losses[NAN_BATCH + 1] == pytest.approx(own, rel=1e-5)


def test_the_seed_fixes_the_fresh_weights():
    a, b, c = _run("functional", seed=7), _run("functional", seed=7), _run("functional", seed=8)
    kernels, _, _ = _groups(a)
    wa, wb, wc = (r["after"][NAN_BATCH]["weights"] for r in (a, b, c))
    for path in kernels:
        np.testing.assert_array_equal(wa[path], wb[path], err_msg=path)
    assert not all(np.array_equal(wa[p], wc[p]) for p in kernels)
