"""A deprecated version is deployed (a warning).

Deprecated versions still resolve, so a rollback to one stays possible; the warning
keeps it visible until the deployment moves on. Suppress it with a reason where it is
intended: `# mlops-plan: ignore[MP305] reason: rollback for INC-123`.

Failing:

    # text-embedder 1.1.0 has status: deprecated
    environments:
      prod: {version: "1.1.0"}

Passing:

    environments:
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
