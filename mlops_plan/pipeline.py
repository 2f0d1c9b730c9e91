"""The stages wired together: options in, one result object out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_plan import load
from mlops_plan import model as m
from mlops_plan.errors import MlopsPlanError
from mlops_plan.findings import Anchor, Finding, Severity, Summary, summarize
from mlops_plan.load import Locator

if TYPE_CHECKING:
    from mlops_plan.effective import EffectiveDeployment
    from mlops_plan.plan import Plan
    from mlops_plan.resolve import Resolution
    from mlops_plan.state import Backend
from mlops_plan.validate import (
    Repository,
    schema_findings,
    validate_config,
    validate_documents,
)


class LintResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    root: Path
    findings: list[Finding]
    summary: Summary

    def failed(self, strict: bool = False) -> bool:
        if self.summary.errors:
            return True
        return strict and self.summary.warnings > 0


@dataclass
class Loaded:
    """A repository read and validated: what every command starts from."""

    repo: Repository
    locator: Locator
    findings: list[Finding]
    files: int


def load_repository(path: Path | load.Source) -> Loaded:
    """Read, parse and validate a repository from a folder (finding its root) or a source."""
    source = path if isinstance(path, load.Source) else load.Source(load.find_root(path))
    root = source.root
    locator = Locator(source)
    raw_config, config_text, findings = load.parse_config(source)
    if config_text is not None:
        locator.texts[load.CONFIG_FILE] = config_text
    config, config_findings = validate_config(raw_config, locator)
    findings.extend(config_findings)
    files, discovery_findings = source.files(config.include, [*config.exclude, load.CONFIG_FILE])
    findings.extend(discovery_findings)
    docs: list[load.RawDoc] = []
    for rel in files:
        text = source.read_text(rel)
        if isinstance(text, Finding):
            findings.append(text)
            continue
        file_docs, file_findings = load.parse(rel, text)
        if file_findings or file_docs:
            locator.texts[rel] = text
        docs.extend(file_docs)
        findings.extend(file_findings)
    repo = Repository(root=root, config=config)
    findings.extend(validate_documents(repo, docs, locator))
    return Loaded(repo=repo, locator=locator, findings=findings, files=len(files))


def read_lock(loaded: Loaded) -> tuple[m.LockFile | None, list[Finding]]:
    raw, text, findings = load.read_mapping(loaded.locator.source, load.LOCK_FILE)
    if text is not None:
        loaded.locator.texts[load.LOCK_FILE] = text
    if raw is None:
        return None, findings
    try:
        return m.LockFile.model_validate(raw), findings
    except ValidationError as exc:
        anchor = Anchor(load.LOCK_FILE, 0, ())
        schema = m.LockFile.model_json_schema(by_alias=True)
        return None, findings + schema_findings(exc, raw, anchor, loaded.locator, schema)


@dataclass
class Analysis:
    """A repository resolved: effective deployments, their versions, the lock."""

    loaded: Loaded
    deployments: list[EffectiveDeployment]
    resolution: Resolution
    lock: m.LockFile | None
    lock_findings: list[Finding]

    @property
    def repo(self) -> Repository:
        return self.loaded.repo


def analyze(path: Path | load.Source, use_lock: bool = True) -> Analysis:
    from mlops_plan.effective import effective_deployments
    from mlops_plan.resolve import pins, resolve

    loaded = load_repository(path)
    lock, lock_findings = read_lock(loaded)
    deployments = effective_deployments(loaded.repo)
    resolution = resolve(loaded.repo, deployments, pins(lock) if use_lock else None)
    return Analysis(loaded, deployments, resolution, lock, lock_findings)


def rule_findings(analysis: Analysis) -> list[Finding]:
    from mlops_plan import rules
    from mlops_plan.rules.base import Context

    ctx = Context(
        repo=analysis.repo,
        locator=analysis.loaded.locator,
        deployments=analysis.deployments,
        resolution=analysis.resolution,
    )
    return rules.run(ctx)


def apply_rule_settings(findings: list[Finding], repo: Repository) -> list[Finding]:
    """Severity overrides and `off` from mlops-plan.yaml `rules:`, then a stable order."""
    settings = repo.config.rules
    out: list[Finding] = []
    for finding in findings:
        setting = settings.get(finding.rule)
        if setting == "off":
            continue
        if setting is not None and setting != finding.severity:
            finding = finding.model_copy(update={"severity": Severity(setting)})
        out.append(finding)
    out.sort(key=Finding.sort_key)
    return out


def stale_lock_findings(analysis: Analysis) -> list[Finding]:
    from mlops_plan.resolve import lock_changes, lock_entries

    if analysis.lock is None and not analysis.lock_findings:
        return [
            Finding(
                rule="MP307",
                severity=Severity.ERROR,
                file=load.LOCK_FILE,
                line=None,
                col=None,
                message="no lockfile, and --locked needs one",
                hint="run `mlops-plan lock` and commit mlops-plan.lock",
            )
        ]
    if analysis.lock is None:
        return []
    changes = lock_changes(analysis.lock, lock_entries(analysis.resolution))
    if not changes:
        return []
    shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
    return [
        Finding(
            rule="MP307",
            severity=Severity.ERROR,
            file=load.LOCK_FILE,
            line=None,
            col=None,
            message=f"mlops-plan.lock is out of date ({len(changes)} changes): {shown}",
            hint="run `mlops-plan lock` and commit mlops-plan.lock",
        )
    ]


def lint(
    path: Path, locked: bool = False, base: str | None = None, now: dt.datetime | None = None
) -> LintResult:
    analysis = analyze(path)
    if base is not None:
        findings = list(build_plan(analysis, base, now).findings)
    else:
        findings = [*analysis.loaded.findings, *analysis.lock_findings, *rule_findings(analysis)]
    if locked:
        findings.extend(stale_lock_findings(analysis))
    findings = apply_rule_settings(findings, analysis.repo)
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
    errors = [
        f
        for f in apply_rule_settings(
            [*analysis.loaded.findings, *analysis.lock_findings, *rule_findings(analysis)],
            analysis.repo,
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


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that a crash leaves either the old or the new content."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def state_backend(repo: Repository) -> Backend:
    from mlops_plan.state import backend_for

    return backend_for(repo.config.state, repo.root)


def parse_now(text: str | None) -> dt.datetime:
    """The run's clock: --now, else MLOPS_PLAN_NOW, else the system clock; read once."""
    import os

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


def analyze_base(head: Analysis, base: str) -> tuple[Analysis, dict[str, object]]:
    """The base of a plan: a folder (any VCS export) or a git ref's merge-base with HEAD."""
    folder = Path(base)
    if folder.is_dir():
        return analyze(load.Source(folder.resolve())), {
            "kind": "dir",
            "ref": base,
            "commit": None,
        }
    from mlops_plan import vcs

    source = vcs.base_source(head.repo.root, base)
    return analyze(source), {"kind": "git", "ref": base, "commit": source.commit.hexsha}


def plan(path: Path, base: str | None = None, now: dt.datetime | None = None) -> Plan:
    return build_plan(analyze(path), base, now)


def build_plan(head: Analysis, base: str | None = None, now: dt.datetime | None = None) -> Plan:
    from mlops_plan import plan as planning
    from mlops_plan import plan_rules, vcs

    base_analysis: Analysis | None = None
    base_info: dict[str, object] | None = None
    prior: dict[str, dict[str, Any]] | None = None
    prior_state: dict[str, object] | None = None
    pending: list[dict[str, object]] = []
    if base is not None:
        base_analysis, base_info = analyze_base(head, base)
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
    findings = apply_rule_settings(findings, head.repo)
    revision = vcs.revision(head.repo.root)
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
        registry_changes=planning.registry_changes(base_analysis, head),
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
    if planfile is not None:
        saved = applying.read_plan(planfile)
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
        echo("No changes. Your deployments match the configuration.")
        return None
    revision = vcs.revision(head.repo.root)
    environments = sorted({c.environment for c in saved.resource_changes})
    held: list[tuple[str, str]] = []
    try:
        for environment in environments:
            info = backend.lock(environment, "apply", revision.commit, lock_timeout)
            held.append((environment, info.id))
        applying.verify(saved, backend.read(), head)
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
