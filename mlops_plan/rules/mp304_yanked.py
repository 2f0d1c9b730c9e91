"""A yanked version is deployed.

A yanked version was withdrawn (a bad artifact, a regression). Specifiers never select
one; an exact pin still can (as PEP 592 allows for pip), and then this error says to
move off it. Canary versions are checked too.

Failing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detector
      runtime: triton
      target: a100-80g
      replicas: 2
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}
        prod: {version: "2.4.2", replicas: 4}     # 2.4.2 has status: yanked

Passing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detector
      runtime: triton
      target: a100-80g
      replicas: 2
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}
        prod: {version: "~=2.4.0", replicas: 4}   # skips 2.4.2: resolves to 2.4.1
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.rules._resolution import canary_anchor
from mlops_plan.rules.base import Context, emit

ID = "MP304"
NAME = "yanked"
SEVERITY = "error"
STATUS = "yanked"


def deployed_with_status(ctx: Context, status: str) -> Iterator[tuple[str, object, str]]:
    for item in ctx.resolution.resolved.values():
        eff = item.deployment
        if item.version is not None and item.version.status == status:
            yield eff.address, eff.anchor(ctx.repo, "version"), item.version.version
        if item.canary is not None and item.canary.status == status:
            yield eff.address, canary_anchor(ctx, eff), item.canary.version


def check(ctx: Context) -> Iterator[Finding]:
    for address, anchor, version in deployed_with_status(ctx, STATUS):
        model = ctx.resolution.resolved[address].deployment.model
        yield emit(
            ctx,
            ID,
            Severity.ERROR,
            anchor,  # type: ignore[arg-type]
            f"{address} deploys {model} {version}, which is yanked",
            "pin a released version (a specifier never selects a yanked one)",
        )
