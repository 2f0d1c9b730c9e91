"""State errors: each "cannot continue", each with its own message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_plan.errors import MlopsPlanError

if TYPE_CHECKING:
    from mlops_plan.state.model import LockInfo


class StateError(MlopsPlanError):
    """The state cannot be read or written (missing backend, corrupt or foreign file...)."""


class StaleStateError(StateError):
    """Compare-and-set failed: the stored serial is not the one the writer started from."""

    def __init__(self, path: str, expected: int | None, found: int | None) -> None:
        def show(serial: int | None) -> str:
            return "no state" if serial is None else f"serial {serial}"

        super().__init__(
            f"the state {path} changed while this run was using it: "
            f"expected {show(expected)}, found {show(found)}",
            "another run wrote the state; plan again against the current state",
        )
        self.expected = expected
        self.found = found


class LineageError(StateError):
    """The state being written belongs to another lineage than the stored one."""

    def __init__(self, path: str, stored: str, given: str) -> None:
        super().__init__(
            f"the state {path} has lineage {stored}, not {given}: refusing to overwrite "
            "a state of another lineage",
            "the state was re-created or belongs to another repository; plan again",
        )
        self.stored = stored
        self.given = given


class LockError(MlopsPlanError):
    """An environment's lock is held by someone else; `holder` is their record."""

    def __init__(self, environment: str, holder: LockInfo, orphaned: bool = False) -> None:
        lines = [f'Error acquiring the state lock for environment "{environment}"', ""]
        lines.append(holder.render())
        if orphaned:
            lines += [
                "",
                f"The process holding this lock (pid {holder.pid} on {holder.host}) is gone.",
                f"If no apply is running, `mlops-plan state force-unlock {holder.id}` "
                "breaks the lock.",
            ]
        super().__init__(
            "\n".join(lines),
            None if orphaned else "wait for it to finish, or retry with --lock-timeout",
        )
        self.environment = environment
        self.holder = holder
        self.orphaned = orphaned
