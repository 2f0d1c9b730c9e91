"""A repository read, validated and resolved: what every command starts from.

`Analysis` is the value the later stages (plan, explain, status, apply) consume;
`pipeline.py` wires the stages together for the commands.
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_plan import load
from mlops_plan import model as m
from mlops_plan.cache import ParseCache, content_key
from mlops_plan.findings import Anchor, Finding, Severity, Summary
from mlops_plan.load import Locator
from mlops_plan.validate import (
    Repository,
    schema_findings,
    validate_config,
    validate_documents,
)

if TYPE_CHECKING:
    from mlops_plan.effective import EffectiveDeployment
    from mlops_plan.resolve import Resolution
    from mlops_plan.rules.base import Context


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
    keys: dict[str, str] = field(default_factory=dict)  # file -> content key (git blob id)
    docs: list[load.RawDoc] = field(default_factory=list)  # as parsed, before validation


def load_repository(path: Path | load.Source, use_cache: bool = True) -> Loaded:
    """Read, parse and validate a repository from a folder (finding its root) or a source.

    Files are validated in order as their parses arrive, so that on a large repository
    this process validates while the workers parse (parse_stream).
    """
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
    cache = ParseCache.for_root(root, enabled=use_cache)
    # nothing to look up (no cache, or an empty one): workers read the files themselves,
    # and compute their content keys
    workers_read = cache.empty and type(source) in _READ_IN_WORKERS
    known: dict[str, _Parsed] = {}  # from the cache, or unreadable
    misses: list[_Item] = []
    keys: dict[str, str] = {}
    for rel in files:
        key = source.cache_key(rel)
        text: str | None = None
        if key is None and not workers_read:
            read = source.read_text(rel)
            if isinstance(read, Finding):
                known[rel] = ([], [read], None, None, None)
                continue
            text, key = read, content_key(read)
        if key is not None:
            keys[rel] = key
            cached = cache.get(key)
            if cached is not None:
                try:
                    known[rel] = (*unpack(rel, cached), text, key, cached)
                    continue
                except ValueError:
                    pass  # a damaged entry: parse the file again
        if text is None and not workers_read:
            read = source.read_text(rel)
            if isinstance(read, Finding):
                known[rel] = ([], [read], None, None, None)
                continue
            text = read
        misses.append((rel, key or "", text))
    repo = Repository(root=root, config=config)
    docs: list[load.RawDoc] = []
    validation: list[Finding] = []
    batch: list[load.RawDoc] = []
    fresh = parse_stream(misses, source)
    try:
        for rel in files:
            if rel in known:
                file_docs, file_findings, text, _, _ = known[rel]
            else:
                file_docs, file_findings, text, key, packed = next(fresh)
                if key is not None:
                    keys[rel] = key
                    if cache.enabled:
                        cache.put(key, packed or pack(file_docs, file_findings))
            if text is not None and (file_docs or file_findings):
                locator.texts[rel] = text
            docs.extend(file_docs)
            findings.extend(file_findings)
            batch.extend(file_docs)
            if len(batch) >= VALIDATE_BATCH:
                validation.extend(validate_documents(repo, batch, locator))
                batch = []
    finally:
        fresh.close()  # the workers stop now, not when the generator is collected
    validation.extend(validate_documents(repo, batch, locator))
    cache.save()
    findings.extend(validation)
    return Loaded(
        repo=repo, locator=locator, findings=findings, files=len(files), keys=keys, docs=docs
    )


# documents are validated in order, a batch at a time: the same result as all at once
VALIDATE_BATCH = 256
PARALLEL_MIN_FILES = 400
_READ_IN_WORKERS: tuple[type[load.Source], ...] = (load.Source,)

_Item = tuple[str, str, str | None]  # (file, cache key or "", text or None: read it)
# docs, findings, text, cache key (None: unreadable), packed (when a worker packed it)
_Parsed = tuple[list[load.RawDoc], list[Finding], str | None, str | None, bytes | None]
_SOURCE: load.Source | None = None  # the workers' source, inherited through fork


def _parse(item: _Item) -> _Parsed:
    rel, key, text = item
    if text is None:
        assert _SOURCE is not None
        read = _SOURCE.read_text(rel)
        if isinstance(read, Finding):
            return [], [read], None, None, None
        text, key = read, content_key(read)
    docs, findings = load.parse(rel, text)
    return docs, findings, text, key or None, None


def pack(docs: list[load.RawDoc], findings: list[Finding]) -> bytes:
    """A file's parse as bytes, for the trip back from a worker and for the cache.

    marshal writes plain data about ten times faster than pickle (and the trip back is
    the cost of parsing in parallel); pickle only when a value needs it (a timestamp).
    """
    payload = ([(d.doc, d.data) for d in docs], [f.row() for f in findings])
    try:
        return b"m" + marshal.dumps(payload)
    except ValueError:
        return b"p" + pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(rel: str, packed: bytes) -> tuple[list[load.RawDoc], list[Finding]]:
    """What `pack` packed, for the file `rel` (a cached parse may come from another path
    with the same content). A damaged entry raises ValueError."""
    body = memoryview(packed)[1:]
    try:
        docs, findings = marshal.loads(body) if packed[:1] == b"m" else pickle.loads(body)
        return (
            [load.RawDoc(rel, index, data) for index, data in docs],
            [Finding.from_row(rel, row) for row in findings],
        )
    except (EOFError, TypeError, KeyError, pickle.UnpicklingError, AttributeError) as exc:
        raise ValueError(f"damaged parse entry: {exc}") from None


def _parse_packed(item: _Item) -> tuple[bytes, str | None, str | None]:
    """A worker's parse: packed, the text when the worker read it, and the key."""
    docs, findings, text, key, _ = _parse(item)
    return pack(docs, findings), text if item[2] is None else None, key


def parse_stream(items: list[_Item], source: load.Source) -> Generator[_Parsed, None, None]:
    """Parse files (reading those without a text), in the order of `items`: on both cores
    when there are enough of them to pay for the workers, here otherwise."""
    global _SOURCE
    import os

    _SOURCE = source
    workers = min(os.cpu_count() or 1, 4)
    context = None
    if len(items) >= PARALLEL_MIN_FILES and workers >= 2:
        import multiprocessing

        try:
            context = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform
            context = None
    try:
        if context is None:
            yield from map(_parse, items)
            return
        with context.Pool(workers) as pool:
            chunk = max(16, len(items) // (workers * 16))
            results = pool.imap(_parse_packed, items, chunksize=chunk)
            for item, (packed, text, key) in zip(items, results, strict=True):
                docs, findings = unpack(item[0], packed)
                yield docs, findings, item[2] if text is None else text, key, packed
    finally:
        _SOURCE = None


def parse_many(items: list[_Item], source: load.Source | None = None) -> list[_Parsed]:
    """Every file of `items` parsed, in order (see parse_stream)."""
    return list(parse_stream(items, source or load.Source(Path())))


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


def analyze(path: Path | load.Source, use_lock: bool = True, use_cache: bool = True) -> Analysis:
    from mlops_plan.effective import effective_deployments
    from mlops_plan.resolve import pins, resolve

    loaded = load_repository(path, use_cache=use_cache)
    lock, lock_findings = read_lock(loaded)
    deployments = effective_deployments(loaded.repo)
    resolution = resolve(loaded.repo, deployments, pins(lock) if use_lock else None)
    return Analysis(loaded, deployments, resolution, lock, lock_findings)


def rule_findings(analysis: Analysis) -> list[Finding]:
    """The built-in rules and the CEL policies (built-in pack and the repository's own)."""
    from mlops_plan import policies, rules
    from mlops_plan.rules.base import Context

    locator = analysis.loaded.locator
    ctx = Context(
        repo=analysis.repo,
        locator=locator,
        deployments=analysis.deployments,
        resolution=analysis.resolution,
    )
    ctx.extra["unparsed"] = sorted(
        {f.file for f in analysis.loaded.findings if f.rule in {"MP001", "MP003"}}
    )
    compiled, policy_findings = policies.compile_policies(analysis.repo, locator)
    policy_findings += policies.check_policy_folders(analysis.repo, locator)
    evaluated = _in_parallel(
        lambda: policies.evaluate(compiled, ctx), rules.run, ctx, len(analysis.deployments)
    )
    return [*evaluated[1], *policy_findings, *evaluated[0]]


PARALLEL_MIN_DEPLOYMENTS = 2000
_FORKED: Callable[[], list[Finding]] | None = None


def _in_parallel(
    other: Callable[[], list[Finding]],
    here: Callable[[Context], list[Finding]],
    ctx: Context,
    deployments: int,
) -> tuple[list[Finding], list[Finding]]:
    """(other(), here(ctx)): `other` in a forked child while this process runs `here`,
    when the repository is large enough to pay for the fork. The child inherits
    everything (copy-on-write) and sends back only its findings, which are few."""
    global _FORKED
    if deployments < PARALLEL_MIN_DEPLOYMENTS:
        return other(), here(ctx)
    import multiprocessing

    if (multiprocessing.cpu_count() or 1) < 2:
        return other(), here(ctx)
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform
        return other(), here(ctx)
    receiver, sender = context.Pipe(duplex=False)
    _FORKED = other
    child = context.Process(target=_forked_child, args=(sender,), daemon=True)
    try:
        child.start()
    except OSError:  # no process to spare: do it here
        _FORKED = None
        return other(), here(ctx)
    finally:
        sender.close()
    try:
        mine = here(ctx)
        try:
            ok, theirs = receiver.recv()
        except EOFError:  # the child died (killed, out of memory)
            ok, theirs = False, None
    finally:
        receiver.close()
        child.join()
        _FORKED = None
    if not ok:
        return other(), mine  # again here, so that a real error surfaces as usual
    return theirs, mine


def _forked_child(sender: Any) -> None:
    assert _FORKED is not None
    try:
        result: tuple[bool, list[Finding] | None] = (True, _FORKED())
    except BaseException:  # the parent repeats the work, and reports what went wrong
        result = (False, None)
    try:
        sender.send(result)
    except (OSError, ValueError, pickle.PicklingError):
        return  # the parent sees EOF and repeats the work
    finally:
        sender.close()


PLAN_TIME_RULES = frozenset({"MP501", "MP502", "MP503", "MP504"})


def finish(
    findings: list[Finding],
    analysis: Analysis,
    *,
    no_ignore: bool = False,
    not_run: frozenset[str] | set[str] = frozenset(),
) -> list[Finding]:
    """Suppressions (before severities, so a rule switched off is not "unused"), then the
    severity settings of mlops-plan.yaml, then a stable order."""
    from mlops_plan.suppress import apply_suppressions

    settings = analysis.repo.config.suppressions
    findings = apply_suppressions(
        findings,
        analysis.loaded.locator.texts,
        require_reason=settings.require_reason,
        allow=settings.allow and not no_ignore,
        not_run=not_run,
    )
    return apply_rule_settings(findings, analysis.repo)


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
