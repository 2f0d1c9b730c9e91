"""`mlops-plan status`: the deployments × environments matrix of resolved versions."""

from __future__ import annotations

import json

from pydantic import BaseModel

from mlops_plan.analysis import Analysis


class Cell(BaseModel):
    version: str | None
    canary: str | None = None
    weight: int | None = None
    problem: str | None = None

    def text(self) -> str:
        if self.version is None:
            return f"({self.problem or 'unresolved'})"
        out = self.version
        if self.canary is not None:
            out += f" (+{self.canary} {self.weight}%)"
        return out


class Status(BaseModel):
    environments: list[str]
    rows: dict[str, dict[str, Cell]]


def status(analysis: Analysis) -> Status:
    envs = sorted({e.environment for e in analysis.deployments} | set(analysis.repo.environments))
    order = _promotion_order(analysis, envs)
    rows: dict[str, dict[str, Cell]] = {}
    for _address, item in sorted(analysis.resolution.resolved.items()):
        eff = item.deployment
        cell = Cell(
            version=item.version.version if item.version is not None else None,
            canary=eff.canary.version if eff.canary is not None else None,
            weight=eff.canary.weight if eff.canary is not None else None,
            problem=None if item.version is not None else "unresolved",
        )
        rows.setdefault(eff.name, {})[eff.environment] = cell
    return Status(environments=order, rows=dict(sorted(rows.items())))


def _promotion_order(analysis: Analysis, envs: list[str]) -> list[str]:
    """Environments upstream first (dev, staging, prod), ties by name."""
    import networkx as nx

    from mlops_plan.graph import promotion_graph

    graph = promotion_graph(analysis.repo)
    graph.add_nodes_from(envs)
    try:
        ordered = list(nx.lexicographical_topological_sort(graph.reverse()))
    except nx.NetworkXUnfeasible:
        ordered = sorted(envs)
    return [e for e in ordered if e in envs]


def render_text(result: Status) -> str:
    header = ["deployment", *result.environments]
    table = [header]
    for name, cells in result.rows.items():
        table.append([name, *(cells[e].text() if e in cells else "-" for e in result.environments)])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def render_markdown(result: Status) -> str:
    lines = [
        "| deployment | " + " | ".join(result.environments) + " |",
        "|---" * (len(result.environments) + 1) + "|",
    ]
    for name, cells in result.rows.items():
        values = [cells[e].text() if e in cells else "–" for e in result.environments]
        lines.append(f"| {name} | " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def render_json(result: Status) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
