"""`deepsymreg.experiments.__all__` names what the example scripts use."""

import pathlib
import re

from deepsymreg import experiments


def test_experiments_all_lists_what_the_examples_use():
    examples = pathlib.Path(__file__).parents[2] / "examples"
    used = {name for path in examples.glob("*.py")
            for name in re.findall(r"experiments\.(\w+)", path.read_text())}
    assert used and used <= set(experiments.__all__)
