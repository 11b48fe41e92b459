"""Keras models of deepsymreg."""

from deepsymreg.models.arithmetic import DigitArithmetic
from deepsymreg.models.dynamics import DynamicsModel
from deepsymreg.models.encoders import DigitEncoder, DynamicsEncoder, relu_mlp
from deepsymreg.models.eql import EQL

__all__ = ["EQL", "DigitArithmetic", "DigitEncoder", "DynamicsEncoder", "DynamicsModel", "relu_mlp"]
