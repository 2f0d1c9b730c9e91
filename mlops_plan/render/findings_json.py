"""Lint findings as JSON: `{"findings": [...], "summary": {...}}`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_plan.analysis import LintResult


def render(result: LintResult, color: bool = False) -> str:
    document = {
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "summary": {
            "errors": result.summary.errors,
            "warnings": result.summary.warnings,
            "infos": result.summary.infos,
            "files": result.summary.files,
        },
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
