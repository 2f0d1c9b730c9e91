"""The committed JSON Schemas: no drift from model.py, valid, documented, and in agreement
with the pydantic models that lint validates with."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from mlops_plan import load
from mlops_plan import model as m

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rules"
EXAMPLES = ROOT / "examples"
CONFIG_SCHEMA = "mlops-plan.yaml.json"

# pydantic checks these values beyond what the JSON Schema can say: PEP 440 versions and
# specifiers, Kubernetes quantities (value_error), and date-time strings (`format` is an
# annotation in Draft 2020-12, not an assertion).
VALUE_ONLY_ERRORS = frozenset({"value_error", "datetime_from_date_parsing", "datetime_parsing"})


def committed(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(committed(name))


# --- (a) drift -----------------------------------------------------------------------------


def test_committed_schemas_match_model() -> None:
    generated = m.schema_files()
    on_disk = sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert on_disk == sorted(generated), "run python scripts/generate_schemas.py"
    drifted = [name for name, schema in generated.items() if committed(name) != schema]
    assert drifted == [], f"{', '.join(drifted)} drifted: run python scripts/generate_schemas.py"


def test_committed_schemas_are_stable_text() -> None:
    """What scripts/generate_schemas.py writes: sorted keys, two-space indent, final newline."""
    for name, schema in m.schema_files().items():
        text = (SCHEMAS / name).read_text(encoding="utf-8")
        expected = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        assert text == expected, f"{name}: run python scripts/generate_schemas.py"


# --- (c) valid Draft 2020-12, documented ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMAS.glob("*.json")))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = committed(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:mlops-plan:v1:{name.removesuffix('.json')}"


@pytest.mark.parametrize("kind", sorted(m.KINDS))
def test_kind_schema_envelope(kind: str) -> None:
    schema = committed(f"{kind}.json")
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert schema["properties"]["apiVersion"]["const"] == "mlops-plan/v1"
    assert schema["properties"]["kind"]["const"] == kind
    assert schema["additionalProperties"] is False
    assert schema["patternProperties"] == {"^x-": {}}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref, and an optional field's `anyOf: [X, {"type": "null"}]` to X."""
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            continue
        branches = [b for b in node.get("anyOf", []) if b != {"type": "null"}]
        if len(branches) == 1 and len(node["anyOf"]) == 2:
            node = branches[0]
            continue
        return node


def _version_fields(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(object title, field, schema of one version string) for every version-valued field."""
    found = []
    objects = [schema, *schema.get("$defs", {}).values()]
    for obj in objects:
        for field, prop in obj.get("properties", {}).items():
            prop = _resolve(schema, prop)
            if field == "version":
                found.append((obj.get("title", "?"), field, prop))
            elif field in {"provides", "requires", "runtimes"}:
                values = prop.get("additionalProperties")
                if not isinstance(values, dict):
                    values = next(iter(prop.get("patternProperties", {}).values()), {})
                found.append((obj.get("title", "?"), field, _resolve(schema, values)))
    return found


def test_version_fields_are_described() -> None:
    places = []
    for kind in sorted(m.KINDS):
        for title, field, prop in _version_fields(committed(f"{kind}.json")):
            places.append(f"{kind}:{title}.{field}")
            assert prop.get("type") == "string", f"{kind} {title}.{field}: versions are strings"
            description = prop.get("description", "")
            assert "PEP 440" in description, f"{kind} {title}.{field} has no useful description"
    assert {
        "Model:ModelVersion.version",
        "Model:ModelVersion.requires",
        "Model:Dependency.version",
        "Runtime:RuntimeVersion.version",
        "Runtime:RuntimeVersion.provides",
        "Runtime:RuntimeVersion.requires",
        "HardwareTarget:HardwareTargetSpec.provides",
        "Environment:EnvironmentSpec.runtimes",
        "Deployment:DeploymentSpec.version",
        "Deployment:DeploymentOverride.version",
        "Deployment:Canary.version",
    } <= set(places)


# --- (b) agreement between the schemas and the pydantic models -----------------------------


def _jsonish(value: Any) -> Any:
    """The data as a YAML 1.2 / JSON tool sees it: timestamps are strings."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _jsonish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonish(v) for v in value]
    return value


def _folders() -> list[Path]:
    folders = sorted(p for p in FIXTURES.glob("*/*/*") if p.is_dir())
    if EXAMPLES.is_dir():
        folders += sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    return folders


def _documents() -> list[Any]:
    """(schema file, class, data) for every parseable document of every fixture and example."""
    params = []
    for folder in _folders():
        label = folder.relative_to(ROOT).as_posix()
        config = folder / load.CONFIG_FILE
        if config.is_file():
            try:
                data = yaml.load(config.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            except yaml.YAMLError:
                data = None
            if isinstance(data, dict):
                params.append(
                    pytest.param(CONFIG_SCHEMA, m.Config, data, id=f"{label}/{load.CONFIG_FILE}")
                )
        for path in sorted(folder.rglob("*.y*ml")):
            rel = path.relative_to(folder).as_posix()
            if rel == load.CONFIG_FILE:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            docs, _ = load.parse(rel, text)
            for doc in docs:
                kind = doc.data.get("kind")
                if doc.data.get("apiVersion") != m.API_VERSION or not isinstance(kind, str):
                    continue
                if kind not in m.KINDS:
                    continue
                params.append(
                    pytest.param(
                        f"{kind}.json", m.KINDS[kind], doc.data, id=f"{label}/{rel}#{doc.doc}"
                    )
                )
    return params


DOCUMENTS = _documents()


def _verdicts(schema_name: str, cls: type[Any], data: Any) -> tuple[list[str], list[str]]:
    schema_errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(schema_name).iter_errors(_jsonish(data))
    ]
    try:
        cls.model_validate(data)
        model_errors: list[str] = []
    except ValidationError as exc:
        model_errors = [e["type"] for e in exc.errors()]
    return schema_errors, model_errors


def test_there_are_documents_of_every_kind() -> None:
    seen = {p.values[0] for p in DOCUMENTS}
    assert seen == {f"{kind}.json" for kind in m.KINDS} | {CONFIG_SCHEMA}
    assert len(DOCUMENTS) > 60


@pytest.mark.parametrize(("schema_name", "cls", "data"), DOCUMENTS)
def test_schema_and_model_agree(schema_name: str, cls: type[Any], data: dict[str, Any]) -> None:
    schema_errors, model_errors = _verdicts(schema_name, cls, data)
    if not model_errors:
        assert schema_errors == [], "lint accepts what the committed schema rejects"
    elif not schema_errors:
        # the schema only describes these checks; anything else it must reject too
        assert set(model_errors) <= VALUE_ONLY_ERRORS, model_errors


def _deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops-plan/v1",
        "kind": "Deployment",
        "metadata": {"name": "fraud"},
        "spec": {"model": "fraud", "environments": {"prod": {}}, **spec},
    }


def _model_version(**version: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops-plan/v1",
        "kind": "Model",
        "metadata": {"name": "fraud"},
        "spec": {
            "framework": "onnx",
            "versions": [{"version": "1.0", "artifact": {"uri": "s3://a/b"}, **version}],
        },
    }


def _environment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops-plan/v1",
        "kind": "Environment",
        "metadata": {"name": "prod"},
        "spec": spec,
    }


AGREED: list[Any] = [
    pytest.param("Deployment.json", m.Deployment, _deployment(replicas=-1), id="negative"),
    # YAML's own types only (strict validation): no coercion the schema would not allow
    pytest.param("Deployment.json", m.Deployment, _deployment(replicas="2"), id="replicas-string"),
    pytest.param("Deployment.json", m.Deployment, _deployment(replicas=True), id="replicas-bool"),
    pytest.param(
        "Environment.json", m.Environment, _environment(protected="yes"), id="protected-yes"
    ),
    pytest.param("Environment.json", m.Environment, _environment(protected=1), id="protected-1"),
    pytest.param("Model.json", m.Model, _model_version(metrics={"auc": "0.9"}), id="metric-string"),
    pytest.param("Model.json", m.Model, _model_version(metrics={"auc": 1}), id="metric-int"),
    # an explicit null means "not set", in the model and in the schema
    pytest.param("Deployment.json", m.Deployment, _deployment(version=None), id="null-version"),
    pytest.param(
        "Model.json",
        m.Model,
        _model_version(artifact={"uri": "s3://a/b", "digest": None}),
        id="null-digest",
    ),
    pytest.param("Deployment.json", m.Deployment, _deployment(replicas=None), id="null-replicas"),
    pytest.param(
        "Deployment.json", m.Deployment, _deployment(env={"1BAD": "x"}), id="env-name-key"
    ),
    pytest.param(
        "Deployment.json",
        m.Deployment,
        _deployment(env={"TOKEN": {"secretRef": {"name": "s"}}}),
        id="secret-without-key",
    ),
    pytest.param("Deployment.json", m.Deployment, _deployment(**{"x-a": [1]}), id="extension"),
    pytest.param(
        "Environment.json", m.Environment, _environment(runtimes={"Triton": "1.0"}), id="bad-key"
    ),
    pytest.param("Model.json", m.Model, _model_version(status="gone"), id="bad-literal"),
]


@pytest.mark.parametrize(("schema_name", "cls", "data"), AGREED)
def test_schema_and_model_agree_on_edge_cases(
    schema_name: str, cls: type[Any], data: dict[str, Any]
) -> None:
    schema_errors, model_errors = _verdicts(schema_name, cls, data)
    assert bool(schema_errors) == bool(model_errors), (schema_errors, model_errors)


def test_an_integral_float_is_an_integer_only_for_the_schema() -> None:
    """JSON Schema counts 2.0 as an integer; strict lint wants YAML's integer `2`.

    The allowed direction: lint may reject more than the schema, never less.
    """
    schema_errors, model_errors = _verdicts(
        "Deployment.json", m.Deployment, _deployment(replicas=2.0)
    )
    assert (schema_errors, model_errors) == ([], ["int_type"])
