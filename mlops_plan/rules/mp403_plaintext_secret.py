"""An `env` value that looks like a credential: AWS keys, tokens, private keys.

Values in `env` end up in the repository, in plans, in rendered manifests and in CI
logs. Credentials belong in a Kubernetes Secret, referenced with `{secretRef: {name,
key}}`. Known formats (AWS access key IDs, GitHub, GitLab and Slack tokens, private-key
blocks, Stripe and Google API keys) are caught anywhere; a high-entropy value under a
secret-looking name (TOKEN, SECRET, PASSWORD, API_KEY…) too. The value itself is never
printed, in any output format.

Failing:

    # file: deployments/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: text-embedder}
    spec:
      model: text-embedder
      runtime: triton
      target: cpu-x86
      env:
        MODEL_NAME: text-embedder
        FEATURE_STORE_TOKEN: glpat-Xb3kd92Lsm4Qwe8Rtz1P     # a GitLab token
      environments:
        dev: {version: "~=1.2"}
        prod: {version: "~=1.2"}

Passing:

    # file: deployments/text-embedder.yaml
    apiVersion: mlops-plan/v1
    kind: Deployment
    metadata: {name: text-embedder}
    spec:
      model: text-embedder
      runtime: triton
      target: cpu-x86
      env:
        MODEL_NAME: text-embedder
        FEATURE_STORE_TOKEN: {secretRef: {name: feature-store, key: token}}
      environments:
        dev: {version: "~=1.2"}
        prod: {version: "~=1.2"}
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_plan import model as m
from mlops_plan.findings import Finding, Severity
from mlops_plan.rules.base import Context, emit
from mlops_plan.secrets import credential_kind

ID = "MP403"
NAME = "plaintext-secret"
SEVERITY = "error"


def check(ctx: Context) -> Iterator[Finding]:
    for name, deployment in sorted(ctx.repo.deployments.items()):
        sites: list[tuple[tuple[str, ...], dict[str, m.SecretEnv | str]]] = [
            (("spec", "env"), deployment.spec.env)
        ]
        for environment, override in sorted(deployment.spec.environments.items()):
            sites.append((("spec", "environments", environment, "env"), override.env))
        for path, env in sites:
            for key, value in sorted(env.items()):
                if not isinstance(value, str):
                    continue
                kind = credential_kind(key, value)
                if kind is None:
                    continue
                yield emit(
                    ctx,
                    ID,
                    Severity.ERROR,
                    ctx.repo.anchor("Deployment", name, *path, key),
                    f"env {key} looks like a credential ({kind}); its value is not shown",
                    "store it in a Kubernetes Secret and write "
                    f"{key}: {{secretRef: {{name: …, key: …}}}}; rotate the exposed credential",
                )
