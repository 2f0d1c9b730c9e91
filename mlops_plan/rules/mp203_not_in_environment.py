"""A deployment's runtime or target is not available in that environment.

An environment lists the hardware it has (`targets`) and pins one release of each
runtime it runs (`runtimes`). A deployment placed in that environment must use one of
those targets and a pinned runtime; one with no runtime or target at all cannot be
placed either.

Failing:

    # environments/dev.yaml
    spec: {targets: [cpu-x86], runtimes: {torchserve: "0.11.0"}}
    # deployments/fraud.yaml
    spec:
      runtime: triton             # dev pins no triton release
      target: a100-80g            # dev has no a100-80g
      environments: {dev: {version: "2.4.1"}}

Passing:

    spec:
      runtime: triton
      target: a100-80g
      environments:
        dev: {version: "2.4.1", runtime: torchserve, target: cpu-x86}
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
