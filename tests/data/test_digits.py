"""Digit data: offline stand-in, .npz loading, pairs for the arithmetic task."""

import numpy as np
import pytest

from deepsymreg.data import digit_pairs, load_digits
from deepsymreg.data.digits import OFFLINE_NOTE


@pytest.fixture(scope="module")
def offline():
    return load_digits(source="sklearn")


def test_offline_digits_look_like_mnist(offline):
    assert offline.source == OFFLINE_NOTE
    assert offline.x_train.shape[1:] == (28, 28) and offline.x_test.shape[1:] == (28, 28)
    assert 0.0 <= offline.x_train.min() and offline.x_train.max() <= 1.0
    assert set(np.unique(offline.y_train)) == set(range(10))
    assert len(offline.x_train) + len(offline.x_test) == 1797
    # The digit sits in MNIST's central 20x20 box; the border is empty.
    assert offline.x_train[:, :4].max() == 0.0 and offline.x_train[:, :, 24:].max() == 0.0


def test_npz_path_is_loaded_as_mnist(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (5, 28, 28)), "y_train": np.arange(5),
              "x_test": rng.integers(0, 256, (3, 28, 28)), "y_test": np.arange(3)}
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    data = load_digits(path=str(path))
    assert data.source.startswith("MNIST from")
    np.testing.assert_allclose(data.x_train, arrays["x_train"] / 255.0, rtol=1e-6)
    np.savez(tmp_path / "bad.npz", x_train=arrays["x_train"])
    with pytest.raises(ValueError, match="path"):
        load_digits(path=str(tmp_path / "bad.npz"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="source"):
        load_digits(source="emnist")
    with pytest.raises(ValueError, match="path"):
        load_digits(path="/nonexistent/mnist.npz")


def test_pairs_sum_labels_and_respect_the_filter(offline):
    a, b, total, la, lb = digit_pairs(offline.x_train, offline.y_train, 500, seed=0,
                                      keep=lambda s: s < 15)
    assert a.shape == b.shape == (500, 28, 28)
    np.testing.assert_array_equal(total, la + lb)
    assert total.max() < 15
    with pytest.raises(ValueError, match="keep"):
        digit_pairs(offline.x_train, offline.y_train, 10, keep=lambda s: s > 18)
