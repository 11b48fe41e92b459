"""Simple harmonic oscillator: learn omega^2 and an integrator, end to end.

Kim et al. (2020, §IV-C, Table IV): a dynamics encoder reads a 500-step series of an
oscillator ``u'' = -omega^2 u`` (dt = 0.1) and outputs a latent ``z``; a recurrent EQL
decoder with the paper's reduced primitive set propagates a second trajectory, the
horizon growing from 1 to 25 steps. The script checks that ``z`` is linear in
``omega^2``, prints the learned update rule next to the Euler scheme and the paper's
equations, and compares extrapolation to 50 steps with a ReLU decoder and with Euler.

    python examples/sho.py                # the paper's schedule (12000 steps)
    python examples/sho.py --quick        # a quarter of the steps on 300 series
    python examples/sho.py --json sho.json --figure sho.png
    python examples/sho.py --quick --quiet  # no progress bar (none off a terminal)
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if __name__ == "__main__":  # TensorFlow's native log off the terminal (reports.run_script)
    os.environ.setdefault("DEEPSYMREG_HIDE_NATIVE_LOG", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _dynamics_cli import main_for  # noqa: E402

from deepsymreg.reports import run_script  # noqa: E402


def main(argv=None):
    return main_for("sho", __doc__, argv)


if __name__ == "__main__":
    sys.exit(run_script(main))
