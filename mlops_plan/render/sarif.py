"""Lint findings as SARIF 2.1.0, the format GitHub code scanning uploads.

One run; `tool.driver.rules` lists every catalog rule with its documentation (and each
policy rule that reported), results point at `file` relative to the repository root
(`%SRCROOT%`), with a region only when the line is known. The output is deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mlops_plan import __version__
from mlops_plan.findings import Finding, Severity

if TYPE_CHECKING:
    from mlops_plan.analysis import LintResult
    from mlops_plan.rules.base import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
POLICY_PREFIX = "policy/"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(result: LintResult, color: bool = False) -> str:
    from mlops_plan.rules import RULES

    return json.dumps(document(result, RULES), indent=2, ensure_ascii=False) + "\n"


def document(result: LintResult, rules: Mapping[str, Rule]) -> dict[str, Any]:
    """The SARIF log of one lint result, describing `rules` and any other rule reported."""
    descriptors = [_descriptor(rule) for rule in rules.values()]
    seen = {rule.id: rule.severity for rule in rules.values()}
    for finding in result.findings:
        if finding.rule not in seen:
            seen[finding.rule] = finding.severity
    for rule_id in sorted(set(seen) - set(rules)):
        descriptors.append(_other_descriptor(rule_id, seen[rule_id]))
    index = {descriptor["id"]: number for number, descriptor in enumerate(descriptors)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlops-plan",
                        "version": __version__,
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.rule]) for f in result.findings],
            }
        ],
    }


def _descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule.doc.strip()
    short = doc.splitlines()[0] if doc else rule.name
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": doc or short},
        "help": {"text": doc or short, "markdown": doc or short},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
    }


def _other_descriptor(rule_id: str, severity: Severity) -> dict[str, Any]:
    if rule_id.startswith(POLICY_PREFIX):
        name = rule_id.removeprefix(POLICY_PREFIX)
        text = f"User policy {name} (a CEL condition in the repository's Policy documents)."
    else:
        name = rule_id
        text = f"Rule {rule_id}."
    return {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": text},
        "defaultConfiguration": {"level": LEVELS[severity]},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    text = finding.message
    if finding.hint:
        text += f"\nhint: {finding.hint}"
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": quote(finding.file, safe="/"), "uriBaseId": SRCROOT}
    }
    if finding.line is not None and finding.line >= 1:
        region: dict[str, int] = {"startLine": finding.line}
        if finding.col is not None and finding.col >= 1:
            region["startColumn"] = finding.col
        physical["region"] = region
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
    }
