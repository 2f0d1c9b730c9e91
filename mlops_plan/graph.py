"""The dependency graph (networkx): what runs where, on what, and what it needs.

Node IDs are addresses: `model.NAME`, `model.NAME@VERSION`, `capability.NAME`,
`runtime.NAME`, `runtime.NAME@RELEASE`, `target.NAME`, `environment.NAME` and
`deployment.ENV.NAME`. Edges point from the dependent to what it depends on, with a
`relation`: version-of, requires, provides, depends-on, promotes-from, runs (deployment
to model version), canary, on-runtime, on-target, in-environment, pins (environment to
runtime release), offers (environment to target).
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from mlops_plan.effective import EffectiveDeployment
from mlops_plan.resolve import Resolution, release_of
from mlops_plan.validate import Repository


def promotion_graph(repo: Repository) -> Any:
    """environment -> the environments it promotes from."""
    graph = nx.DiGraph()
    for name in sorted(repo.environments):
        graph.add_node(name)
        for upstream in repo.environments[name].spec.promotes_from:
            if upstream in repo.environments:
                graph.add_edge(name, upstream)
    return graph


def model_dependency_graph(repo: Repository) -> Any:
    """model -> models some version of it depends on."""
    graph = nx.DiGraph()
    for name in sorted(repo.models):
        graph.add_node(name)
        for entry in repo.models[name].spec.versions:
            for dep in entry.depends_on:
                if dep.model in repo.models:
                    graph.add_edge(name, dep.model)
    return graph


def cycles(graph: Any) -> list[list[str]]:
    """One cycle per strongly connected component that has one, each starting at its
    smallest node; sorted. Linear in the graph's size (no enumeration of all cycles)."""
    found: list[list[str]] = []
    for component in nx.strongly_connected_components(graph):
        start = min(component)
        if len(component) == 1 and not graph.has_edge(start, start):
            continue
        sub = graph.subgraph(component)
        path = [start]
        # walk the smallest successor that leads back: a simple cycle through `start`
        cycle_edges = nx.find_cycle(sub, source=start)
        path = [edge[0] for edge in cycle_edges]
        pivot = path.index(min(path))
        found.append(path[pivot:] + path[:pivot])
    return sorted(found)


def build(repo: Repository, deployments: list[EffectiveDeployment], resolution: Resolution) -> Any:
    graph = nx.DiGraph()

    def node(ident: str, kind: str, **attrs: Any) -> str:
        # a node may be reached by an edge before its own declaration: attributes merge
        graph.add_node(ident, kind=kind, **attrs)
        return ident

    for name, model in sorted(repo.models.items()):
        model_node = node(f"model.{name}", "model", framework=model.spec.framework)
        for entry in model.spec.versions:
            version_node = node(
                f"model.{name}@{entry.version}", "model-version", status=entry.status
            )
            graph.add_edge(version_node, model_node, relation="version-of")
            for capability, spec in sorted(entry.requires.items()):
                cap = node(f"capability.{capability}", "capability")
                graph.add_edge(version_node, cap, relation="requires", specifier=spec)
            for dep in entry.depends_on:
                graph.add_edge(
                    version_node,
                    node(f"model.{dep.model}", "model"),
                    relation="depends-on",
                    specifier=dep.version,
                )
    for name, runtime in sorted(repo.runtimes.items()):
        runtime_node = node(f"runtime.{name}", "runtime")
        for release in runtime.spec.versions:
            release_node = node(
                f"runtime.{name}@{release.version}", "runtime-release", image=release.image
            )
            graph.add_edge(release_node, runtime_node, relation="release-of")
            for capability, provided in sorted(release.provides.items()):
                cap = node(f"capability.{capability}", "capability")
                graph.add_edge(release_node, cap, relation="provides", version=provided)
            for capability, spec in sorted(release.requires.items()):
                cap = node(f"capability.{capability}", "capability")
                graph.add_edge(release_node, cap, relation="requires", specifier=spec)
    for name, target in sorted(repo.targets.items()):
        target_node = node(f"target.{name}", "target", accelerator=target.spec.accelerator)
        for capability, provided in sorted(target.spec.provides.items()):
            cap = node(f"capability.{capability}", "capability")
            graph.add_edge(target_node, cap, relation="provides", version=provided)
    for name, environment in sorted(repo.environments.items()):
        env_node = node(f"environment.{name}", "environment", protected=environment.spec.protected)
        for upstream in environment.spec.promotes_from:
            graph.add_edge(
                env_node, node(f"environment.{upstream}", "environment"), relation="promotes-from"
            )
        for target_name in environment.spec.targets:
            graph.add_edge(env_node, node(f"target.{target_name}", "target"), relation="offers")
        for runtime_name, pinned in sorted(environment.spec.runtimes.items()):
            pinned_runtime = repo.runtimes.get(runtime_name)
            pinned_release = (
                release_of(pinned_runtime, pinned) if pinned_runtime is not None else None
            )
            label = pinned_release.version if pinned_release is not None else pinned
            graph.add_edge(
                env_node,
                node(f"runtime.{runtime_name}@{label}", "runtime-release"),
                relation="pins",
            )
    for eff in deployments:
        item = resolution.resolved.get(eff.address)
        dep_node = node(eff.address, "deployment", environment=eff.environment)
        graph.add_edge(
            dep_node,
            node(f"environment.{eff.environment}", "environment"),
            relation="in-environment",
        )
        if item is not None and item.version is not None:
            graph.add_edge(
                dep_node,
                node(f"model.{eff.model}@{item.version.version}", "model-version"),
                relation="runs",
            )
        elif eff.model in repo.models:
            graph.add_edge(dep_node, node(f"model.{eff.model}", "model"), relation="runs")
        if item is not None and item.canary is not None:
            graph.add_edge(
                dep_node,
                node(f"model.{eff.model}@{item.canary.version}", "model-version"),
                relation="canary",
            )
        if item is not None and item.placement is not None:
            placement = item.placement
            graph.add_edge(
                dep_node,
                node(f"runtime.{placement.runtime}@{placement.release.version}", "runtime-release"),
                relation="on-runtime",
            )
            graph.add_edge(
                dep_node, node(f"target.{placement.target}", "target"), relation="on-target"
            )
        if item is not None and item.version is not None:
            for dep in item.version.depends_on:
                for other in resolution.deployments_of(eff.environment, dep.model):
                    dep_target = node(
                        other.address, "deployment", environment=other.deployment.environment
                    )
                    graph.add_edge(
                        dep_node, dep_target, relation="depends-on", specifier=dep.version
                    )
    return graph


CONTEXT_RELATIONS = frozenset({"pins", "offers"})


def focus(graph: Any, ident: str) -> Any:
    """The node, everything it depends on and everything that depends on it.

    An environment's `pins` and `offers` edges are followed only when the focus is that
    environment: otherwise a deployment's focus would pull in every runtime its
    environment pins, and a large repository's focus would stay unreadable.
    """
    if graph.nodes[ident].get("kind") == "environment":
        keep = {ident} | nx.descendants(graph, ident) | nx.ancestors(graph, ident)
        return graph.subgraph(keep).copy()
    narrow = nx.subgraph_view(
        graph,
        filter_edge=lambda a, b: graph.edges[a, b].get("relation") not in CONTEXT_RELATIONS,
    )
    keep = {ident} | nx.descendants(narrow, ident) | nx.ancestors(narrow, ident)
    return narrow.subgraph(keep).copy()


def dependents(graph: Any, ident: str, kind: str | None = None) -> list[str]:
    """What depends on `ident` (its ancestors), optionally only nodes of one kind.

    An environment merely pinning a runtime release or offering a target does not make
    its deployments depend on them: only placement edges count.
    """
    narrow = nx.subgraph_view(
        graph,
        filter_edge=lambda a, b: graph.edges[a, b].get("relation") not in CONTEXT_RELATIONS,
    )
    found = nx.ancestors(narrow, ident)
    return sorted(n for n in found if kind is None or graph.nodes[n].get("kind") == kind)


def to_json(graph: Any) -> str:
    nodes = [{"id": n, **graph.nodes[n]} for n in sorted(graph.nodes)]
    edges = [{"from": a, "to": b, **graph.edges[a, b]} for a, b in sorted(graph.edges)]
    return json.dumps({"nodes": nodes, "edges": edges}, indent=2, sort_keys=True) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_SHAPES = {
    "model": "box",
    "model-version": "box",
    "runtime": "component",
    "runtime-release": "component",
    "target": "box3d",
    "environment": "folder",
    "deployment": "ellipse",
    "capability": "note",
}


def to_dot(graph: Any) -> str:
    lines = ["digraph mlops_plan {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for n in sorted(graph.nodes):
        shape = _SHAPES.get(graph.nodes[n].get("kind", ""), "ellipse")
        lines.append(f"  {_quote(n)} [shape={shape}];")
    for a, b in sorted(graph.edges):
        lines.append(
            f"  {_quote(a)} -> {_quote(b)} [label={_quote(graph.edges[a, b].get('relation', ''))}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_id(index: int) -> str:
    return f"n{index}"


_MERMAID_SHAPES = {
    "deployment": ("([", "])"),
    "environment": ("[/", "/]"),
    "target": ("[[", "]]"),
    "capability": ("{{", "}}"),
    "runtime-release": ("[(", ")]"),
    "runtime": ("[(", ")]"),
}


def to_mermaid(graph: Any) -> str:
    ids = {n: _mermaid_id(i) for i, n in enumerate(sorted(graph.nodes))}
    lines = ["flowchart LR"]
    for n in sorted(graph.nodes):
        left, right = _MERMAID_SHAPES.get(graph.nodes[n].get("kind", ""), ("[", "]"))
        label = n.replace('"', "'")
        lines.append(f'  {ids[n]}{left}"{label}"{right}')
    for a, b in sorted(graph.edges):
        relation = graph.edges[a, b].get("relation", "")
        lines.append(f"  {ids[a]} -->|{relation}| {ids[b]}")
    return "\n".join(lines) + "\n"
