"""benchmarks/gmeql_readout.py: a tiny search read out with every score, and its table."""


import pytest
from tests.scripts import load_script



@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/gmeql_readout.py")


def test_tiny_readout_counts_and_table(script):
    r = script.readout("b6", seed=0, rounds=1, round_iterations=20, iterations=40, top=5,
                       polish_steps=5, n_train=40, steps_per_call=20, samples=4,
                       repository_size=10, xla=False)
    assert r["iterations"] == 60 and 1 <= r["candidates"] <= 6
    assert 0 <= r["right_as_read"] <= r["candidates"] and 0 <= r["right_refitted"] <= r["candidates"]
    assert r["right_refitted"] <= r["right_refined"] <= r["candidates"]  # refining adds, never drops
    assert set(r["selected"]) == set(script.SCORES)
    lines = script.table([r]).splitlines()
    assert len(lines) == 3 and lines[2].startswith("| 0 | ")


def test_bad_seeds_is_a_usage_error(script, capsys):
    with pytest.raises(SystemExit) as info:
        script.main(["--seeds", "a"])
    assert info.value.code == 2 and "--seeds" in capsys.readouterr().err
