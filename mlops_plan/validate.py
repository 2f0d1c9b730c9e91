"""Validation of parsed documents against the kinds of `model.py` → typed objects + findings.

Validation runs in pydantic-core: the JSON Schemas in ``schemas/`` are generated from the
same models, so a document passes here exactly when it passes its schema (a test checks
both on every fixture), at a fraction of the cost of a JSON Schema interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mlops_plan import model as m
from mlops_plan.findings import Anchor, Finding, Severity
from mlops_plan.load import CONFIG_FILE, Locator, RawDoc

T = TypeVar("T", bound=m.Document)


@dataclass
class Repository:
    """Every valid declaration of a repository, by kind and name, with where it came from."""

    root: Path
    config: m.Config = field(default_factory=m.Config)
    models: dict[str, m.Model] = field(default_factory=dict)
    runtimes: dict[str, m.Runtime] = field(default_factory=dict)
    targets: dict[str, m.HardwareTarget] = field(default_factory=dict)
    environments: dict[str, m.Environment] = field(default_factory=dict)
    deployments: dict[str, m.Deployment] = field(default_factory=dict)
    policies: dict[str, m.Policy] = field(default_factory=dict)
    origins: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    broken: set[tuple[str, str]] = field(default_factory=set)  # declared, but invalid

    def declares(self, kind: str, name: str) -> bool:
        """Whether a document of that kind and name exists, valid or not."""
        return (kind, name) in self.origins or (kind, name) in self.broken

    def of_kind(self, kind: str) -> dict[str, Any]:
        kinds: dict[str, dict[str, Any]] = {
            "Model": self.models,
            "Runtime": self.runtimes,
            "HardwareTarget": self.targets,
            "Environment": self.environments,
            "Deployment": self.deployments,
            "Policy": self.policies,
        }
        return kinds[kind]

    def anchor(self, kind: str, name: str, *path: str | int, key: bool = False) -> Anchor:
        file, doc = self.origins[(kind, name)]
        return Anchor(file, doc, path, key)


def finding_at(
    locator: Locator,
    rule: str,
    anchor: Anchor,
    message: str,
    hint: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Finding:
    line, col = locator.position(anchor)
    return Finding(
        rule=rule,
        severity=severity,
        file=anchor.file,
        line=line,
        col=col,
        message=message,
        hint=hint,
    )


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def did_you_mean(word: str, choices: list[str] | set[str] | tuple[str, ...]) -> str | None:
    """The closest choice by edit distance, when it is close enough to be a typo."""
    limit = max(1, len(word) // 3)
    best: tuple[int, str] | None = None
    for choice in sorted(choices):
        if abs(len(choice) - len(word)) > limit:
            continue
        distance = edit_distance(word, choice)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, choice)
    return f'did you mean "{best[1]}"?' if best else None


def validate_documents(
    repo: Repository,
    docs: list[RawDoc],
    locator: Locator,
    reuse: Mapping[tuple[str, int], m.Document] | None = None,
) -> list[Finding]:
    """Check kinds and schemas, fill `repo` with the valid documents, return findings.

    `reuse` holds documents already validated from the same data, by (file, index):
    validation is a pure function of a document's data, so they are taken as they are.
    """
    findings: list[Finding] = []
    for raw in docs:
        anchor = Anchor(raw.file, raw.doc, ())
        api_version = raw.data.get("apiVersion")
        if api_version != m.API_VERSION:
            findings.append(
                finding_at(
                    locator,
                    "MP102",
                    anchor._replace(path=("apiVersion",)),
                    f'unknown apiVersion "{api_version}"',
                    f'this version of mlops-plan reads apiVersion "{m.API_VERSION}"',
                )
            )
            continue
        kind = raw.data.get("kind")
        cls = m.KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None or not isinstance(kind, str):
            where = anchor._replace(path=("kind",)) if "kind" in raw.data else anchor
            message = f'unknown kind "{kind}"' if "kind" in raw.data else "document has no kind"
            hint = (did_you_mean(kind, list(m.KINDS)) if isinstance(kind, str) else None) or (
                "kinds: " + ", ".join(sorted(m.KINDS))
            )
            findings.append(finding_at(locator, "MP102", where, message, hint))
            continue
        try:
            known = reuse.get((raw.file, raw.doc)) if reuse is not None else None
            document = known if type(known) is cls else cls.model_validate(raw.data)
        except ValidationError as exc:
            findings.extend(schema_findings(exc, raw.data, anchor, locator, kind_schema(kind)))
            metadata = raw.data.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
                repo.broken.add((kind, metadata["name"]))
            continue
        name = document.metadata.name
        first = repo.origins.get((kind, name))
        if first is not None:
            first_line, first_col = locator.position(
                Anchor(first[0], first[1], ("metadata", "name"))
            )
            findings.append(
                finding_at(
                    locator,
                    "MP103",
                    anchor._replace(path=("metadata", "name")),
                    f'duplicate {kind} "{name}": first declared at '
                    f"{first[0]}:{first_line}:{first_col}",
                    "rename one of them: names are unique per kind",
                )
            )
            continue
        repo.origins[(kind, name)] = (raw.file, raw.doc)
        repo.of_kind(kind)[name] = document
    return findings


def validate_config(raw: dict[str, Any] | None, locator: Locator) -> tuple[m.Config, list[Finding]]:
    if raw is None:
        return m.Config(), []
    try:
        return m.Config.model_validate(raw), []
    except ValidationError as exc:
        anchor = Anchor(CONFIG_FILE, 0, ())
        return m.Config(), schema_findings(exc, raw, anchor, locator, config_schema())


@cache
def kind_schema(kind: str) -> dict[str, Any]:
    return m.KINDS[kind].model_json_schema(by_alias=True)


@cache
def config_schema() -> dict[str, Any]:
    return m.Config.model_json_schema(by_alias=True)


def schema_findings(
    exc: ValidationError,
    data: Any,
    anchor: Anchor,
    locator: Locator,
    schema: dict[str, Any],
) -> list[Finding]:
    """One MP101 per error (all of them), each at its key or value."""
    findings: list[Finding] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for error in exc.errors(include_url=False):
        path, is_key = _data_path(data, error["loc"])
        kind = error["type"]
        if kind == "missing":
            missing = error["loc"][-1]
            if path and path[-1] == missing:
                path = path[:-1]
            where = anchor._replace(path=path, key=True)
            message = f'missing required key "{missing}"'
            if path:
                message += f" in {_dotted(path)}"
            hint = _description(schema, (*path, str(missing)))
        elif kind == "extra_forbidden":
            where = anchor._replace(path=path, key=True)
            message = f'unknown key "{path[-1]}"'
            if len(path) > 1:
                message += f" in {_dotted(path[:-1])}"
            allowed = _allowed_keys(schema, path[:-1])
            hint = did_you_mean(str(path[-1]), allowed) or (
                "allowed here: " + ", ".join(allowed) + '; extension keys start with "x-"'
            )
        else:
            where = anchor._replace(path=path, key=is_key)
            message, hint = _describe(error, path, is_key, locator, where)
        signature = (where.path, message)
        if signature in seen:
            continue
        seen.add(signature)
        findings.append(finding_at(locator, "MP101", where, message, hint))
    return findings


def _data_path(data: Any, loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], bool]:
    """The part of a pydantic location that exists in the data (union tags dropped)."""
    path: list[str | int] = []
    current = data
    is_key = False
    for part in loc:
        if part == "[key]":
            is_key = True
            break
        if _has(current, part):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and part not in current:
            # a missing key or a union tag: only a real key (the last part) is kept
            if part == loc[-1]:
                path.append(part)
            continue
    return tuple(path), is_key


def _has(container: Any, part: str | int) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(
    error: Any, path: tuple[str | int, ...], is_key: bool, locator: Locator, where: Anchor
) -> tuple[str, str | None]:
    kind: str = error["type"]
    value = error["input"]
    field_name = str(path[-1]) if path else "document"
    label = _dotted(path) or "document"
    if is_key:
        if (path and path[-2:-1] == ("env",)) or (len(path) >= 2 and path[-2] == "env"):
            return (
                f'"{path[-1]}" is not a valid environment variable name',
                "use letters, digits and _, not starting with a digit",
            )
        return f'invalid key "{path[-1]}" in {_dotted(path[:-1])}', None
    if kind in {"string_type", "str_type"} and isinstance(value, (int, float, bool)):
        token = locator.token(where) or _show(value)
        noun = "boolean" if isinstance(value, bool) else "number"
        versionish = any(part in {"version", "runtimes", "provides", "requires"} for part in path)
        reason = "versions are always strings" if versionish else "this value is a string"
        return (
            f"{label}: expected a string, got the {noun} {token}",
            f'quote it: "{token}" (YAML reads an unquoted {token} as a {noun}; {reason})',
        )
    if kind == "string_pattern_mismatch":
        if field_name == "digest":
            return (
                f"{label}: {_show(value)} is not a sha256 digest",
                "write sha256: followed by 64 lowercase hex digits",
            )
        suggestion = _to_name(str(value))
        return (
            f"{label}: {_show(value)} is not a valid name",
            "names are DNS-1123 labels: lowercase letters, digits and '-', starting and "
            "ending with a letter or digit, at most 63 characters"
            + (f' (e.g. "{suggestion}")' if suggestion else ""),
        )
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{label}: {message}", None
    if kind == "literal_error":
        return f"{label}: {_show(value)} is not allowed; {_lower(error['msg'])}", None
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{label}: expected a mapping, got {_type_name(value)}", None
    if kind == "list_type":
        return f"{label}: expected a list, got {_type_name(value)}", None
    if kind == "too_short":
        return f"{label}: must not be empty", None
    return f"{label}: {_lower(error['msg'])} (got {_show(value)})", None


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (dict, list)):
        return _type_name(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f'the string "{value}"'
    if value is None:
        return "null"
    return f"{type(value).__name__} {value}"


def _to_name(value: str) -> str | None:
    import re

    cleaned = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63].strip("-")
    return cleaned or None


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node or "oneOf" in node:
            branches = [
                b for b in node.get("anyOf", node.get("oneOf", [])) if b != {"type": "null"}
            ]
            objects = [b for b in branches if "$ref" in b or b.get("type") in {"object", "array"}]
            node = (objects or branches or [{}])[0]
        else:
            return node


def _schema_at(schema: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    node = _resolve(schema, schema)
    for part in path:
        if isinstance(part, int):
            node = _resolve(schema, node.get("items", {}))
        elif part in node.get("properties", {}):
            node = _resolve(schema, node["properties"][part])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _resolve(schema, node["additionalProperties"])
        elif node.get("patternProperties"):
            node = _resolve(schema, next(iter(node["patternProperties"].values())))
        else:
            return {}
    return node


def _allowed_keys(schema: dict[str, Any], path: tuple[str | int, ...]) -> list[str]:
    return list(_schema_at(schema, path).get("properties", {}))


def _description(schema: dict[str, Any], path: tuple[str | int, ...]) -> str | None:
    parent = _schema_at(schema, path[:-1])
    prop = parent.get("properties", {}).get(path[-1], {})
    description = prop.get("description") or _resolve(schema, prop).get("description")
    return str(description) if description else None


def model_for(cls: type[BaseModel]) -> str:
    return cls.__name__
