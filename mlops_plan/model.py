"""The declaration kinds of DESIGN §1 as frozen pydantic models.

Field names are snake_case here and camelCase in YAML (the Kubernetes convention).
Unknown keys are rejected, except extension keys starting with ``x-``. Every version is a
string checked against PEP 440; the JSON Schemas in ``schemas/`` are generated from this
module.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)
from pydantic.alias_generators import to_camel

API_VERSION = "mlops-plan/v1"
API_GROUP = "mlops-plan/"
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
EXTENSION_PREFIX = "x-"


@lru_cache(maxsize=65536)  # a repository repeats its versions thousands of times
def _parse_version(value: str) -> Version:
    return Version(value)


def _check_version(value: str) -> str:
    try:
        _parse_version(value)
    except InvalidVersion:
        raise ValueError(f'"{value}" is not a PEP 440 version (e.g. "2.4.1")') from None
    return value


@lru_cache(maxsize=65536)  # and its specifiers: parsing one is costly, sharing one is safe
def parse_specifier(value: str) -> SpecifierSet:
    """A specifier, or a bare version meaning exactly that version."""
    text = value.strip()
    if text and text[0].isdigit():
        Version(text)
        return SpecifierSet(f"=={text}")
    return SpecifierSet(text)


def _check_specifier(value: str) -> str:
    try:
        parse_specifier(value)
    except (InvalidSpecifier, InvalidVersion):
        raise ValueError(
            f'"{value}" is not a PEP 440 version or specifier (e.g. "2.4.1", "~=2.4", ">=2.1,<2.4")'
        ) from None
    return value


_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$")
_SUFFIX = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def parse_quantity(value: str) -> Decimal:
    """A Kubernetes quantity (``16Gi``, ``500m``, ``2``) as a number of base units."""
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(f'"{value}" is not a Kubernetes quantity (e.g. "16Gi", "500m", "2")')
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from None
    return number * _SUFFIX[match.group(2)]


def _check_quantity(value: str) -> str:
    parse_quantity(value)
    return value


Name = Annotated[
    str,
    StringConstraints(pattern=DNS1123_LABEL),
    Field(description="A DNS-1123 label: lowercase letters, digits and '-', at most 63."),
]
VersionStr = Annotated[
    str,
    AfterValidator(_check_version),
    Field(description='A PEP 440 version, always quoted: "2.4.1", "24.05".'),
]
SpecifierStr = Annotated[
    str,
    AfterValidator(_check_specifier),
    Field(description='A PEP 440 version or specifier, quoted: "2.4.1", "~=2.4", ">=2.1,<2.4".'),
]
Quantity = Annotated[
    str,
    AfterValidator(_check_quantity),
    Field(description='A Kubernetes quantity: "8Gi", "500m", "2".'),
]
Digest = Annotated[
    str,
    StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$"),
    Field(description="The artifact's content digest: sha256: and 64 lowercase hex digits."),
]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Accelerator = Literal["gpu", "cpu"]
Arch = Literal["x86_64", "aarch64"]
Severity = Literal["error", "warning", "info"]


class Spec(BaseModel):
    """Base of every object: camelCase keys, unknown keys rejected except ``x-*``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        strict=True,  # YAML's own types only: "2" is not an integer, yes is not a boolean
        json_schema_extra={"patternProperties": {"^x-": {}}},
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(
            isinstance(k, str) and k.startswith(EXTENSION_PREFIX) for k in data
        ):
            return {
                k: v
                for k, v in data.items()
                if not (isinstance(k, str) and k.startswith(EXTENSION_PREFIX))
            }
        return data


class Metadata(Spec):
    name: Name
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels.")
    annotations: dict[str, str] = Field(default_factory=dict)


# --- Model -------------------------------------------------------------------------------


class Artifact(Spec):
    uri: str = Field(description="Where the model's files live (s3://, gs://, https://, pvc://).")
    digest: Digest | None = None
    format: str | None = Field(default=None, description="Optional detail: torchscript, onnx…")


class Resources(Spec):
    accelerator: Accelerator = Field(default="cpu", description="gpu or cpu (default cpu).")
    cpu: Quantity | None = None
    memory: Quantity | None = None
    gpu_memory: Quantity | None = Field(
        default=None, description="GPU memory the model needs; must fit the target's gpu.memory."
    )


class Dependency(Spec):
    model: Name = Field(description="A model that must run beside this one.")
    version: SpecifierStr


class ModelVersion(Spec):
    version: VersionStr
    status: Literal["released", "deprecated", "yanked"] = "released"
    artifact: Artifact
    requires: dict[str, SpecifierStr] = Field(
        default_factory=dict,
        description="Capability -> specifier, matched against runtime.provides ∪ target.provides.",
    )
    resources: Resources = Field(default_factory=Resources)
    depends_on: list[Dependency] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)


class ModelSpec(Spec):
    framework: str = Field(description="Model format family, matched to supportedFormats.")
    license: str | None = None
    owners: list[str] = Field(default_factory=list)
    versions: list[ModelVersion] = Field(min_length=1)


# --- Runtime -----------------------------------------------------------------------------


class RuntimeVersion(Spec):
    version: VersionStr
    image: str = Field(description="The container image of this release, pinned by tag or digest.")
    provides: dict[str, VersionStr] = Field(default_factory=dict)
    requires: dict[str, SpecifierStr] = Field(
        default_factory=dict, description="Capability -> specifier, matched against the target."
    )
    accelerators: list[Accelerator] = Field(default_factory=lambda: list[Accelerator](["cpu"]))
    arch: list[Arch] = Field(default_factory=lambda: list[Arch](["x86_64"]))


class RuntimeSpec(Spec):
    supported_formats: list[str] = Field(min_length=1)
    versions: list[RuntimeVersion] = Field(min_length=1)


# --- HardwareTarget ----------------------------------------------------------------------


class Gpu(Spec):
    model: str
    memory: Quantity
    count: int = Field(default=1, ge=1)


class HardwareTargetSpec(Spec):
    arch: Arch
    accelerator: Accelerator
    gpu: Gpu | None = None
    provides: dict[str, VersionStr] = Field(default_factory=dict)
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="Kubernetes node labels that select this hardware."
    )


# --- Environment -------------------------------------------------------------------------


class Freeze(Spec):
    start: Annotated[
        dt.datetime, Field(strict=False, description="ISO 8601, e.g. 2026-12-20T00:00:00Z")
    ]
    end: Annotated[dt.datetime, Field(strict=False)]
    reason: str


class EnvironmentSpec(Spec):
    promotes_from: list[Name] = Field(default_factory=list)
    targets: list[Name] = Field(default_factory=list)
    runtimes: dict[Name, VersionStr] = Field(default_factory=dict)
    protected: bool = False
    namespace: Name | None = Field(default=None, description="Kubernetes namespace; default: name")
    freezes: list[Freeze] = Field(default_factory=list)


# --- Deployment --------------------------------------------------------------------------


class SecretKeyRef(Spec):
    name: Name
    key: str


class SecretEnv(Spec):
    secret_ref: SecretKeyRef


def _env_kind(value: Any) -> str:
    return "secret" if isinstance(value, (dict, SecretEnv)) else "value"


EnvValue = Annotated[
    Annotated[str, Tag("value")] | Annotated[SecretEnv, Tag("secret")],
    Discriminator(_env_kind),
    Field(description="A plain string (quote numbers) or {secretRef: {name, key}}."),
]


class Canary(Spec):
    version: VersionStr
    weight: int = Field(description="Percent of traffic sent to the canary version (1-99).")


class DeploymentOverride(Spec):
    version: SpecifierStr | None = None
    runtime: Name | None = None
    target: Name | None = None
    replicas: int | None = Field(default=None, ge=0)
    canary: Canary | None = None
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)


class DeploymentSpec(Spec):
    model: Name
    version: SpecifierStr | None = None
    runtime: Name | None = None
    target: Name | None = None
    replicas: int = Field(default=1, ge=0)
    canary: Canary | None = None
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    environments: dict[Name, DeploymentOverride] = Field(min_length=1)


# --- Policy ------------------------------------------------------------------------------

Kind = Literal["Model", "Runtime", "HardwareTarget", "Environment", "Deployment", "Policy"]


class PolicyMatch(Spec):
    kinds: list[Kind] = Field(default_factory=lambda: list[Kind](["Deployment"]))
    environments: list[Name] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


class PolicySpec(Spec):
    severity: Severity = "error"
    match: PolicyMatch = Field(default_factory=PolicyMatch)
    condition: str = Field(description="A CEL expression that must be true.")
    message: str | None = None
    message_expression: str | None = None


# --- Documents ---------------------------------------------------------------------------


class Document(Spec):
    api_version: Literal["mlops-plan/v1"]
    metadata: Metadata


class Model(Document):
    """A model: a package with immutable released versions."""

    kind: Literal["Model"]
    spec: ModelSpec


class Runtime(Document):
    """A serving runtime and what each of its releases provides."""

    kind: Literal["Runtime"]
    spec: RuntimeSpec


class HardwareTarget(Document):
    """Hardware that replicas run on."""

    kind: Literal["HardwareTarget"]
    spec: HardwareTargetSpec


class Environment(Document):
    """A place with a promotion order, hardware and pinned runtime releases."""

    kind: Literal["Environment"]
    spec: EnvironmentSpec


class Deployment(Document):
    """One model, everywhere it runs; each environment entry overrides the base."""

    kind: Literal["Deployment"]
    spec: DeploymentSpec


class Policy(Document):
    """A user rule: a CEL condition evaluated on effective objects."""

    kind: Literal["Policy"]
    spec: PolicySpec


KINDS: dict[str, type[Document]] = {
    "Model": Model,
    "Runtime": Runtime,
    "HardwareTarget": HardwareTarget,
    "Environment": Environment,
    "Deployment": Deployment,
    "Policy": Policy,
}


# --- Repository config (mlops-plan.yaml) -------------------------------------------------


class Suppressions(Spec):
    require_reason: bool = True
    allow: bool = True


class StateConfig(Spec):
    backend: Literal["local", "postgres"] = "local"
    path: str = ".mlops-plan/state.json"
    dsn: str | None = None
    workspace: Name = "default"


class ManifestsProvider(Spec):
    type: Literal["manifests"]
    output: str = "rendered/"


class ExecProvider(Spec):
    type: Literal["exec"]
    command: list[str] = Field(min_length=1, description="An argv list, never a shell string.")
    timeout: int = Field(default=600, ge=1, description="Seconds before the change fails.")


Provider = Annotated[ManifestsProvider | ExecProvider, Field(discriminator="type")]


def _bare_off(value: Any) -> Any:
    """YAML 1.1 reads a bare `off` as false: `rules: {MP403: off}` means off."""
    return "off" if value is False else value


RuleSetting = Annotated[Literal["error", "warning", "info", "off"], BeforeValidator(_bare_off)]


class Config(Spec):
    """The optional repository configuration, ``mlops-plan.yaml`` at the repository root."""

    include: list[str] = Field(default_factory=lambda: ["**/*.yaml", "**/*.yml"])
    exclude: list[str] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=list)
    rules: dict[str, RuleSetting] = Field(default_factory=dict)
    suppressions: Suppressions = Field(default_factory=Suppressions)
    state: StateConfig = Field(default_factory=StateConfig)
    providers: dict[str, Provider] = Field(default_factory=dict)


SCHEMA_BASE = "urn:mlops-plan:v1:"


def json_schema(cls: type[BaseModel], name: str) -> dict[str, Any]:
    """The Draft 2020-12 JSON Schema of a kind (or the config), as committed in schemas/."""
    schema = cls.model_json_schema(by_alias=True)
    schema = _close_pattern_maps(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{name}",
        **schema,
    }


def _close_pattern_maps(node: Any) -> Any:
    """Maps whose keys have a pattern (env names) accept no other key, as the model does."""
    if isinstance(node, list):
        return [_close_pattern_maps(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _close_pattern_maps(value) for key, value in node.items()}
    if "patternProperties" in out and "properties" not in out:
        out.setdefault("additionalProperties", False)
    return out


def schema_files() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every kind and the repository config."""
    files = {f"{kind}.json": json_schema(cls, kind) for kind, cls in KINDS.items()}
    files["mlops-plan.yaml.json"] = json_schema(Config, "mlops-plan.yaml")
    return files


# --- Lockfile (mlops-plan.lock) ----------------------------------------------------------


class LockedCanary(Spec):
    version: VersionStr
    digest: str | None = None


class LockEntry(Spec):
    model: Name
    version: VersionStr
    digest: str | None = None
    canary: LockedCanary | None = None
    runtime: Name
    runtime_version: VersionStr
    image: str
    target: Name


class LockFile(Spec):
    """mlops-plan.lock: what each effective deployment resolved to."""

    lock_version: Literal[1] = 1
    deployments: dict[str, LockEntry] = Field(default_factory=dict)
