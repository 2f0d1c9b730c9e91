"""The ``manifests`` provider: one KServe ``InferenceService`` per effective deployment.

Each effective deployment becomes ``<root>/<output>/<environment>/<name>.yaml``, the
GitOps "rendered manifests" that Argo CD or Flux sync into the cluster. Create, update
and replace write the file (a temporary file, then ``os.replace``: a reader never sees
half a manifest); delete removes that file and nothing else. The output folder must stay
inside the repository, and environment and deployment names must be DNS-1123 labels.

Canaries follow KServe's canary rollout model (serverless mode; kserve.github.io,
"Canary Rollout Strategy"). An InferenceService holds one predictor spec. KServe keeps
the last revision that was rolled out at 100 % of the traffic, and when the predictor
changes with ``canaryTrafficPercent: N``, it sends N % to the new revision and the rest
to that last rolled-out revision. So with a canary the predictor describes the canary
version (its ``storageUri`` and resources), ``canaryTrafficPercent`` is the canary's
weight, and the main version is served by the previous revision at 100 - weight:

* it works as intended when the main version was applied first without a canary (the
  usual order: run 2.4.1, then add ``canary: {version: 2.5.0, weight: 10}``);
* promoting (``version: 2.5.0``, no canary) keeps the ``storageUri`` and drops
  ``canaryTrafficPercent``: KServe sends 100 % to that revision;
* dropping the canary (a rollback) puts the main version's ``storageUri`` back with no
  ``canaryTrafficPercent``: a new revision of the main version takes 100 %;
* an InferenceService created with a canary has no earlier revision, so the canary
  version gets all the traffic until then; the main version and the canary are always
  recorded in the ``mlops-plan/version`` and ``mlops-plan/canary-version`` annotations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_plan import model as m
from mlops_plan.files import write_atomic
from mlops_plan.plan import ResourceChange
from mlops_plan.providers.base import (
    DEFAULT_OUTPUT,
    DNS1123_LABEL,
    ProviderContext,
    ProviderError,
    ProviderResult,
    action_of,
    failed,
)
from mlops_plan.resolve import version_of
from mlops_plan.secrets import SENSITIVE

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
GPU_RESOURCE = "nvidia.com/gpu"
LABEL_PREFIX = "mlops-plan/"
# A Kubernetes label value: at most 63 characters, alphanumeric at both ends.
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def _check_label(what: str, value: str) -> None:
    if not DNS1123_LABEL.match(value):
        raise ProviderError(
            f"{what} name {value!r} is not a DNS-1123 label",
            hint="names are lowercase letters, digits and '-', at most 63 characters",
        )


def _check_names(change: ResourceChange) -> None:
    _check_label("environment", change.environment)
    _check_label("deployment", change.name)
    if change.address != f"deployment.{change.environment}.{change.name}":
        raise ProviderError(f"address {change.address!r} does not name {change.name!r}")


def manifest_path(root: Path, output: str, environment: str, name: str) -> Path:
    """``<root>/<output>/<environment>/<name>.yaml``, refused when it would leave `root`."""
    _check_label("environment", environment)
    _check_label("deployment", name)
    base = root.resolve()
    folder = (base / output / environment).resolve()
    if not folder.is_relative_to(base):
        raise ProviderError(
            f"manifests output {output!r} is outside the repository "
            f"(its folder for {environment!r} resolves out of the repository root)",
            hint="set providers.<environment>.output in mlops-plan.yaml to a folder "
            "inside the repository, such as rendered/",
        )
    return folder / f"{name}.yaml"


def render(change: ResourceChange, ctx: ProviderContext) -> dict[str, Any]:
    """The InferenceService of `change`'s ``after`` object (plain data, ready to dump)."""
    _check_names(change)
    after = change.after
    if after is None:
        raise ProviderError(f"{change.address}: nothing to render for a delete")
    model = ctx.model
    if model is None or model.metadata.name != after["model"]:
        raise ProviderError(f"{change.address}: model {after['model']!r} is not declared")
    entry = _version(change, model, after["version"])
    canary = after.get("canary")
    served = _version(change, model, canary["version"]) if canary else entry

    labels = {
        "app.kubernetes.io/managed-by": "mlops-plan",
        LABEL_PREFIX + "model": model.metadata.name,
        LABEL_PREFIX + "environment": change.environment,
    }
    if _LABEL_VALUE.match(entry.version):
        labels[LABEL_PREFIX + "version"] = entry.version
    annotations = {
        LABEL_PREFIX + "version": entry.version,
        LABEL_PREFIX + "runtime-version": str(after["runtimeVersion"]),
    }
    if after.get("digest"):
        annotations[LABEL_PREFIX + "digest"] = str(after["digest"])
    if ctx.plan_id:
        annotations[LABEL_PREFIX + "plan-id"] = ctx.plan_id
    if canary:
        annotations[LABEL_PREFIX + "canary-version"] = served.version
        if canary.get("digest"):
            annotations[LABEL_PREFIX + "canary-digest"] = str(canary["digest"])

    predictor_model: dict[str, Any] = {
        "modelFormat": {"name": model.spec.framework},
        "runtime": after["runtime"],
        "storageUri": served.artifact.uri,
    }
    resources = _resources(served.resources, ctx.target)
    if resources:
        predictor_model["resources"] = resources
    env = _env(change, after.get("env") or {}, ctx)
    if env:
        predictor_model["env"] = env
    predictor: dict[str, Any] = {
        "minReplicas": after["replicas"],
        "maxReplicas": after["replicas"],
        "model": predictor_model,
    }
    if ctx.target is not None and ctx.target.spec.node_selector:
        predictor["nodeSelector"] = dict(ctx.target.spec.node_selector)
    if canary:
        predictor["canaryTrafficPercent"] = canary["weight"]
    namespace = change.environment
    if ctx.environment is not None and ctx.environment.spec.namespace:
        namespace = ctx.environment.spec.namespace
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": change.name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {"predictor": predictor},
    }


def render_text(change: ResourceChange, ctx: ProviderContext) -> str:
    """The manifest file: a header naming the address, then the YAML, keys sorted."""
    body = yaml.safe_dump(render(change, ctx), sort_keys=True, default_flow_style=False, width=4096)
    return f"# Rendered by mlops-plan from {change.address}; do not edit.\n{body}"


def _version(change: ResourceChange, model: m.Model, text: str) -> m.ModelVersion:
    entry = version_of(model, text)
    if entry is None:
        raise ProviderError(
            f"{change.address}: model {model.metadata.name!r} has no version {text!r}"
        )
    return entry


def _resources(resources: m.Resources, target: m.HardwareTarget | None) -> dict[str, Any]:
    amounts: dict[str, str] = {}
    if resources.cpu is not None:
        amounts["cpu"] = resources.cpu
    if resources.memory is not None:
        amounts["memory"] = resources.memory
    if resources.accelerator == "gpu":
        gpu = target.spec.gpu if target is not None else None
        amounts[GPU_RESOURCE] = str(gpu.count if gpu is not None else 1)
    if not amounts:
        return {}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def _env(change: ResourceChange, env: dict[str, Any], ctx: ProviderContext) -> list[Any]:
    out: list[Any] = []
    skipped: list[str] = []
    for name in sorted(env):
        value = env[name]
        if value == SENSITIVE:
            skipped.append(name)
        elif isinstance(value, str):
            out.append({"name": name, "value": value})
        elif isinstance(value, dict) and isinstance(value.get("secretRef"), dict):
            ref = value["secretRef"]
            secret = {"name": str(ref["name"]), "key": str(ref["key"])}
            out.append({"name": name, "valueFrom": {"secretKeyRef": secret}})
        else:
            raise ProviderError(f"{change.address}: env {name} is neither a string nor secretRef")
    if skipped:
        ctx.log(
            f"{change.address}: env {', '.join(skipped)} not rendered: a sensitive value "
            "is never written; use {secretRef: {name, key}} to read it from a Kubernetes Secret"
        )
    return out


@dataclass(frozen=True)
class Manifests:
    """Renders KServe InferenceServices under ``<root>/<output>/<environment>/``."""

    output: str = DEFAULT_OUTPUT
    name: str = field(default="manifests", init=False)

    def apply(self, change: ResourceChange, ctx: ProviderContext) -> ProviderResult:
        try:
            action = action_of(change)
            _check_names(change)
            path = manifest_path(ctx.root, self.output, change.environment, change.name)
        except ProviderError as error:
            return failed(error)
        shown = path.relative_to(ctx.root.resolve()).as_posix()
        try:
            if action == "delete":
                try:
                    path.unlink()
                except FileNotFoundError:
                    return ProviderResult(ok=True, message=f"{shown} already absent")
                return ProviderResult(ok=True, message=f"removed {shown}")
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, render_text(change, ctx), mode=0o644)
        except ProviderError as error:
            return failed(error)
        except OSError as error:
            verb = "remove" if action == "delete" else "write"
            reason = error.strerror or str(error)
            return ProviderResult(ok=False, message=f"cannot {verb} {shown}: {reason}")
        return ProviderResult(ok=True, message=f"wrote {shown}")
