"""What every rule sees: the repository, its effective deployments and their resolution."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from mlops_plan.effective import EffectiveDeployment
from mlops_plan.findings import Anchor, Finding, Severity
from mlops_plan.load import Locator
from mlops_plan.resolve import Resolution
from mlops_plan.validate import Repository, did_you_mean, edit_distance, finding_at

__all__ = ["Context", "Rule", "did_you_mean", "edit_distance", "emit"]


@dataclass
class Context:
    repo: Repository
    locator: Locator
    deployments: list[EffectiveDeployment]
    resolution: Resolution
    lock: dict[str, dict[str, str]] | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Rule(NamedTuple):
    """A built-in rule: its module docstring is its documentation."""

    id: str
    name: str
    severity: Severity
    doc: str
    check: Callable[[Context], Iterator[Finding]] | None


def emit(
    ctx: Context,
    rule: str,
    severity: Severity,
    anchor: Anchor,
    message: str,
    hint: str | None = None,
) -> Finding:
    return finding_at(ctx.locator, rule, anchor, message, hint, severity)
