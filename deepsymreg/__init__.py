"""deepsymreg: neural-network symbolic regression with Keras 3.

Layers (:class:`EqlLayer`, the network :class:`EqlNetwork`, :class:`MaskedDense`,
:class:`HardConcreteDense`, :class:`MetaWeightDense`, the
recurrent :class:`EqlCell`, the Gumbel-max EQL's :class:`GumbelConnection`), sparsity
regularizers (:class:`SmoothL05`, :class:`Lq`, :class:`L1`, :class:`ExpectedL0`) and the
adjacent-step :class:`AdjacentSmoothness`, the :class:`EQL` model and the deep models built
around it (:class:`DigitArithmetic`, :class:`DynamicsModel`), the Gumbel-max equation
learner :class:`GMEQL` (Chen 2021; its benchmark in :mod:`deepsymreg.gmeql`), callbacks
(:mod:`deepsymreg.callbacks`), random restarts (:mod:`deepsymreg.restarts`) and the
scikit-learn estimator :class:`SymbolicRegressor` for a table of data.
"""

from deepsymreg import _startup

# Run as the `deepsymreg` command or by a script that set DEEPSYMREG_HIDE_NATIVE_LOG=1,
# TensorFlow's native start-up lines stay off the terminal (see deepsymreg._startup);
# imported as a library, stderr is left alone.
with _startup.native_stderr_to_file(_startup.hide_native_log()):
    from deepsymreg import callbacks, optimizers, primitives, regularizers, symbolic
    from deepsymreg.callbacks import (
        HorizonCurriculum,
        NaNRecovery,
        OneCycle,
        Phase,
        PhasedSchedule,
        WeightThreshold,
    )
    from deepsymreg.layers import EqlCell, EqlLayer, EqlNetwork, EqlRNN, HardConcreteDense, MaskedDense, MlpCell
    from deepsymreg.layers import MetaWeightDense
    from deepsymreg.layers import StackedDense, StackedEqlLayer
    from deepsymreg.layers import GumbelConnection
    from deepsymreg.losses import HorizonMSE
    from deepsymreg.models import EQL, GMEQL, DigitArithmetic, DynamicsModel, ParametricEQL
    from deepsymreg.regularizers import L1, AdjacentSmoothness, ExpectedL0, Lq, SmoothL05

    from deepsymreg import data, recipes, reports  # noqa: E402  (after the models they use)
    from deepsymreg.estimator import SymbolicRegressor

__version__ = "0.1.0"

__all__ = [
    "SymbolicRegressor",
    "EQL",
    "ParametricEQL",
    "GMEQL",
    "GumbelConnection",
    "StackedDense",
    "StackedEqlLayer",
    "DigitArithmetic",
    "DynamicsModel",
    "EqlLayer",
    "EqlNetwork",
    "EqlCell",
    "EqlRNN",
    "MlpCell",
    "HorizonMSE",
    "HorizonCurriculum",
    "MaskedDense",
    "HardConcreteDense",
    "MetaWeightDense",
    "ExpectedL0",
    "AdjacentSmoothness",
    "SmoothL05",
    "Lq",
    "L1",
    "Phase",
    "PhasedSchedule",
    "OneCycle",
    "WeightThreshold",
    "NaNRecovery",
    "callbacks",
    "data",
    "recipes",
    "reports",
    "optimizers",
    "primitives",
    "regularizers",
    "symbolic",
]
