"""Shared helpers of the resolution rules (MP301-MP306)."""

from __future__ import annotations

from mlops_plan import model as m
from mlops_plan.effective import EffectiveDeployment
from mlops_plan.findings import Anchor
from mlops_plan.resolve import Reason, Resolved, incompatibilities, is_exact, version_of
from mlops_plan.rules.base import Context


def canary_anchor(ctx: Context, eff: EffectiveDeployment) -> Anchor:
    anchor = eff.anchor(ctx.repo, "canary")
    if "canary" in eff.overridden:
        return anchor._replace(path=(*anchor.path, "version"), key=False)
    return anchor


def pinned_entry(ctx: Context, item: Resolved) -> m.ModelVersion | None:
    """The version an exact pin names, when the pin is exact and the version exists."""
    eff = item.deployment
    model = ctx.repo.models.get(eff.model)
    if model is None or eff.version is None or not is_exact(eff.version):
        return None
    text = eff.version.lstrip("=").strip()
    return version_of(model, text)


def reasons_for(ctx: Context, item: Resolved, entry: m.ModelVersion) -> tuple[Reason, ...]:
    model = ctx.repo.models[item.deployment.model]
    if item.placement is None:
        return ()
    return incompatibilities(model, entry, item.placement, ctx.resolution.reasons)
