"""Keep TensorFlow's native start-up log off the ``deepsymreg`` command's terminal.

TensorFlow 2.21 writes its C++ log lines (oneDNN, CUDA probing, CPU features, XLA
service) straight to file descriptor 2, at import and at the first operations; its
``TF_CPP_MIN_LOG_LEVEL`` and absl/glog variables no longer silence all of them (see
``docs/performance.md``). Only a redirection of descriptor 2 does. This module does it
for the command line and for scripts that ask (:data:`HIDE_NATIVE_LOG`, and
:func:`deepsymreg.reports.run_script` for the run itself); a library imported without
being asked must not touch a program's stderr.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile

#: Names the ``deepsymreg`` console script runs under (``sys.argv[0]``).
_COMMAND_NAMES = {"deepsymreg", "deepsymreg.exe", "deepsymreg-script.py"}

#: Environment switch: a script sets it to ``"1"`` before it imports deepsymreg (or
#: TensorFlow) to keep the import's native log lines off the terminal, as the command
#: does; ``"0"`` (or unset) leaves stderr alone.
HIDE_NATIVE_LOG = "DEEPSYMREG_HIDE_NATIVE_LOG"


def started_as_command():
    """True when this process is the ``deepsymreg`` command (its console script)."""
    return os.path.basename(sys.argv[0] if sys.argv else "") in _COMMAND_NAMES


def hide_native_log():
    """True for the ``deepsymreg`` command and for a process with :data:`HIDE_NATIVE_LOG` set."""
    return started_as_command() or os.environ.get(HIDE_NATIVE_LOG, "0") not in ("", "0")


@contextlib.contextmanager
def native_stderr_to_file(enabled=True):
    """Send descriptor 2 (native log lines) to a temporary file inside the block.

    Python's own ``sys.stderr`` keeps writing to the terminal (a duplicate of the
    original descriptor), so error messages of the command still show. The file is
    removed on success; if the block raises, its path is printed so that a native
    error message is not lost. Yields the path (None when disabled).
    """
    if not enabled:
        yield None
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (embedded interpreters)
        yield None
        return
    fd, path = tempfile.mkstemp(prefix="deepsymreg-native-", suffix=".log")
    python_stderr = sys.stderr
    swapped = _writes_to_fd2(python_stderr)
    if swapped:
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(saved), "wb", 0), write_through=True)
    os.dup2(fd, 2)
    os.close(fd)
    failed = False
    try:
        yield path
    except BaseException:
        failed = True
        raise
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        if swapped:
            wrapper, sys.stderr = sys.stderr, python_stderr
            wrapper.flush()
            _repoint_log_handlers(wrapper, python_stderr)
            wrapper.close()
        if failed and os.path.getsize(path):
            print(f"TensorFlow's native log of this run: {path}", file=sys.stderr)
        else:
            os.remove(path)


def _repoint_log_handlers(old, new):
    """Logging handlers made inside the block (e.g. absl's, when TensorFlow is first
    imported) captured the temporary ``sys.stderr``: point them at ``new`` before it is
    closed, or their later records (TensorFlow's retracing warnings) fail to print."""
    import logging

    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for lg in loggers:
        for handler in lg.handlers:
            for h in (handler, getattr(handler, "python_handler", None)):
                if isinstance(h, logging.StreamHandler) and h.stream is old:
                    h.setStream(new)


def _writes_to_fd2(stream):
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False
