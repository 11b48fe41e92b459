"""The examples run like the `deepsymreg` command: no TensorFlow start-up noise on the
terminal, one progress bar over the run there (``--quiet``: none).

One example runs on a pseudo-terminal twice (bar, ``--quiet``); the parts behind it
(:func:`deepsymreg.reports.run_script`, :class:`~deepsymreg.reports.StepProgress`, the
bar's ``write``) are checked in-process.
"""

import os
import pathlib
import subprocess
import sys
import threading

import keras
import numpy as np
import pytest

from deepsymreg import _startup, reports

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
NATIVE = ("oneDNN", "cuda", "cpu_feature_guard", "absl::InitializeLog")


def _on_terminal(argv, cwd):
    """Run ``python argv`` with stdout on a pseudo-terminal; ``(code, stdout, stderr)``."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TF_CPP") and k != _startup.HIDE_NATIVE_LOG}
    proc = subprocess.Popen([sys.executable, *argv], stdout=slave, stderr=subprocess.PIPE,
                            cwd=cwd, env=env)
    os.close(slave)
    chunks = []

    def read():  # drain the terminal while the script runs (its buffer is small)
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the script closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    return code, b"".join(chunks).decode(errors="replace"), err


@pytest.mark.parametrize("quiet", [False, True])
def test_example_on_a_terminal_shows_one_bar_and_no_native_log(quiet, tmp_path):
    argv = [str(EXAMPLES / "benchmark_table5.py"), "--quick", "--only", "x", "--trials", "1",
            "--workers", "1"] + (["--quiet"] if quiet else [])
    code, out, err = _on_terminal(argv, tmp_path)
    assert code == 0, err
    assert not [w for w in NATIVE if w in err], err
    assert "| `x` | 1.00 |" in out
    # A tenth of the paper's 22000 steps, one restart: one bar ending at 2200/2200.
    assert ("2200/2200" in out) is not quiet, out
    assert ("━" in out) is not quiet, out


def test_the_switch(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["script.py"])
    monkeypatch.delenv(_startup.HIDE_NATIVE_LOG, raising=False)
    assert not _startup.hide_native_log()  # a library import leaves stderr alone
    monkeypatch.setenv(_startup.HIDE_NATIVE_LOG, "0")
    assert not _startup.hide_native_log()
    monkeypatch.setenv(_startup.HIDE_NATIVE_LOG, "1")
    assert _startup.hide_native_log()
    monkeypatch.delenv(_startup.HIDE_NATIVE_LOG)
    monkeypatch.setattr(sys, "argv", ["/usr/bin/deepsymreg"])
    assert _startup.hide_native_log()


def test_run_script_sends_native_lines_away_and_keeps_python_stderr(monkeypatch, capfd):
    monkeypatch.setenv(_startup.HIDE_NATIVE_LOG, "1")

    def main():
        os.write(2, b"native line\n")
        print("python error", file=sys.stderr)
        raise SystemExit(2)  # as argparse does

    assert reports.run_script(main) == 2
    err = capfd.readouterr().err
    assert "python error" in err and "native line" not in err
    monkeypatch.setenv(_startup.HIDE_NATIVE_LOG, "0")  # asked not to: stderr left alone
    assert reports.run_script(main) == 2
    assert "native line" in capfd.readouterr().err


def test_one_bar_over_several_fits(capsys):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 1), "float32")
    seen = []
    for epochs in (2, 3):  # two fits, 4 batches per epoch, counted for 2 restarts
        model.fit(x, x, batch_size=2, epochs=epochs, verbose=0,
                  callbacks=[reports.StepProgress(seen.append, scale=2)])
    assert sum(seen) == 2 * 4 * (2 + 3)
    model.fit(x, x, epochs=1, verbose=0, callbacks=[reports.StepProgress(None)])  # no bar

    bar = reports.progress_bar(10)
    bar(4)
    bar.write("a table row")
    bar(20)  # NaN re-runs: beyond the plan, the bar stops at its total
    bar(5)
    out = capsys.readouterr().out
    assert "a table row\n" in out and out.count("10/10") == 1
    assert reports.progress_bar(10, enabled=False) is None
