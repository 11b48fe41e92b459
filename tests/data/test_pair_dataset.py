"""pair_dataset: an endless stream of fresh random digit pairs and their label sums."""

import itertools

import numpy as np
import pytest

from deepsymreg.data import pair_dataset

#: Labels of the fake images; image k is filled with the value k.
LABELS = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 8, 7, 0])


@pytest.fixture(scope="module")
def fake_images():
    n = len(LABELS)
    return np.broadcast_to(np.arange(n, dtype="float32")[:, None, None], (n, 28, 28)).copy()


def _take(ds, batches):
    return [(p.numpy(), s.numpy()) for p, s in itertools.islice(ds, batches)]


def _indices(pairs):
    """Which fake image each of the pair's images is: ``(batch, 2)`` ints."""
    idx = pairs[:, :, 0, 0]
    # Every pixel of an image holds its index: the pair's images are whole images.
    np.testing.assert_array_equal(pairs, np.broadcast_to(idx[:, :, None, None], pairs.shape))
    np.testing.assert_array_equal(idx, np.round(idx))
    return idx.astype(int)


def test_batches_are_pairs_and_their_sums(fake_images):
    batches = _take(pair_dataset(fake_images, LABELS, 16, seed=0), 20)
    seen = []
    for pairs, sums in batches:
        assert pairs.shape == (16, 2, 28, 28) and pairs.dtype == np.float32
        assert sums.shape == (16, 1) and sums.dtype == np.float32
        idx = _indices(pairs)
        assert idx.min() >= 0 and idx.max() < len(LABELS)
        np.testing.assert_array_equal(sums[:, 0], LABELS[idx[:, 0]] + LABELS[idx[:, 1]])
        seen.append(idx)
    seen = np.concatenate(seen)
    # Random pairs: all images get drawn, in both positions, and pairs are not i == i.
    assert set(seen[:, 0]) == set(seen[:, 1]) == set(range(len(LABELS)))
    assert np.mean(seen[:, 0] != seen[:, 1]) > 0.5
    # Fresh pairs in every batch.
    assert not np.array_equal(batches[0][0], batches[1][0])


def test_max_sum_keeps_only_small_sums(fake_images):
    unfiltered = np.concatenate([s for _, s in _take(pair_dataset(fake_images, LABELS, 32), 10)])
    assert unfiltered.max() >= 15  # the filter has something to remove
    for pairs, sums in _take(pair_dataset(fake_images, LABELS, 32, max_sum=15), 10):
        assert pairs.shape == (32, 2, 28, 28) and sums.shape == (32, 1)
        idx = _indices(pairs)
        np.testing.assert_array_equal(sums[:, 0], LABELS[idx[:, 0]] + LABELS[idx[:, 1]])
        assert sums.max() < 15


def test_same_seed_same_stream(fake_images):
    a = _take(pair_dataset(fake_images, LABELS, 8, seed=4), 3)
    b = _take(pair_dataset(fake_images, LABELS, 8, seed=4), 3)
    c = _take(pair_dataset(fake_images, LABELS, 8, seed=5), 3)
    for (pa, sa), (pb, sb) in zip(a, b):
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(sa, sb)
    assert not all(np.array_equal(pa, pc) for (pa, _), (pc, _) in zip(a, c))


def test_works_with_real_shaped_inputs():
    """Integer labels and float64 images of any range are accepted as given."""
    images = np.random.default_rng(0).random((3, 28, 28))
    pairs, sums = next(iter(pair_dataset(images, [1, 2, 3], 4, seed=1)))
    assert pairs.dtype.name == "float32" and sums.shape == (4, 1)
    for k in range(4):
        i, j = (int(np.argmin([np.abs(images[m] - pairs[k, p].numpy()).max() for m in range(3)]))
                for p in (0, 1))
        np.testing.assert_allclose(pairs[k, 0].numpy(), images[i], rtol=1e-6)
        np.testing.assert_allclose(pairs[k, 1].numpy(), images[j], rtol=1e-6)
        assert float(sums[k, 0]) == (i + 1) + (j + 1)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "8", None])
def test_bad_batch_size(fake_images, batch_size):
    with pytest.raises(ValueError, match="argument `batch_size`"):
        pair_dataset(fake_images, LABELS, batch_size)
