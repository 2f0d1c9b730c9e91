"""Incremental lint: after a change, analyse again only what the change can reach.

A lint with the cache on leaves a snapshot in the user cache directory: every file's
content key (git blob id) and `stat` signature, what each file declares and refers to,
and the lint's findings by file. The next lint compares the working tree with it (by
`stat` first, as git's index does, reading only files whose signature moved), and

- nothing changed: the snapshot's findings are the answer;
- only model and deployment files changed: those files, plus every file joined to them
  through a model name (the deployments of a model, the models it depends on and that
  depend on it, files declaring the same name) form the *affected* set. That set plus
  every *shared* file (runtimes, targets, environments, policies) is analysed as a
  repository of its own; its findings replace the snapshot's for the affected files;
- anything else (the configuration, the lockfile, a shared file, a file that does not
  parse, a large change, a finding whose text depends on the whole repository such as
  an unknown name's "did you mean"): a full lint, which writes a new snapshot.

Why that is exact: every finding is located in one file, and a finding in a model or
deployment file depends only on its model-name component and the shared files (rules
see one deployment with its model, the models it needs, its environment, runtime and
target). Findings in shared files depend only on shared files; the partial analysis
recomputes them, and any difference from the snapshot sends the run to a full lint.
The tests compare incremental and full lints over many edits.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from mlops_plan import load
from mlops_plan.cache import cache_dir, content_key, header, prune
from mlops_plan.findings import Finding

if TYPE_CHECKING:
    from mlops_plan.analysis import Analysis, Loaded

FORMAT = 4  # 4: findings as rows without their file
COMPONENT_KINDS = frozenset({"Model", "Deployment"})
# findings whose text depends on names or files anywhere in the repository
GLOBAL_RULES = frozenset({"MP001", "MP003", "MP103", "MP201"})
# the findings of parsing a file (the others come from validation and rules)
PARSE_RULES = frozenset({"MP001", "MP002", "MP003"})
# a change that reaches more files than this is linted in full
MAX_AFFECTED_SHARE = 0.2
# a file whose inode changed this close to a run's start may have changed during it
RACY_NS = 2_000_000_000


class Facts(NamedTuple):
    """What the incremental lint needs to know of one file."""

    key: str  # content key
    stat: tuple[int, int, int, int]  # mtime_ns, ctime_ns, size, inode
    component: bool  # only models and deployments (or nothing of ours); parsed cleanly
    declares: tuple[tuple[str, str], ...]  # (kind, name)
    refers: tuple[str, ...]  # model names it names


@dataclass
class Snapshot:
    context: str  # configuration, lockfile, options
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    started_ns: int
    files: dict[str, Facts]
    findings: dict[str, list[Finding]]  # final findings by file ("" for none)
    folders: dict[str, tuple[int, int, int, int]]  # every folder walked, and its stat


class Outcome(NamedTuple):
    findings: list[Finding]
    files: int


def snapshot_path(root: Path) -> Path:
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return cache_dir() / f"lint-{key}.snapshot"


def stat_of(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)  # noqa: PTH116 -- 10,000 calls per lint: no Path objects
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def facts_of(
    docs: Iterable[load.RawDoc], parse_findings: Iterable[Finding]
) -> tuple[bool, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(component, declares, refers) of one file's parsed documents."""
    declares: list[tuple[str, str]] = []
    refers: list[str] = []
    component = not any(f.rule in {"MP001", "MP003"} for f in parse_findings)
    for raw in docs:
        data = raw.data
        kind = data.get("kind") if isinstance(data, dict) else None
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        spec = data.get("spec")
        if not (isinstance(kind, str) and kind in COMPONENT_KINDS and isinstance(name, str)):
            component = False
            continue
        if not isinstance(spec, dict):
            component = False
            continue
        declares.append((kind, name))
        if kind == "Deployment":
            model = spec.get("model")
            if isinstance(model, str):
                refers.append(model)
            elif model is not None:
                component = False
            continue
        versions = spec.get("versions")
        for version in versions if isinstance(versions, list) else ():
            needs = version.get("dependsOn") if isinstance(version, dict) else None
            for need in needs if isinstance(needs, list) else ():
                model = need.get("model") if isinstance(need, dict) else None
                if isinstance(model, str):
                    refers.append(model)
    return component, tuple(sorted(set(declares))), tuple(sorted(set(refers)))


CONTEXT_FILES = (load.CONFIG_FILE, load.LOCK_FILE)


def context_digest(texts: Mapping[str, str | None], options: Mapping[str, object]) -> str:
    """The configuration and lockfile texts (None: absent or unreadable) and the
    options: if any differs from the snapshot's, lint in full."""
    parts = [repr(sorted(options.items()))]
    for rel in CONTEXT_FILES:
        text = texts.get(rel)
        parts.append(content_key(text) if text is not None else "-")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def context_texts(source: load.Source) -> dict[str, str | None]:
    """The configuration and lockfile as context_digest wants them, read from `source`."""
    out: dict[str, str | None] = {}
    for rel in CONTEXT_FILES:
        text = source.read_text(rel) if source.exists(rel) else None
        out[rel] = text if isinstance(text, str) else None
    return out


def read(root: Path) -> Snapshot | None:
    """The snapshot of the last lint of `root`, or None (absent, damaged, or written by
    another version of mlops-plan or of Python: lint in full)."""
    try:
        data = marshal.loads(snapshot_path(root).read_bytes())
        found, context, include, exclude, started_ns, table, findings, folders = data
        if found != header(FORMAT):
            return None
        files = {rel: Facts._make(facts) for rel, facts in table.items()}
        by_file = {
            file: [Finding.from_row(file, row) for row in rows] for file, rows in findings.items()
        }
        return Snapshot(context, include, exclude, started_ns, files, by_file, folders)
    except (OSError, EOFError, ValueError, TypeError, AttributeError, KeyError):
        return None


def write(root: Path, snapshot: Snapshot) -> None:
    """Store the snapshot; a cache that cannot be written never fails the lint.

    marshal, not pickle: plain tuples and strings, written about ten times faster, and
    nothing in the file can run code when it is read."""
    from mlops_plan.files import write_atomic

    path = snapshot_path(root)
    findings = {file: [f.row() for f in rows] for file, rows in snapshot.findings.items()}
    data = (
        header(FORMAT),
        snapshot.context,
        snapshot.include,
        snapshot.exclude,
        snapshot.started_ns,
        {rel: tuple(facts) for rel, facts in snapshot.files.items()},
        findings,
        snapshot.folders,
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, marshal.dumps(data), durable=False)
        prune(path.parent, "lint-*.snapshot")
    except (OSError, ValueError):
        return


def forget(root: Path) -> None:
    try:
        snapshot_path(root).unlink(missing_ok=True)
    except OSError:
        return


def record(
    loaded: Loaded,
    findings: list[Finding],
    context: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    started_ns: int,
) -> None:
    """Keep what a full lint saw, for the next lint to start from."""
    root = loaded.repo.root
    prefix = str(root) + os.sep
    table: dict[str, Facts] = {}
    facts = _loaded_facts(loaded, _by_file(loaded.docs), _by_file(loaded.findings))
    for rel, (key, component, declares, refers) in facts.items():
        stat = stat_of(prefix + rel)
        if stat is None:
            forget(root)  # a file vanished: no snapshot this time
            return
        table[rel] = Facts(key, stat, component, declares, refers)
    snapshot = Snapshot(
        context, include, exclude, started_ns, table, _by_file(findings), folders_of(root)
    )
    write(root, snapshot)


class _InFile(Protocol):
    @property
    def file(self) -> str: ...


_T = TypeVar("_T", bound=_InFile)


def _by_file(items: Iterable[_T]) -> dict[str, list[_T]]:
    """Documents or findings grouped by the file they are in, in their order."""
    out: dict[str, list[_T]] = {}
    for item in items:
        out.setdefault(item.file, []).append(item)
    return out


def _loaded_facts(
    loaded: Loaded,
    docs: Mapping[str, list[load.RawDoc]],
    findings: Mapping[str, list[Finding]],
) -> dict[str, tuple[str, bool, tuple[tuple[str, str], ...], tuple[str, ...]]]:
    """(content key, component, declares, refers) of every file an analysis read, from
    its documents and findings by file."""
    return {
        rel: (loaded.keys[rel], *facts_of(docs.get(rel, ()), findings.get(rel, ())))
        for rel in sorted(loaded.keys)
    }


def lint(root: Path, options: Mapping[str, object]) -> Outcome | None:
    """The lint's findings from the snapshot and a partial analysis; None: lint in full."""
    started_ns = time.time_ns()
    snapshot = read(root)
    if snapshot is None:
        return None
    source = load.Source(root)
    context = context_digest(context_texts(source), options)
    if context != snapshot.context:
        return None
    if any(f.rule in GLOBAL_RULES for found in snapshot.findings.values() for f in found):
        return None
    old = snapshot.files
    trusted_before = snapshot.started_ns - RACY_NS
    # no folder changed: no file was added, removed or renamed, and the list is the last one
    folders = _same_folders(root, snapshot.folders, trusted_before)
    # whether this run looked again at what the snapshot could not vouch for: if so, it
    # writes a new snapshot, so that the next run need not look again
    refreshed = folders is None
    if folders is not None:
        files = list(old)
    else:
        files, discovery_findings = source.files(snapshot.include, snapshot.exclude)
        if discovery_findings:
            return None
        folders = folders_of(root)
    current: dict[str, Facts] = {}
    changed: dict[str, str] = {}  # file -> text
    prefix = str(root) + os.sep
    for rel in files:
        stat = stat_of(prefix + rel)
        if stat is None:
            return None
        facts = old.get(rel)
        if facts is not None and facts.stat == stat and stat[1] < trusted_before:
            current[rel] = facts
            continue
        text = source.read_text(rel)
        if isinstance(text, Finding):
            return None
        refreshed = True
        key = content_key(text)
        if facts is not None and facts.key == key:
            current[rel] = facts._replace(stat=stat)
            continue
        changed[rel] = text
    removed = [rel for rel in old if rel not in current and rel not in changed]
    if not changed and not removed:
        if refreshed:
            write(root, _replace(snapshot, started_ns, current, snapshot.findings, folders))
        return Outcome(_flatten(snapshot.findings), len(files))
    for rel in removed:
        if not old[rel].component:
            return None
    for rel, text in changed.items():
        if rel in old and not old[rel].component:
            return None
        docs, parse_findings = load.parse(rel, text)
        component, declares, refers = facts_of(docs, parse_findings)
        if not component:
            return None
        stat = stat_of(prefix + rel)
        if stat is None:
            return None  # gone since it was read
        current[rel] = Facts(content_key(text), stat, component, declares, refers)
    affected = _affected(old, current, [*changed, *removed])
    if len(affected) > max(50, MAX_AFFECTED_SHARE * len(files)):
        return None
    shared = [rel for rel in files if not current[rel].component]
    subset = sorted({*shared, *(rel for rel in affected if rel in current)})
    fresh = _partial(root, subset, options)
    if fresh is None:
        return None
    new_by_file = _by_file(fresh)
    if any(f.rule in GLOBAL_RULES for f in fresh):
        return None
    for file in {*new_by_file, *snapshot.findings}:
        if file in affected:
            continue
        if file in current and current[file].component:
            if file in new_by_file:
                return None  # a finding outside the analysed files: not ours to merge
            continue
        if new_by_file.get(file, []) != snapshot.findings.get(file, []):
            return None  # a shared finding moved: it depends on more than the shared files
    merged = {f: found for f, found in snapshot.findings.items() if f not in affected}
    for file in affected:
        if file in new_by_file:
            merged[file] = new_by_file[file]
    write(root, _replace(snapshot, started_ns, current, merged, folders))
    return Outcome(_flatten(merged), len(files))


def _replace(
    snapshot: Snapshot,
    started_ns: int,
    files: dict[str, Facts],
    findings: dict[str, list[Finding]],
    folders: dict[str, tuple[int, int, int, int]],
) -> Snapshot:
    return Snapshot(
        snapshot.context,
        snapshot.include,
        snapshot.exclude,
        started_ns,
        dict(sorted(files.items())),
        findings,
        folders,
    )


def folders_of(root: Path) -> dict[str, tuple[int, int, int, int]]:
    """Every folder discovery walks (SKIP_DIRS aside), with its stat: a file added,
    removed or renamed in a folder changes the folder's."""
    out: dict[str, tuple[int, int, int, int]] = {}
    pending = [("", str(root))]
    while pending:
        rel, path = pending.pop()
        stat = stat_of(path)
        if stat is None:
            continue
        out[rel] = stat
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name not in load.SKIP_DIRS:
                pending.append((f"{rel}{entry.name}/", entry.path))
    return out


def _same_folders(
    root: Path, folders: Mapping[str, tuple[int, int, int, int]], trusted_before: int
) -> dict[str, tuple[int, int, int, int]] | None:
    """The folders' stats when none changed since the snapshot (and none changed so close
    to it that a change could hide in the same clock tick); None otherwise."""
    if not folders:
        return None
    prefix = str(root) + os.sep
    for rel, known in folders.items():
        stat = stat_of(prefix + rel if rel else str(root))
        if stat != known or known[1] >= trusted_before:
            return None
    return dict(folders)


def _flatten(by_file: Mapping[str, list[Finding]]) -> list[Finding]:
    out = [finding for found in by_file.values() for finding in found]
    out.sort(key=Finding.sort_key)
    return out


def _affected(old: Mapping[str, Facts], current: Mapping[str, Facts], start: list[str]) -> set[str]:
    """The changed files (`start`) and every file joined to them through a model or
    deployment name, before or after the change. Files outside `start` are the same in
    both tables, so the old one is read for `start` only."""
    declared: dict[tuple[str, str], set[str]] = {}
    referring: dict[str, set[str]] = {}
    before = [(rel, old[rel]) for rel in start if rel in old]
    for rel, facts in [*current.items(), *before]:
        for item in facts.declares:
            declared.setdefault(item, set()).add(rel)
        for name in facts.refers:
            referring.setdefault(name, set()).add(rel)
    affected = set(start)
    pending = list(start)
    while pending:
        rel = pending.pop()
        neighbours: set[str] = set()
        for table in (old, current):
            seen = table.get(rel)
            if seen is None:
                continue
            for item in seen.declares:
                neighbours |= declared.get(item, set())
                if item[0] == "Model":
                    neighbours |= referring.get(item[1], set())
            for name in seen.refers:
                neighbours |= declared.get(("Model", name), set())
        for other in neighbours - affected:
            affected.add(other)
            pending.append(other)
    return affected


def _partial(root: Path, subset: list[str], options: Mapping[str, object]) -> list[Finding] | None:
    """The final findings of the repository made of `subset` only."""
    from mlops_plan.analysis import PLAN_TIME_RULES, analyze, finish, rule_findings

    analysis = analyze(_Subset(root, subset), use_cache=False)
    raw = [*analysis.loaded.findings, *analysis.lock_findings, *rule_findings(analysis)]
    not_run = set(PLAN_TIME_RULES) | {"MP307"}
    return finish(raw, analysis, no_ignore=bool(options.get("no_ignore")), not_run=not_run)


class _Subset(load.Source):
    """The working tree, restricted to some of its files."""

    def __init__(self, root: Path, files: list[str]) -> None:
        super().__init__(root)
        self._files = files

    def files(
        self, include: list[str] | tuple[str, ...], exclude: list[str] | tuple[str, ...]
    ) -> tuple[list[str], list[Finding]]:
        return list(self._files), []


# --- the base of a plan, derived from its head -------------------------------------------


def derive_base(head: Analysis, source: load.Source) -> Analysis | None:
    """The analysis of `source` (a plan's base), built from the head's where they agree.

    A base usually differs from its head in a few model and deployment files. Files with
    the same content key (git blob id) keep the head's parsed and validated documents;
    deployments that no changed file reaches (see `_affected`) keep the head's
    resolution. Anything else (the configuration, the lockfile, a shared file, a file
    that does not parse) returns None: analyse the base in full.
    """
    from mlops_plan.analysis import Analysis, Loaded
    from mlops_plan.effective import effective_deployments
    from mlops_plan.resolve import pins, resolve
    from mlops_plan.validate import Repository, validate_documents

    loaded = head.loaded
    if not loaded.keys or not isinstance(source, load.Source):
        return None
    for rel, context_text in context_texts(source).items():
        if context_text != loaded.locator.texts.get(rel):
            return None
    config = head.repo.config
    files, discovery_findings = source.files(config.include, [*config.exclude, load.CONFIG_FILE])
    if discovery_findings:
        return None
    if any(f.rule in GLOBAL_RULES for f in loaded.findings):
        return None
    head_docs, head_findings = _by_file(loaded.docs), _by_file(loaded.findings)
    keys: dict[str, str] = {}
    texts: dict[str, str] = {}
    for rel in files:
        key = source.cache_key(rel)
        if key is None:
            read = source.read_text(rel)
            if isinstance(read, Finding):
                return None
            texts[rel], key = read, content_key(read)
        keys[rel] = key
    changed = [rel for rel in files if keys[rel] != loaded.keys.get(rel)]
    changed += [rel for rel in loaded.keys if rel not in keys]
    if not changed:
        return head
    if len(changed) > max(50, MAX_AFFECTED_SHARE * len(files)):
        return None
    base_parsed: dict[str, tuple[list[load.RawDoc], list[Finding], str]] = {}
    head_table: dict[str, Facts] = {}
    base_table: dict[str, Facts] = {}
    no_stat = (0, 0, 0, 0)
    for rel, (key, component, declares, refers) in _loaded_facts(
        loaded, head_docs, head_findings
    ).items():
        head_table[rel] = Facts(key, no_stat, component, declares, refers)
    for rel in files:
        if rel in head_table and keys[rel] == head_table[rel].key:
            base_table[rel] = head_table[rel]
            continue
        text = texts.get(rel)
        if text is None:
            read = source.read_text(rel)
            if isinstance(read, Finding):
                return None
            text = read
        parsed_docs, parse_findings = load.parse(rel, text)
        base_parsed[rel] = (parsed_docs, parse_findings, text)
        component, declares, refers = facts_of(parsed_docs, parse_findings)
        base_table[rel] = Facts(keys[rel], no_stat, component, declares, refers)
    for rel in changed:
        for table in (head_table, base_table):
            if rel in table and not table[rel].component:
                return None
    affected = _affected(head_table, base_table, changed)
    if len(affected) > max(50, MAX_AFFECTED_SHARE * len(files)):
        return None
    # the base's documents, in file order; the head's where the content is the same
    locator = load.Locator(source)
    locator.texts.update(
        (rel, text)
        for rel, text in loaded.locator.texts.items()
        if rel in base_table and rel not in base_parsed
    )
    for rel in (load.CONFIG_FILE, load.LOCK_FILE):
        if rel in loaded.locator.texts:
            locator.texts[rel] = loaded.locator.texts[rel]
    docs: list[load.RawDoc] = []
    # the configuration's findings (the same file), then each file's parse findings
    findings = [f for f in loaded.findings if f.file == load.CONFIG_FILE]
    for rel in files:
        if rel in base_parsed:
            file_docs, file_findings, text = base_parsed[rel]
            if file_docs or file_findings:
                locator.texts[rel] = text
        else:
            file_docs = head_docs.get(rel, [])
            file_findings = [f for f in head_findings.get(rel, []) if f.rule in PARSE_RULES]
        docs.extend(file_docs)
        findings.extend(file_findings)
    reuse = {
        origin: head.repo.of_kind(kind)[name]
        for (kind, name), origin in head.repo.origins.items()
        if origin[0] not in base_parsed
    }
    repo = Repository(root=source.root, config=config)
    findings.extend(validate_documents(repo, docs, locator, reuse))
    base = Loaded(
        repo=repo, locator=locator, findings=findings, files=len(files), keys=keys, docs=docs
    )
    deployments = effective_deployments(repo)
    fresh = {
        name
        for rel in affected
        for table in (head_table, base_table)
        if rel in table
        for kind, name in table[rel].declares
        if kind == "Deployment"
    }
    resolution = resolve(repo, deployments, pins(head.lock), reuse=head.resolution, fresh=fresh)
    return Analysis(base, deployments, resolution, head.lock, head.lock_findings)
