"""Findings: problems in user input, as data."""

from __future__ import annotations

import enum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(BaseModel):
    """One positioned problem. `line`/`col` are 1-based; None means the whole file."""

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    file: str
    line: int | None
    col: int | None
    message: str
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line or 0, self.col or 0, self.rule, self.message)

    def row(self) -> FindingRow:
        """The finding without its file, as plain values (for marshal): caches keep
        findings by file."""
        return (self.rule, self.severity.value, self.line, self.col, self.message, self.hint)

    @classmethod
    def from_row(cls, file: str, row: FindingRow) -> Finding:
        rule, severity, line, col, message, hint = row
        return cls(
            rule=rule,
            severity=Severity(severity),
            file=file,
            line=line,
            col=col,
            message=message,
            hint=hint,
        )


# rule, severity, line, col, message, hint
FindingRow = tuple[str, str, int | None, int | None, str, str | None]


class Anchor(NamedTuple):
    """Where in a document a finding is about, before it has a line and column.

    `path` walks mappings by key and sequences by index from the document root;
    `key` asks for the position of the mapping key instead of its value.
    """

    file: str
    doc: int
    path: tuple[str | int, ...]
    key: bool = False


class Summary(BaseModel):
    errors: int
    warnings: int
    infos: int
    files: int


def summarize(findings: list[Finding], files: int) -> Summary:
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    return Summary(
        errors=counts[Severity.ERROR],
        warnings=counts[Severity.WARNING],
        infos=counts[Severity.INFO],
        files=files,
    )
