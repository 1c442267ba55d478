"""Imports only go down (README, "Architecture"): cli → app → stacks | validators → components →
policies → cohorts → labs. A module may import its own package and the layers below it; stacks and
validators share a layer and never import each other. Every import statement counts, the ones inside
functions too, and so does `importlib.import_module` of a literal name."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYERS = (("cli",), ("app",), ("stacks", "validators"), ("components",), ("policies",), ("cohorts",), ("labs",))
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def module_and_package(path: Path, root: Path) -> tuple[str, list[str]]:
    """The dotted module name of a file and the package a relative import in it starts from."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), parts[:-1]
    return ".".join(parts), parts[:-1]


def imported_names(tree: ast.AST, package: list[str]) -> list[tuple[int, str]]:
    """(line, dotted name) of everything the module imports, relative imports made absolute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            found.append((node.lineno, ".".join([*base, *([node.module] if node.module else [])])))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def forbidden_imports(root: Path) -> list[str]:
    """`file:line: importer imports name` for every import that goes up or sideways between layers."""
    problems = []
    files = [root / "cli.py"] + [p for package in RANK if package != "cli" for p in sorted((root / package).rglob("*.py"))]
    for path in files:
        if not path.is_file():
            continue
        module, package = module_and_package(path, root)
        own = module.split(".")[0]
        for line, name in imported_names(ast.parse(path.read_text(encoding="utf-8")), package):
            target = name.split(".")[0]
            if target in RANK and target != own and RANK[target] <= RANK[own]:
                problems.append(f"{path.relative_to(root)}:{line}: {module} imports {name}")
    return problems


def test_every_import_in_the_repository_goes_down():
    assert forbidden_imports(REPO) == []


def test_every_top_level_package_has_a_layer():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert packages == set(RANK) - {"cli"}


def test_imports_up_and_sideways_are_found_wherever_they_are(tmp_path: Path):
    sources = {
        "cli.py": "import app.demo\n",
        "app/demo.py": "from stacks import engine\nfrom validators.grading import grade\n",
        "stacks/engine.py": "def late():\n    from validators import runner\n",
        "validators/grading.py": "import importlib\nimportlib.import_module('stacks.plan')\nfrom . import runner\n",
        "validators/runner.py": "from components.tags import COHORT_TAG\n",
        "components/seed.py": "from cohorts.home import home\nfrom app import emulator\n",
        "policies/engine.py": "from components import tags\n",
        "cohorts/cohort.py": "from labs.errors import InputError\n",
        "cohorts/__init__.py": "from ..stacks import plan\n",
        "labs/loader.py": "from validators import checks\nfrom .spec import LabSpec\n",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert forbidden_imports(tmp_path) == [
        "stacks/engine.py:2: stacks.engine imports validators",
        "validators/grading.py:2: validators.grading imports stacks.plan",
        "components/seed.py:2: components.seed imports app",
        "policies/engine.py:1: policies.engine imports components",
        "cohorts/__init__.py:1: cohorts imports stacks",
        "labs/loader.py:1: labs.loader imports validators",
    ]
