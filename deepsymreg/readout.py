"""The read-out of restarts' equations: each distinct equation polished, refined, pruned
and swapped once, in this process or spread over a pool of processes.

The read-out is SymPy and SciPy work that holds the GIL, so threads do not share it; the
pool's processes are forked from a server process (``forkserver``) that has imported this
module but never run TensorFlow, not from the trained process. The pool is kept for the
life of the process: a benchmark of many laws starts it once.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import uuid
import warnings

from deepsymreg import swap as swap_lib
from deepsymreg import symbolic
from deepsymreg._validation import check_int

__all__ = ["read_out", "read_out_all", "start_pool", "default_workers"]


def read_out(expr, symbols, x, y, refine=True, prune=True, swap=True, library=None, memo=None):
    """One equation's read-out on the training points ``(x, y)`` (not rounded).

    :func:`deepsymreg.symbolic.polish` (or, with ``refine``,
    :func:`deepsymreg.symbolic.polish_refined`, every number refitted), then with ``prune``
    and ``swap`` :func:`deepsymreg.swap.prune_and_swap` (``library`` and ``memo`` as there),
    or either one alone.

    Args:
        expr: a SymPy expression in ``symbols``; x: ``(n, len(symbols))``; y: ``(n,)``.
    """
    if refine:
        better = symbolic.polish_refined(expr, symbols, x, y, max_numbers=symbolic.REFINE_MAX_NUMBERS)
    else:
        better = symbolic.polish(expr, symbols, x, y)
    if prune and swap:
        return swap_lib.prune_and_swap(better, symbols, x, y, library=library, memo=memo)
    if prune:
        return symbolic.prune(better, symbols, x, y)
    if swap:
        return swap_lib.swap(better, symbols, x, y, library=library)
    return better


def default_workers():
    """The read-out's default number of processes: the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_out_all(expressions, symbols, x, y, refine=True, prune=True, swap=True, digits=6,
                 workers=None):
    """The read-outs of many equations on the same training points (a law's restarts).

    Each distinct string of ``expressions`` is parsed and read once (:func:`read_out`,
    rounded to ``digits`` significant digits); with ``swap``, the swaps share one
    :class:`~deepsymreg.swap.TermLibrary` and one memo per process.

    Args:
        expressions: equations as strings in the names of ``symbols``.
        symbols: the variables, in the column order of ``x``.
        x: ``(n, len(symbols))`` training points; y: ``(n,)`` targets.
        refine, prune, swap: as :func:`read_out`.
        digits: significant digits of the returned numbers.
        workers: processes to read on (default :func:`default_workers`). With more than
            one and more distinct equations than workers, the equations are handed out
            one at a time to a pool of ``workers`` processes (equations that prune alike
            in different processes are swapped once in each; the equations found are
            the same to about ``digits``). ``1`` reads here, in order.

    Returns:
        A dict mapping each distinct string to its read-out (a SymPy expression), or to
        None when it does not parse.
    """
    workers = default_workers() if workers is None else check_int("workers", workers, minimum=1)
    names = [s.name for s in symbols]
    distinct = list(dict.fromkeys(str(e) for e in expressions))
    flags = (bool(refine), bool(prune), bool(swap), check_int("digits", digits, minimum=1))
    if workers > 1 and len(distinct) > workers:
        try:
            return _read_on_pool(distinct, names, x, y, flags, workers)
        except concurrent.futures.process.BrokenProcessPool as error:
            _drop_pool()
            warnings.warn(f"The read-out's process pool broke ({error}); reading in this process.",
                          RuntimeWarning, stacklevel=2)
    state = _LawState(uuid.uuid4().hex, names, x, y, flags)
    return {e: state.read(e) for e in distinct}


class _LawState:
    """A process's library and swap memo for the law it reads (``law``: a token per call
    of :func:`read_out_all`)."""

    def __init__(self, law, names, x, y, flags):
        self.law, self.names, self.x, self.y = law, names, x, y
        self.refine, self.prune, self.swap, self.digits = flags
        self.symbols = symbolic.make_symbols(names, len(names))
        self.library = swap_lib.TermLibrary(self.symbols, x) if self.swap else None
        self.memo = {}

    def read(self, expression):
        try:
            expr, _ = symbolic.parse(expression, self.names)
        except ValueError:
            return None
        better = read_out(expr, self.symbols, self.x, self.y, self.refine, self.prune, self.swap,
                          self.library, self.memo)
        return symbolic.rounded(better, self.digits)


# The pool, kept across calls: (workers, executor); and in a worker, the law it reads.
_POOL = None
_WORKER_STATE = None


def _read_on_pool(distinct, names, x, y, flags, workers):
    law = uuid.uuid4().hex
    pool = _pool(workers)
    futures = [pool.submit(_read_task, law, e, names, x, y, flags) for e in distinct]
    return {e: future.result() for e, future in zip(distinct, futures)}


def _read_task(law, expression, names, x, y, flags):
    """A pool task: one equation's read-out, with this worker's state for ``law``."""
    global _WORKER_STATE
    if _WORKER_STATE is None or _WORKER_STATE.law != law:
        _WORKER_STATE = _LawState(law, names, x, y, flags)
    return _WORKER_STATE.read(expression)


def start_pool(workers=None):
    """Get the read-out's pool of ``workers`` processes (default :func:`default_workers`)
    ready ahead of its first use, e.g. while restarts train: its server process imports
    this package (a few seconds of one core) in the background; returns at once."""
    workers = default_workers() if workers is None else check_int("workers", workers, minimum=1)
    if workers > 1:
        _pool(workers)
        if _START_METHOD == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()


def _pool(workers):
    global _POOL
    if _POOL is not None and _POOL[0] == workers:
        return _POOL[1]
    _drop_pool()
    context = multiprocessing.get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        # Children fork from a server that imported this module (and so TensorFlow) but
        # never ran it: nothing to import per worker, no trained process forked.
        context.set_forkserver_preload([__name__])
    executor = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context,
                                                      initializer=_one_blas_thread)
    _POOL = (workers, executor)
    return executor


def _drop_pool():
    global _POOL
    if _POOL is not None:
        _POOL[1].shutdown(wait=False, cancel_futures=True)
        _POOL = None


def _one_blas_thread():
    """Pool initializer: one BLAS thread per worker (the workers share the cores)."""
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    global _BLAS_LIMIT
    _BLAS_LIMIT = threadpool_limits(limits=1)


_BLAS_LIMIT = None

_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
