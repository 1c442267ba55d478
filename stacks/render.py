"""Rich renderables for plans: pure functions of the plan data, nothing recomputed."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.tree import Tree

TREE_LIMIT = 10


def usd(amount: float) -> str:
    return f"${amount:,.2f}"


def student_tree(plan: dict, monthly_usd: float | None = None) -> Tree:
    """One student's resources nested under their parent components, with their monthly estimate."""
    cost = f" · {usd(monthly_usd)}/month" if monthly_usd is not None else ""
    account = f" · account {plan['account_id']}" if "account_id" in plan else ""
    root = Tree(f"[bold]{plan['student']}[/] ({plan['prefix']}) · {plan.get('lab', '')}{account}{cost}")
    nodes: dict[str, Tree] = {}
    for resource in plan["resources"]:
        chain = resource["urn"].split("::")[2]  # "parent$child$...": the URN's qualified type
        parent = nodes.get(chain.rpartition("$")[0], root)
        nodes[chain] = parent.add(f"{resource['type']}  [dim]{resource['name']}[/]")
    return root


def scp_table(organization: dict) -> Table:
    """The cohort's SCPs (isolation mode `account`): each with its statements and size against AWS's limit."""
    grid = Table(title="service control policies (on the cohort's OU and each student's account)",
                 title_justify="left")
    for column in ("scp", "statements", "size"):
        grid.add_column(column)
    for name, scp in organization["scps"].items():
        sids = ", ".join(statement.get("Sid", "?") for statement in scp["document"]["Statement"])
        grid.add_row(name, sids, f"{scp['chars']:,} / {scp['max_chars']:,} chars")
    return grid


def totals_table(result: dict) -> Table:
    grid = Table(title=f"cohort {result['cohort']}: {len(result['students'])} student programs", title_justify="left")
    grid.add_column("type")
    grid.add_column("count", justify="right")
    for kind, count in result["totals"]["by_type"].items():
        grid.add_row(kind, str(count))
    grid.add_row("[bold]total[/]", f"[bold]{result['totals']['resources']}[/]")
    return grid


def cost_table(cost: dict) -> Table:
    """The monthly estimate by priced item, per student (lowest and highest) and in total."""
    grid = Table(title="estimated monthly cost (USD)", title_justify="left", caption="; ".join(cost["assumptions"]),
                 caption_justify="left")
    grid.add_column("item")
    grid.add_column("USD/month", justify="right")
    for kind, amount in cost["by_type"].items():
        grid.add_row(kind, usd(amount))
    per_student = list(cost["by_student"].values())
    if per_student:
        grid.add_row("per student (lowest – highest)", f"{usd(min(per_student))} – {usd(max(per_student))}")
    grid.add_row("[bold]monthly total[/]", f"[bold]{usd(cost['monthly_usd'])}[/]")
    return grid


def plan_renderable(result: dict) -> Group:
    """A tree per student for small cohorts (the totals by type summarise large ones), the SCPs in
    isolation mode `account`, then the totals by type and the monthly cost estimate."""
    cost = result.get("cost")
    trees = []
    if len(result["students"]) <= TREE_LIMIT:
        # One tree per student and lab; the student's estimate covers all their labs.
        by_student = cost["by_student"] if cost else {}
        trees = [student_tree(p, by_student.get(p["student"])) for p in result["students"]]
    parts = [*trees]
    if "organization" in result:
        parts.append(scp_table(result["organization"]))
    parts.append(totals_table(result))
    if cost:
        parts.append(cost_table(cost))
    return Group(*parts)
