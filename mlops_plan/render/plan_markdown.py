"""A plan as a pull-request comment, under GitHub's size limit.

GitHub refuses comment bodies over 65,536 characters; the comment stays under
`MAX_BYTES` UTF-8 bytes by degrading step by step: (1) drop the Mermaid graph and
compact created/destroyed objects, (2) truncate each environment's plan at a change
boundary with an explicit marker, (3) only the summary and the addresses. A fence or a
`<details>` block is always emitted whole. The hidden marker at the end lets a bot find
and update one sticky comment.
"""

from __future__ import annotations

import re
from collections import defaultdict

from mlops_plan.plan import Plan, ResourceChange
from mlops_plan.render import plan_text

MAX_BYTES = 60_000
MARKER = "<!-- mlops-plan -->"
MERMAID_MAX_CHANGES = 12
_ACTION_TITLES = {
    "create": "Create",
    "update": "Update",
    "replace": "Replace",
    "delete": "Destroy",
}
_LEAD = re.compile(r"^(\s*)(-/\+|[-+~])(\s)")


def _diff_line(line: str) -> str:
    """Move a Terraform symbol to column 0 so a ```diff fence colours the line."""
    match = _LEAD.match(line)
    if match is None:
        return line[2:] if line.startswith("  ") else line
    indent, symbol, space = match.groups()
    symbol = "!" if symbol == "-/+" else symbol
    return f"{symbol}{indent}{space}{line[match.end() :]}"


def _compact(change: ResourceChange) -> ResourceChange:
    """Creates and destroys with only the attributes a reviewer reads first."""
    keep = ("model", "version", "runtime", "runtimeVersion", "target", "replicas")
    before = {k: v for k, v in (change.before or {}).items() if k in keep} or None
    after = {k: v for k, v in (change.after or {}).items() if k in keep} or None
    return change.model_copy(update={"before": before, "after": after})


def _by_environment(plan: Plan) -> dict[str, list[ResourceChange]]:
    groups: dict[str, list[ResourceChange]] = defaultdict(list)
    for change in plan.resource_changes:
        groups[change.environment].append(change)
    return dict(sorted(groups.items()))


def _counts(changes: list[ResourceChange]) -> tuple[int, int, int]:
    add = change = destroy = 0
    for c in changes:
        kind = plan_text.action(c)
        add += kind in {"create", "replace"}
        change += kind == "update"
        destroy += kind in {"delete", "replace"}
    return add, change, destroy


def _header(plan: Plan) -> list[str]:
    lines = [f"### mlops-plan: {plan_text.footer(plan)}", ""]
    risky = [
        c
        for c in plan.resource_changes
        if c.protected and (plan_text.action(c) in {"delete", "replace"} or c.downgrade)
    ]
    if risky:
        lines += ["> [!WARNING]", "> **Protected environments need approval at apply:**"]
        for c in risky[:20]:
            what = c.notes[0] if c.downgrade else plan_text._HEADERS[plan_text.action(c)]
            lines.append(f"> - `{c.address}` {what}")
        if len(risky) > 20:
            lines.append(f"> - and {len(risky) - 20} more")
        lines.append("")
    errors = [f for f in plan.findings if f.severity == "error"]
    if errors:
        lines += ["> [!CAUTION]", f"> **{len(errors)} error(s)**: this plan cannot be applied."]
        for f in errors[:10]:
            where = f"{f.file}:{f.line}" if f.line else f.file
            lines.append(f"> - `{where}` {f.rule} {_escape(f.message)[:300]}")
        if len(errors) > 10:
            lines.append(f"> - and {len(errors) - 10} more: run `mlops-plan lint`")
        lines.append("")
    return lines


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _table(plan: Plan) -> list[str]:
    groups = _by_environment(plan)
    if not groups:
        return []
    lines = ["| environment | add | change | destroy |", "|---|--:|--:|--:|"]
    for env, changes in groups.items():
        add, change, destroy = _counts(changes)
        lines.append(f"| {env} | {add} | {change} | {destroy} |")
    return [*lines, ""]


def _addresses(plan: Plan, limit: int | None = None) -> list[str]:
    lines: list[str] = []
    for kind in ("create", "update", "replace", "delete"):
        addresses = [c.address for c in plan.resource_changes if plan_text.action(c) == kind]
        if not addresses:
            continue
        shown = addresses if limit is None else addresses[:limit]
        text = ", ".join(f"`{a}`" for a in shown)
        if len(shown) < len(addresses):
            text += f" and {len(addresses) - len(shown)} more"
        lines.append(f"**{_ACTION_TITLES[kind]}** ({len(addresses)}): {text}")
        lines.append("")
    return lines


def _details(env: str, changes: list[ResourceChange], budget: int | None, compact: bool) -> str:
    add, change, destroy = _counts(changes)
    summary = f"<b>{env}</b>: {add} to add, {change} to change, {destroy} to destroy"
    blocks: list[str] = []
    used = 0
    shown = 0
    for c in changes:
        block = "\n".join(
            _diff_line(line) for line in plan_text.render_change(_compact(c) if compact else c)
        )
        size = len(block.encode()) + 1
        if budget is not None and used + size > budget and shown > 0:
            break
        blocks.append(block)
        used += size
        shown += 1
    body = "\n\n".join(blocks)
    if shown < len(changes):
        body += (
            f"\n\n# ... {len(changes) - shown} more change(s) in {env} not shown: "
            "run `mlops-plan plan` for the full plan"
        )
    return f"<details><summary>{summary}</summary>\n\n```diff\n{body}\n```\n\n</details>\n"


def _mermaid(plan: Plan) -> list[str]:
    if not plan.resource_changes or len(plan.resource_changes) > MERMAID_MAX_CHANGES:
        return []
    ids: dict[str, str] = {}

    def node(name: str) -> str:
        if name not in ids:
            ids[name] = f"n{len(ids)}"
        return ids[name]

    lines = ["```mermaid", "flowchart LR"]
    edges: list[str] = []
    for change in plan.resource_changes:
        target = node(change.address)
        for cause in change.causes:
            edges.append(f"  {node(cause.address)} -->|{_mermaid_text(cause.reason)}| {target}")
    for name, ident in ids.items():
        shape = ('(["', '"])') if name.startswith("deployment.") else ('["', '"]')
        kind = next((plan_text.action(c) for c in plan.resource_changes if c.address == name), None)
        label = f"{kind}: {name}" if kind else name
        lines.append(f"  {ident}{shape[0]}{_mermaid_text(label)}{shape[1]}")
    lines += sorted(set(edges))
    lines += ["```", ""]
    return ["<details><summary>What causes these changes</summary>", "", *lines, "</details>", ""]


def _mermaid_text(text: str) -> str:
    return re.sub(r'["|<>]', "'", text.replace("->", "→"))[:80]


def _registry(plan: Plan) -> list[str]:
    if not plan.registry_changes:
        return []
    lines = ["<details><summary>Registry changes (they deploy nothing by themselves)</summary>", ""]
    for change in plan.registry_changes[:200]:
        lines.append(f"- `{change.address}` {change.actions[0]}: {_escape(change.reason)}")
    if len(plan.registry_changes) > 200:
        lines.append(f"- and {len(plan.registry_changes) - 200} more")
    return [*lines, "", "</details>", ""]


def _compose(plan: Plan, level: int) -> str:
    head = [*_header(plan), *_table(plan)]
    if not plan.resource_changes:
        head += ["No changes. Your deployments match the configuration.", ""]
    tail = [MARKER]
    if level >= 3:
        body = [
            *_addresses(plan, limit=100),
            "_The full plan is too long for a comment: run `mlops-plan plan` locally._",
            "",
        ]
        return "\n".join([*head, *body, *tail]) + "\n"
    addresses = _addresses(plan, limit=None if level < 2 else 100)
    groups = _by_environment(plan)
    budget = None
    if level == 2 and groups:
        fixed = len("\n".join([*head, *addresses, *tail]).encode())
        per_block = 400  # the <details> wrapper, the fence and the truncation marker
        budget = (MAX_BYTES - fixed) // len(groups) - per_block
    parts = [*head, *addresses]
    for env, changes in groups.items():
        parts.append(_details(env, changes, budget, compact=level >= 1))
    if level == 0:
        parts += _mermaid(plan)
    if level < 2:
        parts += _registry(plan)
    return "\n".join([*parts, *tail]) + "\n"


def render(plan: Plan, color: bool = False) -> str:
    for level in range(4):
        text = _compose(plan, level)
        if len(text.encode()) <= MAX_BYTES:
            return text
    return text
