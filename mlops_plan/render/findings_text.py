"""Lint findings as text: `file:line:col: severity RULE message`, then an indented hint."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from mlops_plan.findings import Finding, Severity, Summary

if TYPE_CHECKING:
    from mlops_plan.analysis import LintResult

_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def location(finding: Finding) -> str:
    if finding.line is None:
        return finding.file
    if finding.col is None:
        return f"{finding.file}:{finding.line}"
    return f"{finding.file}:{finding.line}:{finding.col}"


def render_finding(finding: Finding, color: bool) -> str:
    severity = str(finding.severity)
    if color:
        severity = typer.style(severity, fg=_COLORS[finding.severity], bold=True)
    line = f"{location(finding)}: {severity} {finding.rule} {finding.message}"
    if finding.hint:
        line += f"\n    hint: {finding.hint}"
    return line


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_line(summary: Summary) -> str:
    counts = [_count(summary.errors, "error"), _count(summary.warnings, "warning")]
    if summary.infos:
        counts.append(_count(summary.infos, "info"))
    return f"{_count(summary.files, 'file')} checked: {', '.join(counts)}."


def render(result: LintResult, color: bool = False) -> str:
    lines = [render_finding(f, color) for f in result.findings]
    lines.append(summary_line(result.summary))
    return "\n".join(lines) + "\n"
