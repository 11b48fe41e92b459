"""scikit-learn's common estimator checks on tiny settings, one test per check (so that
pytest-xdist spreads them over the cores)."""

from unittest import SkipTest

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepsymreg.estimator import SymbolicRegressor

#: Checks scikit-learn itself skips for this estimator, and why (see docs/estimator.md).
SKIPPED_BY_SKLEARN = {
    # The `non_deterministic` tag: XLA's rounding differs between machines.
    "check_pipeline_consistency",
    # Array API inputs are tested only with SCIPY_ARRAY_API=1; the estimator converts
    # inputs to NumPy anyway.
    "check_array_api_input",
}


#: Checks that cannot apply (see docs/estimator.md).
CANNOT_APPLY = {
    # Weight 2 on a row is not the same fit as the row twice: the validation split
    # draws rows, and a duplicated row may land on both sides of it.
    "check_sample_weight_equivalence_on_dense_data":
        "the validation split draws rows: a repeated row is not a weight of 2",
}

# Without XLA: each check fits several times, and XLA's compilation would be most of
# each tiny fit's time (about 1.5 of 3.5 s).
TINY = SymbolicRegressor(trials=1, steps=30, depth=1, primitives=["identity", "square", "product"],
                         jit_compile=False)


def _check_name(check):
    return getattr(check, "func", check).__name__


@parametrize_with_checks([TINY], expected_failed_checks=lambda estimator: CANNOT_APPLY)
def test_passes_the_common_check(estimator, check):
    try:
        check(estimator)
    except SkipTest as skip:
        # Only the checks scikit-learn is known to skip for this estimator may skip.
        assert _check_name(check) in SKIPPED_BY_SKLEARN, f"unexpected skip: {skip}"
        pytest.skip(f"scikit-learn skips {_check_name(check)}: {skip}")
