"""The tf.data feed of model.fit: same elements, no autotuning thread."""

import numpy as np
import pytest
import tensorflow as tf

from deepsymreg import GMEQL, recipes, restarts
from deepsymreg.callbacks import Phase
from deepsymreg.data import pair_dataset, repeated, without_autotune
from deepsymreg.models.eql import EQL
from deepsymreg.models.parametric import ParametricEQL
from deepsymreg.parametric import make_parametric_data, train_parametric


def test_repeated_gives_the_whole_data_every_step_without_autotune():
    x = np.arange(6, dtype="float32").reshape(3, 2)
    y = np.array([1.0, 2.0, 3.0], "float32")
    data = repeated((x, y))
    assert data.options().autotune.enabled is False
    for got_x, got_y in data.take(3):  # endless: any number of steps
        np.testing.assert_array_equal(got_x, x)
        np.testing.assert_array_equal(got_y, y)
    w = np.ones(3, "float32")
    assert len(next(iter(repeated((x, y, w))))) == 3
    assert len(next(iter(repeated(x, y)))) == 2  # several arguments: one tuple


def test_without_autotune_keeps_the_elements_and_order():
    def pipeline():
        return tf.data.Dataset.range(10).shuffle(10, seed=3).batch(4)

    base, tuned_off = pipeline(), without_autotune(pipeline())
    assert base.options().autotune.enabled is not False
    assert tuned_off.options().autotune.enabled is False
    assert [b.numpy().tolist() for b in tuned_off] == [b.numpy().tolist() for b in base]


class _Stop(Exception):
    pass


def _capture(seen):
    def fit(self, data, *args, **kwargs):
        seen.append(data.options().autotune.enabled)
        raise _Stop
    return fit


def test_package_fits_feed_without_autotune(monkeypatch):
    """Every fit of the package gets a feed without autotuning (its iterator's end would
    otherwise wait for the tuning thread's next wake-up, see deepsymreg.data.feed)."""
    seen = []
    monkeypatch.setattr(GMEQL, "fit", _capture(seen))
    monkeypatch.setattr(EQL, "fit", _capture(seen))
    monkeypatch.setattr(ParametricEQL, "fit", _capture(seen))
    x = np.random.default_rng(0).uniform(-1, 1, (16, 2)).astype("float32")
    y = x[:, 0] * x[:, 1]
    with pytest.raises(_Stop):
        GMEQL(samples=2, steps_per_call=1).search(x, y, rounds=0, iterations=1, stage1=False)
    with pytest.raises(_Stop):
        restarts.fit_restarts(x, y, x, y, trials=1, schedule=[Phase(1, 1e-3, 0.0)],
                              steps_per_call=1, jit_compile=False)
    inputs, targets, _ = make_parametric_data("t*x", "x", n_param=4, n_per_param=8)
    with pytest.raises(_Stop):
        train_parametric(inputs, targets, trials=1, steps=10, jit_compile=False)
    assert seen == [False, False, False]


def test_recipe_feeds_are_without_autotune():
    images = np.zeros((20, 28, 28), "float32")
    labels = np.arange(20) % 10
    assert pair_dataset(images, labels, batch_size=4).options().autotune.enabled is False
    # The dynamics feed reads x, y0 and y of a data set: a stand-in with those fields.
    data = type("Data", (), {"x": np.zeros((8, 2), "float32"), "y0": np.zeros((8, 1), "float32"),
                             "y": np.zeros((8, 5, 1), "float32")})()
    for batch_size in (None, 4):
        feed = recipes._dataset(data, horizon=3, batch_size=batch_size, seed=0)
        assert feed.options().autotune.enabled is False
        (_, targets), = feed.take(1)
        assert targets.shape[1] == 3
