"""The lab catalog: one folder per lab under labs/, each with lab.yaml and README.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labctl.labs.errors import InputError, choices_hint
from labctl.labs.loader import CheckParams, load_lab
from labctl.labs.spec import LabSpec

CATALOG_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Lab:
    spec: LabSpec
    folder: Path

    @property
    def readme(self) -> str:
        return (self.folder / "README.md").read_text(encoding="utf-8")


def lab_folders(root: Path | None = None) -> list[Path]:
    return sorted(p.parent for p in (root or CATALOG_DIR).glob("*/lab.yaml"))


def load_catalog(root: Path | None = None) -> list[Lab]:
    return [Lab(load_lab(folder / "lab.yaml"), folder) for folder in lab_folders(root)]


def get_lab(lab_id: str, root: Path | None = None, checks: CheckParams | None = None) -> Lab:
    """The catalog's lab `lab_id`; given the known `checks` (the validators' registry, handed in from
    above), its `use:` names and `with:` parameters are validated too."""
    folder = (root or CATALOG_DIR) / lab_id
    if not (folder / "lab.yaml").is_file():
        hint = choices_hint(lab_id, [p.name for p in lab_folders(root)]) or " (the catalog is empty)"
        raise InputError(f"unknown lab {lab_id!r}{hint}", "--lab")
    return Lab(load_lab(folder / "lab.yaml", checks), folder)


def filter_labs(labs: list[Lab], track: str | None, level: str | None, topic: str | None) -> list[Lab]:
    return [
        lab
        for lab in labs
        if (track is None or lab.spec.track == track)
        and (level is None or lab.spec.level == level)
        and (topic is None or topic in lab.spec.topics)
    ]


def check_solutions(folder: Path) -> None:
    """A lab proves its grading: a `reference` solution failing nothing, and two or more `broken-*`
    variants each declaring what they fail."""
    from labctl.labs.solutions import SOLUTIONS_DIR, solutions_for

    solutions = {s.name: s for s in solutions_for(folder)}
    where = str(folder / SOLUTIONS_DIR)
    if "reference" not in solutions:
        raise InputError("the lab has no solutions/reference (a solution that scores 100)", where)
    if solutions["reference"].fails:
        raise InputError("solutions/reference must declare `fails: []`", where)
    broken = [s for name, s in solutions.items() if name.startswith("broken-")]
    if len(broken) < 2:
        raise InputError(f"the lab needs at least two solutions/broken-* variants (has {len(broken)})", where)
    for solution in broken:
        if not solution.fails:
            raise InputError(f"solutions/{solution.name} must declare the checks it fails", where)


def validate_paths(paths: list[Path], checks: CheckParams, catalog: Path | None = None) -> list[LabSpec]:
    """Validate lab files or lab folders against the known `checks`; the first problem raises
    InputError with its location."""
    known = {p.name for p in lab_folders(catalog)}
    specs = []
    for path in paths:
        file = path / "lab.yaml" if path.is_dir() else path
        spec = load_lab(file, checks)
        readme = file.parent / "README.md"
        if not readme.is_file() or not readme.read_text(encoding="utf-8").strip():
            raise InputError("the lab has no README.md with the student's instructions", str(readme))
        unknown = [lab for lab in spec.next if lab not in known | {spec.id}]
        if unknown:
            raise InputError(f"next: unknown lab {unknown[0]!r}", str(file))
        check_solutions(file.parent)
        specs.append(spec)
    return specs
