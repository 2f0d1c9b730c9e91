"""A reference that can change under the same name: `:latest` or untagged images,
artifact URIs without a pinned revision.

A plan is only reviewable when every name in it means one thing. A runtime image tagged
`latest` (or with no tag or digest at all), an artifact under a `latest/` path, a
Hugging Face model without `@revision`, or a git URL without `@commit` can all change
without any change in the repository.

Failing:

    # file: runtimes/torchserve.yaml
    apiVersion: mlops-plan/v1
    kind: Runtime
    metadata: {name: torchserve}
    spec:
      supportedFormats: [pytorch]
      versions:
        - version: "0.11.0"
          image: pytorch/torchserve:latest       # whatever was pushed last
          provides: {pytorch: "2.3.0", python: "3.9"}
          accelerators: [gpu, cpu]
          arch: [x86_64]

Passing:

    # file: runtimes/torchserve.yaml
    apiVersion: mlops-plan/v1
    kind: Runtime
    metadata: {name: torchserve}
    spec:
      supportedFormats: [pytorch]
      versions:
        - version: "0.11.0"
          image: pytorch/torchserve:0.11.0-gpu   # or pytorch/torchserve@sha256:…
          provides: {pytorch: "2.3.0", python: "3.9"}
          accelerators: [gpu, cpu]
          arch: [x86_64]
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlops_plan.findings import Finding, Severity
from mlops_plan.rules.base import Context, emit

ID = "MP402"
NAME = "mutable-reference"
SEVERITY = "error"

_FLOATING = re.compile(r"(^|/)(latest|head|main|master)(/|$)", re.IGNORECASE)


def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f'image "{image}" has no tag (it means :latest)'
    tag = last.rsplit(":", 1)[1].lower()
    if tag == "latest" or tag.startswith("latest-"):
        return f'image "{image}" uses a moving tag (:{tag})'
    return None


def uri_problem(uri: str) -> str | None:
    scheme, _, rest = uri.partition("://")
    if scheme in {"hf", "huggingface"} and "@" not in rest:
        return f'artifact "{uri}" names no revision'
    if scheme.startswith("git+") and "@" not in rest:
        return f'artifact "{uri}" names no commit'
    if _FLOATING.search(rest.split("?", 1)[0]):
        return f'artifact "{uri}" points at a moving path'
    return None


def check(ctx: Context) -> Iterator[Finding]:
    for name, runtime in sorted(ctx.repo.runtimes.items()):
        for i, release in enumerate(runtime.spec.versions):
            problem = image_problem(release.image)
            if problem:
                anchor = ctx.repo.anchor("Runtime", name, "spec", "versions", i, "image")
                yield emit(
                    ctx,
                    ID,
                    Severity.ERROR,
                    anchor,
                    f"runtime {name} {release.version}: {problem}",
                    "pin a version tag or a digest (image@sha256:…)",
                )
    for name, model in sorted(ctx.repo.models.items()):
        for i, entry in enumerate(model.spec.versions):
            problem = uri_problem(entry.artifact.uri)
            if problem:
                anchor = ctx.repo.anchor("Model", name, "spec", "versions", i, "artifact", "uri")
                yield emit(
                    ctx,
                    ID,
                    Severity.ERROR,
                    anchor,
                    f"{name} {entry.version}: {problem}",
                    "point at the immutable location of this version (a versioned path, "
                    "@revision or @commit)",
                )
