"""An artifact without a sha256 digest (an error where a protected environment runs it).

A digest pins the bytes a version name stands for: without one, whoever can write to the
bucket can change what runs. Every version should carry `artifact.digest:
sha256:<64 hex>`; a version that a protected environment deploys (as main or canary
version) must. Elsewhere the finding is a warning.

Failing:

    # file: models/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: text-embedder}
    spec:
      framework: onnx
      versions:
        - version: "1.1.0"
          status: deprecated
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.1.0/model.onnx
            digest: sha256:ced7b39ae2df48fa648006246b5ae5d22622a68539e951251448f14517631bd5
        - version: "1.2.0"        # runs in prod, which is protected
          artifact: {uri: s3://ml-artifacts/text-embedder/1.2.0/model.onnx}
          requires: {onnxruntime: ">=1.17"}

Passing:

    # file: models/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Model
    metadata: {name: text-embedder}
    spec:
      framework: onnx
      versions:
        - version: "1.1.0"
          status: deprecated
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.1.0/model.onnx
            digest: sha256:ced7b39ae2df48fa648006246b5ae5d22622a68539e951251448f14517631bd5
        - version: "1.2.0"
          artifact:
            uri: s3://ml-artifacts/text-embedder/1.2.0/model.onnx
            digest: sha256:cbf9a97e61195b25b669a03b59f8917ce29beac4dbe58e32574dffa3c4a82fd8
          requires: {onnxruntime: ">=1.17"}
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.rules.base import Context, emit

ID = "MP401"
NAME = "digest-required"
SEVERITY = "error"


def check(ctx: Context) -> Iterator[Finding]:
    protected: dict[tuple[str, str], str] = {}
    for item in ctx.resolution.resolved.values():
        env = ctx.repo.environments.get(item.deployment.environment)
        if env is None or not env.spec.protected:
            continue
        for entry in (item.version, item.canary):
            if entry is not None:
                protected.setdefault((item.deployment.model, entry.version), item.address)
    for name, model in sorted(ctx.repo.models.items()):
        for i, entry in enumerate(model.spec.versions):
            if entry.artifact.digest is not None or entry.status == "yanked":
                continue
            anchor = ctx.repo.anchor("Model", name, "spec", "versions", i, "artifact", key=True)
            user = protected.get((name, entry.version))
            if user is not None:
                yield emit(
                    ctx,
                    ID,
                    Severity.ERROR,
                    anchor,
                    f"{name} {entry.version} has no artifact digest, and {user} (a protected "
                    "environment) deploys it",
                    "add artifact.digest: sha256:<64 hex> (e.g. `sha256sum model.pt`)",
                )
            else:
                yield emit(
                    ctx,
                    ID,
                    Severity.WARNING,
                    anchor,
                    f"{name} {entry.version} has no artifact digest",
                    "add artifact.digest: sha256:<64 hex> (e.g. `sha256sum model.pt`)",
                )
