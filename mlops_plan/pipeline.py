"""The stages wired together: options in, one result object out."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mlops_plan import load
from mlops_plan.errors import MlopsPlanError
from mlops_plan.files import write_atomic
from mlops_plan.findings import Severity, summarize

if TYPE_CHECKING:
    from mlops_plan.plan import Plan
    from mlops_plan.state import Backend
from mlops_plan.analysis import (
    PLAN_TIME_RULES,
    Analysis,
    LintResult,
    Loaded,
    analyze,
    apply_rule_settings,
    finish,
    load_repository,
    read_lock,
    rule_findings,
    stale_lock_findings,
)
from mlops_plan.validate import Repository

__all__ = [
    "Analysis",
    "LintResult",
    "Loaded",
    "analyze",
    "apply_rule_settings",
    "load_repository",
    "read_lock",
    "rule_findings",
    "stale_lock_findings",
]


def lint(
    path: Path,
    locked: bool = False,
    base: str | None = None,
    now: dt.datetime | None = None,
    no_ignore: bool = False,
    use_cache: bool = True,
) -> LintResult:
    """Every finding of the repository; with `base`, the plan-time rules too.

    With the cache on, a plain lint starts from the last one's snapshot and analyses only
    what changed since (incremental.py); it falls back to a full lint whenever that is
    not exact.
    """
    incremental_lint = use_cache and base is None and not locked and not _cache_off()
    if incremental_lint:
        from mlops_plan import incremental

        started_ns = time.time_ns()
        root = load.find_root(path)
        options = {"no_ignore": no_ignore}
        outcome = incremental.lint(root, options)
        if outcome is not None:
            return LintResult(
                root=root,
                findings=outcome.findings,
                summary=summarize(outcome.findings, outcome.files),
            )
    analysis = analyze(path, use_cache=use_cache)
    if base is not None:
        findings = build_plan(
            analysis, base, now, no_ignore=no_ignore, locked=locked, use_cache=use_cache
        ).findings
    else:
        raw = [*analysis.loaded.findings, *analysis.lock_findings, *rule_findings(analysis)]
        if locked:
            raw.extend(stale_lock_findings(analysis))
        not_run = set(PLAN_TIME_RULES) | (set() if locked else {"MP307"})
        findings = finish(raw, analysis, no_ignore=no_ignore, not_run=not_run)
        if incremental_lint:
            config = analysis.repo.config
            texts = analysis.loaded.locator.texts
            incremental.record(
                analysis.loaded,
                findings,
                incremental.context_digest(
                    {rel: texts.get(rel) for rel in incremental.CONTEXT_FILES}, options
                ),
                tuple(config.include),
                (*config.exclude, load.CONFIG_FILE),
                started_ns,
            )
    return LintResult(
        root=analysis.repo.root,
        findings=findings,
        summary=summarize(findings, analysis.loaded.files),
    )


class LockResult(BaseModel):
    path: Path
    changes: list[str]
    written: bool


def lock(path: Path, check: bool = False, upgrade: bool = False) -> LockResult:
    """Write (or with `check`, compare) mlops-plan.lock; refuse while errors remain."""
    from mlops_plan.resolve import lock_changes, lock_entries, render_lock

    analysis = analyze(path, use_lock=not upgrade)
    # a broken lockfile (a merge conflict, say) is regenerated, as cargo and uv do: it is
    # generated data, and `lock` is how it is repaired
    errors = [
        f
        for f in apply_rule_settings(
            [*analysis.loaded.findings, *rule_findings(analysis)], analysis.repo
        )
        if f.severity == Severity.ERROR
    ]
    if errors and not check:
        first = errors[0]
        raise MlopsPlanError(
            f"cannot lock: {len(errors)} error(s), first {first.file}:{first.line}:"
            f"{first.col}: {first.rule} {first.message}",
            "run `mlops-plan lint` and fix the errors first",
        )
    entries = lock_entries(analysis.resolution)
    changes = lock_changes(analysis.lock, entries)
    target = analysis.repo.root / load.LOCK_FILE
    if check or (not changes and target.exists()):
        return LockResult(path=target, changes=changes, written=False)
    write_atomic(target, render_lock(entries))
    return LockResult(path=target, changes=changes, written=True)


def _cache_off() -> bool:
    return bool(os.environ.get("MLOPS_PLAN_NO_CACHE"))


def state_backend(repo: Repository) -> Backend:
    from mlops_plan.state import backend_for

    return backend_for(repo.config.state, repo.root)


def parse_now(text: str | None) -> dt.datetime:
    """The run's clock: --now, else MLOPS_PLAN_NOW, else the system clock; read once."""
    raw = text or os.environ.get("MLOPS_PLAN_NOW")
    if not raw:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise MlopsPlanError(
            f'"{raw}" is not a timestamp', 'use ISO 8601, e.g. "2026-12-22T10:00:00Z"'
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def analyze_base(
    head: Analysis, base: str, use_cache: bool = True
) -> tuple[Analysis, dict[str, object]]:
    """The base of a plan: a folder (any VCS export) or a git ref's merge-base with HEAD."""
    from mlops_plan.incremental import derive_base

    folder = Path(base)
    if folder.is_dir():
        source = load.Source(folder.resolve())
        derived = derive_base(head, source)
        return derived or analyze(source, use_cache=use_cache), {
            "kind": "dir",
            "ref": base,
            "commit": None,
        }
    from mlops_plan import vcs

    source = vcs.base_source(head.repo.root, base)
    derived = derive_base(head, source)
    return derived or analyze(source, use_cache=use_cache), {
        "kind": "git",
        "ref": base,
        "commit": source.commit.hexsha,
    }


def plan(
    path: Path, base: str | None = None, now: dt.datetime | None = None, use_cache: bool = True
) -> Plan:
    return build_plan(analyze(path, use_cache=use_cache), base, now, use_cache=use_cache)


def build_plan(
    head: Analysis,
    base: str | None = None,
    now: dt.datetime | None = None,
    *,
    no_ignore: bool = False,
    locked: bool = False,
    use_cache: bool = True,
) -> Plan:
    from mlops_plan import plan as planning
    from mlops_plan import plan_rules, vcs

    base_analysis: Analysis | None = None
    base_info: dict[str, object] | None = None
    prior: dict[str, dict[str, Any]] | None = None
    prior_state: dict[str, object] | None = None
    pending: list[dict[str, object]] = []
    if base is not None:
        base_analysis, base_info = analyze_base(head, base, use_cache)
    else:
        state = state_backend(head.repo).read()
        prior = dict(state.resources) if state is not None else {}
        prior_state = {
            "lineage": state.lineage if state is not None else None,
            "serial": state.serial if state is not None else 0,
        }
        if state is not None:
            pending = [p.model_dump() for p in state.pending]
    changes = planning.compute(base_analysis, head, prior)
    clock = now or parse_now(None)
    findings = [
        *head.loaded.findings,
        *head.lock_findings,
        *rule_findings(head),
        *plan_rules.check(base_analysis, head, changes, clock),
    ]
    if locked:
        findings.extend(stale_lock_findings(head))
    findings = finish(findings, head, no_ignore=no_ignore, not_run=set() if locked else {"MP307"})
    files = sorted({origin[0] for origin in head.repo.origins.values()})
    revision = vcs.revision(head.repo.root, files)
    result = planning.Plan(
        source={
            "root": vcs.relative_root(head.repo.root),
            "git_commit": revision.commit,
            "dirty": revision.dirty,
            "config_digest": planning.config_digest(head),
        },
        base=base_info,
        prior_state=prior_state,
        pending_operations=pending,
        summary=planning.summarize(changes),
        resource_changes=changes,
        registry_changes=(
            planning.registry_changes(base_analysis, head) if base_analysis is not None else []
        ),
        findings=findings,
        errored=any(f.severity == Severity.ERROR for f in findings),
    )
    return result.with_id()


def parse_duration(text: str) -> float:
    """`30s`, `2m`, `1h` or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    raw = text.strip()
    try:
        if raw and raw[-1] in units:
            return float(raw[:-1]) * units[raw[-1]]
        return float(raw)
    except ValueError:
        raise MlopsPlanError(f'"{text}" is not a duration', 'e.g. "30s", "2m", "0"') from None


def apply(
    path: Path,
    planfile: Path | None,
    *,
    auto_approve: bool,
    allow_protected: bool,
    lock_timeout: float,
    confirm: Any,
    echo: Any,
    now: dt.datetime | None = None,
) -> Any:
    """Apply a saved plan, or plan against the state and apply after confirmation.

    `confirm(question) -> bool` asks the operator (False when nobody can answer);
    `echo(text)` prints progress. Returns the ApplyReport, or None when nothing was done.
    """
    from mlops_plan import apply as applying
    from mlops_plan import vcs
    from mlops_plan.render import plan_text
    from mlops_plan.state import StateError

    head = analyze(path)
    backend = state_backend(head.repo)
    document: dict[str, Any] | None = None
    if planfile is not None:
        read = applying.read_plan(planfile)
        saved, document = read.plan, read.document
    else:
        saved = build_plan(head, None, now)
        echo(plan_text.render(saved))
        if saved.errored:
            raise applying.ApplyRefused("the configuration has errors; nothing was applied")
        if not saved.resource_changes:
            return None
        if not auto_approve and not confirm(
            "Do you want to perform these actions? Only 'yes' will be accepted"
        ):
            raise applying.ApplyRefused(
                "Apply cancelled: not approved",
                "answer yes at the prompt, or pass --auto-approve (never without review)",
            )
    if not saved.resource_changes:
        applying.verify(saved, backend.read(), head, document)
        echo("No changes. Your deployments match the configuration.")
        return None
    revision = vcs.revision(head.repo.root)
    environments = sorted({c.environment for c in saved.resource_changes})
    held: list[tuple[str, str]] = []
    try:
        for environment in environments:
            info = backend.lock(environment, "apply", revision.commit, lock_timeout)
            held.append((environment, info.id))
        applying.verify(saved, backend.read(), head, document)
        risky = applying.needs_approval(saved)
        if risky and not allow_protected:
            listing = "\n".join(
                f"  {c.address}: {c.notes[0] if c.downgrade else 'destroy'}" for c in risky
            )
            echo(f"Protected environments will see destroys or downgrades:\n{listing}")
            if not confirm("Apply them? Only 'yes' will be accepted"):
                raise applying.ApplyRefused(
                    "Apply refused: destroys and downgrades in protected environments need "
                    "approval",
                    "answer yes at the prompt, or pass --allow-protected",
                )
        return applying.execute(saved, head, backend, revision.commit, echo)
    finally:
        for environment, lock_id in reversed(held):
            try:
                backend.unlock(environment, lock_id)
            except StateError as exc:  # pragma: no cover - the lock was broken meanwhile
                echo(f"Warning: {exc.message}")
