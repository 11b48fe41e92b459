"""Kinematics: learn the hidden acceleration and the update rule, end to end.

Kim et al. (2020, §IV-B, Table III): a dynamics encoder reads a 100-step series of an
object under constant acceleration ``a`` and outputs a latent ``z``; a recurrent EQL
decoder propagates a second trajectory with the same ``a`` from its initial state.
Nothing tells the network what ``a`` is: the script checks that ``z`` is linear in
``a``, prints the update rule read off the EQL cell next to the paper's, and compares
extrapolation to twice the training horizon with a ReLU decoder.

    python examples/kinematics.py                # the paper's schedule (15000 steps)
    python examples/kinematics.py --quick        # half the steps, 2 restarts
    python examples/kinematics.py --json kin.json --figure kinematics.png
    python examples/kinematics.py --quick --quiet  # no progress bar (none off a terminal)
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
    return main_for("kinematics", __doc__, argv)


if __name__ == "__main__":
    sys.exit(run_script(main))
