"""The built-in rule catalog: one module per rule, registered here.

A rule module declares `ID`, `NAME`, `SEVERITY`, a docstring that is its user
documentation (`mlops-plan explain ID` prints it) and, unless the loader or the
validator raises its findings, a `check(ctx)` generator of findings.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from types import ModuleType

from mlops_plan.findings import Finding, Severity
from mlops_plan.rules.base import Context, Rule

# the catalog, in the order rules run and are documented
_NAMES = (
    "mp001_yaml_syntax",
    "mp002_duplicate_key",
    "mp003_unsafe_yaml",
    "mp004_suppression_reason",
    "mp005_unused_suppression",
    "mp101_schema",
    "mp102_unknown_kind",
    "mp103_duplicate_name",
    "mp201_unknown_reference",
    "mp202_cycle",
    "mp203_not_in_environment",
    "mp301_unresolvable",
    "mp302_incompatible",
    "mp303_insufficient_resources",
    "mp304_yanked",
    "mp305_deprecated",
    "mp306_dependency",
    "mp307_stale_lock",
    "mp401_digest_required",
    "mp402_mutable_reference",
    "mp403_plaintext_secret",
    "mp404_canary",
    "mp501_immutable_version",
    "mp502_freeze",
    "mp503_protected_change",
    "mp504_promotion_order",
)
_MODULES: tuple[ModuleType, ...] = tuple(import_module(f"{__name__}.{name}") for name in _NAMES)


def _rule(module: ModuleType) -> Rule:
    return Rule(
        id=module.ID,
        name=module.NAME,
        severity=Severity(module.SEVERITY),
        doc=inspect.cleandoc(module.__doc__ or ""),
        check=getattr(module, "check", None),
    )


RULES: dict[str, Rule] = {module.ID: _rule(module) for module in _MODULES}


def run(ctx: Context) -> list[Finding]:
    """Every registered check over one context, in catalog order."""
    findings: list[Finding] = []
    for rule in RULES.values():
        if rule.check is not None:
            findings.extend(rule.check(ctx))
    return findings
