"""Shared test set-up: quiet TensorFlow, fixed seeds, small data sets."""

import os
import sys

# Must be set before TensorFlow is imported anywhere.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Let test modules in sub-folders import the shared helper `layer_checks`.
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from deepsymreg import primitives  # noqa: E402
from deepsymreg.data import repeated  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def clean_registry(monkeypatch):
    """Let a test register primitives without leaking them into other tests."""
    monkeypatch.setattr(primitives, "_REGISTRY", dict(primitives._REGISTRY))


@pytest.fixture(scope="session")
def linear_law_data():
    """256 points of y = 2*x0 - x1 on [-1, 1]^2, as float32 arrays (x, y[:, None])."""
    x = np.random.default_rng(1).uniform(-1, 1, (256, 2)).astype("float32")
    y = (2 * x[:, 0] - x[:, 1])[:, None].astype("float32")
    return x, y


def _fit_full_batch(model, x, y, steps_per_epoch, epochs=1, **kwargs):
    data = repeated((x, y))
    return model.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, shuffle=False,
                     verbose=0, **kwargs)


@pytest.fixture(scope="session")
def fit_full_batch():
    """``fit_full_batch(model, x, y, steps_per_epoch, epochs=1, **fit_kwargs)``.

    Full-batch training as the library does it: the same batch repeated, many
    optimizer steps per Keras batch when the model has ``steps_per_call``.
    """
    return _fit_full_batch
