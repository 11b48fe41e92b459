"""benchmarks/gate_noise_speed.py: the baseline draw, the scaled schedule, the table."""

import numpy as np
import pytest
import tensorflow as tf

from deepsymreg import concrete
from tests.scripts import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/gate_noise_speed.py")


def test_the_philox_baseline_draws_per_trial_streams(script):
    seeds, steps = tf.constant([3, 4]), tf.constant([1, 1])
    u = script.philox_trial_uniforms((50, 2), seeds, steps).numpy()
    assert u.shape == (2, 50, 2) and 0 < u.min() and u.max() < 1
    alone = script.philox_trial_uniforms((50, 2), seeds[1:], steps[1:]).numpy()
    np.testing.assert_array_equal(u[1], alone[0])
    # Other numbers than the counter hash at the same seeds: a real baseline.
    assert not np.allclose(u, concrete.trial_uniforms((50, 2), seeds, steps).numpy())


def test_the_schedule_keeps_the_phases_in_proportion(script):
    full = script.schedule(20000)
    assert [p.steps for p in full] == [2000, 14000, 4000]
    small = script.schedule(4000)
    assert [p.steps for p in small] == [500, 3000, 1000]
    assert [p.threshold for p in small] == [p.threshold for p in full]


@pytest.mark.parametrize("flag", ["--restarts", "--repeats", "--steps"])
def test_rejects_counts_below_one(script, flag, capsys):
    with pytest.raises(SystemExit):
        script.main([flag, "0"])
    assert f"argument {flag}" in capsys.readouterr().err


@pytest.mark.slow  # two compiled trainings (about 20 s): outside the default suite's budget
def test_a_tiny_run_prints_both_rows_and_restores_the_draw(script, capsys):
    walls = script.main(["--restarts", "2", "--repeats", "1", "--steps", "1500"])
    assert set(walls) == {"philox", "counter"} and all(w[0] > 0 for w in walls.values())
    out = capsys.readouterr().out
    assert "| philox |" in out and "| counter |" in out and "x the speed" in out
    assert concrete.trial_uniforms is script.COUNTER
