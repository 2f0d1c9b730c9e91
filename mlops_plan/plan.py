"""Plan: effective, resolved deployments of a base against the working tree, as changes
with their causes. A plan is a value: renderers print it, `apply` consumes it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, Field

from mlops_plan import __version__
from mlops_plan import model as m
from mlops_plan.analysis import Analysis
from mlops_plan.effective import EffectiveDeployment
from mlops_plan.findings import Anchor, Finding
from mlops_plan.resolve import Resolved, release_of, version, version_of
from mlops_plan.secrets import SENSITIVE, looks_secret

FORMAT_VERSION = "1.0"
REPLACE_FIELDS = ("runtime", "target")


class Cause(BaseModel):
    address: str
    reason: str
    file: str | None = None
    line: int | None = None


class ResourceChange(BaseModel):
    address: str
    environment: str
    name: str
    actions: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed_paths: list[list[str]]
    replace_paths: list[list[str]]
    causes: list[Cause]
    notes: list[str] = Field(default_factory=list)
    protected: bool = False

    @property
    def downgrade(self) -> bool:
        return any(n.startswith("DOWNGRADE") for n in self.notes)


class RegistryChange(BaseModel):
    address: str
    actions: list[str]
    reason: str
    file: str | None = None
    line: int | None = None


class PlanSummary(BaseModel):
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0


class Plan(BaseModel):
    format_version: str = FORMAT_VERSION
    tool: dict[str, str] = Field(
        default_factory=lambda: {"name": "mlops-plan", "version": __version__}
    )
    plan_id: str = ""
    source: dict[str, Any]
    base: dict[str, Any] | None
    prior_state: dict[str, Any] | None = None
    pending_operations: list[dict[str, Any]] = Field(default_factory=list)
    summary: PlanSummary
    resource_changes: list[ResourceChange]
    registry_changes: list[RegistryChange]
    findings: list[Finding]
    errored: bool = False

    def canonical(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data.pop("plan_id", None)
        return data

    def with_id(self) -> Plan:
        return self.model_copy(update={"plan_id": plan_id_of(self.canonical())})

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    @property
    def has_changes(self) -> bool:
        return bool(self.resource_changes)


def plan_id_of(document: dict[str, Any]) -> str:
    """The sha256 of the canonical JSON (sorted keys) of a plan document without plan_id."""
    data = {k: v for k, v in document.items() if k != "plan_id"}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def env_value(name: str, value: m.SecretEnv | str) -> Any:
    if isinstance(value, m.SecretEnv):
        return {"secretRef": {"name": value.secret_ref.name, "key": value.secret_ref.key}}
    return SENSITIVE if looks_secret(name, value) else value


def effective_object(item: Resolved) -> dict[str, Any] | None:
    """The object a plan compares and state records (DESIGN §5 `before`/`after`)."""
    if item.version is None or item.placement is None:
        return None
    eff = item.deployment
    canary = None
    if eff.canary is not None:
        canary = {
            "version": eff.canary.version,
            "weight": eff.canary.weight,
            "digest": item.canary.artifact.digest if item.canary is not None else None,
        }
    return {
        "model": eff.model,
        "version": item.version.version,
        "digest": item.version.artifact.digest,
        "runtime": item.placement.runtime,
        "runtimeVersion": item.placement.release.version,
        "image": item.placement.release.image,
        "target": item.placement.target,
        "replicas": eff.replicas,
        "canary": canary,
        "env": {k: env_value(k, v) for k, v in sorted(eff.env.items())},
    }


_Known = dict[int, tuple[Resolved, dict[str, Any] | None]]


def objects(
    analysis: Analysis | None,
    known: _Known | None = None,
    skip: Collection[str] = (),
) -> dict[str, dict[str, Any]]:
    """The effective objects of an analysis, by address (but those in `skip`). `known`
    remembers them by resolution item, for items two analyses share."""
    if analysis is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for address, item in analysis.resolution.resolved.items():
        if address in skip:
            continue
        seen = known.get(id(item)) if known is not None else None
        if seen is not None and seen[0] is item:
            obj = seen[1]
        else:
            obj = effective_object(item)
            if known is not None:
                known[id(item)] = (item, obj)
        if obj is not None:
            out[address] = obj
    return out


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> list[list[str]]:
    """Paths (top-level attribute, then key) that differ, via deepdiff."""
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, view="tree", verbose_level=2)
    paths: set[tuple[str, ...]] = set()
    for levels in diff.values():
        for level in levels:
            path = [str(p) for p in level.path(output_format="list")]
            paths.add(tuple(path[:2]) if path and path[0] in {"env", "canary"} else tuple(path[:1]))
    return [list(p) for p in sorted(paths)]


def _position(analysis: Analysis, anchor: Anchor) -> tuple[str, int | None]:
    line, _ = analysis.loaded.locator.position(anchor)
    return anchor.file, line


def _cause(analysis: Analysis, address: str, reason: str, anchor: Anchor | None) -> Cause:
    if anchor is None:
        return Cause(address=address, reason=reason)
    file, line = _position(analysis, anchor)
    return Cause(address=address, reason=reason, file=file, line=line)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, m.Canary):
        return f"{value.version}@{value.weight}%"
    return str(value)


def causes_of(
    address: str,
    base: Analysis | None,
    head: Analysis,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> list[Cause]:
    """The upstream declaration changes that produce this change, with file:line."""
    out: list[Cause] = []
    hb = base.resolution.resolved.get(address) if base is not None else None
    hh = head.resolution.resolved.get(address)
    environment, name = address.split(".", 2)[1:]
    if after is None:
        if head.repo.deployments.get(name) is None:
            origin = base.repo.origins.get(("Deployment", name)) if base is not None else None
            return [
                Cause(
                    address=f"deployment.{name}",
                    reason="removed",
                    file=origin[0] if origin else None,
                )
            ]
        if environment not in head.repo.environments:
            origin = base.repo.origins.get(("Environment", environment)) if base else None
            out.append(
                Cause(
                    address=f"environment.{environment}",
                    reason="environment removed",
                    file=origin[0] if origin else None,
                )
            )
        if environment not in head.repo.deployments[name].spec.environments:
            anchor = head.repo.anchor("Deployment", name, "spec", "environments", key=True)
            out.append(
                _cause(
                    head,
                    f"deployment.{name}",
                    f"{environment} removed from spec.environments",
                    anchor,
                )
            )
        if not out and hh is not None:
            out.append(
                _cause(
                    head,
                    address,
                    f"no longer resolvable ({hh.unplaced or 'see findings'})",
                    hh.deployment.anchor(head.repo),
                )
            )
        return out
    assert hh is not None
    eff = hh.deployment
    if before is None:
        if base is None or base.repo.deployments.get(name) is None:
            anchor = head.repo.anchor("Deployment", name, "metadata", "name")
            return [_cause(head, f"deployment.{name}", "added", anchor)]
        if hb is None:
            return [
                _cause(
                    head,
                    f"deployment.{name}",
                    f"{environment} added to spec.environments",
                    eff.anchor(head.repo),
                )
            ]
        return [_cause(head, address, "now resolvable", eff.anchor(head.repo))]
    if hb is None:
        return _field_causes(head, eff, before, after)
    effb = hb.deployment
    where = f"spec.environments.{environment}"
    for field in ("version", "runtime", "target", "replicas", "canary"):
        old, new = getattr(effb, field), getattr(eff, field)
        if old != new:
            prefix = where if field in eff.overridden else "spec"
            out.append(
                _cause(
                    head,
                    f"deployment.{name}",
                    f"{prefix}.{field} {_show(old)} -> {_show(new)}",
                    _declared_at(head, eff, field),
                )
            )
    if effb.env != eff.env:
        keys = sorted(k for k in set(effb.env) | set(eff.env) if effb.env.get(k) != eff.env.get(k))
        prefix = (
            where
            if "env" in eff.overridden
            and any(
                k in head.repo.deployments[name].spec.environments[environment].env for k in keys
            )
            else "spec"
        )
        out.append(
            _cause(
                head,
                f"deployment.{name}",
                f"{prefix}.env changed ({', '.join(keys)})",
                _declared_at(head, eff, "env")
                if prefix != "spec"
                else head.repo.anchor("Deployment", name, "spec", "env", keys[0]),
            )
        )
    if (
        before["runtimeVersion"] != after["runtimeVersion"]
        and before["runtime"] == after["runtime"]
    ):
        anchor = head.repo.anchor("Environment", environment, "spec", "runtimes", after["runtime"])
        out.append(
            _cause(
                head,
                f"environment.{environment}",
                f"runtimes.{after['runtime']} changed {before['runtimeVersion']} -> "
                f"{after['runtimeVersion']}",
                anchor,
            )
        )
    if before["image"] != after["image"] and before["runtimeVersion"] == after["runtimeVersion"]:
        out.append(
            _release_cause(
                head,
                after["runtime"],
                after["runtimeVersion"],
                "image",
                f"image changed {before['image']} -> {after['image']}",
            )
        )
    if before["version"] != after["version"] and not any(
        c.reason.startswith((f"{where}.version", "spec.version")) for c in out
    ):
        out.extend(
            _version_causes(base, head, eff.model, before["version"], after["version"], address)
        )
    if before["version"] == after["version"] and before["digest"] != after["digest"]:
        out.append(
            _model_version_cause(head, eff.model, after["version"], "digest", "digest changed")
        )
    if not out:
        out.append(_cause(head, address, "resolution changed", eff.anchor(head.repo)))
    return out


def _field_causes(
    head: Analysis, eff: EffectiveDeployment, before: dict[str, Any], after: dict[str, Any]
) -> list[Cause]:
    """Causes against the applied state (no base configuration): where each changed
    attribute is declared now, and what the state holds."""
    out: list[Cause] = []
    for key in (
        "version",
        "runtime",
        "runtimeVersion",
        "image",
        "target",
        "replicas",
        "canary",
        "env",
        "digest",
    ):
        if before.get(key) == after.get(key):
            continue
        applied = f"applied {_short(before.get(key))}, configured {_short(after.get(key))}"
        if key == "runtimeVersion":
            anchor = head.repo.anchor(
                "Environment", eff.environment, "spec", "runtimes", after["runtime"]
            )
            out.append(
                _cause(
                    head,
                    f"environment.{eff.environment}",
                    f"runtimes.{after['runtime']}: {applied}",
                    anchor,
                )
            )
        elif key == "image":
            out.append(
                _release_cause(
                    head, after["runtime"], after["runtimeVersion"], "image", f"image: {applied}"
                )
            )
        elif key == "digest":
            out.append(
                _model_version_cause(
                    head, eff.model, after["version"], "digest", f"digest: {applied}"
                )
            )
        elif (key == "version" and eff.version is None) or key not in OVERRIDE_FIELDS:
            out.append(
                _cause(head, f"deployment.{eff.name}", f"{key}: {applied}", eff.anchor(head.repo))
            )
        else:
            out.append(
                _cause(
                    head,
                    f"deployment.{eff.name}",
                    f"{key}: {applied}",
                    _declared_at(head, eff, key),
                )
            )
    return out


OVERRIDE_FIELDS = frozenset({"version", "runtime", "target", "replicas", "canary", "env"})


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{…}" if value else "{}"
    return "(none)" if value is None else str(value)


def _declared_at(head: Analysis, eff: EffectiveDeployment, field: str) -> Anchor:
    """Where a field of an effective deployment is written: the override, else the base."""
    if field in eff.overridden:
        return eff.anchor(head.repo, field)
    return head.repo.anchor("Deployment", eff.name, "spec", field)


def _release_cause(head: Analysis, runtime: str, release: str, field: str, reason: str) -> Cause:
    declared = head.repo.runtimes.get(runtime)
    anchor = None
    if declared is not None:
        for i, entry in enumerate(declared.spec.versions):
            if entry.version == release:
                anchor = head.repo.anchor("Runtime", runtime, "spec", "versions", i, field)
    return _cause(head, f"runtime.{runtime}@{release}", reason, anchor)


def _model_version_cause(head: Analysis, model: str, ver: str, field: str, reason: str) -> Cause:
    declared = head.repo.models.get(model)
    anchor = None
    if declared is not None:
        for i, entry in enumerate(declared.spec.versions):
            if entry.version == ver:
                path: tuple[str | int, ...] = ("spec", "versions", i)
                if field == "digest":
                    path = (*path, "artifact", "digest")
                anchor = head.repo.anchor("Model", model, *path)
    return _cause(head, f"model.{model}@{ver}", reason, anchor)


def _version_causes(
    base: Analysis | None, head: Analysis, model: str, old: str, new: str, address: str
) -> list[Cause]:
    out: list[Cause] = []
    base_model = base.repo.models.get(model) if base is not None else None
    head_model = head.repo.models.get(model)
    old_pin = base.lock.deployments.get(address) if base is not None and base.lock else None
    new_pin = head.lock.deployments.get(address) if head.lock else None
    if new_pin is not None and (old_pin is None or old_pin.version != new_pin.version):
        out.append(
            Cause(
                address="mlops-plan.lock",
                reason=f"pin {old_pin.version if old_pin else '(none)'} -> {new_pin.version}",
                file="mlops-plan.lock",
            )
        )
    if base_model is not None and version_of(base_model, new) is None:
        out.append(_model_version_cause(head, model, new, "version", f"version {new} added"))
    if head_model is not None:
        entry = version_of(head_model, old)
        if entry is None:
            out.append(Cause(address=f"model.{model}", reason=f"version {old} removed"))
        elif base_model is not None:
            previous = version_of(base_model, old)
            if previous is not None and previous.status != entry.status:
                out.append(
                    _model_version_cause(
                        head, model, old, "version", f"version {old} {entry.status}"
                    )
                )
    return out


def registry_changes(base: Analysis | None, head: Analysis) -> list[RegistryChange]:
    """Model versions and runtime releases added, removed or changed since the base."""
    out = [
        *_registry_diff(
            "model",
            base.repo.models if base is not None else {},
            head.repo.models,
            lambda ver, entry: f"version {ver} added ({entry.status})",
            _version_update,
            lambda name, ver: _model_version_cause(head, name, ver, "version", ""),
        ),
        *_registry_diff(
            "runtime",
            base.repo.runtimes if base is not None else {},
            head.repo.runtimes,
            lambda ver, _: f"release {ver} added",
            lambda _old, _new: "release changed",
            lambda name, ver: _release_cause(head, name, ver, "version", ""),
        ),
    ]
    return sorted(out, key=lambda c: c.address)


def _registry_diff(
    kind: str,
    before: Mapping[str, m.Model | m.Runtime],
    after: Mapping[str, m.Model | m.Runtime],
    added: Callable[[str, Any], str],
    updated: Callable[[Any, Any], str],
    cause_of: Callable[[str, str], Cause],
) -> Iterator[RegistryChange]:
    """The changes of one kind's entries (model versions, runtime releases), by address."""
    word = "version" if kind == "model" else "release"
    for name in sorted(set(before) | set(after)):
        old_doc, new_doc = before.get(name), after.get(name)
        if old_doc is new_doc:
            continue  # one declaration (a base derived from its head shares them)
        old = {e.version: e for e in old_doc.spec.versions} if old_doc is not None else {}
        new = {e.version: e for e in new_doc.spec.versions} if new_doc is not None else {}
        for ver in sorted(set(old) | set(new), key=version):
            a, b = old.get(ver), new.get(ver)
            address = f"{kind}.{name}@{ver}"
            if b is None:
                yield RegistryChange(
                    address=address, actions=["delete"], reason=f"{word} {ver} removed"
                )
                continue
            if a is not None and a == b:
                continue
            cause = cause_of(name, ver)
            yield RegistryChange(
                address=address,
                actions=["create"] if a is None else ["update"],
                reason=added(ver, b) if a is None else updated(a, b),
                file=cause.file,
                line=cause.line,
            )


def _version_update(old: m.ModelVersion, new: m.ModelVersion) -> str:
    parts = []
    if old.status != new.status:
        parts.append(f"status {old.status} -> {new.status}")
    if old.artifact != new.artifact:
        parts.append("artifact changed")
    if old.requires != new.requires:
        parts.append("requires changed")
    return ", ".join(parts) or "changed"


def compute(
    base: Analysis | None,
    head: Analysis,
    prior: dict[str, dict[str, Any]] | None = None,
) -> list[ResourceChange]:
    """Changes from `base` (or, when given, the `prior` objects of the state) to `head`."""
    known: _Known = {}
    if prior is None and base is not None:
        # a base derived from its head shares the resolution of everything the change
        # does not reach: those deployments cannot have changed
        shared = {
            address
            for address, item in head.resolution.resolved.items()
            if base.resolution.resolved.get(address) is item
        }
        before_all = objects(base, known, skip=shared)
        after_all = objects(head, known, skip=shared)
    else:
        after_all = objects(head, known)
        before_all = prior if prior is not None else objects(base, known)
    changes: list[ResourceChange] = []
    for address in sorted(set(before_all) | set(after_all)):
        before, after = before_all.get(address), after_all.get(address)
        if before == after:
            continue
        environment, name = address.split(".", 2)[1:]
        paths: list[list[str]] = []
        replace: list[list[str]] = []
        if before is None:
            actions = ["create"]
        elif after is None:
            actions = ["delete"]
        else:
            paths = changed_paths(before, after)
            replace = [p for p in paths if p[0] in REPLACE_FIELDS]
            actions = ["delete", "create"] if replace else ["update"]
        notes = []
        if (
            before is not None
            and after is not None
            and version(after["version"]) < version(before["version"])
        ):
            notes.append(f"DOWNGRADE {before['version']} -> {after['version']}")
        env_doc = head.repo.environments.get(environment) or (
            base.repo.environments.get(environment) if base is not None else None
        )
        changes.append(
            ResourceChange(
                address=address,
                environment=environment,
                name=name,
                actions=actions,
                before=before,
                after=after,
                changed_paths=paths,
                replace_paths=replace,
                causes=causes_of(address, base, head, before, after),
                notes=notes,
                protected=bool(env_doc and env_doc.spec.protected),
            )
        )
    return changes


def summarize(changes: list[ResourceChange]) -> PlanSummary:
    summary = PlanSummary()
    for change in changes:
        if change.actions == ["create"]:
            summary.add += 1
        elif change.actions == ["delete"]:
            summary.destroy += 1
        elif change.actions == ["update"]:
            summary.change += 1
        else:
            summary.replace += 1
    return summary


def config_digest(analysis: Analysis) -> str:
    """A digest of what apply must see unchanged: documents, mlops-plan.yaml, the lock."""
    from mlops_plan.load import CONFIG_FILE, LOCK_FILE

    locator = analysis.loaded.locator
    digest = hashlib.sha256()
    files = sorted({origin[0] for origin in analysis.repo.origins.values()})
    for rel in [*files, CONFIG_FILE, LOCK_FILE]:
        text = locator.text(rel) if locator.source.exists(rel) else None
        if text is not None:
            digest.update(rel.encode() + b"\0" + text.encode() + b"\0")
    return "sha256:" + digest.hexdigest()


def release_version(analysis: Analysis, runtime: str, text: str) -> str | None:
    declared = analysis.repo.runtimes.get(runtime)
    release = release_of(declared, text) if declared is not None else None
    return release.version if release is not None else None
