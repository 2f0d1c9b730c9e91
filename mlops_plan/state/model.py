"""State types: what was applied, where, by whom. Separate from config and plan types."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_plan import __version__
from mlops_plan.state.errors import StateError

FORMAT_VERSION = 1
"""The newest state format this version reads and the one it writes."""

Outcome = Literal["applied", "failed", "not-started"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PendingOperation(_Record):
    """A change that was started and not yet recorded: an interrupted apply leaves these."""

    address: str
    actions: list[str]
    plan_id: str
    started: str
    who: str


class HistoryChange(_Record):
    """One change of one apply and how it ended."""

    address: str
    actions: list[str]
    outcome: Outcome
    message: str | None = None
    output: str | None = None


class HistoryEntry(_Record):
    """One apply: the audit trail."""

    serial: int
    who: str
    when: str
    commit: str | None
    plan_id: str
    changes: list[HistoryChange] = Field(default_factory=list)


class State(_Record):
    """Per address (``deployment.prod.fraud-detector``) the effective object last applied."""

    format_version: int = Field(default=FORMAT_VERSION, ge=1)
    lineage: str
    serial: int = Field(ge=0)
    resources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    pending: list[PendingOperation] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)
    depends_on: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per address, the addresses it depends on when applied (delete order).",
    )

    @classmethod
    def new(cls) -> State:
        """A fresh state: a new lineage, serial 0, nothing applied."""
        return cls(lineage=str(uuid.uuid4()), serial=0)


class LockInfo(_Record):
    """The record a lock holds: printed as Terraform's ``Lock Info:`` block when refused."""

    id: str
    operation: str
    who: str
    host: str
    pid: int
    created: str
    commit: str | None
    environment: str
    path: str = ""
    version: str = f"mlops-plan {__version__}"

    def render(self) -> str:
        info = [f"environment {self.environment}", f"pid {self.pid}"]
        if self.commit:
            info.append(f"commit {self.commit}")
        return "\n".join(
            [
                "Lock Info:",
                f"  ID:        {self.id}",
                f"  Path:      {self.path}",
                f"  Operation: {self.operation}",
                f"  Who:       {self.who}@{self.host}",
                f"  Version:   {self.version}",
                f"  Created:   {self.created}",
                f"  Info:      {', '.join(info)}",
            ]
        )


def load_state(data: Any, problem: str, hint: str) -> State:
    """`data` as a State, or a StateError naming the first invalid field:
    "<problem>: <field>: <what is wrong>", with `hint`."""
    try:
        return State.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise StateError(f"{problem}: {loc}: {first['msg']}", hint) from None
