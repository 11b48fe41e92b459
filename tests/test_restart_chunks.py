"""A restart's result depends on its seed, not on the restarts it trains beside."""

import concurrent.futures
import functools
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from deepsymreg.callbacks import NaNRecovery, Phase
from deepsymreg.layers import HardConcreteDense
from deepsymreg.restarts import fit_restarts

SCHEDULE = [Phase(50, 1e-2, 0.0), Phase(100, 1e-2, 3e-3, threshold=0.01), Phase(50, 1e-3, 0.0)]


def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (96, 2)).astype("float32")
    xt = rng.uniform(-2, 2, (96, 2)).astype("float32")
    return x, x[:, 0] * x[:, 1], xt, xt[:, 0] * xt[:, 1]


def run(**kwargs):
    results = fit_restarts(*data(), trials=3, schedule=SCHEDULE, seed=5, regularizer="l0",
                           steps_per_call=50, lambda_spread=4.0, **kwargs)
    return [(r.seed, r.expression, r.train_mse, r.extrapolation_mse) for r in results]


@functools.cache
def by_two():
    """Results and progress reports of chunks of 2 restarts in this process (computed once:
    the tests below compare other executors with it)."""
    heard = []
    return run(chunk_size=2, progress=heard.append), tuple(heard)


# The tests comparing with `by_two` run on one pytest-xdist worker, which computes it once.
together = pytest.mark.xdist_group("restart_chunks")


def test_gate_noise_of_a_trial_does_not_depend_on_the_others():
    def draws(trials, index, seed):
        layer = HardConcreteDense(3, trials=trials, seed=0)
        layer.build((None, 4))
        layer.initialize_entry(index, seed)
        return [layer.sample_gates().numpy()[index] for _ in range(3)]

    alone = draws(1, 0, seed=11)
    beside = draws(4, 2, seed=11)  # the same trial as entry 2 of four
    for a, b in zip(alone, beside):
        # The same uniforms; the gate maths on arrays of other sizes may round
        # differently in the last bit (vectorized sigmoid and log).
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert not np.allclose(alone[0], alone[1], atol=1e-3)  # a stream, not one draw
    other = draws(1, 0, seed=12)
    assert not np.allclose(alone[0], other[0], atol=1e-3)


def test_nan_recovery_draws_fresh_seeds_per_restart():
    recovery = NaNRecovery(seed=[10, 20, 30])
    recovery.on_train_begin()
    got = recovery._new_seeds([2, 0])
    want = [int(np.random.default_rng(s).integers(0, 2**31 - 1)) for s in (30, 10)]
    assert got == want


@together
def test_the_same_chunks_give_identical_results_on_any_executor_and_progress():
    steps = sum(p.steps for p in SCHEDULE)
    there = []
    local, here = by_two()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        elsewhere = run(chunk_size=2, executor=pool, progress=there.append)
    assert elsewhere == local
    # Here: one report per compiled call of 50 steps (chunks of 2 and 1 restarts, 4
    # calls each); on an executor: one per chunk, when it ends.
    assert sum(here) == 3 * steps and sorted(here) == [50] * 4 + [100] * 4
    assert sum(there) == 3 * steps and sorted(there) == [1 * steps, 2 * steps]


def test_other_chunkings_differ_by_rounding_only():
    one_graph, singles = run(), run(chunk_size=1)
    for a, b in zip(one_graph, singles):
        assert a[0] == b[0]
        # Vectorized updates round differently for other array sizes; the noise,
        # weights and NaN re-runs of each restart are the same.
        assert b[2] == pytest.approx(a[2], rel=0.05, abs=1e-4)


def test_rejects_a_non_executor():
    with pytest.raises(ValueError, match="argument `executor`"):
        run(executor="localhost:8786")


@together
def test_a_process_pool_gives_the_same_results_and_progress():
    heard = []
    pooled = run(workers=2, progress=heard.append)  # 2 chunks, as chunk_size=2
    assert pooled == by_two()[0]
    steps = sum(p.steps for p in SCHEDULE)
    assert sorted(heard) == [1 * steps, 2 * steps]


_ORPHAN_PARENT = """
import sys, time
from deepsymreg.restarts import _run_chunks
_run_chunks([600, 600], None, 2, task=time.sleep)  # two workers, each sleeping 10 minutes
"""


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:  # fields: state, ppid, ...
                kids.append(int(entry))
    return kids


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table from /proc")
def test_pool_workers_exit_when_their_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_PARENT])
    try:
        deadline = time.monotonic() + 120
        workers = []
        while len(workers) < 2 and time.monotonic() < deadline:  # the resource tracker is a child too
            time.sleep(0.5)
            workers = [p for p in _children(parent.pid)
                       if "spawn_main" in open(f"/proc/{p}/cmdline").read()]
        assert len(workers) == 2
        time.sleep(3)  # the workers are past their initializer
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        # A worker still importing TensorFlow on a loaded machine starts its watcher late
        # (and then exits at once): the bound is generous, the test ends as soon as they go.
        deadline = time.monotonic() + 120
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(_alive, workers))
    finally:
        parent.kill()
        for p in filter(_alive, workers):
            os.kill(p, signal.SIGKILL)
