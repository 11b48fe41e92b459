"""The house's floors: a module imports only from its own floor or the floors below."""

import ast
import pathlib

import deepsymreg

PACKAGE = pathlib.Path(deepsymreg.__file__).parent

#: Floor of every module (a package's modules share its floor).
FLOORS = {
    0: ["_validation", "_startup", "concrete", "primitives", "regularizers", "schedules",
        "symbolic", "swap", "readout", "losses", "optimizers", "tables", "data", "curriculum"],
    1: ["layers"],
    2: ["models"],
    3: ["callbacks", "recipes", "reports"],
    4: ["restarts", "benchmark", "estimator", "experiments", "parametric", "gmeql", "laws"],
    5: ["cli"],
}
FLOOR_OF = {name: level for level, names in FLOORS.items() for name in names}


def floor(module):
    """Floor of ``deepsymreg.<name>[...]`` (None for the package itself)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__version__":
        return None
    return FLOOR_OF[parts[1]]


def imported(path):
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deepsymreg"):
            names = [f"{node.module}.{a.name}" for a in node.names]
            # `from deepsymreg import x` names module x; `from deepsymreg.m import C` module m.
            found.update(names if node.module == "deepsymreg" else [node.module])
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("deepsymreg"))
    return found


def test_every_module_has_a_floor():
    top = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
           if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert top - {"__pycache__"} == set(FLOOR_OF)


def test_no_module_imports_from_a_higher_floor():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.parts == ("__init__",) or rel.name == "__main__":
            continue
        own = FLOOR_OF[rel.parts[0]]
        for module in imported(path):
            level = floor(module)
            if level is not None and level > own:
                upward.append(f"{'/'.join(rel.parts)} (floor {own}) imports {module} (floor {level})")
    assert upward == []
