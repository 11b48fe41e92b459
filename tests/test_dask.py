"""Restarts on a Dask cluster: the same results as at home, even when a worker dies."""

import threading
import time

import numpy as np
import pytest

from deepsymreg.callbacks import Phase
from deepsymreg.restarts import fit_restarts

distributed = pytest.importorskip("distributed")

SCHEDULE = [Phase(200, 1e-2, 0.0), Phase(400, 1e-2, 3e-3, threshold=0.01), Phase(200, 1e-3, 0.0)]


def run(**kwargs):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (96, 2)).astype("float32")
    xt = rng.uniform(-2, 2, (96, 2)).astype("float32")
    results = fit_restarts(x, x[:, 0] * x[:, 1], xt, xt[:, 0] * xt[:, 1], trials=2, seed=7,
                           schedule=SCHEDULE, steps_per_call=100, regularizer="l0",
                           chunk_size=1, **kwargs)
    return [(r.seed, r.expression, r.train_mse, r.extrapolation_mse, r.nan_reruns) for r in results]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield cluster, client


@pytest.fixture(scope="module")
def local():
    return run()


def test_cluster_results_equal_local_results(cluster, local):
    _, client = cluster
    assert run(executor=client.get_executor()) == local


def test_a_lost_worker_costs_time_not_results(cluster, local):
    cluster, client = cluster
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", run(executor=client.get_executor())))
    thread.start()
    nannies = {nanny.worker_address: nanny for nanny in cluster.workers.values()}
    deadline = time.time() + 120
    busy = []
    while time.time() < deadline and not busy:  # whichever worker got a chunk first
        busy = [address for address, tasks in client.processing().items() if tasks]
        time.sleep(0.1)
    assert busy, "no chunk reached any worker"
    victim = nannies[busy[0]]
    time.sleep(1.0)  # into the chunk's training
    victim.process.process.kill()  # a chunk is lost; the nanny starts a new worker
    thread.join(600)
    assert out.get("r") == local
