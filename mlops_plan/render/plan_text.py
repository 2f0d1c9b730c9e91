"""A plan as text, in Terraform's idiom (symbols, headers, hidden attributes, footer)."""

from __future__ import annotations

import json
from typing import Any

import typer

from mlops_plan.plan import Plan, ResourceChange
from mlops_plan.render.findings_text import render_finding
from mlops_plan.secrets import SENSITIVE

_SYMBOLS = {
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "delete": ("-", "red"),
    "replace": ("-/+", "red"),
}
_HEADERS = {
    "create": "will be created",
    "update": "will be updated in-place",
    "delete": "will be destroyed",
    "replace": "must be replaced",
}
_LEGEND = {
    "create": "  + create",
    "update": "  ~ update in-place",
    "delete": "  - destroy",
    "replace": "-/+ destroy and then create replacement",
}
ORDER = (
    "model",
    "version",
    "digest",
    "runtime",
    "runtimeVersion",
    "image",
    "target",
    "replicas",
    "canary",
    "env",
)


def action(change: ResourceChange) -> str:
    if change.actions == ["delete", "create"]:
        return "replace"
    return change.actions[0]


def footer(plan: Plan) -> str:
    if not plan.resource_changes:
        return "No changes. Your deployments match the configuration."
    s = plan.summary
    return (
        f"Plan: {s.add + s.replace} to add, {s.change} to change, "
        f"{s.destroy + s.replace} to destroy."
    )


def value(v: Any) -> str:
    if v == SENSITIVE:
        return SENSITIVE
    if isinstance(v, dict):
        inner = ", ".join(f"{k} = {value(x)}" for k, x in v.items())
        return "{" + inner + "}"
    return json.dumps(v)


def _symbol(sym: str, color: bool) -> str:
    if not color:
        return sym
    colors = {"+": "green", "~": "yellow", "-": "red", "-/+": "red"}
    return typer.style(sym, fg=colors.get(sym, "white"), bold=True)


def _attributes(change: ResourceChange, color: bool, show_unchanged: bool) -> list[str]:
    kind = action(change)
    before, after = change.before or {}, change.after or {}
    keys = [k for k in ORDER if k in before or k in after]
    width = max((len(k) for k in keys), default=0)
    lines: list[str] = []
    replace = {p[0] for p in change.replace_paths}
    changed_top = {p[0] for p in change.changed_paths}
    hidden = 0
    for key in keys:
        pad = key.ljust(width)
        if kind == "create":
            if after.get(key) in (None, {}):
                continue
            lines.append(f"      {_symbol('+', color)} {pad} = {value(after[key])}")
        elif kind == "delete":
            if before.get(key) in (None, {}):
                continue
            lines.append(f"      {_symbol('-', color)} {pad} = {value(before[key])} -> null")
        elif key not in changed_top:
            if show_unchanged:
                lines.append(f"        {pad} = {value(after.get(key))}")
            else:
                hidden += 1
        elif key == "env":
            lines.extend(_env_lines(before.get("env", {}), after.get("env", {}), pad, color))
        else:
            note = " # forces replacement" if key in replace else ""
            lines.append(
                f"      {_symbol('~', color)} {pad} = {value(before.get(key))} -> "
                f"{value(after.get(key))}{note}"
            )
    if hidden:
        lines.append(f"        # ({hidden} unchanged attribute{'s' if hidden != 1 else ''} hidden)")
    return lines


def _env_lines(before: dict[str, Any], after: dict[str, Any], pad: str, color: bool) -> list[str]:
    lines = [f"      {_symbol('~', color)} {pad} = {{"]
    keys = sorted(set(before) | set(after))
    width = max((len(json.dumps(k)) for k in keys), default=0)
    same = 0
    for k in keys:
        name = json.dumps(k).ljust(width)
        if k not in before:
            lines.append(f"          {_symbol('+', color)} {name} = {value(after[k])}")
        elif k not in after:
            lines.append(f"          {_symbol('-', color)} {name} = {value(before[k])} -> null")
        elif before[k] != after[k]:
            lines.append(
                f"          {_symbol('~', color)} {name} = {value(before[k])} -> {value(after[k])}"
            )
        else:
            same += 1
    if same:
        lines.append(f"            # ({same} unchanged element{'s' if same != 1 else ''} hidden)")
    lines.append("        }")
    return lines


def render_change(
    change: ResourceChange, color: bool = False, show_unchanged: bool = False
) -> list[str]:
    kind = action(change)
    sym, _ = _SYMBOLS[kind]
    lines = [f"  # {change.address} {_HEADERS[kind]}"]
    for cause in change.causes:
        where = (
            f", {cause.file}:{cause.line}"
            if cause.file and cause.line
            else (f", {cause.file}" if cause.file else "")
        )
        lines.append(f"  # (because {cause.address} {cause.reason}{where})")
    for note in change.notes:
        lines.append(f"  # ({note})")
    if change.protected and (kind in {"delete", "replace"} or change.downgrade):
        lines.append(
            f"  # (protected environment {change.environment}: apply asks for confirmation)"
        )
    lead = _symbol(sym, color)
    lead = lead if sym == "-/+" else f"  {lead}"
    lines.append(f'{lead} deployment "{change.environment}.{change.name}" {{')
    lines.extend(_attributes(change, color, show_unchanged))
    lines.append("    }")
    return lines


def render_changes(changes: list[ResourceChange], color: bool = False) -> list[str]:
    lines: list[str] = []
    for change in changes:
        lines.extend(render_change(change, color))
        lines.append("")
    return lines


def render(plan: Plan, color: bool = False) -> str:
    lines: list[str] = []
    for pending in plan.pending_operations:
        lines.append(
            f"Warning: an earlier apply was interrupted while it changed {pending['address']} "
            f"({'/'.join(pending['actions'])}, started {pending['started']} by "
            f"{pending['who']}); the plan below shows what is left to do."
        )
    if plan.pending_operations:
        lines.append("")
    if plan.source.get("dirty"):
        lines += ["Note: the working tree has uncommitted changes; this plan includes them.", ""]
    for finding in plan.findings:
        lines.append(render_finding(finding, color))
    if plan.findings:
        lines.append("")
    if plan.resource_changes:
        kinds = {action(c) for c in plan.resource_changes}
        lines.append(
            "mlops-plan compared the configuration with "
            + _base_label(plan)
            + ". Resource actions are indicated with the following symbols:"
        )
        lines.extend(_LEGEND[k] for k in ("create", "update", "delete", "replace") if k in kinds)
        lines += ["", "mlops-plan will perform the following actions:", ""]
        lines.extend(render_changes(plan.resource_changes, color))
    if plan.registry_changes:
        lines.append("Registry changes (they deploy nothing by themselves):")
        for change in plan.registry_changes:
            sym = {"create": "+", "delete": "-", "update": "~"}[change.actions[0]]
            where = f" ({change.file}:{change.line})" if change.file and change.line else ""
            lines.append(f"  {_symbol(sym, color)} {change.address}: {change.reason}{where}")
        lines.append("")
    lines.append(footer(plan))
    if plan.errored:
        lines.append("")
        lines.append("The configuration has errors (above): fix them before applying.")
    return "\n".join(lines) + "\n"


def _base_label(plan: Plan) -> str:
    base = plan.base
    if base is None:
        serial = (plan.prior_state or {}).get("serial") or 0
        if serial:
            return f"the recorded state (serial {serial})"
        return "an empty state (nothing applied yet)"
    if base.get("kind") == "git":
        commit = str(base.get("commit") or "")[:12]
        return f"{base.get('ref')} (merge-base {commit})"
    return f"the directory {base.get('ref')}"
