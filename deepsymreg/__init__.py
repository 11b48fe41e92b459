"""deepsymreg: neural-network symbolic regression with Keras 3.

Layers (:class:`EqlLayer`, :class:`MaskedDense`), sparsity regularizers
(:class:`SmoothL05`, :class:`Lq`, :class:`L1`), the :class:`EQL` model, callbacks
(:mod:`deepsymreg.callbacks`) and random restarts (:mod:`deepsymreg.restarts`).
"""

from deepsymreg import callbacks, optimizers, primitives, regularizers, symbolic
from deepsymreg.callbacks import NaNRecovery, Phase, PhasedSchedule, WeightThreshold
from deepsymreg.layers import EqlLayer, HardConcreteDense, MaskedDense
from deepsymreg.models import EQL
from deepsymreg.regularizers import L1, ExpectedL0, Lq, SmoothL05

__version__ = "0.1.0"

__all__ = [
    "EQL",
    "EqlLayer",
    "MaskedDense",
    "HardConcreteDense",
    "ExpectedL0",
    "SmoothL05",
    "Lq",
    "L1",
    "Phase",
    "PhasedSchedule",
    "WeightThreshold",
    "NaNRecovery",
    "callbacks",
    "optimizers",
    "primitives",
    "regularizers",
    "symbolic",
]
