"""Move the state from one backend to another (``state migrate --from local --to postgres``).

The state is copied whole: its lineage, resources, pending operations and history (each
entry keeps the serial it was recorded at). It is stored by one ordinary ``write()``, so
the target's serial moves on by one, as after any write: to the source's serial + 1 when the
target had no state, else to the target's serial + 1. Serials are per backend; a plan saved
against the source is stale against the target, by design. So local → postgres → local
gives back the same resources, pending operations, history and lineage; only ``serial``
differs.

Refused: a source without a state; a locked environment on either side (an apply may be
running); a target holding a state of another lineage; a target whose history has applies
the source lacks (it moved on since the last migration: copying would lose them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_plan.state.backend import Backend
from mlops_plan.state.errors import StateError
from mlops_plan.state.local import LocalBackend
from mlops_plan.state.model import State

BACKENDS = ("local", "postgres")


def migrate(source: Backend, target: Backend) -> State:
    """Copy the source's state into the target; return what the target stored."""
    state = source.read()
    if state is None:
        raise StateError(
            "there is no state to migrate: the source backend has none",
            "migrate from the backend the applies were recorded in",
        )
    for side, backend in (("source", source), ("target", target)):
        held = backend.locks()
        if held:
            names = ", ".join(info.environment for info in held)
            ids = ", ".join(info.id for info in held)
            raise StateError(
                f"the {side} backend has locked environments ({names}): an apply may be running",
                f"wait for it to end, or break a stale lock with `mlops-plan state force-unlock` "
                f"({ids})",
            )
    existing = target.read()
    if existing is not None:
        if existing.lineage != state.lineage:
            raise StateError(
                f"the target backend already holds a state of another lineage "
                f"({existing.lineage}; the source is {state.lineage}): refusing to overwrite it",
                "point the target at an empty workspace or database, or remove that state "
                "first if it is really unused",
            )
        if existing.history != state.history[: len(existing.history)]:
            raise StateError(
                f"the target backend's state (serial {existing.serial}) has applies the source "
                "does not: copying would lose them",
                "migrate in the other direction, or check which backend the applies went to",
            )
    return target.write(state, None if existing is None else existing.serial)


def backend_named(name: str, config: Any, root: Path) -> Backend:
    """The `name`d backend (local or postgres) as `config` (a ``StateConfig``) sets it up."""
    if name == "local":
        return LocalBackend(root, config.path)
    if name == "postgres":
        from mlops_plan.state.postgres import from_config  # psycopg only when used

        return from_config(config)
    raise StateError(f'unknown state backend "{name}"', f"use one of {', '.join(BACKENDS)}")


def migrate_between(config: Any, root: Path, source: str, target: str) -> State:
    """`state migrate --from SOURCE --to TARGET` for the repository at `root`."""
    if source == target:
        raise StateError(
            f"--from and --to are both {source}: nothing to migrate",
            "e.g. --from local --to postgres",
        )
    return migrate(backend_named(source, config, root), backend_named(target, config, root))
