"""Rich renderables for plans: pure functions of the plan data, nothing recomputed."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.tree import Tree

TREE_LIMIT = 10


def student_tree(plan: dict) -> Tree:
    """One student's resources nested under their parent components."""
    root = Tree(f"[bold]{plan['student']}[/] ({plan['prefix']}) · {plan.get('lab', '')}")
    nodes: dict[str, Tree] = {}
    for resource in plan["resources"]:
        chain = resource["urn"].split("::")[2]  # "parent$child$...": the URN's qualified type
        parent = nodes.get(chain.rpartition("$")[0], root)
        nodes[chain] = parent.add(f"{resource['type']}  [dim]{resource['name']}[/]")
    return root


def totals_table(result: dict) -> Table:
    grid = Table(title=f"cohort {result['cohort']}: {len(result['students'])} student programs", title_justify="left")
    grid.add_column("type")
    grid.add_column("count", justify="right")
    for kind, count in result["totals"]["by_type"].items():
        grid.add_row(kind, str(count))
    grid.add_row("[bold]total[/]", f"[bold]{result['totals']['resources']}[/]")
    return grid


def plan_renderable(result: dict) -> Group:
    """A tree per student for small cohorts, then the totals by type."""
    trees = [student_tree(p) for p in result["students"]] if len(result["students"]) <= TREE_LIMIT else []
    return Group(*trees, totals_table(result))
