"""benchmarks/parametric_speed.py: one tiny timed configuration, weight counts, the tables."""


import pytest
from tests.scripts import load_script



@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/parametric_speed.py")


def test_weight_counts_follow_the_grid(script):
    small, large = script.weights_only("stacked", 4), script.weights_only("stacked", 8)
    meta = script.weights_only("meta", 4)
    # The stacked kernels (and their masks) grow with the grid; the meta MLPs do not.
    assert large["trainable"] - small["trainable"] == 4 * (1 * 10 + 9 * 10 + 17 * 1)
    assert meta == script.weights_only("meta", 8)
    assert meta["mb_float32"] == pytest.approx(meta["total"] * 4 / 2**20)


@pytest.mark.slow  # a compiled training run (12-20 s): outside the default suite's budget
def test_one_tiny_configuration_and_the_tables(script):
    r = script.time_methods(4, 1, 2, methods=("stacked",), per_step=8, steps_per_call=2,
                            repeats=1, min_seconds=0.0)["stacked"]
    assert r["seconds_per_step"] > 0 and r["cpu_seconds_per_step"] >= 0
    assert len(r["repeats"]) == 1 and r["final_loss_finite"]
    assert r["rows_per_step"] == 8
    meta = dict(r, method="meta", seconds_per_step=2 * r["seconds_per_step"],
                cpu_seconds_per_step=2 * r["cpu_seconds_per_step"] + 1e-9)
    result = {
        "settings": {"trials": [1]},
        "f2": [r, meta],
        "grid": [{"n_steps": 4, "batch_per_step": 2, "stacked": r,
                  "meta": {"weights": script.weights_only("meta", 4)}}],
    }
    text = script.tables(result)
    assert "| 1 |" in text and "| 2.00 |" in text
    assert "| 4 | 8 |" in text and text.rstrip().endswith("| - | - | - |")  # meta untimed
