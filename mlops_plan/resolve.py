"""Capability matching and version resolution (DESIGN §2).

For each effective deployment the candidates are the model's versions inside its
specifier, not yanked, compatible with the environment's runtime release and the
deployment's target. The highest candidate wins. Deployments tied together by
`dependsOn` inside one environment are resolved jointly with resolvelib, the resolver
pip uses; the others need no search. Every verdict keeps its reason, so a failure (and
`explain`) can say why each version was or was not chosen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from mlops_plan import model as m
from mlops_plan.effective import EffectiveDeployment
from mlops_plan.validate import Repository


@lru_cache(maxsize=65536)
def version(text: str) -> Version:
    return Version(text)


@lru_cache(maxsize=65536)
def specifier(text: str | None) -> SpecifierSet:
    return SpecifierSet("") if text is None else m.parse_specifier(text)


def is_exact(text: str | None) -> bool:
    """A pin of one version: `2.4.1` or `==2.4.1` (not a wildcard)."""
    if text is None:
        return False
    spec = specifier(text)
    items = list(spec)
    return len(items) == 1 and items[0].operator in {"==", "==="} and "*" not in items[0].version


@lru_cache(maxsize=65536)
def contains(spec_text: str | None, text: str, prereleases: bool) -> bool:
    """Whether a specifier admits a version, both as text, remembered: resolution asks
    the same few questions for thousands of deployments, and packaging answers each
    slowly (and hashes a SpecifierSet slowly: the key is the text)."""
    return specifier(spec_text).contains(version(text), prereleases=prereleases)


@lru_cache(maxsize=65536)
def provided_ok(spec_text: str, provided: str) -> bool:
    """A provided capability version is a fact, not a candidate: prereleases count."""
    try:
        return specifier(spec_text).contains(version(provided), prereleases=True)
    except InvalidVersion:  # pragma: no cover - validated at load
        return False


class Reason(NamedTuple):
    """Why a version cannot run somewhere; `code` groups reasons into rules."""

    code: str  # format | accelerator | arch | requires | runtime-requires | gpu-memory | gpu
    text: str


RESOURCE_CODES = frozenset({"gpu-memory", "gpu"})


def _incompatibilities(
    framework: str,
    model_version: m.ModelVersion,
    runtime: str,
    runtime_spec: m.RuntimeSpec,
    release: m.RuntimeVersion,
    target: str,
    target_spec: m.HardwareTargetSpec,
) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    where = f"{runtime} {release.version}"
    if framework not in runtime_spec.supported_formats:
        reasons.append(
            Reason(
                "format",
                f'{runtime} does not serve the "{framework}" format '
                f"(it serves {', '.join(runtime_spec.supported_formats)})",
            )
        )
    if target_spec.accelerator not in release.accelerators:
        reasons.append(
            Reason("accelerator", f"{where} does not run on {target_spec.accelerator} targets")
        )
    if target_spec.arch not in release.arch:
        reasons.append(Reason("arch", f"{where} has no {target_spec.arch} image"))
    for capability, text in sorted(model_version.requires.items()):
        offers = [
            (who, provides[capability])
            for who, provides in ((where, release.provides), (target, target_spec.provides))
            if capability in provides
        ]
        if not offers:
            reasons.append(
                Reason(
                    "requires",
                    f'needs {capability} "{text}", provided by neither {where} nor {target}',
                )
            )
        elif not any(provided_ok(text, v) for _, v in offers):
            got = ", ".join(f"{who} provides {v}" for who, v in offers)
            reasons.append(Reason("requires", f'needs {capability} "{text}", {got}'))
    for capability, text in sorted(release.requires.items()):
        provided = target_spec.provides.get(capability)
        if provided is None:
            reasons.append(
                Reason(
                    "runtime-requires",
                    f'{where} needs {capability} "{text}", not provided by {target}',
                )
            )
        elif not provided_ok(text, provided):
            reasons.append(
                Reason(
                    "runtime-requires",
                    f'{where} needs {capability} "{text}", {target} provides {provided}',
                )
            )
    resources = model_version.resources
    if resources.accelerator == "gpu" and target_spec.accelerator != "gpu":
        reasons.append(
            Reason("gpu", f"needs a gpu, {target} is a {target_spec.accelerator} target")
        )
    elif resources.gpu_memory is not None:
        gpu = target_spec.gpu
        if gpu is None:
            reasons.append(
                Reason(
                    "gpu-memory", f"needs {resources.gpu_memory} of GPU memory, {target} has no GPU"
                )
            )
        elif m.parse_quantity(resources.gpu_memory) > m.parse_quantity(gpu.memory):
            reasons.append(
                Reason(
                    "gpu-memory",
                    f"needs {resources.gpu_memory} of GPU memory, {target} has {gpu.memory}",
                )
            )
    return tuple(reasons)


@dataclass(frozen=True)
class Placement:
    """Where an effective deployment runs: its runtime release and target, when known."""

    runtime: str
    runtime_spec: m.RuntimeSpec
    release: m.RuntimeVersion
    target: str
    target_spec: m.HardwareTargetSpec


_Key = tuple[str, str, str, str, str]


def incompatibilities(
    model: m.Model,
    model_version: m.ModelVersion,
    placement: Placement,
    cache: dict[_Key, tuple[Reason, ...]] | None = None,
) -> tuple[Reason, ...]:
    """Why `model_version` cannot run on `placement` (empty: it can)."""
    key = (
        model.metadata.name,
        model_version.version,
        placement.runtime,
        placement.release.version,
        placement.target,
    )
    if cache is not None and key in cache:
        return cache[key]
    reasons = _incompatibilities(
        model.spec.framework,
        model_version,
        placement.runtime,
        placement.runtime_spec,
        placement.release,
        placement.target,
        placement.target_spec,
    )
    if cache is not None:
        cache[key] = reasons
    return reasons


class Verdict(NamedTuple):
    """One version considered for a deployment, and why it was or was not a candidate."""

    version: str
    status: str
    reasons: tuple[str, ...]  # empty: a candidate

    @property
    def candidate(self) -> bool:
        return not self.reasons


@dataclass
class Resolved:
    """The outcome of resolution for one effective deployment."""

    deployment: EffectiveDeployment
    placement: Placement | None
    unplaced: str | None = None  # why there is no placement (a reference problem)
    verdicts: list[Verdict] = field(default_factory=list)
    version: m.ModelVersion | None = None
    canary: m.ModelVersion | None = None
    pinned_by_lock: bool = False
    conflict: str | None = None  # a joint (dependsOn) resolution failure

    @property
    def address(self) -> str:
        return self.deployment.address


@dataclass
class Resolution:
    resolved: dict[str, Resolved]
    by_environment: dict[str, list[str]]
    # incompatibilities by (model, version, runtime, release, target), for rules to reuse
    reasons: dict[_Key, tuple[Reason, ...]] = field(default_factory=dict, repr=False)
    _by_model: dict[tuple[str, str], list[Resolved]] | None = field(default=None, repr=False)

    def deployments_of(self, environment: str, model: str) -> list[Resolved]:
        """The deployments of `model` in `environment` (an index: no scan per question)."""
        if self._by_model is None:
            index: dict[tuple[str, str], list[Resolved]] = defaultdict(list)
            for address in sorted(self.resolved):
                item = self.resolved[address]
                index[(item.deployment.environment, item.deployment.model)].append(item)
            self._by_model = dict(index)
        return list(self._by_model.get((environment, model), []))


def placement_of(repo: Repository, eff: EffectiveDeployment) -> Placement | str:
    """The runtime release and target of an effective deployment, or why there is none."""
    environment = repo.environments.get(eff.environment)
    if environment is None:
        return f'environment "{eff.environment}" is not declared'
    if eff.runtime is None:
        return "no runtime is set"
    if eff.target is None:
        return "no target is set"
    runtime = repo.runtimes.get(eff.runtime)
    if runtime is None:
        return f'runtime "{eff.runtime}" is not declared'
    target = repo.targets.get(eff.target)
    if target is None:
        return f'target "{eff.target}" is not declared'
    pinned = environment.spec.runtimes.get(eff.runtime)
    if pinned is None:
        return f'environment "{eff.environment}" pins no release of runtime "{eff.runtime}"'
    if eff.target not in environment.spec.targets:
        return f'target "{eff.target}" is not available in environment "{eff.environment}"'
    release = release_of(runtime, pinned)
    if release is None:
        return f'runtime "{eff.runtime}" has no release "{pinned}"'
    return Placement(eff.runtime, runtime.spec, release, eff.target, target.spec)


def release_of(runtime: m.Runtime, text: str) -> m.RuntimeVersion | None:
    wanted = version(text)
    for release in runtime.spec.versions:
        if version(release.version) == wanted:
            return release
    return None


def version_of(model: m.Model, text: str) -> m.ModelVersion | None:
    for entry in model.spec.versions:
        if entry.version == text:  # the usual case: no PEP 440 parsing
            return entry
    try:
        wanted = version(text)
    except InvalidVersion:
        return None
    for entry in model.spec.versions:
        if version(entry.version) == wanted:
            return entry
    return None


def verdicts(
    model: m.Model,
    spec_text: str | None,
    placement: Placement,
    cache: dict[_Key, tuple[Reason, ...]] | None = None,
    memo: dict[_VerdictKey, tuple[Verdict, ...]] | None = None,
) -> list[Verdict]:
    """Every version of `model`, highest first, with why it is or is not a candidate.

    `memo` remembers the answer per model, specifier and placement: the deployments of
    a model across environments mostly ask the same question."""
    key = (
        model.metadata.name,
        spec_text,
        placement.runtime,
        placement.release.version,
        placement.target,
    )
    if memo is not None and key in memo:
        return list(memo[key])
    out = _verdicts(model, spec_text, placement, cache)
    if memo is not None:
        memo[key] = tuple(out)
    return out


_VerdictKey = tuple[str, str | None, str, str, str]


def _verdicts(
    model: m.Model,
    spec_text: str | None,
    placement: Placement,
    cache: dict[_Key, tuple[Reason, ...]] | None,
) -> list[Verdict]:
    spec = specifier(spec_text)
    exact = is_exact(spec_text)
    entries = sorted(model.spec.versions, key=lambda v: version(v.version), reverse=True)
    finals_match = any(
        contains(spec_text, e.version, False) for e in entries if e.status != "yanked"
    )
    out: list[Verdict] = []
    for entry in entries:
        parsed = version(entry.version)
        reasons: list[str] = []
        if not contains(spec_text, entry.version, True):
            reasons.append(f'outside "{spec_text}"')
        elif parsed.is_prerelease and not (spec.prereleases or exact or not finals_match):
            reasons.append("a prerelease, and the specifier names none")
        if entry.status == "yanked" and not exact:
            reasons.append("yanked")
        if not reasons:
            reasons.extend(r.text for r in incompatibilities(model, entry, placement, cache))
        out.append(Verdict(entry.version, entry.status, tuple(reasons)))
    return out


def resolve(
    repo: Repository,
    deployments: list[EffectiveDeployment],
    pins: Mapping[str, str] | None = None,
    reuse: Resolution | None = None,
    fresh: Collection[str] = (),
) -> Resolution:
    """Resolve every effective deployment; `pins` (from the lockfile) are preferred.

    With `reuse`, the deployments not named in `fresh` take their resolution from it:
    the caller vouches that nothing they depend on differs (incremental.derive_base).
    """
    pins = pins or {}
    reused: set[str] = set()
    cache: dict[_Key, tuple[Reason, ...]] = {}
    memo: dict[_VerdictKey, tuple[Verdict, ...]] = {}
    resolved: dict[str, Resolved] = {}
    by_environment: dict[str, list[str]] = defaultdict(list)
    for eff in deployments:
        by_environment[eff.environment].append(eff.address)
        if reuse is not None and eff.name not in fresh and eff.address in reuse.resolved:
            resolved[eff.address] = reuse.resolved[eff.address]
            reused.add(eff.address)
            continue
        model = repo.models.get(eff.model)
        placement = placement_of(repo, eff)
        if isinstance(placement, str):
            resolved[eff.address] = Resolved(eff, None, unplaced=placement)
            continue
        if model is None:
            resolved[eff.address] = Resolved(
                eff, placement, unplaced=f'model "{eff.model}" is not declared'
            )
            continue
        found = verdicts(model, eff.version, placement, cache, memo)
        item = Resolved(eff, placement, verdicts=found)
        if eff.canary is not None:
            item.canary = version_of(model, eff.canary.version)
        resolved[eff.address] = item
    resolution = Resolution(resolved, dict(by_environment), cache)
    for _environment, addresses in sorted(by_environment.items()):
        todo = [a for a in addresses if a not in reused] if reused else addresses
        _resolve_environment(repo, resolution, todo, pins)
    return resolution


def _ordered_candidates(
    repo: Repository, item: Resolved, pins: Mapping[str, str]
) -> list[m.ModelVersion]:
    model = repo.models[item.deployment.model]
    chosen = [version_of(model, v.version) for v in item.verdicts if v.candidate]
    candidates = [c for c in chosen if c is not None]
    pin = pins.get(item.address)
    if pin is not None:
        pinned = [c for c in candidates if c.version == pin]
        if pinned:
            candidates = pinned + [c for c in candidates if c.version != pin]
    return candidates


def _resolve_environment(
    repo: Repository, resolution: Resolution, addresses: list[str], pins: Mapping[str, str]
) -> None:
    items = [resolution.resolved[a] for a in addresses]
    candidates = {
        i.address: _ordered_candidates(repo, i, pins)
        for i in items
        if i.placement is not None and i.deployment.model in repo.models
    }
    # deployments linked by dependsOn form components; each is one joint problem
    parent = {a: a for a in candidates}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    by_model: dict[str, list[str]] = defaultdict(list)
    for a in candidates:
        by_model[resolution.resolved[a].deployment.model].append(a)
    for a, options in candidates.items():
        for option in options:
            for dep in option.depends_on:
                for b in by_model.get(dep.model, []):
                    parent[find(a)] = find(b)
    components: dict[str, list[str]] = defaultdict(list)
    for a in candidates:
        components[find(a)].append(a)
    for members in components.values():
        if len(members) == 1 and not any(o.depends_on for o in candidates[members[0]]):
            _choose(resolution.resolved[members[0]], candidates[members[0]], pins)
            continue
        _resolve_jointly(resolution, sorted(members), candidates, by_model, pins)


def _choose(item: Resolved, options: list[m.ModelVersion], pins: Mapping[str, str]) -> None:
    if options:
        item.version = options[0]
        item.pinned_by_lock = pins.get(item.address) == options[0].version


class _Requirement(NamedTuple):
    address: str
    spec: str | None
    parent: str | None  # "deployment@version" that asked, None for the root


class _Candidate(NamedTuple):
    address: str
    entry: m.ModelVersion


class _Provider:
    """resolvelib's provider interface over the deployments of one environment."""

    def __init__(
        self,
        candidates: Mapping[str, list[m.ModelVersion]],
        by_model: Mapping[str, list[str]],
    ) -> None:
        self.candidates = candidates
        self.by_model = by_model

    def identify(self, requirement_or_candidate: _Requirement | _Candidate) -> str:
        return requirement_or_candidate.address

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, _Candidate],
        candidates: Mapping[str, Iterator[_Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[int, str]:
        return (len(self.candidates.get(identifier, [])), identifier)

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, _Candidate],
        candidates: Mapping[str, Iterator[_Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Iterable[str]:
        return identifiers

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[_Requirement]],
        incompatibilities: Mapping[str, Iterator[_Candidate]],
    ) -> list[_Candidate]:
        specs = [specifier(r.spec) for r in requirements.get(identifier, [])]
        bad = {c.entry.version for c in incompatibilities.get(identifier, [])}
        return [
            _Candidate(identifier, entry)
            for entry in self.candidates.get(identifier, [])
            if entry.version not in bad
            and all(s.contains(version(entry.version), prereleases=True) for s in specs)
        ]

    def is_satisfied_by(self, requirement: _Requirement, candidate: _Candidate) -> bool:
        return specifier(requirement.spec).contains(
            version(candidate.entry.version), prereleases=True
        )

    def get_dependencies(self, candidate: _Candidate) -> list[_Requirement]:
        parent = f"{candidate.address}@{candidate.entry.version}"
        return [
            _Requirement(other, dep.version, parent)
            for dep in candidate.entry.depends_on
            for other in self.by_model.get(dep.model, [])
        ]


def _resolve_jointly(
    resolution: Resolution,
    members: list[str],
    candidates: Mapping[str, list[m.ModelVersion]],
    by_model: Mapping[str, list[str]],
    pins: Mapping[str, str],
) -> None:
    agreed = _agreed(members, candidates, by_model)
    if agreed is not None:
        for a in members:
            item = resolution.resolved[a]
            item.version = agreed[a]
            item.pinned_by_lock = pins.get(a) == agreed[a].version
        return
    from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

    provider = _Provider(candidates, by_model)
    resolver: Any = Resolver(provider, BaseReporter())  # type: ignore[arg-type]
    roots = [_Requirement(a, None, None) for a in members]
    try:
        result = resolver.resolve(roots, max_rounds=10_000)
    except ResolutionImpossible as exc:
        conflict = _describe_conflict(exc.causes, candidates)
        for a in members:
            item = resolution.resolved[a]
            _choose(item, candidates[a], pins)
            if candidates[a]:  # one without any candidate is unresolvable on its own (MP301)
                item.conflict = conflict
        return
    except ResolutionTooDeep:  # pragma: no cover - needs thousands of interlocked versions
        for a in members:
            resolution.resolved[a].conflict = "dependsOn resolution gave up (too many rounds)"
        return
    for a in members:
        chosen = result.mapping.get(a)
        item = resolution.resolved[a]
        if chosen is not None:
            item.version = chosen.entry
            item.pinned_by_lock = pins.get(a) == chosen.entry.version


def _agreed(
    members: list[str],
    candidates: Mapping[str, list[m.ModelVersion]],
    by_model: Mapping[str, list[str]],
) -> dict[str, m.ModelVersion] | None:
    """Every member's preferred candidate, when those already agree: each dependsOn of a
    choice admits the choices of that model's deployments. resolvelib then pins exactly
    these (each is the first of its matches, whatever the order it pins in, and nothing
    conflicts), so its rounds are skipped. None when they do not agree, or a member has
    no candidate (resolvelib says why)."""
    chosen: dict[str, m.ModelVersion] = {}
    for a in members:
        options = candidates.get(a)
        if not options:
            return None
        chosen[a] = options[0]
    for entry in chosen.values():
        for dep in entry.depends_on:
            for other in by_model.get(dep.model, []):
                if other not in chosen or not contains(dep.version, chosen[other].version, True):
                    return None
    return chosen


def _describe_conflict(
    causes: Iterable[Any], candidates: Mapping[str, list[m.ModelVersion]]
) -> str:
    parts: list[str] = []
    for cause in causes:
        requirement: _Requirement = cause.requirement
        if requirement.parent is None:
            continue
        available = ", ".join(c.version for c in candidates.get(requirement.address, [])) or "none"
        parts.append(
            f"{requirement.parent} needs {requirement.address.split('.', 2)[2]} "
            f"{requirement.spec} (compatible versions there: {available})"
        )
    if not parts:
        names = sorted({cause.requirement.address for cause in causes})
        return "no compatible versions for " + ", ".join(names)
    return "; ".join(sorted(set(parts)))


# --- Lockfile ----------------------------------------------------------------------------

LOCK_HEADER = (
    "# mlops-plan.lock: generated by `mlops-plan lock`; do not edit by hand.\n"
    "# It pins what each effective deployment resolved to; commit it with the change.\n"
)


def lock_entries(resolution: Resolution) -> dict[str, m.LockEntry]:
    entries: dict[str, m.LockEntry] = {}
    for address in sorted(resolution.resolved):
        item = resolution.resolved[address]
        if item.version is None or item.placement is None:
            continue
        canary = (
            m.LockedCanary(version=item.canary.version, digest=item.canary.artifact.digest)
            if item.canary is not None
            else None
        )
        entries[address] = m.LockEntry(
            model=item.deployment.model,
            version=item.version.version,
            digest=item.version.artifact.digest,
            canary=canary,
            runtime=item.placement.runtime,
            runtime_version=item.placement.release.version,
            image=item.placement.release.image,
            target=item.placement.target,
        )
    return entries


def render_lock(entries: Mapping[str, m.LockEntry]) -> str:
    from mlops_plan.load import dump_yaml

    document = m.LockFile(deployments=dict(entries)).model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )
    return LOCK_HEADER + dump_yaml(document)


def pins(lock: m.LockFile | None) -> dict[str, str]:
    if lock is None:
        return {}
    return {address: entry.version for address, entry in lock.deployments.items()}


def lock_changes(old: m.LockFile | None, new: Mapping[str, m.LockEntry]) -> list[str]:
    """Human lines saying how `new` differs from `old`, sorted by address."""
    before = old.deployments if old is not None else {}
    lines: list[str] = []
    for address in sorted(set(before) | set(new)):
        a, b = before.get(address), new.get(address)
        if a == b:
            continue
        if a is None:
            assert b is not None
            lines.append(f"+ {address}: {b.model} {b.version}")
        elif b is None:
            lines.append(f"- {address}: {a.model} {a.version}")
        else:
            changed = [
                f"{key} {getattr(a, key)} -> {getattr(b, key)}"
                for key in ("version", "digest", "runtime", "runtime_version", "image", "target")
                if getattr(a, key) != getattr(b, key)
            ]
            if a.canary != b.canary:
                changed.append(
                    f"canary {a.canary.version if a.canary else None} -> "
                    f"{b.canary.version if b.canary else None}"
                )
            lines.append(f"~ {address}: " + ", ".join(changed))
    return lines
