"""Keras layers of deepsymreg."""

from deepsymreg.layers.eql import EqlLayer, register_linear_kind
from deepsymreg.layers.eql_cell import EqlCell, EqlRNN
from deepsymreg.layers.function_nodes import FunctionNodes
from deepsymreg.layers.gumbel import GumbelConnection
from deepsymreg.layers.hard_concrete import HardConcreteDense
from deepsymreg.layers.masked_dense import MaskedDense
from deepsymreg.layers.meta_weight import MetaWeightDense
from deepsymreg.layers.mlp_cell import MlpCell
from deepsymreg.layers.network import EqlNetwork
from deepsymreg.layers.stacked import StackedDense, StackedEqlLayer

register_linear_kind("hard_concrete", "deepsymreg>HardConcreteDense")
register_linear_kind("meta", "deepsymreg>MetaWeightDense")
register_linear_kind("stacked", "deepsymreg>StackedDense")

__all__ = ["EqlCell", "EqlRNN", "EqlLayer", "EqlNetwork", "HardConcreteDense", "MaskedDense", "MlpCell",
           "MetaWeightDense", "StackedDense", "StackedEqlLayer", "GumbelConnection", "FunctionNodes",
           "register_linear_kind"]
