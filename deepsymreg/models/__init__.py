"""Keras models of deepsymreg."""

from deepsymreg.models.arithmetic import DigitArithmetic
from deepsymreg.models.dynamics import DynamicsModel
from deepsymreg.models.encoders import DigitEncoder, DynamicsEncoder, relu_mlp
from deepsymreg.models.eql import EQL
from deepsymreg.models.gmeql import GMEQL, GMEQLStages
from deepsymreg.models.parametric import ParametricEQL

__all__ = ["EQL", "ParametricEQL", "GMEQL", "GMEQLStages", "DigitArithmetic", "DigitEncoder", "DynamicsEncoder",
           "DynamicsModel", "relu_mlp"]
