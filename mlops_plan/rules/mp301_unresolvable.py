"""No version satisfies a deployment's specifier and constraints.

The candidates of an effective deployment are the model's versions inside its
`version` specifier, not yanked, compatible with the environment's runtime release and
the deployment's target (prereleases only when the specifier names one, as pip does).
When none is left, the finding lists every version with the reason it was rejected, so
the fix is obvious: widen the specifier, pin another runtime release, move the target,
or release a compatible version. A canary version that does not exist lands here too.

Failing:

    # file: environments/prod.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: prod}
    spec:
      promotesFrom: [dev]
      protected: true
      targets: [cpu-x86, a100-80g]
      # triton 24.07 provides pytorch 2.4.0; fraud-detector's prod specifier "~=2.4.0"
      # admits 2.4.0 and 2.4.1 (both need pytorch <2.4) and 2.4.2 (yanked)
      runtimes: {triton: "24.07", torchserve: "0.11.0"}

Passing:

    # file: environments/prod.yaml
    apiVersion: mlops-plan/v1
    kind: Environment
    metadata: {name: prod}
    spec:
      promotesFrom: [dev]
      protected: true
      targets: [cpu-x86, a100-80g]
      runtimes: {triton: "24.07", torchserve: "0.11.0"}

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
        prod: {version: "~=2.4.0", replicas: 4, runtime: torchserve}  # pytorch 2.3.0
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.resolve import version_of
from mlops_plan.rules._resolution import canary_anchor, pinned_entry
from mlops_plan.rules.base import Context, emit

ID = "MP301"
NAME = "unresolvable"
SEVERITY = "error"


def check(ctx: Context) -> Iterator[Finding]:
    for item in ctx.resolution.resolved.values():
        eff = item.deployment
        model = ctx.repo.models.get(eff.model)
        if item.placement is None or model is None:
            continue
        if eff.canary is not None and item.canary is None:
            versions = ", ".join(v.version for v in model.spec.versions)
            yield emit(
                ctx,
                ID,
                Severity.ERROR,
                canary_anchor(ctx, eff),
                f'model "{eff.model}" has no version "{eff.canary.version}" for the canary '
                f"of {eff.address}",
                f"versions: {versions}",
            )
        if item.version is not None or item.conflict is not None:
            continue
        pinned = pinned_entry(ctx, item)
        if pinned is not None:
            continue  # an exact pin that cannot run: MP302 / MP303 / MP304 say why
        where = (
            f"{item.placement.runtime} {item.placement.release.version} on {item.placement.target}"
        )
        wanted = f'"{eff.version}"' if eff.version is not None else "any version"
        rejected = "; ".join(f"{v.version}: {', '.join(v.reasons)}" for v in item.verdicts)
        if (
            eff.version is not None
            and version_of(model, eff.version.lstrip("=").strip()) is None
            and not item.verdicts
        ):
            rejected = "the model declares no versions"
        yield emit(
            ctx,
            ID,
            Severity.ERROR,
            eff.anchor(ctx.repo, "version"),
            f'no version of model "{eff.model}" satisfies {wanted} for {eff.address} '
            f"({where}): {rejected}",
            "widen the version specifier, pin another runtime release in the environment, "
            "or release a compatible version",
        )
