"""A deprecated version is deployed (a warning).

Deprecated versions still resolve, so a rollback to one stays possible; the warning
keeps it visible until the deployment moves on. Suppress it with a reason where it is
intended: `# mlops-plan: ignore[MP305] reason: rollback for INC-123`.

Failing:

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
        prod: {version: "1.1.0"}    # 1.1.0 has status: deprecated

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
from mlops_plan.rules.base import Context, emit
from mlops_plan.rules.mp304_yanked import deployed_with_status

ID = "MP305"
NAME = "deprecated"
SEVERITY = "warning"


def check(ctx: Context) -> Iterator[Finding]:
    for address, anchor, version in deployed_with_status(ctx, "deprecated"):
        model = ctx.resolution.resolved[address].deployment.model
        yield emit(
            ctx,
            ID,
            Severity.WARNING,
            anchor,  # type: ignore[arg-type]
            f"{address} deploys {model} {version}, which is deprecated",
            "move to a released version",
        )
