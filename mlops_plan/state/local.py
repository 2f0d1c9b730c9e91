"""The local backend: one JSON file in the repository, written atomically, and lock files.

Writes go to a temporary file in the same folder, are fsynced, renamed over the state
file, and the folder is fsynced; the version replaced is kept as ``<file>.backup``,
written the same way. A process killed at any moment leaves the old or the new state,
never a partial one. Concurrent writers are serialised by an advisory ``flock`` on a
hidden file next to the state, held only for the read-compare-write of one ``write()``.

Locks are one file per environment, ``<state folder>/locks/<environment>.lock``, created
with ``O_CREAT | O_EXCL`` and holding the LockInfo as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from mlops_plan.files import fsync_dir, write_atomic
from mlops_plan.state.errors import LineageError, LockError, StaleStateError, StateError
from mlops_plan.state.host import holder_gone, new_lock
from mlops_plan.state.model import FORMAT_VERSION, LockInfo, State, load_state

if sys.platform != "win32":
    import fcntl

DEFAULT_PATH = ".mlops-plan/state.json"
ENVIRONMENT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
FIRST_DELAY = 0.05
MAX_DELAY = 2.0
UNREADABLE_GRACE = 1.0
"""Seconds past the timeout a lock file may stay unreadable (being written) before an error."""


def state_path(root: Path, path: str) -> Path:
    """The absolute state file for `path` (relative to `root`); StateError if it escapes."""
    base = root.resolve()
    given = Path(path)
    if not path.strip() or given.is_absolute() or ".." in given.parts:
        raise StateError(
            f'state path "{path}" escapes the repository root: it must be relative, without ".."',
            f"use a path inside the repository, such as {DEFAULT_PATH}",
        )
    full = (base / given).resolve()
    if full == base or not full.is_relative_to(base):
        raise StateError(
            f'state path "{path}" resolves outside the repository root (through a symlink)',
            "keep the state file and its folders inside the repository",
        )
    return full


def _dump(model: State | LockInfo) -> bytes:
    text = json.dumps(model.model_dump(mode="json"), sort_keys=True, indent=2)
    return (text + "\n").encode("utf-8")


class LocalBackend:
    """State in ``root / path`` (default ``.mlops-plan/state.json``), locks beside it."""

    def __init__(self, root: Path, path: str = DEFAULT_PATH) -> None:
        self.root = root.resolve()
        self.path = state_path(root, path)
        self.backup = self.path.with_name(self.path.name + ".backup")
        self.locks_dir = self.path.parent / "locks"
        self._mutex_path = self.path.with_name(f".{self.path.name}.write-lock")

    def _display(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- state ---------------------------------------------------------------------------

    def read(self) -> State | None:
        return self._load()[1]

    def write(self, state: State, expected_serial: int | None) -> State:
        shown = self._display(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._mutex():
            raw, current = self._load()
            if current is not None and current.lineage != state.lineage:
                raise LineageError(shown, current.lineage, state.lineage)
            found = None if current is None else current.serial
            if found != expected_serial:
                raise StaleStateError(shown, expected_serial, found)
            serial = (state.serial if current is None else current.serial) + 1
            fields = state.model_dump(mode="json") | {
                "serial": serial,
                "format_version": FORMAT_VERSION,
            }
            stored = State.model_validate(fields)  # a checked copy, shared with no caller
            data = _dump(stored)
            self._remove_leftovers()
            if raw is not None:
                write_atomic(self.backup, raw, sync_dir=True)
            write_atomic(self.path, data, sync_dir=True)
        return stored

    @contextlib.contextmanager
    def _mutex(self) -> Iterator[None]:
        """Serialise writers (threads or processes) for one read-compare-write."""
        fd = os.open(self._mutex_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            if sys.platform != "win32":
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock

    def _remove_leftovers(self) -> None:
        """Temporary files of writers killed mid-write (only called under the mutex)."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _load(self) -> tuple[bytes | None, State | None]:
        shown = self._display(self.path)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise StateError(f"cannot read the state file {shown}: {exc.strerror}") from None
        return raw, self._parse(raw, shown)

    def _restore_hint(self) -> str:
        if self.backup.is_file():
            return f"restore the previous version from {self._display(self.backup)}"
        return "restore it from a backup, or move it away to start a new state"

    def _parse(self, raw: bytes, shown: str) -> State:
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise StateError(
                f"{shown}: corrupt state file: not UTF-8 text", self._restore_hint()
            ) from None
        except json.JSONDecodeError as exc:
            where = f"{shown}:{exc.lineno}:{exc.colno}"
            raise StateError(
                f"{where}: corrupt state file: {exc.msg}", self._restore_hint()
            ) from None
        if isinstance(data, dict) and "terraform_version" in data:
            raise StateError(
                f"{shown}: not a mlops-plan state file (it is a Terraform state)",
                "point state.path in mlops-plan.yaml at a mlops-plan state, or move the file",
            )
        version = data.get("format_version") if isinstance(data, dict) else None
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise StateError(
                f"{shown}: the state was written by a newer mlops-plan (format {version}); "
                f"this version reads format {FORMAT_VERSION}",
                "upgrade mlops-plan",
            )
        return load_state(data, f"{shown}: not a valid mlops-plan state file", self._restore_hint())

    # -- locks ---------------------------------------------------------------------------

    def _lock_file(self, environment: str) -> Path:
        if not ENVIRONMENT_NAME.fullmatch(environment):
            raise StateError(
                f'cannot lock environment "{environment}": not a DNS-1123 label',
                "environment names are lowercase letters, digits and '-', at most 63",
            )
        return self.locks_dir / f"{environment}.lock"

    def _read_lock(self, file: Path) -> LockInfo | None:
        """The record in `file`; None when it is gone or not (yet) a complete record."""
        try:
            info = LockInfo.model_validate_json(file.read_bytes())
        except (OSError, ValidationError):
            return None
        return info.model_copy(update={"path": self._display(file)})

    def lock(
        self, environment: str, operation: str, commit: str | None, timeout: float
    ) -> LockInfo:
        file = self._lock_file(environment)
        info = new_lock(environment, operation, commit, self._display(file))
        payload = _dump(info)
        self.locks_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = FIRST_DELAY
        while True:
            try:
                fd = os.open(file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(payload)
                    out.flush()
                    os.fsync(out.fileno())
                fsync_dir(self.locks_dir)
                return info
            holder = self._read_lock(file)
            remaining = deadline - time.monotonic()
            if remaining <= 0 and holder is not None:
                raise LockError(environment, holder, holder_gone(holder))
            if remaining <= -UNREADABLE_GRACE:
                raise StateError(
                    f'cannot lock environment "{environment}": the lock file '
                    f"{self._display(file)} is not a readable lock record",
                    "a process was killed while taking the lock? If no mlops-plan runs, "
                    "delete the file",
                )
            time.sleep(max(min(delay * random.uniform(0.5, 1.0), remaining), FIRST_DELAY))
            delay = min(delay * 2, MAX_DELAY)

    def unlock(self, environment: str, lock_id: str) -> None:
        file = self._lock_file(environment)
        holder = self._read_lock(file)
        if holder is None:
            raise StateError(
                f'cannot unlock environment "{environment}": lock {lock_id} is not held '
                "(was it broken with force-unlock?)"
            )
        if holder.id != lock_id:
            raise StateError(
                f'cannot unlock environment "{environment}": it is locked by {holder.id}, '
                f"not {lock_id}",
                "`mlops-plan state force-unlock ID` breaks another run's lock",
            )
        file.unlink(missing_ok=True)

    def force_unlock(self, lock_id: str) -> LockInfo:
        held = self.locks()
        for info in held:
            if info.id == lock_id:
                (self.locks_dir / f"{info.environment}.lock").unlink(missing_ok=True)
                return info
        ids = ", ".join(f"{info.id} ({info.environment})" for info in held)
        raise StateError(
            f'no lock with ID "{lock_id}"',
            f"locks held: {ids}" if ids else "no environment is locked",
        )

    def locks(self) -> list[LockInfo]:
        found = []
        for file in sorted(self.locks_dir.glob("*.lock")):
            info = self._read_lock(file)
            if info is not None and file.stem == info.environment:
                found.append(info)
        return sorted(found, key=lambda info: info.environment)
