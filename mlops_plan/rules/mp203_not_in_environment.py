"""A deployment's runtime or target is not available in that environment.

An environment lists the hardware it has (`targets`) and pins one release of each
runtime it runs (`runtimes`). A deployment placed in that environment must use one of
those targets and a pinned runtime; one with no runtime or target at all cannot be
placed either.

Failing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detector
      runtime: triton
      target: a100-80g            # dev has [cpu-x86, l4-24g]: no a100-80g
      replicas: 2
      environments:
        dev: {version: "~=2.4.0"}
        prod: {version: "~=2.4.0", replicas: 4}

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
        prod: {version: "~=2.4.0", replicas: 4}
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.rules.base import Context, emit

ID = "MP203"
NAME = "not-in-environment"
SEVERITY = "error"


def check(ctx: Context) -> Iterator[Finding]:
    repo = ctx.repo
    for eff in ctx.deployments:
        environment = repo.environments.get(eff.environment)
        if environment is None:
            continue
        spec = environment.spec
        if eff.runtime is None:
            yield emit(
                ctx,
                ID,
                Severity.ERROR,
                eff.anchor(repo),
                f"{eff.address} has no runtime",
                f"set spec.runtime or spec.environments.{eff.environment}.runtime",
            )
        elif eff.runtime in repo.runtimes and eff.runtime not in spec.runtimes:
            pinned = ", ".join(sorted(spec.runtimes)) or "none"
            yield emit(
                ctx,
                ID,
                Severity.ERROR,
                eff.anchor(repo, "runtime"),
                f'runtime "{eff.runtime}" is not pinned in environment "{eff.environment}"',
                f"pin a release in environment {eff.environment} spec.runtimes, or use one "
                f"it pins ({pinned})",
            )
        if eff.target is None:
            yield emit(
                ctx,
                ID,
                Severity.ERROR,
                eff.anchor(repo),
                f"{eff.address} has no target",
                f"set spec.target or spec.environments.{eff.environment}.target",
            )
        elif eff.target in repo.targets and eff.target not in spec.targets:
            offered = ", ".join(spec.targets) or "none"
            yield emit(
                ctx,
                ID,
                Severity.ERROR,
                eff.anchor(repo, "target"),
                f'target "{eff.target}" is not available in environment "{eff.environment}"',
                f"environment {eff.environment} offers: {offered}",
            )
