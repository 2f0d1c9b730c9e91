"""The provider interface: what `apply` hands a provider, and what it gets back.

A provider executes one planned change (create, update, delete or replace of one
effective deployment) against the world: it renders a manifest, runs a command. It
reports the outcome as a `ProviderResult` value; an expected failure (a command that
exits non-zero, a path that escapes the repository) is a result with ``ok=False``, never
an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from mlops_plan import model as m
from mlops_plan.errors import MlopsPlanError
from mlops_plan.plan import ResourceChange

DEFAULT_OUTPUT = "rendered/"
DNS1123_LABEL = re.compile(m.DNS1123_LABEL)


@dataclass(frozen=True)
class ProviderContext:
    """Everything a provider may read besides the change itself."""

    root: Path
    """The repository root: relative paths in the configuration are relative to it."""
    environment: m.Environment | None
    model: m.Model | None
    target: m.HardwareTarget | None
    runtime: m.Runtime | None
    plan_id: str
    log: Callable[[str], None]


class ProviderError(MlopsPlanError):
    """A change a provider cannot execute; `apply` methods turn it into a failed result."""


class ProviderResult(BaseModel):
    """The outcome of one change: ``message`` is one line, ``output`` what a command printed."""

    ok: bool
    message: str
    output: str = ""


class Provider(Protocol):
    """Executes one change. ``name`` is the provider's type in ``mlops-plan.yaml``."""

    @property
    def name(self) -> str: ...

    def apply(self, change: ResourceChange, ctx: ProviderContext) -> ProviderResult: ...


def action_of(change: ResourceChange) -> str:
    """``create``, ``update``, ``delete`` or ``replace`` (``["delete", "create"]``)."""
    if change.actions == ["delete", "create"]:
        return "replace"
    if len(change.actions) == 1 and change.actions[0] in {"create", "update", "delete"}:
        return change.actions[0]
    raise ProviderError(f"{change.address}: unknown actions {change.actions!r}")


def failed(error: ProviderError) -> ProviderResult:
    """A failed result carrying the error's message and its hint."""
    hint = f" (hint: {error.hint})" if error.hint else ""
    return ProviderResult(ok=False, message=error.message + hint)


def provider_for(config: m.Config, environment: str) -> Provider:
    """The provider configured for `environment`, else ``default``, else rendered manifests."""
    from mlops_plan.providers.exec import Exec
    from mlops_plan.providers.manifests import Manifests

    settings = config.providers.get(environment) or config.providers.get("default")
    if isinstance(settings, m.ExecProvider):
        return Exec(command=tuple(settings.command), timeout=settings.timeout)
    if isinstance(settings, m.ManifestsProvider):
        return Manifests(output=settings.output)
    return Manifests(output=DEFAULT_OUTPUT)
