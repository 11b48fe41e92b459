"""Data sets of the papers' experiments, generated or loaded."""

from deepsymreg.data.dynamics import DynamicsData, euler_sho, kinematics, sho

__all__ = ["DynamicsData", "kinematics", "sho", "euler_sho"]
