"""Lint findings as GitHub Actions workflow commands, plus a job summary.

Each finding becomes `::error file=F,line=L,col=C,title=RULE::message` (`::warning`,
`::notice`), escaped as GitHub's toolkit escapes them; a whole-file finding has no line
or column. Paths are relative to the repository root, prefixed with its folder inside
`$GITHUB_WORKSPACE` when the repository is a sub-folder of the checkout. GitHub shows only
a few annotations per step, so when `$GITHUB_STEP_SUMMARY` is set a short Markdown
summary (counts and the first findings) is appended to that file too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_plan.errors import MlopsPlanError
from mlops_plan.findings import Finding, Severity
from mlops_plan.render.findings_text import location, summary_line

if TYPE_CHECKING:
    from mlops_plan.analysis import LintResult

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
SUMMARY_ROWS = 50


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(finding: Finding, prefix: str = "") -> str:
    """One workflow command for one finding."""
    properties = [("file", prefix + finding.file)]
    if finding.line is not None:
        properties.append(("line", str(finding.line)))
        if finding.col is not None:
            properties.append(("col", str(finding.col)))
    properties.append(("title", finding.rule))
    message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {joined}::{escape_data(message)}"


def workspace_prefix(root: Path) -> str:
    """The repository's folder inside `$GITHUB_WORKSPACE` (with a slash), or ""."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    try:
        folder = root.resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return ""
    return "" if folder == "." else folder + "/"


def render(result: LintResult, color: bool = False) -> str:
    prefix = workspace_prefix(result.root)
    lines = [command(f, prefix) for f in result.findings]
    lines.append(summary_line(result.summary))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        write_step_summary(result, Path(summary), prefix)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(old, new)
    return text.replace("\r\n", "<br>").replace("\n", "<br>")


def step_summary(result: LintResult, prefix: str = "") -> str:
    """The Markdown appended to the job summary."""
    lines = ["### mlops-plan lint", "", summary_line(result.summary), ""]
    shown = result.findings[:SUMMARY_ROWS]
    if shown:
        lines += ["| severity | location | rule | message |", "| --- | --- | --- | --- |"]
        for finding in shown:
            where = prefix + location(finding)
            lines.append(
                f"| {finding.severity} | {_cell(where)} | {_cell(finding.rule)} "
                f"| {_cell(finding.message)} |"
            )
        hidden = len(result.findings) - len(shown)
        if hidden:
            lines += ["", f"… and {hidden} more: see the job log."]
        lines.append("")
    return "\n".join(lines) + "\n"


def write_step_summary(result: LintResult, path: Path, prefix: str = "") -> None:
    """Append the summary to `path` (GitHub's `$GITHUB_STEP_SUMMARY` file)."""
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(step_summary(result, prefix))
    except OSError as exc:
        raise MlopsPlanError(
            f"cannot append the job summary to {path}: {exc.strerror}",
            "check $GITHUB_STEP_SUMMARY",
        ) from None
