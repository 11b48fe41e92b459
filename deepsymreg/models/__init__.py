"""Keras models of deepsymreg."""

from deepsymreg.models.encoders import DigitEncoder, DynamicsEncoder, relu_mlp
from deepsymreg.models.eql import EQL

__all__ = ["EQL", "DigitEncoder", "DynamicsEncoder", "relu_mlp"]
