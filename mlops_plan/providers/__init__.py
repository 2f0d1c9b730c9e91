"""Providers execute planned changes: rendered KServe manifests (the default) or a command.

``provider_for(config, environment)`` picks the one configured in ``mlops-plan.yaml``.
"""

from __future__ import annotations

from mlops_plan.providers.base import (
    Provider,
    ProviderContext,
    ProviderError,
    ProviderResult,
    provider_for,
)
from mlops_plan.providers.exec import Exec
from mlops_plan.providers.manifests import Manifests, manifest_path, render, render_text

__all__ = [
    "Exec",
    "Manifests",
    "Provider",
    "ProviderContext",
    "ProviderError",
    "ProviderResult",
    "manifest_path",
    "provider_for",
    "render",
    "render_text",
]
