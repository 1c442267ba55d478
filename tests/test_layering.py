"""Imports only go down (README, "Architecture"): cli → app → stacks | validators → components →
policies → cohorts → labs. A module may import its own package and the layers below it; stacks and
validators share a layer and never import each other. Every import statement counts, the ones inside
functions too, and so does `importlib.import_module` of a literal name. Installed, the layers are
subpackages of `labctl`; a bare generic name (`import stacks`) is refused wherever it appears."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYERS = (("cli",), ("app",), ("stacks", "validators"), ("components",), ("policies",), ("cohorts",), ("labs",))
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def module_and_package(path: Path, root: Path) -> tuple[str, list[str]]:
    """The dotted module name of a file (under `labctl`) and the package a relative import in it starts from."""
    parts = ["labctl", *path.relative_to(root).with_suffix("").parts]
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
        own = module.split(".")[1]
        for line, name in imported_names(ast.parse(path.read_text(encoding="utf-8")), package):
            top, _, rest = name.partition(".")
            target = rest.split(".")[0] if top == "labctl" else None
            if top in RANK:
                problems.append(f"{path.relative_to(root)}:{line}: {module} imports {name} (a generic top-level name)")
            elif target in RANK and target != own and RANK[target] <= RANK[own]:
                problems.append(f"{path.relative_to(root)}:{line}: {module} imports {name}")
    return problems


def test_every_import_in_the_repository_goes_down():
    assert forbidden_imports(REPO) == []


def test_every_top_level_package_has_a_layer():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert packages == set(RANK) - {"cli"}


def test_imports_up_and_sideways_are_found_wherever_they_are(tmp_path: Path):
    sources = {
        "cli.py": "import labctl.app.demo\n",
        "app/demo.py": "from labctl.stacks import engine\nfrom labctl.validators.grading import grade\n",
        "stacks/engine.py": "def late():\n    from labctl.validators import runner\n",
        "validators/grading.py": "import importlib\nimportlib.import_module('labctl.stacks.plan')\nfrom . import runner\n",
        "validators/runner.py": "from labctl.components.tags import COHORT_TAG\n",
        "components/seed.py": "from labctl.cohorts.home import home\nfrom labctl.app import emulator\n",
        "policies/engine.py": "from labctl.components import tags\n",
        "cohorts/cohort.py": "from labctl.labs.errors import InputError\n",
        "cohorts/__init__.py": "from ..stacks import plan\n",
        "labs/loader.py": "from labctl.validators import checks\nfrom .spec import LabSpec\nimport labs.errors\n",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert forbidden_imports(tmp_path) == [
        "stacks/engine.py:2: labctl.stacks.engine imports labctl.validators",
        "validators/grading.py:2: labctl.validators.grading imports labctl.stacks.plan",
        "components/seed.py:2: labctl.components.seed imports labctl.app",
        "policies/engine.py:1: labctl.policies.engine imports labctl.components",
        "cohorts/__init__.py:1: labctl.cohorts imports labctl.stacks",
        "labs/loader.py:1: labctl.labs.loader imports labctl.validators",
        "labs/loader.py:3: labctl.labs.loader imports labs.errors (a generic top-level name)",
    ]
