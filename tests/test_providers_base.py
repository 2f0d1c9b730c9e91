"""Choosing a provider from mlops-plan.yaml, and the provider interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_plan import model as m
from mlops_plan import plan as p
from mlops_plan.providers import (
    Exec,
    Manifests,
    Provider,
    ProviderContext,
    ProviderError,
    provider_for,
)
from mlops_plan.providers.base import action_of


def config(providers: dict[str, object]) -> m.Config:
    return m.Config.model_validate({"providers": providers})


def test_the_environment_s_provider_wins() -> None:
    settings = config(
        {
            "default": {"type": "manifests", "output": "k8s/rendered/"},
            "prod": {"type": "exec", "command": ["./scripts/deploy.sh", "--prod"], "timeout": 60},
        }
    )
    prod = provider_for(settings, "prod")
    assert prod == Exec(command=("./scripts/deploy.sh", "--prod"), timeout=60)
    assert prod.name == "exec"
    staging = provider_for(settings, "staging")
    assert staging == Manifests(output="k8s/rendered/")
    assert staging.name == "manifests"


def test_without_configuration_manifests_are_rendered_into_rendered() -> None:
    assert provider_for(m.Config(), "prod") == Manifests(output="rendered/")
    only_prod = config({"prod": {"type": "exec", "command": ["deploy"]}})
    assert provider_for(only_prod, "dev") == Manifests(output="rendered/")
    assert provider_for(only_prod, "prod") == Exec(command=("deploy",), timeout=600)


def test_both_providers_satisfy_the_protocol() -> None:
    providers: list[Provider] = [Manifests(), Exec(command=("true",))]
    assert [provider.name for provider in providers] == ["manifests", "exec"]


def _change(actions: list[str]) -> p.ResourceChange:
    return p.ResourceChange(
        address="deployment.prod.x",
        environment="prod",
        name="x",
        actions=actions,
        before=None,
        after=None,
        changed_paths=[],
        replace_paths=[],
        causes=[],
    )


@pytest.mark.parametrize(
    ("actions", "action"),
    [
        (["create"], "create"),
        (["update"], "update"),
        (["delete"], "delete"),
        (["delete", "create"], "replace"),
    ],
)
def test_action_of(actions: list[str], action: str) -> None:
    assert action_of(_change(actions)) == action


def test_unknown_actions_fail_the_change_not_the_run(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="unknown actions"):
        action_of(_change(["read"]))
    ctx = ProviderContext(
        root=tmp_path,
        environment=None,
        model=None,
        target=None,
        runtime=None,
        plan_id="",
        log=lambda _: None,
    )
    for provider in (Manifests(), Exec(command=("true",))):
        result = provider.apply(_change(["read"]), ctx)
        assert not result.ok
        assert result.message == "deployment.prod.x: unknown actions ['read']"
    assert list(tmp_path.iterdir()) == []
