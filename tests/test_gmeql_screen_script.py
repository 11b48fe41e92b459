"""benchmarks/gmeql_screen.py: both read-outs start from the same searched state."""

from tests.scripts import load_script


def test_paired_read_outs_start_from_the_same_state():
    script = load_script("benchmarks/gmeql_screen.py")
    # With no screen on either side, the second read-out must repeat the first one
    # exactly: the model's state is restored between them.
    res = script.paired("b1", seed=0, screen=None, rounds=1, round_iterations=20,
                        iterations=40, steps_per_call=20, xla=False, top=3,
                        polish_steps=50)
    assert res["search_seconds"] > 0
    first, second = (dict(res[k]) for k in ("default", "screen"))
    assert first.pop("seconds") > 0 and second.pop("seconds") > 0
    assert first == second
    assert script._judged({"relative_rms": None, "success": False}) == "inf"
    assert script._judged({"relative_rms": 0.01, "success": True}) == "0.01 (right)"
