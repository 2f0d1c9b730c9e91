"""`mlops-plan explain ADDRESS`: why an effective deployment resolves as it does, and
what depends on a model, runtime release, target or environment."""

from __future__ import annotations

from typing import Any

from mlops_plan import model as m
from mlops_plan.analysis import Analysis
from mlops_plan.errors import MlopsPlanError
from mlops_plan.graph import build, dependents
from mlops_plan.rules.base import did_you_mean


def _env_value(value: m.SecretEnv | str) -> str:
    if isinstance(value, m.SecretEnv):
        return f"secretRef {value.secret_ref.name}/{value.secret_ref.key}"
    return value


def explain_address(analysis: Analysis, address: str) -> str:
    graph = build(analysis.repo, analysis.deployments, analysis.resolution)
    if address.startswith("deployment."):
        return _deployment(analysis, graph, address)
    if address not in graph:
        known = [n for n in graph.nodes if n.split(".", 1)[0] == address.split(".", 1)[0]]
        hint = did_you_mean(address, known)
        raise MlopsPlanError(
            f'no such address "{address}"',
            hint
            or "addresses look like deployment.prod.fraud-detector, model.fraud-detector, "
            "runtime.triton@24.05, target.a100-80g, environment.prod",
        )
    users = dependents(graph, address, "deployment")
    lines = [address, ""]
    kind = graph.nodes[address].get("kind", "")
    lines.append(f"  kind: {kind}")
    needs = sorted(graph.successors(address))
    if needs:
        lines.append("  depends on:")
        lines.extend(f"    {n} ({graph.edges[address, n].get('relation')})" for n in needs)
    if users:
        lines.append(f"  used by {len(users)} effective deployment(s):")
        lines.extend(f"    {u}" for u in users)
    else:
        lines.append("  used by no effective deployment")
    return "\n".join(lines) + "\n"


def _deployment(analysis: Analysis, graph: Any, address: str) -> str:
    item = analysis.resolution.resolved.get(address)
    if item is None:
        hint = did_you_mean(address, list(analysis.resolution.resolved))
        raise MlopsPlanError(
            f'no effective deployment "{address}"',
            hint or "list them with `mlops-plan status`",
        )
    eff = item.deployment
    repo = analysis.repo
    locator = analysis.loaded.locator
    anchor = eff.anchor(repo)
    line, col = locator.position(anchor)
    lines = [address, f"  declared at {anchor.file}:{line}:{col}", ""]
    model = repo.models.get(eff.model)
    framework = f" ({model.spec.framework})" if model is not None else " (not declared)"
    lines.append(f"  model:     {eff.model}{framework}")
    wanted = f'"{eff.version}"' if eff.version is not None else "any version"
    chosen = item.version.version if item.version is not None else "nothing"
    pinned = " (pinned by mlops-plan.lock)" if item.pinned_by_lock else ""
    lines.append(f"  version:   {wanted} -> {chosen}{pinned}")
    if item.version is not None:
        lines.append(f"  artifact:  {item.version.artifact.uri}")
        if item.version.artifact.digest:
            lines.append(f"  digest:    {item.version.artifact.digest}")
    if item.placement is not None:
        p = item.placement
        lines.append(
            f"  runtime:   {p.runtime} {p.release.version} ({p.release.image}), "
            f"pinned by environment.{eff.environment}"
        )
        lines.append(f"  target:    {p.target} ({p.target_spec.accelerator}, {p.target_spec.arch})")
    else:
        lines.append(f"  placement: none: {item.unplaced}")
    lines.append(f"  replicas:  {eff.replicas}")
    if eff.canary is not None:
        state = item.canary.status if item.canary is not None else "not declared"
        lines.append(f"  canary:    {eff.canary.version} at {eff.canary.weight}% ({state})")
    if eff.env:
        lines.append("  env:")
        lines.extend(f"    {k}={_env_value(v)}" for k, v in sorted(eff.env.items()))
    if item.verdicts:
        lines += ["", "Candidates, highest first:"]
        for verdict in item.verdicts:
            status = "" if verdict.status == "released" else f" [{verdict.status}]"
            if item.version is not None and verdict.version == item.version.version:
                why = "chosen: the highest candidate"
                if item.pinned_by_lock:
                    why = "chosen: pinned by mlops-plan.lock"
                elif any(v.candidate for v in item.verdicts[: item.verdicts.index(verdict)]):
                    why = "chosen: the highest candidate that satisfies dependsOn jointly"
                lines.append(f"  {verdict.version}{status}  {why}")
            elif verdict.candidate:
                lines.append(f"  {verdict.version}{status}  compatible, not chosen")
            else:
                lines.append(f"  {verdict.version}{status}  rejected: {'; '.join(verdict.reasons)}")
    if item.conflict:
        lines += ["", f"dependsOn conflict: {item.conflict}"]
    needs = sorted(
        n
        for n in graph.successors(address)
        if graph.edges[address, n].get("relation") == "depends-on"
    )
    users = sorted(
        n
        for n in graph.predecessors(address)
        if graph.edges[n, address].get("relation") == "depends-on"
    )
    lines += ["", "Depends on: " + (", ".join(needs) if needs else "nothing")]
    lines.append("Depended on by: " + (", ".join(users) if users else "nothing"))
    return "\n".join(lines) + "\n"
