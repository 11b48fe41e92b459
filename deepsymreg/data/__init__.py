"""Data sets of the papers' experiments, generated or loaded, and the ``tf.data`` feed
for ``model.fit`` (:mod:`deepsymreg.data.feed`)."""

from deepsymreg.data.digits import DigitData, digit_pairs, load_digits, pair_dataset
from deepsymreg.data.feed import repeated, without_autotune
from deepsymreg.data.dynamics import DynamicsData, euler_sho, kinematics, sho
from deepsymreg.data.pde import PDEData, advection_diffusion, burgers, parametric_layout
from deepsymreg.data.springs import SpringData, spring_images

__all__ = [
    "DigitData", "load_digits", "digit_pairs", "pair_dataset",
    "DynamicsData", "kinematics", "sho", "euler_sho",
    "PDEData", "advection_diffusion", "burgers", "parametric_layout",
    "SpringData", "spring_images",
    "repeated", "without_autotune",
]
