"""State: what was applied, behind one small backend interface, with per-environment locks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_plan.state.backend import Backend
from mlops_plan.state.errors import LineageError, LockError, StaleStateError, StateError
from mlops_plan.state.host import current_host, current_user, holder_gone, utc_now
from mlops_plan.state.local import LocalBackend, state_path
from mlops_plan.state.model import (
    FORMAT_VERSION,
    HistoryChange,
    HistoryEntry,
    LockInfo,
    Outcome,
    PendingOperation,
    State,
)

__all__ = [
    "FORMAT_VERSION",
    "Backend",
    "HistoryChange",
    "HistoryEntry",
    "LineageError",
    "LocalBackend",
    "LockError",
    "LockInfo",
    "Outcome",
    "PendingOperation",
    "StaleStateError",
    "State",
    "StateError",
    "backend_for",
    "current_host",
    "current_user",
    "holder_gone",
    "state_path",
    "utc_now",
]


def backend_for(config: Any, root: Path) -> Backend:
    """The backend `config` (a ``mlops_plan.model.StateConfig``) asks for, rooted at `root`."""
    if config.backend == "local":
        return LocalBackend(root, config.path)
    if config.backend == "postgres":
        from mlops_plan.state.postgres import from_config  # psycopg only when used

        return from_config(config)
    raise StateError(f'unknown state backend "{config.backend}"', "use local or postgres")
