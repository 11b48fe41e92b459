"""Load a script of the repository (an example, a benchmark) as a module, for its tests."""

import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_script(relative_path, name=None):
    """The module of ``ROOT / relative_path`` (e.g. ``"examples/quickstart.py"``), freshly
    executed. Its folder is on ``sys.path`` while it loads, so it may import its siblings."""
    path = ROOT / relative_path
    folder = str(path.parent)
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module
