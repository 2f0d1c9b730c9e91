"""Apply: execute a reviewed plan through providers, recording state after each change.

A saved plan is refused, each with its own message and in this order, when its
`plan_id` does not match its content, when it was made against another state lineage,
when the state moved since (`Saved plan is stale`), or when the configuration checked
out now is not the one it was made from. Changes run in dependency order, creates and
updates first, deletes last in reverse; a pending-operation note precedes each change, so
an interrupted apply leaves a consistent state that the next plan reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mlops_plan import __version__
from mlops_plan.analysis import Analysis
from mlops_plan.errors import MlopsPlanError
from mlops_plan.plan import FORMAT_VERSION, Plan, ResourceChange, config_digest, plan_id_of
from mlops_plan.state import (
    Backend,
    HistoryChange,
    HistoryEntry,
    PendingOperation,
    State,
    current_user,
    utc_now,
)


class ApplyRefused(MlopsPlanError):
    """A plan that must not be applied; nothing was changed."""


class ApplyReport(BaseModel):
    changes: list[HistoryChange]
    serial: int

    @property
    def failed(self) -> bool:
        return any(c.outcome == "failed" for c in self.changes)

    def summary(self) -> str:
        applied = sum(c.outcome == "applied" for c in self.changes)
        failed = sum(c.outcome == "failed" for c in self.changes)
        waiting = sum(c.outcome == "not-started" for c in self.changes)
        total = len(self.changes)
        if failed:
            return (
                f"Apply failed after {applied + failed} of {total} changes: {applied} applied, "
                f"{failed} failed, {waiting} not started."
            )
        adds = sum("create" in c.actions for c in self.changes)
        changes = sum(c.actions == ["update"] for c in self.changes)
        destroys = sum("delete" in c.actions for c in self.changes)
        return f"Apply complete! Resources: {adds} added, {changes} changed, {destroys} destroyed."


class SavedPlan(BaseModel):
    """A plan read from a file, with the document as written (for its plan_id)."""

    plan: Plan
    document: dict[str, Any]


def read_plan(path: Path) -> SavedPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ApplyRefused(f"cannot read plan file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ApplyRefused(f"{path} is not a saved plan (not UTF-8 text)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApplyRefused(
            f"{path} is not a saved plan (not JSON: line {exc.lineno})",
            "save one with `mlops-plan plan --out FILE`",
        ) from None
    tool = data.get("tool") if isinstance(data, dict) else None
    if not isinstance(tool, dict) or tool.get("name") != "mlops-plan":
        raise ApplyRefused(f"{path} is not an mlops-plan saved plan")
    version = str(data.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise ApplyRefused(
            f"{path} has plan format {version}; this mlops-plan {__version__} reads "
            f"format {FORMAT_VERSION.split('.')[0]}.x",
            "make the plan again with this version of mlops-plan",
        )
    try:
        return SavedPlan(plan=Plan.model_validate(data), document=data)
    except ValidationError as exc:
        raise ApplyRefused(
            f"{path} is not a valid saved plan ({exc.error_count()} errors)"
        ) from None


def verify(
    plan: Plan, state: State | None, head: Analysis, document: dict[str, Any] | None = None
) -> None:
    """Refuse a plan that is not exactly what can be applied now; checks in DESIGN §6 order.

    The plan_id is checked over the document as saved, so fields a newer minor format
    version adds are covered too (and do not look like tampering).
    """
    recomputed = plan_id_of(document) if document is not None else plan.with_id().plan_id
    if recomputed != plan.plan_id:
        raise ApplyRefused(
            "Saved plan does not match its plan_id: it was changed after it was made",
            "make a new plan with `mlops-plan plan --out FILE` and review it",
        )
    if plan.base is not None or plan.prior_state is None:
        raise ApplyRefused(
            "this plan was made against a base, not against the state, so it cannot be applied",
            "make the plan to apply with `mlops-plan plan --out FILE` (without --base)",
        )
    lineage = plan.prior_state.get("lineage")
    if state is not None and lineage is not None and lineage != state.lineage:
        raise ApplyRefused(
            f"Saved plan was made against another state (lineage {lineage}, the state is "
            f"{state.lineage})",
            "make a new plan against this state",
        )
    current = state.serial if state is not None else 0
    if plan.prior_state.get("serial", 0) != current:
        raise ApplyRefused(
            "Saved plan is stale: the state changed since the plan was made "
            f"(serial {plan.prior_state.get('serial', 0)} -> {current})",
            "make a new plan with `mlops-plan plan --out FILE` and review it",
        )
    if config_digest(head) != plan.source.get("config_digest"):
        raise ApplyRefused(
            "Saved plan was made from a different configuration than the one checked out",
            "check out the commit the plan was made from, or make a new plan",
        )
    if plan.errored:
        raise ApplyRefused("Saved plan has errors; fix them and make a new plan")


def needs_approval(plan: Plan) -> list[ResourceChange]:
    """Destroys (replacements included) and downgrades in protected environments."""
    return [
        c for c in plan.resource_changes if c.protected and ("delete" in c.actions or c.downgrade)
    ]


def dependencies(head: Analysis) -> dict[str, list[str]]:
    """Per effective deployment, the deployments it depends on (dependsOn, resolved)."""
    out: dict[str, list[str]] = {}
    resolution = head.resolution
    for address, item in resolution.resolved.items():
        if item.version is None:
            continue
        needs = {
            other.address
            for dep in item.version.depends_on
            for other in resolution.deployments_of(item.deployment.environment, dep.model)
        }
        if needs:
            out[address] = sorted(needs)
    return out


def ordered(
    plan: Plan, head: Analysis, applied: dict[str, list[str]] | None = None
) -> list[ResourceChange]:
    """Dependencies first (dependsOn between deployments), deletes last in reverse.

    Deleted deployments are gone from the configuration: their dependencies come from
    the state (`applied`), recorded when they were applied.
    """
    import networkx as nx

    deps = nx.DiGraph()
    for change in plan.resource_changes:
        deps.add_node(change.address)
    edges = {**(applied or {}), **dependencies(head)}
    for a, needs in edges.items():
        for b in needs:
            if a in deps and b in deps:
                deps.add_edge(b, a)  # b must be in place before a
    rank = {n: i for i, n in enumerate(nx.lexicographical_topological_sort(deps))}
    by_address = {c.address: c for c in plan.resource_changes}
    forward = [c for c in plan.resource_changes if c.actions != ["delete"]]
    deletes = [c for c in plan.resource_changes if c.actions == ["delete"]]
    forward.sort(key=lambda c: rank[c.address])
    deletes.sort(key=lambda c: rank[c.address], reverse=True)
    assert len(by_address) == len(plan.resource_changes)
    return forward + deletes


def execute(
    plan: Plan,
    head: Analysis,
    backend: Backend,
    commit: str | None,
    log: Callable[[str], None],
) -> ApplyReport:
    """Run each change through its environment's provider; state after each success.

    The audit record is written before the first change and updated with each one, so a
    killed apply still says who applied what, when, from which commit and plan.
    """
    from mlops_plan.providers import provider_for

    state = backend.read()
    if state is None:
        state = backend.write(State.new(), None)
    who = current_user()
    changes = ordered(plan, head, state.depends_on)
    needs = dependencies(head)
    results = [
        HistoryChange(address=c.address, actions=c.actions, outcome="not-started") for c in changes
    ]
    entry = HistoryEntry(
        serial=state.serial + 1,
        who=who,
        when=utc_now(),
        commit=commit,
        plan_id=plan.plan_id,
        changes=list(results),
    )
    state = backend.write(
        state.model_copy(update={"history": [*state.history, entry]}), state.serial
    )
    for index, change in enumerate(changes):
        pending = PendingOperation(
            address=change.address,
            actions=change.actions,
            plan_id=plan.plan_id,
            started=utc_now(),
            who=who,
        )
        state = backend.write(
            state.model_copy(update={"pending": [*state.pending, pending]}), state.serial
        )
        provider = provider_for(head.repo.config, change.environment)
        log(f"{change.address}: {'/'.join(change.actions)} via {provider.name}...")
        result = provider.apply(change, _context(head, change, plan.plan_id, log))
        resources = dict(state.resources)
        depends_on = dict(state.depends_on)
        if result.ok:
            # this change also settles notes an earlier, interrupted apply left for it
            remaining = [p for p in state.pending if p.address != change.address]
            if change.after is None:
                resources.pop(change.address, None)
                depends_on.pop(change.address, None)
            else:
                resources[change.address] = change.after
                if change.address in needs:
                    depends_on[change.address] = needs[change.address]
                else:
                    depends_on.pop(change.address, None)
            log(f"{change.address}: {result.message}")
        else:
            remaining = [p for p in state.pending if p != pending]
            log(f"{change.address}: failed: {result.message}")
        results[index] = HistoryChange(
            address=change.address,
            actions=change.actions,
            outcome="applied" if result.ok else "failed",
            message=result.message,
            output=result.output or None,
        )
        entry = entry.model_copy(update={"changes": list(results)})
        state = backend.write(
            state.model_copy(
                update={
                    "resources": resources,
                    "depends_on": depends_on,
                    "pending": remaining,
                    "history": [*state.history[:-1], entry],
                }
            ),
            state.serial,
        )
        if not result.ok:
            break
    return ApplyReport(changes=results, serial=state.serial)


def _context(
    head: Analysis, change: ResourceChange, plan_id: str, log: Callable[[str], None]
) -> Any:
    from mlops_plan.providers import ProviderContext

    obj = change.after or change.before or {}
    repo = head.repo
    return ProviderContext(
        root=repo.root,
        environment=repo.environments.get(change.environment),
        model=repo.models.get(str(obj.get("model", ""))),
        target=repo.targets.get(str(obj.get("target", ""))),
        runtime=repo.runtimes.get(str(obj.get("runtime", ""))),
        plan_id=plan_id,
        log=log,
    )
