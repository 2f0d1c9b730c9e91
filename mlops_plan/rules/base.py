"""What every rule sees: the repository, its effective deployments and their resolution."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from mlops_plan.effective import EffectiveDeployment
from mlops_plan.findings import Anchor, Finding, Severity
from mlops_plan.load import Locator
from mlops_plan.resolve import Resolution
from mlops_plan.validate import Repository, finding_at


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


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def did_you_mean(word: str, choices: list[str] | set[str] | tuple[str, ...]) -> str | None:
    """The closest choice by edit distance, when it is close enough to be a typo."""
    limit = max(1, len(word) // 3)
    best: tuple[int, str] | None = None
    for choice in sorted(choices):
        if abs(len(choice) - len(word)) > limit:
            continue
        distance = edit_distance(word, choice)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, choice)
    return f'did you mean "{best[1]}"?' if best else None
