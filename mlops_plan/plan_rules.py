"""Plan-time rules MP501-MP504: they compare the configuration with a base.

Their documentation lives with the catalog in `rules/`; the checks live here because they
read a computed plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from mlops_plan.analysis import Analysis
from mlops_plan.findings import Anchor, Finding, Severity
from mlops_plan.plan import ResourceChange
from mlops_plan.resolve import version, version_of
from mlops_plan.validate import finding_at


def _finding(
    head: Analysis, rule: str, severity: Severity, anchor: Anchor, message: str, hint: str
) -> Finding:
    return finding_at(head.loaded.locator, rule, anchor, message, hint, severity)


def _change_anchor(head: Analysis, change: ResourceChange, field: str | None = None) -> Anchor:
    """The field at fault inside the environment's entry, else the entry itself."""
    item = head.resolution.resolved.get(change.address)
    if item is not None:
        return item.deployment.anchor(head.repo, field)
    if change.name in head.repo.deployments:
        return head.repo.anchor("Deployment", change.name, "spec", "environments", key=True)
    if change.environment in head.repo.environments:
        return head.repo.anchor("Environment", change.environment, "metadata", "name")
    return Anchor(next(iter(sorted({o[0] for o in head.repo.origins.values()})), "."), 0, ())


def immutable_versions(base: Analysis | None, head: Analysis) -> Iterator[Finding]:
    if base is None:
        return
    for name, model in sorted(head.repo.models.items()):
        before = base.repo.models.get(name)
        if before is None:
            continue
        for i, entry in enumerate(model.spec.versions):
            old = version_of(before, entry.version)
            if old is None or (old.status == "yanked" and entry.status == "yanked"):
                continue
            for field in ("digest", "uri"):
                a, b = getattr(old.artifact, field), getattr(entry.artifact, field)
                if a != b:
                    anchor = head.repo.anchor(
                        "Model", name, "spec", "versions", i, "artifact", field
                    )
                    yield _finding(
                        head,
                        "MP501",
                        Severity.ERROR,
                        anchor,
                        f"model.{name}@{entry.version}: released version's {field} changed "
                        f"({a} -> {b})",
                        "released versions are immutable: release a new version instead",
                    )


def freezes(
    head: Analysis, base: Analysis | None, changes: list[ResourceChange], now: dt.datetime
) -> Iterator[Finding]:
    for change in changes:
        env = head.repo.environments.get(change.environment) or (
            base.repo.environments.get(change.environment) if base is not None else None
        )
        if env is None:
            continue
        for freeze in env.spec.freezes:
            if freeze.start <= now < freeze.end:
                fields = {p[0] for p in change.changed_paths}
                field = fields.pop() if len(fields) == 1 else None
                yield _finding(
                    head,
                    "MP502",
                    Severity.ERROR,
                    _change_anchor(head, change, field),
                    f"{change.address} changes during the freeze of environment "
                    f"{change.environment}: {freeze.reason} ({freeze.start.isoformat()} to "
                    f"{freeze.end.isoformat()})",
                    f"wait until {freeze.end.isoformat()}, or suppress with a reason: "
                    "# mlops-plan: ignore[MP502] reason: …",
                )
                break


def protected_changes(head: Analysis, changes: list[ResourceChange]) -> Iterator[Finding]:
    for change in changes:
        if not change.protected:
            continue
        what = None
        field = None
        if "delete" in change.actions:
            what = (
                "replaced (destroyed, then created)" if "create" in change.actions else "destroyed"
            )
            if change.replace_paths:
                field = change.replace_paths[0][0]
        elif change.downgrade:
            what = "downgraded (" + change.notes[0].removeprefix("DOWNGRADE ") + ")"
            field = "version"
        if what:
            yield _finding(
                head,
                "MP503",
                Severity.WARNING,
                _change_anchor(head, change, field),
                f"{change.address} will be {what} in protected environment {change.environment}",
                "apply asks for confirmation (or --allow-protected)",
            )


def promotion_order(head: Analysis, changes: list[ResourceChange]) -> Iterator[Finding]:
    resolved = head.resolution.resolved
    for change in changes:
        after = change.after
        if after is None or change.downgrade:
            continue
        env = head.repo.environments.get(change.environment)
        if env is None or not env.spec.promotes_from:
            continue
        before = change.before
        brought: list[str] = []
        if before is None or version(after["version"]) > version(before["version"]):
            brought.append(after["version"])
        canary = after.get("canary")
        if canary and (
            before is None
            or not before.get("canary")
            or before["canary"]["version"] != canary["version"]
        ):
            brought.append(canary["version"])
        for upstream in env.spec.promotes_from:
            item = resolved.get(f"deployment.{upstream}.{change.name}")
            if item is None:
                if before is None:
                    yield _finding(
                        head,
                        "MP504",
                        Severity.ERROR,
                        _change_anchor(head, change),
                        f"{change.address} is created, but environment {upstream} (which "
                        f"{change.environment} promotes from) has no deployment "
                        f"{change.name}",
                        f"deploy {change.name} to {upstream} first",
                    )
                continue
            runs = set()
            if item.version is not None and item.placement is not None:
                config = (item.placement.runtime, item.placement.release.version)
                runs.add((item.version.version, *config))
                if item.canary is not None:
                    runs.add((item.canary.version, *config))
            for ver in brought:
                if (ver, after["runtime"], after["runtimeVersion"]) in runs:
                    continue
                running = ", ".join(sorted(f"{v} on {r} {rv}" for v, r, rv in runs)) or "nothing"
                field = "version" if ver == after["version"] else "canary"
                yield _finding(
                    head,
                    "MP504",
                    Severity.ERROR,
                    _change_anchor(head, change, field),
                    f"{change.address} brings {after['model']} {ver} on {after['runtime']} "
                    f"{after['runtimeVersion']}, which {upstream} does not run (it runs "
                    f"{running})",
                    f"promote it through {upstream} first",
                )


def check(
    base: Analysis | None, head: Analysis, changes: list[ResourceChange], now: dt.datetime
) -> list[Finding]:
    return [
        *immutable_versions(base, head),
        *freezes(head, base, changes, now),
        *protected_changes(head, changes),
        *promotion_order(head, changes),
    ]
