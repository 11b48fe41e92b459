"""Where the time of a compiled step goes: XLA:CPU kernels by family, from a trace.

TensorFlow's profiler records every kernel ("thunk") XLA:CPU runs, with its fusion's
name (``dot.12``, ``add_multiply_fusion.3``, ``TopKV2.1``). :func:`kernel_times` runs a
function under the profiler and sums the kernels' durations by name and by *family*
(the name without its numbering: ``add_multiply_fusion``), summed over all threads,
so the figures are CPU time. Matching a name to its operation needs the compiled HLO
(``XLA_FLAGS=--xla_dump_to=DIR --xla_dump_hlo_as_text``, the ``after_optimizations``
file): its ``metadata`` names the TensorFlow op a fusion came from.

This reads TensorFlow's own trace format (``XSpace``, ``tensorflow.tsl``), which is an
internal module: a tool for the benchmarks, not part of the package.

    from xla_kernels import kernel_times, kernel_table
    times = kernel_times(lambda: compiled(tf.constant(200)), iterations=200)
    print(kernel_table(times))
"""

import collections
import glob
import os
import re
import tempfile

import tensorflow as tf

#: The span of the thunk executor on a worker thread: kernels run inside it.
EXECUTOR_SPAN = "ThunkExecutor::Execute"
#: The span of one compiled call on the calling thread; kernels small enough to run
#: inline appear inside it on that thread.
CALL_SPAN = "CpuExecutable::ExecuteAsyncOnStream"
#: Spans that are not kernels: the two above, and the wait for a call's result.
NOT_KERNELS = (EXECUTOR_SPAN, CALL_SPAN, "BlockUntilReady")


def family(name):
    """A kernel's family: its name without the numbering (``dot.163`` -> ``dot``)."""
    return re.sub(r"[._]\d+$", "", re.sub(r"(\.\d+)+$", "", name))


def kernel_times(run, iterations=1, logdir=None):
    """Run ``run()`` under TensorFlow's profiler; milliseconds of CPU per iteration.

    Returns a dict ``{"kernels": {name: ms}, "families": {family: ms}, "total": ms,
    "executor": ms, "events": kernels per iteration}``, every figure divided by
    ``iterations``; ``executor`` is the thunk executor's span (kernels plus its own
    scheduling, 0 when all kernels run inline on the calling thread), ``total`` the
    kernels alone (on the calling thread the innermost spans: a while loop's span is
    not counted beside its body's kernels).
    """
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    logdir = logdir or tempfile.mkdtemp(prefix="xla_kernels_")
    tf.profiler.experimental.start(logdir)
    try:
        run()
    finally:
        tf.profiler.experimental.stop()
    paths = sorted(glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb")))
    if not paths:
        raise RuntimeError(f"the profiler wrote no trace under {logdir}")
    space = xplane_pb2.XSpace()
    with open(paths[-1], "rb") as f:
        space.ParseFromString(f.read())
    kernels, executor, events = collections.Counter(), 0.0, 0
    for plane in space.planes:
        names = plane.event_metadata
        for line in plane.lines:
            # "end: X" spans mark a kernel's completion inside its own span: not kernels.
            spans = sorted(((e.offset_ps, e.duration_ps, names[e.metadata_id].name)
                            for e in line.events
                            if not names[e.metadata_id].name.startswith("end: ")),
                           key=lambda t: (t[0], -t[1]))
            pools = [(a, a + d) for a, d, name in spans if name == EXECUTOR_SPAN]
            calls = [(a, a + d) for a, d, name in spans if name == CALL_SPAN]
            for i, (start, duration, name) in enumerate(spans):
                if name == EXECUTOR_SPAN:
                    executor += duration / 1e9 / iterations
                if name in NOT_KERNELS:
                    continue
                if not any(a <= start < b for a, b in pools):
                    # Outside the executor's worker spans, a kernel runs inline inside
                    # a compiled call on the calling thread; the rest of that thread
                    # (eager ops, TensorFlow's graph executor, tensor handles) is not
                    # XLA's. Leaves only: a while loop's span holds its body's kernels.
                    if not any(a <= start < b for a, b in calls):
                        continue
                    if i + 1 < len(spans) and spans[i + 1][0] < start + duration:
                        continue
                kernels[name] += duration / 1e9 / iterations
                events += 1
    families = collections.Counter()
    for name, ms in kernels.items():
        families[family(name)] += ms
    return {"kernels": dict(kernels), "families": dict(families),
            "total": sum(kernels.values()), "executor": executor,
            "events": events / iterations}


def kernel_table(times, top=15):
    """A Markdown table of the ``top`` families by CPU time per iteration."""
    lines = [f"kernels: {times['total']:.3f} CPU ms per iteration in {times['events']:.0f} "
             f"kernel runs (executor spans {times['executor']:.3f} ms)",
             "", "| kernel family | CPU ms per iteration | share |", "|---|---|---|"]
    ranked = sorted(times["families"].items(), key=lambda kv: -kv[1])[:top]
    for name, ms in ranked:
        lines.append(f"| {name} | {ms:.3f} | {100 * ms / times['total']:.0f}% |")
    return "\n".join(lines)
