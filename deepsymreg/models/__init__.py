"""Keras models of deepsymreg."""

from deepsymreg.models.eql import EQL

__all__ = ["EQL"]
