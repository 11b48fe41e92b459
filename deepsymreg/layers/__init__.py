"""Keras layers of deepsymreg."""

from deepsymreg.layers.eql import EqlLayer, register_linear_kind
from deepsymreg.layers.masked_dense import MaskedDense

__all__ = ["EqlLayer", "MaskedDense", "register_linear_kind"]
