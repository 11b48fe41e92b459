"""benchmarks/tiny_fit_speed.py: bad arguments, and one tiny timed table."""

import pytest

from tests.scripts import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/tiny_fit_speed.py")


@pytest.mark.parametrize("argv, flag", [
    (["--steps", "0"], "--steps"), (["--steps", "ten"], "--steps"),
    (["--repeats", "0"], "--repeats"),
])
def test_rejects_bad_arguments(script, argv, flag, capsys):
    with pytest.raises(SystemExit):
        script.main(argv)
    assert f"argument {flag}" in capsys.readouterr().err


def test_one_tiny_table(script, capsys):
    walls = script.main(["--steps", "10", "--repeats", "1"])
    assert set(walls) == {(10, True), (10, False)}
    assert all(len(w) == 1 and w[0] > 0 for w in walls.values())
    out = capsys.readouterr().out
    assert "| 10 |" in out and "no XLA / XLA" in out
