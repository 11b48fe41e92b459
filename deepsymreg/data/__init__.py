"""Data sets of the papers' experiments, generated or loaded."""

from deepsymreg.data.digits import DigitData, digit_pairs, load_digits, pair_dataset
from deepsymreg.data.dynamics import DynamicsData, euler_sho, kinematics, sho

__all__ = [
    "DigitData", "load_digits", "digit_pairs", "pair_dataset",
    "DynamicsData", "kinematics", "sho", "euler_sho",
]
