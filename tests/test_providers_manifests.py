"""The manifests provider: KServe InferenceServices that the real CRD schema accepts, with
no field the API server would prune, written atomically and removed exactly on delete."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from mlops_plan import model as m
from mlops_plan import pipeline
from mlops_plan import plan as p
from mlops_plan.providers import Manifests, ProviderContext, manifest_path, render
from mlops_plan.providers.base import ProviderError
from mlops_plan.secrets import SENSITIVE

HERE = Path(__file__).resolve().parent
CRD = HERE / "data" / "kserve" / "serving.kserve.io_inferenceservices.yaml"
GOLDEN = HERE / "golden" / "providers"
EXAMPLES = HERE.parent / "examples"
PLAN_ID = "sha256:" + "ab" * 32
DIGEST = "sha256:" + "9f" * 32
CANARY_DIGEST = "sha256:" + "5e" * 32

# --- KServe's CRD: schema validation and pruning -------------------------------------


def _int_or_string(node: Any) -> Any:
    """The schema with ``x-kubernetes-int-or-string`` spelled as JSON Schema can read it."""
    if isinstance(node, list):
        return [_int_or_string(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _int_or_string(value) for key, value in node.items()}
    if out.get("x-kubernetes-int-or-string") is True:
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    return out


@functools.cache
def crd_schema() -> dict[str, Any]:
    """The v1beta1 ``openAPIV3Schema`` of KServe's InferenceService CRD."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load(CRD.read_text(encoding="utf-8"), Loader=loader)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


@functools.cache
def validator() -> Draft7Validator:
    return Draft7Validator(_int_or_string(crd_schema()))


# The API server checks metadata as ObjectMeta, not through the CRD schema (which says only
# `type: object`); these are the ObjectMeta fields a rendered manifest may carry.
OBJECT_META = {"name", "namespace", "labels", "annotations"}
_LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"
_LABEL_KEY = re.compile(
    rf"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_LABEL_NAME}$"
)
_LABEL_VALUE = re.compile(rf"^({_LABEL_NAME})?$")


def pruned(value: Any, schema: dict[str, Any], path: str) -> Iterator[str]:
    """Paths of fields the API server would prune: not in ``properties``, where the schema
    node has no ``additionalProperties`` and no ``x-kubernetes-preserve-unknown-fields``."""
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        for key, item in value.items():
            if key in properties:
                yield from pruned(item, properties[key], f"{path}.{key}")
            elif isinstance(additional, dict):
                yield from pruned(item, additional, f"{path}.{key}")
            elif not (preserve or additional is True):
                yield f"{path}.{key}"
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from pruned(item, schema["items"], f"{path}[{i}]")


def kserve_problems(manifest: dict[str, Any]) -> list[str]:
    """Everything KServe's API server would reject or silently drop in `manifest`."""
    problems = [
        f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in validator().iter_errors(manifest)
    ]
    metadata = manifest.get("metadata", {})
    body = {k: v for k, v in manifest.items() if k != "metadata"}
    problems += [f"pruned: {path}" for path in pruned(body, crd_schema(), "")]
    problems += [f"pruned: .metadata.{key}" for key in sorted(set(metadata) - OBJECT_META)]
    for key, value in metadata.get("labels", {}).items():
        if not _LABEL_KEY.match(key) or not isinstance(value, str) or not _LABEL_VALUE.match(value):
            problems.append(f"invalid label {key}={value!r}")
    for key, value in metadata.get("annotations", {}).items():
        if not _LABEL_KEY.match(key) or not isinstance(value, str):
            problems.append(f"invalid annotation {key}={value!r}")
    if manifest.get("apiVersion") != "serving.kserve.io/v1beta1":
        problems.append(f"apiVersion {manifest.get('apiVersion')!r}")
    if manifest.get("kind") != "InferenceService":
        problems.append(f"kind {manifest.get('kind')!r}")
    return problems


def test_the_checker_catches_what_the_api_server_rejects_or_prunes() -> None:
    good = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "x", "namespace": "y", "labels": {"a.io/b": "c"}},
        "spec": {
            "predictor": {
                "model": {
                    "modelFormat": {"name": "sklearn"},
                    "resources": {"limits": {"cpu": 1, "memory": "1Gi"}},
                }
            }
        },
    }
    assert kserve_problems(good) == []
    bad = {
        **good,
        "metadata": {"name": "x", "generation2": 1, "labels": {"a": "not a value"}},
        "spec": {
            "predictor": {
                "minReplicas": "two",
                "canary": {"weight": 10},
                "model": {"modelFormat": {}, "resources": {"limits": {"cpu": "lots"}}},
            }
        },
    }
    problems = kserve_problems(bad)
    assert "pruned: .spec.predictor.canary" in problems
    assert "pruned: .metadata.generation2" in problems
    assert "invalid label a='not a value'" in problems
    assert any(line.startswith("spec.predictor.minReplicas:") for line in problems)
    assert any(line.startswith("spec.predictor.model.modelFormat:") for line in problems)
    assert any(line.startswith("spec.predictor.model.resources.limits.cpu:") for line in problems)


# --- Declarations and changes -------------------------------------------------------


def make_model(
    name: str, framework: str, versions: list[tuple[str, str, dict[str, str]]]
) -> m.Model:
    return m.Model.model_validate(
        {
            "apiVersion": "mlops-plan/v1",
            "kind": "Model",
            "metadata": {"name": name},
            "spec": {
                "framework": framework,
                "versions": [
                    {"version": v, "artifact": {"uri": uri, "digest": DIGEST}, "resources": res}
                    for v, uri, res in versions
                ],
            },
        }
    )


def make_target(name: str, spec: dict[str, Any]) -> m.HardwareTarget:
    return m.HardwareTarget.model_validate(
        {"apiVersion": "mlops-plan/v1", "kind": "HardwareTarget", "metadata": {"name": name}}
        | {"spec": spec}
    )


def make_environment(name: str, namespace: str | None = None) -> m.Environment:
    spec: dict[str, Any] = {"namespace": namespace} if namespace else {}
    return m.Environment.model_validate(
        {"apiVersion": "mlops-plan/v1", "kind": "Environment", "metadata": {"name": name}}
        | {"spec": spec}
    )


FRAUD = make_model(
    "fraud-detector",
    "pytorch",
    [
        ("2.4.1", "s3://ml-artifacts/fraud-detector/2.4.1/model.pt", {}),
        (
            "2.5.0",
            "s3://ml-artifacts/fraud-detector/2.5.0/model.pt",
            {"accelerator": "gpu", "cpu": "4", "memory": "16Gi", "gpuMemory": "16Gi"},
        ),
    ],
)
FRAUD_GPU = make_model(
    "fraud-detector",
    "pytorch",
    [
        (
            "2.4.1",
            "s3://ml-artifacts/fraud-detector/2.4.1/model.pt",
            {"accelerator": "gpu", "cpu": "2", "memory": "8Gi", "gpuMemory": "16Gi"},
        ),
        (
            "2.5.0",
            "s3://ml-artifacts/fraud-detector/2.5.0/model.pt",
            {"accelerator": "gpu", "cpu": "4", "memory": "16Gi", "gpuMemory": "16Gi"},
        ),
    ],
)
RANKER = make_model(
    "search-ranker",
    "sklearn",
    [("1.3.0+build.7", "gs://models/search-ranker/1.3.0", {"cpu": "500m", "memory": "1Gi"})],
)
A100 = make_target(
    "a100-80g",
    {
        "arch": "x86_64",
        "accelerator": "gpu",
        "gpu": {"model": "A100", "memory": "80Gi", "count": 2},
        "nodeSelector": {
            "cloud.google.com/gke-accelerator": "nvidia-tesla-a100",
            "node.kubernetes.io/instance-type": "a2-highgpu-2g",
        },
    },
)
CPU = make_target("cpu-x86", {"arch": "x86_64", "accelerator": "cpu"})


def obj(model: str, version: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": model,
        "version": version,
        "digest": DIGEST,
        "runtime": "triton",
        "runtimeVersion": "24.05",
        "image": "nvcr.io/nvidia/tritonserver:24.05-py3",
        "target": "a100-80g",
        "replicas": 2,
        "canary": None,
        "env": {},
    }
    out.update(fields)
    return out


def change(
    environment: str,
    name: str,
    actions: list[str],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> p.ResourceChange:
    return p.ResourceChange(
        address=f"deployment.{environment}.{name}",
        environment=environment,
        name=name,
        actions=actions,
        before=before,
        after=after,
        changed_paths=[],
        replace_paths=[],
        causes=[],
    )


def context(
    root: Path,
    model: m.Model | None = FRAUD_GPU,
    target: m.HardwareTarget | None = A100,
    environment: m.Environment | None = None,
    log: list[str] | None = None,
) -> ProviderContext:
    lines = log if log is not None else []
    return ProviderContext(
        root=root,
        environment=environment,
        model=model,
        target=target,
        runtime=None,
        plan_id=PLAN_ID,
        log=lines.append,
    )


def apply_and_read(
    root: Path, item: p.ResourceChange, ctx: ProviderContext, output: str = "rendered/"
) -> tuple[str, dict[str, Any]]:
    result = Manifests(output=output).apply(item, ctx)
    assert result.ok, result.message
    path = root / "rendered" / item.environment / f"{item.name}.yaml"
    assert result.message == f"wrote rendered/{item.environment}/{item.name}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# Rendered by mlops-plan from {item.address}; do not edit."
    manifest = yaml.safe_load(text)
    assert kserve_problems(manifest) == []
    return text, manifest


CANARY_PROD = change(
    "prod",
    "fraud-detector",
    ["update"],
    obj("fraud-detector", "2.4.1", replicas=6),
    obj(
        "fraud-detector",
        "2.4.1",
        replicas=6,
        canary={"version": "2.5.0", "weight": 10, "digest": CANARY_DIGEST},
        env={
            "FEATURE_STORE_TOKEN": {"secretRef": {"name": "feature-store", "key": "token"}},
            "LEGACY_API_KEY": SENSITIVE,
            "MODEL_NAME": "fraud-detector",
            "MODEL_PORT": "8080",
        },
    ),
)


# --- Rendering ------------------------------------------------------------------------


def test_cpu_model(tmp_path: Path) -> None:
    item = change(
        "dev",
        "search-ranker",
        ["create"],
        None,
        obj("search-ranker", "1.3.0+build.7", runtime="mlserver", target="cpu-x86", replicas=1),
    )
    _, manifest = apply_and_read(tmp_path, item, context(tmp_path, model=RANKER, target=CPU))
    meta = manifest["metadata"]
    assert meta["name"] == "search-ranker"
    assert meta["namespace"] == "dev"
    assert meta["labels"] == {
        "app.kubernetes.io/managed-by": "mlops-plan",
        "mlops-plan/environment": "dev",
        "mlops-plan/model": "search-ranker",
    }  # "1.3.0+build.7" is not a valid label value: kept as an annotation only
    assert meta["annotations"] == {
        "mlops-plan/digest": DIGEST,
        "mlops-plan/plan-id": PLAN_ID,
        "mlops-plan/runtime-version": "24.05",
        "mlops-plan/version": "1.3.0+build.7",
    }
    assert manifest["spec"] == {
        "predictor": {
            "minReplicas": 1,
            "maxReplicas": 1,
            "model": {
                "modelFormat": {"name": "sklearn"},
                "runtime": "mlserver",
                "storageUri": "gs://models/search-ranker/1.3.0",
                "resources": {
                    "requests": {"cpu": "500m", "memory": "1Gi"},
                    "limits": {"cpu": "500m", "memory": "1Gi"},
                },
            },
        }
    }


def test_gpu_model_with_node_selector_and_namespace(tmp_path: Path) -> None:
    item = change("prod", "fraud-detector", ["create"], None, obj("fraud-detector", "2.4.1"))
    ctx = context(tmp_path, environment=make_environment("prod", namespace="ml-serving"))
    _, manifest = apply_and_read(tmp_path, item, ctx)
    assert manifest["metadata"]["namespace"] == "ml-serving"
    assert manifest["metadata"]["labels"]["mlops-plan/version"] == "2.4.1"
    predictor = manifest["spec"]["predictor"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 2
    assert predictor["nodeSelector"] == A100.spec.node_selector
    assert predictor["model"]["resources"] == {
        "requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "2"},
        "limits": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "2"},
    }
    assert "canaryTrafficPercent" not in predictor


def test_model_without_resources_on_a_target_without_node_selector(tmp_path: Path) -> None:
    item = change("dev", "fraud-detector", ["create"], None, obj("fraud-detector", "2.4.1"))
    _, manifest = apply_and_read(tmp_path, item, context(tmp_path, model=FRAUD, target=None))
    predictor = manifest["spec"]["predictor"]
    assert "nodeSelector" not in predictor
    assert "resources" not in predictor["model"]
    assert "env" not in predictor["model"]


def test_canary_serves_the_canary_version_beside_the_rolled_out_revision(
    tmp_path: Path,
) -> None:
    log: list[str] = []
    ctx = context(tmp_path, model=FRAUD, log=log)
    text, manifest = apply_and_read(tmp_path, CANARY_PROD, ctx)
    predictor = manifest["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    assert predictor["model"]["storageUri"] == "s3://ml-artifacts/fraud-detector/2.5.0/model.pt"
    # The predictor describes the canary's revision: its resources, not the main version's.
    assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    annotations = manifest["metadata"]["annotations"]
    assert annotations["mlops-plan/version"] == "2.4.1"
    assert annotations["mlops-plan/canary-version"] == "2.5.0"
    assert annotations["mlops-plan/canary-digest"] == CANARY_DIGEST
    assert manifest["metadata"]["labels"]["mlops-plan/version"] == "2.4.1"
    assert "(sensitive value)" not in text
    assert log == [
        "deployment.prod.fraud-detector: env LEGACY_API_KEY not rendered: a sensitive value is "
        "never written; use {secretRef: {name, key}} to read it from a Kubernetes Secret"
    ]


def test_env_values_and_secret_references(tmp_path: Path) -> None:
    _, manifest = apply_and_read(tmp_path, CANARY_PROD, context(tmp_path, model=FRAUD))
    assert manifest["spec"]["predictor"]["model"]["env"] == [
        {
            "name": "FEATURE_STORE_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "feature-store", "key": "token"}},
        },
        {"name": "MODEL_NAME", "value": "fraud-detector"},
        {"name": "MODEL_PORT", "value": "8080"},
    ]


def test_golden_manifest(tmp_path: Path) -> None:
    ctx = context(tmp_path, model=FRAUD, environment=make_environment("prod", "ml-serving"))
    text, _ = apply_and_read(tmp_path, CANARY_PROD, ctx)
    golden = GOLDEN / "fraud-detector.prod.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"golden file {golden} missing: run with UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_rendering_is_stable(tmp_path: Path) -> None:
    first, _ = apply_and_read(tmp_path, CANARY_PROD, context(tmp_path, model=FRAUD))
    second, _ = apply_and_read(tmp_path, CANARY_PROD, context(tmp_path, model=FRAUD))
    assert first == second


def test_every_example_deployment_renders_a_valid_inference_service(tmp_path: Path) -> None:
    root = EXAMPLES / "ml-platform"
    analysis = pipeline.analyze(root)
    repo = analysis.repo
    changes = p.compute(None, analysis)
    assert changes
    for item in changes:
        after = item.after
        assert after is not None
        ctx = ProviderContext(
            root=tmp_path,
            environment=repo.environments.get(item.environment),
            model=repo.models.get(after["model"]),
            target=repo.targets.get(after["target"]),
            runtime=repo.runtimes.get(after["runtime"]),
            plan_id=PLAN_ID,
            log=lambda _: None,
        )
        assert kserve_problems(render(item, ctx)) == [], item.address
        apply_and_read(tmp_path, item, ctx)


# --- Writing and deleting -------------------------------------------------------------


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_update_and_replace_overwrite_atomically(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    first = change("prod", "fraud-detector", ["create"], None, obj("fraud-detector", "2.4.1"))
    apply_and_read(tmp_path, first, ctx)
    update = change(
        "prod", "fraud-detector", ["update"], first.after, obj("fraud-detector", "2.5.0")
    )
    _, manifest = apply_and_read(tmp_path, update, ctx)
    assert manifest["metadata"]["annotations"]["mlops-plan/version"] == "2.5.0"
    replace = change(
        "prod",
        "fraud-detector",
        ["delete", "create"],
        update.after,
        obj("fraud-detector", "2.5.0", runtime="torchserve"),
    )
    _, manifest = apply_and_read(tmp_path, replace, ctx)
    assert manifest["spec"]["predictor"]["model"]["runtime"] == "torchserve"
    assert list(files(tmp_path)) == ["rendered/prod/fraud-detector.yaml"]  # no temp files


def test_delete_removes_exactly_the_file(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    for environment, name in [
        ("prod", "fraud-detector"),
        ("prod", "other"),
        ("dev", "fraud-detector"),
    ]:
        item = change(environment, name, ["create"], None, obj("fraud-detector", "2.4.1"))
        assert Manifests().apply(item, ctx).ok
    (tmp_path / "rendered" / "prod" / "kustomization.yaml").write_text("resources: []\n")
    before = files(tmp_path)
    gone = change("prod", "fraud-detector", ["delete"], obj("fraud-detector", "2.4.1"), None)
    result = Manifests().apply(gone, ctx)
    assert result.ok
    assert result.message == "removed rendered/prod/fraud-detector.yaml"
    after = files(tmp_path)
    assert set(before) - set(after) == {"rendered/prod/fraud-detector.yaml"}
    assert all(after[path] == before[path] for path in after)
    again = Manifests().apply(gone, ctx)
    assert again.ok
    assert again.message == "rendered/prod/fraud-detector.yaml already absent"
    assert files(tmp_path) == after


def test_delete_of_a_deployment_never_rendered_is_fine(tmp_path: Path) -> None:
    gone = change("prod", "fraud-detector", ["delete"], obj("fraud-detector", "2.4.1"), None)
    assert Manifests().apply(gone, context(tmp_path)).ok
    assert files(tmp_path) == {}


@pytest.mark.parametrize("output", ["../outside", "/tmp/mlops-plan-outside", "rendered/../../x"])
def test_an_output_folder_outside_the_repository_is_refused(tmp_path: Path, output: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    item = change("prod", "fraud-detector", ["create"], None, obj("fraud-detector", "2.4.1"))
    result = Manifests(output=output).apply(item, context(root))
    assert not result.ok
    assert "is outside the repository" in result.message
    assert "hint: set providers.<environment>.output" in result.message
    assert files(tmp_path) == {}
    assert not Path("/tmp/mlops-plan-outside").exists()


def test_a_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    (outside / "prod").mkdir(parents=True)
    (outside / "prod" / "fraud-detector.yaml").write_text("keep: me\n")
    root.mkdir()
    (root / "rendered").symlink_to(outside, target_is_directory=True)
    ctx = context(root)
    for item in [
        change("prod", "fraud-detector", ["create"], None, obj("fraud-detector", "2.4.1")),
        change("prod", "fraud-detector", ["delete"], obj("fraud-detector", "2.4.1"), None),
    ]:
        result = Manifests().apply(item, ctx)
        assert not result.ok
        assert "is outside the repository" in result.message
    assert (outside / "prod" / "fraud-detector.yaml").read_text() == "keep: me\n"


@pytest.mark.parametrize(
    ("environment", "name", "wrong"),
    [
        ("..", "fraud-detector", "environment name '..'"),
        ("prod/../..", "fraud-detector", "environment name 'prod/../..'"),
        ("Prod", "fraud-detector", "environment name 'Prod'"),
        ("prod", "../fraud-detector", "deployment name '../fraud-detector'"),
        ("prod", "a" * 64, "deployment name 'aaaa"),
    ],
)
def test_names_that_are_not_dns_labels_are_refused(
    tmp_path: Path, environment: str, name: str, wrong: str
) -> None:
    for actions, before, after in [
        (["create"], None, obj("fraud-detector", "2.4.1")),
        (["delete"], obj("fraud-detector", "2.4.1"), None),
    ]:
        item = change(environment, name, actions, before, after)
        result = Manifests().apply(item, context(tmp_path))
        assert not result.ok
        assert result.message.startswith(wrong)
        assert "is not a DNS-1123 label" in result.message
    assert files(tmp_path) == {}


def test_manifest_path(tmp_path: Path) -> None:
    assert manifest_path(tmp_path, "rendered/", "prod", "x") == (
        tmp_path.resolve() / "rendered" / "prod" / "x.yaml"
    )
    assert manifest_path(tmp_path, ".", "prod", "x") == tmp_path.resolve() / "prod" / "x.yaml"
    with pytest.raises(ProviderError, match="outside the repository"):
        manifest_path(tmp_path, "..", "prod", "x")


def test_a_version_the_model_does_not_declare_fails_the_change(tmp_path: Path) -> None:
    item = change("prod", "fraud-detector", ["create"], None, obj("fraud-detector", "9.9.9"))
    result = Manifests().apply(item, context(tmp_path))
    assert not result.ok
    assert (
        result.message
        == "deployment.prod.fraud-detector: model 'fraud-detector' has no version '9.9.9'"
    )
    missing = Manifests().apply(item, context(tmp_path, model=None))
    assert not missing.ok
    assert (
        missing.message == "deployment.prod.fraud-detector: model 'fraud-detector' is not declared"
    )
    assert files(tmp_path) == {}


def test_a_write_error_fails_the_change_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "rendered").write_text("a file where a folder should be\n")
    item = change("prod", "fraud-detector", ["create"], None, obj("fraud-detector", "2.4.1"))
    result = Manifests().apply(item, context(tmp_path))
    assert not result.ok
    assert result.message.startswith("cannot write rendered/prod/fraud-detector.yaml: ")
