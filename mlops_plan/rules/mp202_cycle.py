"""A cycle in `dependsOn` (between models) or in `promotesFrom` (between environments).

A promotion cycle means no environment can receive a new version first; a dependency
cycle means no model of the cycle can be deployed without the others already running.
The finding names the cycle, at the reference that closes it from its first member.

Failing:

    # file: environments/dev.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: dev}
    spec:
      promotesFrom: [prod]        # and prod promotesFrom [dev]: a circle
      targets: [cpu-x86, l4-24g]
      runtimes: {triton: "24.05", torchserve: "0.11.0"}

Passing:

    # file: environments/staging.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: staging}
    spec:
      promotesFrom: [dev]         # dev -> staging -> prod: a chain
      targets: [cpu-x86, l4-24g]
      runtimes: {triton: "24.05", torchserve: "0.11.0"}

    # file: environments/prod.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: prod}
    spec:
      promotesFrom: [staging]
      protected: true
      targets: [cpu-x86, a100-80g]
      runtimes: {triton: "24.05", torchserve: "0.11.0"}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from graphlib import CycleError, TopologicalSorter

from mlops_plan.findings import Finding, Severity
from mlops_plan.rules.base import Context, emit

ID = "MP202"
NAME = "cycle"
SEVERITY = "error"


def _acyclic(edges: Mapping[str, Sequence[str]]) -> bool:
    """Whether a graph has no cycle: the standard library's check, so that networkx is
    imported (about 0.15 s) only to name the cycles of a repository that has some."""
    try:
        TopologicalSorter(edges).prepare()
    except CycleError:
        return False
    return True


def check(ctx: Context) -> Iterator[Finding]:
    repo = ctx.repo
    promotions = {name: env.spec.promotes_from for name, env in repo.environments.items()}
    dependencies = {
        name: [dep.model for entry in model.spec.versions for dep in entry.depends_on]
        for name, model in repo.models.items()
    }
    if _acyclic(promotions) and _acyclic(dependencies):
        return
    from mlops_plan.graph import cycles, model_dependency_graph, promotion_graph

    for cycle in cycles(promotion_graph(repo)):
        first, second = cycle[0], cycle[1 % len(cycle)]
        upstream = repo.environments[first].spec.promotes_from
        anchor = repo.anchor("Environment", first, "spec", "promotesFrom", upstream.index(second))
        path = " -> ".join([*cycle, cycle[0]])
        yield emit(
            ctx,
            ID,
            Severity.ERROR,
            anchor,
            f"promotion cycle: {path}",
            "promotion must flow one way: remove one promotesFrom entry of the cycle",
        )
    for cycle in cycles(model_dependency_graph(repo)):
        first, second = cycle[0], cycle[1 % len(cycle)]
        anchor = repo.anchor("Model", first)
        for i, entry in enumerate(repo.models[first].spec.versions):
            found = [j for j, dep in enumerate(entry.depends_on) if dep.model == second]
            if found:
                anchor = repo.anchor(
                    "Model", first, "spec", "versions", i, "dependsOn", found[0], "model"
                )
                break
        path = " -> ".join([*cycle, cycle[0]])
        yield emit(
            ctx,
            ID,
            Severity.ERROR,
            anchor,
            f"dependsOn cycle: {path}",
            "a model cannot need itself, even through others: remove one dependsOn entry",
        )
