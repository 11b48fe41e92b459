"""The noise of concrete relaxations: counter-hash uniforms and per-trial streams."""

import numpy as np
import tensorflow as tf
from scipy import stats

from deepsymreg import concrete
from deepsymreg.concrete import counter_uniform, trial_uniforms


def test_counter_uniform_streams():
    u = counter_uniform([1000], tf.constant([3, 4]), tf.constant(7)).numpy()
    assert u.shape == (2, 1000) and 0 < u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.03
    # Run 3's numbers do not depend on the other runs in the draw.
    alone = counter_uniform([1000], tf.constant([3]), tf.constant(7)).numpy()
    np.testing.assert_array_equal(alone[0], u[0])
    other = counter_uniform([1000], tf.constant([3]), tf.constant(8)).numpy()
    assert abs(np.corrcoef(other[0], u[0])[0, 1]) < 0.1


def test_a_counter_per_run_is_each_run_at_its_own_count():
    seeds, counts = tf.constant([5, 6, 7]), tf.constant([0, 11, 3])
    both = counter_uniform([4, 3], seeds, counts).numpy()
    for r in range(3):
        alone = counter_uniform([4, 3], seeds[r:r + 1], counts[r]).numpy()[0]
        np.testing.assert_array_equal(both[r], alone)


def test_successive_draws_are_uniform_and_unrelated():
    # 200 steps of one trial's gate noise and 200 trials at one step: uniform by a
    # Kolmogorov-Smirnov test, and neighbours (in position, step and seed) uncorrelated.
    seeds = tf.constant(np.arange(200, dtype=np.int32))
    by_seed = counter_uniform([50], seeds, tf.constant(0)).numpy()
    by_step = np.stack([counter_uniform([50], seeds[:1], tf.constant(t)).numpy()[0]
                        for t in range(200)])
    for u in (by_seed, by_step):
        assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
        for a, b in ((u[:-1], u[1:]), (u[:, :-1], u[:, 1:])):
            assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.03


def test_trial_uniforms_keep_the_stream_of_each_trial():
    seeds, steps = tf.constant([10, 20]), tf.constant([1, 2])
    u = trial_uniforms((3, 2), seeds, steps)
    assert u.shape == (2, 3, 2) and u.dtype == tf.float32
    np.testing.assert_array_equal(u.numpy()[1], trial_uniforms((3, 2), seeds[1:], steps[1:])[0])
    assert trial_uniforms((3, 2), seeds, steps, "float64").dtype == tf.float64


def test_logistic_noise_from_the_extreme_uniforms_is_finite():
    extremes = tf.constant([0.5 / 2**23, 1 - 0.5 / 2**23], tf.float32)
    assert np.all(np.isfinite(concrete.logistic_noise([2], None, uniform=extremes).numpy()))
