"""The one small interface every state backend implements."""

from __future__ import annotations

from typing import Protocol

from mlops_plan.state.model import LockInfo, State


class Backend(Protocol):
    """Where the state and the per-environment locks live."""

    def read(self) -> State | None:
        """The stored state, or None when none was written yet."""
        ...

    def write(self, state: State, expected_serial: int | None) -> State:
        """Store `state` if the stored serial is still `expected_serial`; return what was stored.

        `expected_serial=None` means "no state may exist yet". The stored serial is one more
        than the one replaced. Raises StaleStateError when the serial moved and LineageError
        when the stored state has another lineage.
        """
        ...

    def lock(
        self, environment: str, operation: str, commit: str | None, timeout: float
    ) -> LockInfo:
        """Take the environment's lock, waiting up to `timeout` seconds with backoff.

        Raises LockError carrying the holder's record when it is still held.
        """
        ...

    def unlock(self, environment: str, lock_id: str) -> None:
        """Release a lock this run holds; StateError when `lock_id` no longer holds it."""
        ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Break the lock with this ID, whoever holds it; StateError when there is none."""
        ...

    def locks(self) -> list[LockInfo]:
        """Every lock currently held, sorted by environment."""
        ...
