"""Effective deployments: each Deployment × each of its environments, override over base."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_plan import model as m
from mlops_plan.findings import Anchor
from mlops_plan.validate import Repository

OVERRIDABLE = ("version", "runtime", "target", "replicas", "canary", "env")


@dataclass(frozen=True)
class EffectiveDeployment:
    """The unit of planning, addressed `deployment.<environment>.<name>`."""

    address: str
    environment: str
    name: str
    model: str
    version: str | None
    runtime: str | None
    target: str | None
    replicas: int
    canary: m.Canary | None
    env: dict[str, m.SecretEnv | str]
    overridden: frozenset[str]
    labels: dict[str, str]

    def anchor(self, repo: Repository, field: str | None = None, key: bool = False) -> Anchor:
        """The environment's entry under spec.environments, or the field inside it at fault.

        A field set only in the base spec points at the entry too: the combination with
        this environment is what is wrong, and the entry is where to change it.
        """
        base = repo.anchor("Deployment", self.name, "spec", "environments", self.environment)
        if field is not None and field in self.overridden:
            return base._replace(path=(*base.path, field), key=key)
        return base._replace(key=True)


def address(environment: str, name: str) -> str:
    return f"deployment.{environment}.{name}"


def effective_deployments(repo: Repository) -> list[EffectiveDeployment]:
    """Every effective deployment, sorted by address."""
    out: list[EffectiveDeployment] = []
    for name in sorted(repo.deployments):
        deployment = repo.deployments[name]
        spec = deployment.spec
        for environment in sorted(spec.environments):
            override = spec.environments[environment]
            overridden = frozenset(f for f in OVERRIDABLE if f in override.model_fields_set)
            env = dict(spec.env)
            env.update(override.env)
            out.append(
                EffectiveDeployment(
                    address=address(environment, name),
                    environment=environment,
                    name=name,
                    model=spec.model,
                    version=override.version if "version" in overridden else spec.version,
                    runtime=override.runtime if "runtime" in overridden else spec.runtime,
                    target=override.target if "target" in overridden else spec.target,
                    replicas=(
                        override.replicas
                        if "replicas" in overridden and override.replicas is not None
                        else spec.replicas
                    ),
                    canary=override.canary if "canary" in overridden else spec.canary,
                    env=env,
                    overridden=overridden,
                    labels=dict(deployment.metadata.labels),
                )
            )
    out.sort(key=lambda e: e.address)
    return out
