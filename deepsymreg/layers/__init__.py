"""Keras layers of deepsymreg."""

from deepsymreg.layers.eql import EqlLayer, register_linear_kind
from deepsymreg.layers.eql_cell import EqlCell, EqlRNN
from deepsymreg.layers.hard_concrete import HardConcreteDense
from deepsymreg.layers.masked_dense import MaskedDense
from deepsymreg.layers.mlp_cell import MlpCell
from deepsymreg.layers.network import EqlNetwork

register_linear_kind("hard_concrete", "deepsymreg>HardConcreteDense")

__all__ = ["EqlCell", "EqlRNN", "EqlLayer", "EqlNetwork", "HardConcreteDense", "MaskedDense", "MlpCell",
           "register_linear_kind"]
