"""The read-out of many restarts' equations, in this process or on a pool of processes."""

import os
import signal

import numpy as np
import pytest
import sympy

from deepsymreg import readout, symbolic

X, Y = sympy.symbols("x y")

#: Equations a law's restarts might read, for data from -0.7*x**3 + 0.5*sin(pi*y):
#: look-alikes for a swap, a term too many for the prune, a repeat, a diverged one and
#: one that does not parse.
EQUATIONS = [
    "-4.5*x + 4.54*sin(0.316*pi*x) + 0.5*sin(pi*y)",
    "-0.69*x**3 + 0.49*sin(1.01*pi*y) + 0.002*y**2",
    "-4.5*x + 4.54*sin(0.316*pi*x) + 0.5*sin(pi*y)",
    "nan",
    "x +",
    "-0.7*x**3 + 0.3*y + 0.2*y**3",
    "-0.71*x**3 + 0.48*sin(0.98*pi*y) + 0.01*exp(0.3*x)",
]


@pytest.fixture(scope="module")
def data():
    x = np.random.default_rng(0).uniform(-1, 1, size=(256, 2))
    truth, symbols = symbolic.parse("-0.7*x**3 + 0.5*sin(pi*y)", ["x", "y"])
    return x, symbolic.to_numpy_function(truth, symbols)(x), symbols, truth


def relative_error(expr, truth, symbols):
    x = np.random.default_rng(1).uniform(-2, 2, size=(2000, 2))
    got = symbolic.to_numpy_function(expr, symbols)(x)
    want = symbolic.to_numpy_function(truth, symbols)(x)
    return float(np.sqrt(np.mean((got - want) ** 2) / np.mean(want**2)))


def test_each_distinct_equation_is_read_once_in_order(data, monkeypatch):
    x, y, symbols, truth = data
    seen = []
    real = readout.read_out
    monkeypatch.setattr(readout, "read_out", lambda expr, *a, **k: seen.append(expr) or real(expr, *a, **k))
    read = readout.read_out_all(EQUATIONS, symbols, x, y, workers=1)
    assert list(read) == list(dict.fromkeys(EQUATIONS))
    assert len(seen) == 5  # the repeat is read once; "x +" does not parse
    assert read["x +"] is None
    # The read-out mends the look-alikes and drops the needless term: the law each time.
    for text in (EQUATIONS[0], EQUATIONS[1], EQUATIONS[6]):
        assert relative_error(read[text], truth, symbols) < 1e-3, (text, read[text])
        assert symbolic.complexity(read[text]) == symbolic.complexity(truth)


def test_the_pool_reads_what_this_process_reads(data):
    x, y, symbols, _ = data
    here = readout.read_out_all(EQUATIONS, symbols, x, y, workers=1)
    pooled = readout.read_out_all(EQUATIONS, symbols, x, y, workers=2)
    assert readout._POOL is not None and readout._POOL[0] == 2  # the pool did the reading
    assert {e: str(r) for e, r in pooled.items()} == {e: str(r) for e, r in here.items()}
    # The pool is kept: a second law reuses its processes.
    pids = set(readout._POOL[1]._processes)
    again = readout.read_out_all(EQUATIONS[:3] + ["x"], symbols, x, y, workers=2)
    assert set(readout._POOL[1]._processes) == pids
    assert str(again[EQUATIONS[0]]) == str(here[EQUATIONS[0]])


def test_a_broken_pool_falls_back_to_this_process(data):
    x, y, symbols, _ = data
    readout.start_pool(2)
    pool = readout._POOL[1]
    list(pool.map(int, range(4)))  # its workers are up
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.warns(RuntimeWarning, match="pool broke"):
        read = readout.read_out_all(EQUATIONS, symbols, x, y, workers=2)
    assert str(read[EQUATIONS[5]]) == str(readout.read_out_all(EQUATIONS[5:6], symbols, x, y, workers=1)[EQUATIONS[5]])
    # The next call starts a new pool.
    readout.read_out_all(EQUATIONS, symbols, x, y, workers=2)
    assert readout._POOL[1] is not pool


@pytest.mark.parametrize("argument, value", [("workers", 0), ("workers", 1.5), ("digits", 0)])
def test_bad_arguments_are_named(data, argument, value):
    x, y, symbols, _ = data
    with pytest.raises(ValueError, match=f"`{argument}`.*{value}"):
        readout.read_out_all(EQUATIONS, symbols, x, y, **{argument: value})
