"""A model, runtime, runtime release, target or environment name that does not exist.

Checked everywhere a name is used: a deployment's `model`, `runtime`, `target` and the
keys of its `environments`; an environment's `promotesFrom`, `targets`, `runtimes` (and
the pinned release of each runtime); a model version's `dependsOn`; a policy's
`match.environments`. The hint offers the closest existing name by edit distance.

Failing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detecter       # did you mean "fraud-detector"?
      runtime: triton
      target: a100-80g
      replicas: 2
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}
        prod: {version: "~=2.4.0", replicas: 4}

Passing:

    # file: deployments/fraud-detector.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: fraud-detector}
    spec:
      model: fraud-detector
      runtime: triton
      target: a100-80g
      replicas: 2
      environments:
        dev: {version: "~=2.4.0", target: l4-24g}
        prod: {version: "~=2.4.0", replicas: 4}
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from mlops_plan.findings import Anchor, Finding, Severity
from mlops_plan.resolve import release_of
from mlops_plan.rules.base import Context, did_you_mean, emit

ID = "MP201"
NAME = "unknown-reference"
SEVERITY = "error"

_KIND_WORD = {
    "Model": "model",
    "Runtime": "runtime",
    "HardwareTarget": "target",
    "Environment": "environment",
}


def _unknown(ctx: Context, kind: str, name: str, anchor: Anchor) -> Finding | None:
    if ctx.repo.declares(kind, name):
        return None
    names = list(ctx.repo.of_kind(kind))
    hint = did_you_mean(name, names)
    if hint is None:
        hint = (
            f"declared {_KIND_WORD[kind]}s: " + ", ".join(sorted(names)[:10])
            if names
            else f"no {_KIND_WORD[kind]} is declared: add a {kind} document"
        )
    unparsed = ctx.extra.get("unparsed")
    if isinstance(unparsed, list) and unparsed:
        hint += f" (or it is declared in a file that does not parse: {', '.join(unparsed[:3])})"
    return emit(ctx, ID, Severity.ERROR, anchor, f'unknown {_KIND_WORD[kind]} "{name}"', hint)


def check(ctx: Context) -> Iterator[Finding]:
    repo = ctx.repo
    for name, deployment in sorted(repo.deployments.items()):
        spec = deployment.spec
        at = partial(repo.anchor, "Deployment", name, "spec")
        for kind, value, path in (
            ("Model", spec.model, ("model",)),
            ("Runtime", spec.runtime, ("runtime",)),
            ("HardwareTarget", spec.target, ("target",)),
        ):
            if value is not None and (f := _unknown(ctx, kind, value, at(*path))):
                yield f
        for environment, override in sorted(spec.environments.items()):
            if f := _unknown(
                ctx, "Environment", environment, at("environments", environment)._replace(key=True)
            ):
                yield f
            for kind, value, key in (
                ("Runtime", override.runtime, "runtime"),
                ("HardwareTarget", override.target, "target"),
            ):
                if value is not None and (
                    f := _unknown(ctx, kind, value, at("environments", environment, key))
                ):
                    yield f
    for name, declared in sorted(repo.environments.items()):
        spec_e = declared.spec
        at = partial(repo.anchor, "Environment", name, "spec")
        for i, upstream in enumerate(spec_e.promotes_from):
            if f := _unknown(ctx, "Environment", upstream, at("promotesFrom", i)):
                yield f
        for i, target in enumerate(spec_e.targets):
            if f := _unknown(ctx, "HardwareTarget", target, at("targets", i)):
                yield f
        for runtime_name, release in sorted(spec_e.runtimes.items()):
            if f := _unknown(ctx, "Runtime", runtime_name, at("runtimes", runtime_name, key=True)):
                yield f
                continue
            runtime = repo.runtimes.get(runtime_name)
            if runtime is None:
                continue
            if release_of(runtime, release) is None:
                releases = [v.version for v in runtime.spec.versions]
                yield emit(
                    ctx,
                    ID,
                    Severity.ERROR,
                    at("runtimes", runtime_name),
                    f'runtime "{runtime_name}" has no release "{release}"',
                    did_you_mean(release, releases) or "releases: " + ", ".join(releases),
                )
    for name, model in sorted(repo.models.items()):
        for i, entry in enumerate(model.spec.versions):
            for j, dep in enumerate(entry.depends_on):
                anchor = repo.anchor("Model", name, "spec", "versions", i, "dependsOn", j, "model")
                if f := _unknown(ctx, "Model", dep.model, anchor):
                    yield f
    for name, policy in sorted(repo.policies.items()):
        for i, environment in enumerate(policy.spec.match.environments):
            anchor = repo.anchor("Policy", name, "spec", "match", "environments", i)
            if f := _unknown(ctx, "Environment", environment, anchor):
                yield f
