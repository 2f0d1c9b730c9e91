"""Inline suppressions: `# mlops-plan: ignore[MP305] reason: rollback for INC-123`.

A suppression names one or more rule IDs (`ignore[MP305,policy/prod-min-replicas]`).
At the end of a line it covers that line; on a line of its own it covers the next line
that is not a comment (so several suppressions may stack above one line). A finding of a
named rule on a covered line is dropped. A suppression without a reason, when reasons are
required, is itself an error (MP004) and suppresses nothing; one that cannot be read is
MP004 too; a rule ID that suppressed nothing is a warning (MP005). With `allow=False`
(`suppressions.allow: false`, `--no-ignore`) every suppression is ignored, and none is
reported.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

from mlops_plan.findings import Finding, Severity

MARKER = "mlops-plan: ignore"
REASON_RULE = "MP004"
UNUSED_RULE = "MP005"
_DIRECTIVE = re.compile(r"#\s*mlops-plan:\s*ignore(?P<rest>.*)$")
_FORM = re.compile(r"^\[(?P<ids>[^\]]*)\](?P<tail>.*)$")
_REASON = re.compile(r"^\s+reason:(?P<reason>.*)$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")
_QUOTE_AFTER = frozenset({"", ":", "-", "[", "{", ",", "?"})


class Suppression(NamedTuple):
    """One `# mlops-plan: ignore[...]` comment."""

    file: str
    line: int  # 1-based, of the comment
    col: int  # 1-based, of its `#`
    covers: tuple[int, ...]  # the lines whose findings it suppresses
    rules: tuple[str, ...]
    reason: str | None
    problem: str | None  # why it cannot be read, if it cannot


def comment_start(line: str) -> int | None:
    """The index of the `#` opening the line's comment, outside quoted scalars."""
    quote: str | None = None
    previous = ""  # the last non-blank character outside quotes
    index = 0
    while index < len(line):
        char = line[index]
        if quote is not None:
            if quote == '"' and char == "\\":
                index += 2
                continue
            if char == quote:
                if quote == "'" and line[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                quote = None
                previous = char
        elif (
            char in "\"'"
            and previous in _QUOTE_AFTER
            and (index == 0 or line[index - 1] in " \t[{,")
        ):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return index
        elif not char.isspace():
            previous = char
        index += 1
    return None


def scan(file: str, text: str) -> list[Suppression]:
    """Every suppression comment of one file, in order."""
    if MARKER not in text:
        return []
    lines = text.split("\n")
    out: list[Suppression] = []
    for number, line in enumerate(lines, 1):
        if MARKER not in line:
            continue
        start = comment_start(line)
        if start is None:
            continue
        directive = _DIRECTIVE.match(line, start)
        if directive is None:
            continue
        rules, reason, problem = _parse(directive.group("rest"))
        own_line = not line[:start].strip()
        below = _next_code_line(lines, number) if own_line else number
        covers = (number,) if below == number else (number, below)
        out.append(Suppression(file, number, start + 1, covers, rules, reason, problem))
    return out


def _parse(rest: str) -> tuple[tuple[str, ...], str | None, str | None]:
    """(rule IDs, reason, problem) of what follows `mlops-plan: ignore`."""
    form = _FORM.match(rest)
    if form is None:
        return (), None, "write the rule IDs in brackets: ignore[MP305] reason: …"
    ids = tuple(part.strip() for part in form.group("ids").split(","))
    if not any(ids):
        return (), None, "name at least one rule ID in the brackets: ignore[MP305]"
    bad = [i for i in ids if not _RULE_ID.match(i)]
    if bad:
        return (), None, f'"{bad[0]}" is not a rule ID (e.g. MP305, policy/prod-min-replicas)'
    tail = form.group("tail")
    if not tail.strip():
        return ids, None, None
    reason = _REASON.match(tail)
    if reason is None:
        return ids, None, "write the reason as `reason: …` after the brackets"
    return ids, reason.group("reason").strip() or None, None


def _next_code_line(lines: list[str], number: int) -> int:
    """The 1-based number of the first line after `number` that is not only a comment."""
    for later in range(number, len(lines)):
        if not lines[later].lstrip().startswith("#"):
            return later + 1
    return number


def apply_suppressions(
    findings: Iterable[Finding],
    texts: Mapping[str, str],
    require_reason: bool = True,
    allow: bool = True,
    not_run: Collection[str] = (),
) -> list[Finding]:
    """The findings no suppression covers, plus MP004/MP005 findings about suppressions.

    `not_run` names rules that did not run this time (plan-time rules in a lint without
    `--base`, MP307 without `--locked`): suppressing them is never reported as unused.
    """
    if not allow:
        return list(findings)
    suppressions = [s for file in sorted(texts) for s in scan(file, texts[file])]
    covering: dict[tuple[str, int, str], list[tuple[int, str]]] = {}
    for index, item in enumerate(suppressions):
        if item.problem is not None or (require_reason and item.reason is None):
            continue
        for line in item.covers:
            for rule in item.rules:
                covering.setdefault((item.file, line, rule), []).append((index, rule))
    used: set[tuple[int, str]] = set()
    out: list[Finding] = []
    for finding in findings:
        hits = covering.get((finding.file, finding.line or 0, finding.rule))
        if hits:
            used.update(hits)
            continue
        out.append(finding)
    used.update((index, rule) for index, item in enumerate(suppressions) for rule in not_run)
    for index, item in enumerate(suppressions):
        out.extend(_about(item, index, used, require_reason))
    return out


def _about(
    item: Suppression, index: int, used: set[tuple[int, str]], require_reason: bool
) -> list[Finding]:
    if item.problem is not None:
        message = "malformed suppression comment: it suppresses nothing"
        return [_finding(item, REASON_RULE, Severity.ERROR, message, item.problem)]
    if require_reason and item.reason is None:
        rules = ",".join(item.rules)
        return [
            _finding(
                item,
                REASON_RULE,
                Severity.ERROR,
                f"suppression of {rules} has no reason, so it suppresses nothing",
                f"say why: # mlops-plan: ignore[{rules}] reason: …",
            )
        ]
    return [
        _finding(
            item,
            UNUSED_RULE,
            Severity.WARNING,
            f"suppression of {rule} is unused: no {rule} finding on "
            + ("this line" if len(item.covers) == 1 else f"line {item.covers[-1]}"),
            "remove it (or the rule ID) from the comment",
        )
        for rule in dict.fromkeys(item.rules)
        if (index, rule) not in used
    ]


def _finding(item: Suppression, rule: str, severity: Severity, message: str, hint: str) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        file=item.file,
        line=item.line,
        col=item.col,
        message=message,
        hint=hint,
    )
