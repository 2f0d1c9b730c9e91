"""Per-environment locks of the local backend: exclusive files holding the lock record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mlops_plan import __version__
from mlops_plan.state import (
    LocalBackend,
    LockError,
    LockInfo,
    StateError,
    current_host,
    holder_gone,
)

LOCKS = ".mlops-plan/locks"


def record(**changes: object) -> LockInfo:
    fields: dict[str, object] = {
        "id": "6f1c2a52-3b7e-4e0c-9d1b-0f5a3c2e1d4b",
        "operation": "apply",
        "who": "alice",
        "host": "build-7",
        "pid": 1234,
        "created": "2024-05-01T10:00:00+00:00",
        "commit": "0123abcd",
        "environment": "prod",
        "path": f"{LOCKS}/prod.lock",
    }
    return LockInfo.model_validate(fields | changes)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def plant(root: Path, info: LockInfo) -> Path:
    """A lock file written by someone else."""
    file = root / LOCKS / f"{info.environment}.lock"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(info.model_dump_json(), encoding="utf-8")
    return file


def test_render_is_terraforms_lock_info_block() -> None:
    assert record().render() == textwrap.dedent(
        f"""\
        Lock Info:
          ID:        6f1c2a52-3b7e-4e0c-9d1b-0f5a3c2e1d4b
          Path:      {LOCKS}/prod.lock
          Operation: apply
          Who:       alice@build-7
          Version:   mlops-plan {__version__}
          Created:   2024-05-01T10:00:00+00:00
          Info:      environment prod, pid 1234, commit 0123abcd"""
    )
    assert record(commit=None).render().endswith("Info:      environment prod, pid 1234")


def test_lock_and_unlock(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    info = backend.lock("prod", "apply", "0123abcd", timeout=0)
    assert (info.environment, info.operation, info.commit) == ("prod", "apply", "0123abcd")
    assert (info.pid, info.host, info.path) == (os.getpid(), current_host(), f"{LOCKS}/prod.lock")
    assert info.version == f"mlops-plan {__version__}"
    file = tmp_path / LOCKS / "prod.lock"
    assert LockInfo.model_validate(json.loads(file.read_text(encoding="utf-8"))) == info
    assert backend.locks() == [info]
    backend.unlock("prod", info.id)
    assert not file.exists()
    assert backend.locks() == []
    again = backend.lock("prod", "apply", None, timeout=0)
    assert again.id != info.id


def test_second_lock_refused_with_the_holders_record(tmp_path: Path) -> None:
    held = LocalBackend(tmp_path).lock("prod", "apply", "0123abcd", timeout=0)
    start = time.monotonic()
    with pytest.raises(LockError) as caught:
        LocalBackend(tmp_path).lock("prod", "apply", None, timeout=0.2)
    assert time.monotonic() - start >= 0.2  # it waited before giving up
    error = caught.value
    assert (error.environment, error.holder, error.orphaned) == ("prod", held, False)
    assert error.message == 'Error acquiring the state lock for environment "prod"\n\n' + (
        held.render()
    )
    assert "Lock Info:" in error.message and held.id in error.message
    assert error.hint == "wait for it to finish, or retry with --lock-timeout"


def test_environments_lock_independently(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    prod = backend.lock("prod", "apply", None, timeout=0)
    staging = backend.lock("staging", "apply", None, timeout=0)
    assert [info.environment for info in backend.locks()] == ["prod", "staging"]
    backend.unlock("prod", prod.id)
    assert backend.locks() == [staging]
    with pytest.raises(LockError):
        backend.lock("staging", "apply", None, timeout=0)


def test_unlock_checks_the_id(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    held = backend.lock("prod", "apply", None, timeout=0)
    with pytest.raises(StateError, match=f"it is locked by {held.id}, not other-id"):
        backend.unlock("prod", "other-id")
    assert backend.locks() == [held]
    backend.force_unlock(held.id)
    with pytest.raises(StateError, match="is not held"):
        backend.unlock("prod", held.id)


@pytest.mark.parametrize("environment", ["../prod", "Prod", "a/b", "", "-prod", "prod\n", "x" * 64])
def test_environment_names_that_are_not_labels_refused(tmp_path: Path, environment: str) -> None:
    backend = LocalBackend(tmp_path / "repo")
    with pytest.raises(StateError, match="not a DNS-1123 label"):
        backend.lock(environment, "apply", None, timeout=0)
    assert list(tmp_path.rglob("*.lock")) == []


HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mlops_plan.state import LocalBackend

    backend = LocalBackend(Path(sys.argv[1]))
    info = backend.lock("prod", "apply", "feedbeef", timeout=0)
    print(info.id, flush=True)
    sys.stdin.readline()
    backend.unlock("prod", info.id)
    """
)


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        lock_id = holder.stdout.readline().strip()
        backend = LocalBackend(tmp_path)
        with pytest.raises(LockError) as caught:
            backend.lock("prod", "apply", None, timeout=0.2)
        seen = caught.value.holder
        assert (seen.id, seen.pid, seen.commit) == (lock_id, holder.pid, "feedbeef")
        assert not caught.value.orphaned
        assert lock_id in caught.value.message
        assert f"pid {holder.pid}, commit feedbeef" in caught.value.message
        holder.stdin.write("done\n")
        holder.stdin.flush()
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
        holder.stdout.close()
    assert backend.locks() == []
    backend.lock("prod", "apply", None, timeout=0)


def test_orphaned_lock_is_reported_not_broken(tmp_path: Path) -> None:
    orphan = record(host=current_host(), pid=dead_pid())
    assert holder_gone(orphan)
    file = plant(tmp_path, orphan)
    backend = LocalBackend(tmp_path)
    with pytest.raises(LockError) as caught:
        backend.lock("prod", "apply", None, timeout=0)
    assert caught.value.orphaned
    assert caught.value.message.endswith(
        f"The process holding this lock (pid {orphan.pid} on {current_host()}) is gone.\n"
        f"If no apply is running, `mlops-plan state force-unlock {orphan.id}` breaks the lock."
    )
    assert file.exists()
    assert backend.force_unlock(orphan.id) == orphan
    backend.lock("prod", "apply", None, timeout=0)


def test_lock_of_another_host_is_never_called_orphaned(tmp_path: Path) -> None:
    elsewhere = record(host=current_host() + "-elsewhere", pid=dead_pid())
    assert not holder_gone(elsewhere)
    plant(tmp_path, elsewhere)
    with pytest.raises(LockError) as caught:
        LocalBackend(tmp_path).lock("prod", "apply", None, timeout=0)
    assert not caught.value.orphaned
    assert "is gone" not in caught.value.message


def test_force_unlock_by_id(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    prod = backend.lock("prod", "apply", None, timeout=0)
    staging = backend.lock("staging", "apply", None, timeout=0)
    assert backend.force_unlock(staging.id) == staging
    assert backend.locks() == [prod]
    with pytest.raises(StateError, match='no lock with ID "nope"') as caught:
        backend.force_unlock("nope")
    assert caught.value.hint == f"locks held: {prod.id} (prod)"
    backend.force_unlock(prod.id)
    with pytest.raises(StateError) as caught:
        backend.force_unlock(prod.id)
    assert caught.value.hint == "no environment is locked"


def test_locks_ignores_other_files(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    held = backend.lock("prod", "apply", None, timeout=0)
    (tmp_path / LOCKS / "notes.txt").write_text("hello", encoding="utf-8")
    plant(tmp_path, record(environment="staging")).rename(tmp_path / LOCKS / "qa.lock")
    assert backend.locks() == [held]


def test_waits_with_backoff_until_the_holder_releases(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    held = backend.lock("prod", "apply", None, timeout=0)
    releaser = threading.Timer(0.3, backend.unlock, args=("prod", held.id))
    releaser.start()
    try:
        info = LocalBackend(tmp_path).lock("prod", "apply", None, timeout=3)
    finally:
        releaser.join()
    assert info.id != held.id
    assert backend.locks() == [info]


def test_unreadable_lock_file_reported(tmp_path: Path) -> None:
    file = tmp_path / LOCKS / "prod.lock"
    file.parent.mkdir(parents=True)
    file.write_bytes(b"")  # a process killed between creating and writing its lock
    with pytest.raises(StateError, match=f"the lock file {LOCKS}/prod.lock is not a readable"):
        LocalBackend(tmp_path).lock("prod", "apply", None, timeout=0)
