"""A `dependsOn` model is missing in the environment, or runs at a wrong version.

A model version's `dependsOn` lists models that must run beside it in the same
environment. Resolution treats the deployments of one environment jointly (resolvelib,
the resolver pip uses): when the newest version of a model needs a newer dependency
than the environment can run, an older version is chosen instead. This finding remains
when no combination works, or when the dependency is not deployed there at all.

Failing:

    # file: deployments/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: text-embedder}
    spec:
      model: text-embedder
      runtime: triton
      target: cpu-x86
      environments:               # fraud-detector 2.4.1 dependsOn text-embedder "~=1.1",
        dev: {version: "~=1.2"}   # and prod runs fraud-detector but no text-embedder

Passing:

    # file: deployments/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: text-embedder}
    spec:
      model: text-embedder
      runtime: triton
      target: cpu-x86
      environments:
        dev: {version: "~=1.2"}
        prod: {version: "~=1.2"}
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.resolve import specifier, version
from mlops_plan.rules._resolution import canary_anchor
from mlops_plan.rules.base import Context, emit

ID = "MP306"
NAME = "dependency"
SEVERITY = "error"


def check(ctx: Context) -> Iterator[Finding]:
    resolution = ctx.resolution
    for item in resolution.resolved.values():
        eff = item.deployment
        for entry, anchor in (
            (item.version, eff.anchor(ctx.repo)),
            (item.canary, canary_anchor(ctx, eff)),
        ):
            if entry is None:
                continue
            for dep in entry.depends_on:
                others = resolution.deployments_of(eff.environment, dep.model)
                if not others:
                    yield emit(
                        ctx,
                        ID,
                        Severity.ERROR,
                        anchor,
                        f"{eff.model} {entry.version} needs {dep.model} {dep.version} beside "
                        f'it, and environment "{eff.environment}" has no deployment of '
                        f"{dep.model}",
                        f"deploy {dep.model} to {eff.environment}",
                    )
                    continue
                for other in others:
                    running = other.version
                    if running is not None and specifier(dep.version).contains(
                        version(running.version), prereleases=True
                    ):
                        continue
                    got = running.version if running is not None else "no resolvable version"
                    yield emit(
                        ctx,
                        ID,
                        Severity.ERROR,
                        anchor,
                        f"{eff.model} {entry.version} needs {dep.model} {dep.version}, and "
                        f"{other.address} runs {got}",
                        item.conflict
                        or f"change {other.address}'s version or this deployment's version",
                    )
