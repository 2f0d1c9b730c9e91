"""A pinned version's `requires` are not met by its runtime release and target.

An exact pin (`"2.4.1"` or `"==2.4.1"`), or a canary version, names one version: when
the runtime release pinned in the environment or the target cannot run it, nothing is
chosen instead. Every unmet requirement is listed: formats, accelerators, architecture,
capabilities the model needs (`runtime.provides ∪ target.provides`, compared as PEP 440
versions, never as text) and what the runtime release needs from the target.

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
        # fraud-detector 2.5.0 requires python ">=3.10"; torchserve 0.11.0 provides 3.9
        prod: {version: "2.5.0", replicas: 4, runtime: torchserve}

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
        prod: {version: "2.5.0", replicas: 4}     # triton 24.05 provides python 3.10
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.resolve import RESOURCE_CODES
from mlops_plan.rules._resolution import canary_anchor, pinned_entry, reasons_for
from mlops_plan.rules.base import Context, emit

ID = "MP302"
NAME = "incompatible"
SEVERITY = "error"


Unmet = tuple[str, object, str, str]  # address, anchor, version, reasons


def unmet(ctx: Context, resources: bool) -> list[Unmet]:
    """(address, anchor, version, reasons) of pinned and canary versions that cannot run,
    for lack of resources (MP303) or for any other reason (MP302): one pass for both."""
    found = ctx.extra.get("unmet")
    if found is None:
        found = ctx.extra["unmet"] = _unmet(ctx)
    return found[resources]  # type: ignore[index,no-any-return]


def _unmet(ctx: Context) -> tuple[list[Unmet], list[Unmet]]:
    other: list[Unmet] = []
    lacking: list[Unmet] = []
    for item in ctx.resolution.resolved.values():
        eff = item.deployment
        if item.placement is None:
            continue
        pinned = pinned_entry(ctx, item)
        checks = []
        if pinned is not None:
            checks.append((eff.anchor(ctx.repo, "version"), pinned))
        if item.canary is not None:
            checks.append((canary_anchor(ctx, eff), item.canary))
        for anchor, entry in checks:
            reasons = reasons_for(ctx, item, entry)
            if not reasons:
                continue
            for out, wanted in ((other, False), (lacking, True)):
                texts = [r.text for r in reasons if (r.code in RESOURCE_CODES) == wanted]
                if texts:
                    out.append((eff.address, anchor, entry.version, "; ".join(texts)))
    return other, lacking


def check(ctx: Context) -> Iterator[Finding]:
    for address, anchor, version, reasons in unmet(ctx, resources=False):
        where = ctx.resolution.resolved[address].placement
        assert where is not None
        yield emit(
            ctx,
            ID,
            Severity.ERROR,
            anchor,  # type: ignore[arg-type]
            f"{address} pins {version}, which cannot run on {where.runtime} "
            f"{where.release.version} / {where.target}: {reasons}",
            "pin a compatible version, or change the environment's runtime release or the "
            "deployment's target",
        )
