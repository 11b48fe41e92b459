"""benchmarks/xla_kernels.py: kernel families, and a trace of a tiny compiled loop."""

import pytest
import tensorflow as tf

from tests.scripts import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("benchmarks/xla_kernels.py")


@pytest.mark.parametrize("name, family", [
    ("dot.163", "dot"), ("add_multiply_fusion.2", "add_multiply_fusion"),
    ("concat_9.11", "concat"), ("wrapped_reduce-window.13", "wrapped_reduce-window"),
    ("bitcast_dot_fusion", "bitcast_dot_fusion"), ("TopKV2.11", "TopKV2"),
])
def test_family_drops_the_numbering(script, name, family):
    assert script.family(name) == family


def test_a_traced_loop_reports_its_kernels_per_iteration(script, tmp_path):
    a = tf.random.stateless_normal([64, 64], seed=[1, 2])

    @tf.function(jit_compile=True)
    def loop(n):
        return tf.while_loop(lambda i, m: i < n, lambda i, m: (i + 1, tf.tanh(m @ a)),
                             (0, a))[1]

    loop(tf.constant(2))  # compile outside the trace
    times = script.kernel_times(lambda: loop(tf.constant(20)).numpy(), iterations=20,
                                logdir=str(tmp_path))
    assert times["total"] > 0 and times["executor"] >= 0
    assert times["events"] >= 1  # at least the product runs every iteration
    # The product is a kernel of its own ("dot" or "matmul", by XLA's version).
    assert any("dot" in f or "matmul" in f for f in times["families"]), times["families"]
    assert sum(times["families"].values()) == pytest.approx(times["total"])
    table = script.kernel_table(times, top=3)
    assert table.splitlines()[2] == "| kernel family | CPU ms per iteration | share |"
    assert len(table.splitlines()) <= 4 + 3
