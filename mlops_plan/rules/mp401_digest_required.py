"""An artifact without a sha256 digest (an error where a protected environment runs it).

A digest pins the bytes a version name stands for: without one, whoever can write to the
bucket can change what runs. Every version should carry `artifact.digest:
sha256:<64 hex>`; a version that a protected environment deploys (as main or canary
version) must.

Failing:

    versions:
      - version: "2.4.1"
        artifact: {uri: s3://ml-artifacts/fraud/2.4.1/model.pt}

Passing:

    versions:
      - version: "2.4.1"
        artifact:
          uri: s3://ml-artifacts/fraud/2.4.1/model.pt
          digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
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
