"""The local state backend: atomic JSON file, compare-and-set, backup, refusals, crash safety."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mlops_plan.model import StateConfig
from mlops_plan.state import (
    FORMAT_VERSION,
    HistoryChange,
    HistoryEntry,
    LineageError,
    LocalBackend,
    PendingOperation,
    StaleStateError,
    State,
    StateError,
    backend_for,
    state_path,
)

STATE = ".mlops-plan/state.json"
BACKUP = ".mlops-plan/state.json.backup"


def sample_state() -> State:
    state = State.new()
    state.resources["deployment.prod.fraud-detector"] = {
        "model": "fraud-detector",
        "version": "1.4.0",
        "replicas": 3,
        "labels": {"team": "risk"},
    }
    state.pending.append(
        PendingOperation(
            address="deployment.prod.churn",
            actions=["create"],
            plan_id="sha256:abc",
            started="2024-05-01T10:00:00+00:00",
            who="alice",
        )
    )
    state.history.append(
        HistoryEntry(
            serial=1,
            who="alice",
            when="2024-05-01T10:00:01+00:00",
            commit="0123abcd",
            plan_id="sha256:abc",
            changes=[
                HistoryChange(
                    address="deployment.prod.fraud-detector",
                    actions=["update"],
                    outcome="applied",
                    output="rendered rendered/prod/fraud-detector.yaml",
                ),
                HistoryChange(
                    address="deployment.prod.churn",
                    actions=["create"],
                    outcome="failed",
                    message="exit status 2",
                ),
            ],
        )
    )
    return state


def test_missing_file_reads_none(tmp_path: Path) -> None:
    assert LocalBackend(tmp_path).read() is None
    assert not (tmp_path / ".mlops-plan").exists()


def test_new_state() -> None:
    one, two = State.new(), State.new()
    assert one.serial == 0
    assert one.format_version == FORMAT_VERSION
    assert one.lineage != two.lineage
    assert (one.resources, one.pending, one.history) == ({}, [], [])


def test_round_trip(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    state = sample_state()
    stored = backend.write(state, None)
    assert stored.serial == 1
    assert stored.model_dump(exclude={"serial"}) == state.model_dump(exclude={"serial"})
    assert backend.read() == stored
    text = (tmp_path / STATE).read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


def test_stored_state_is_a_copy(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    state = State.new()
    stored = backend.write(state, None)
    stored.resources["deployment.prod.x"] = {}
    assert state.resources == {}
    assert backend.read() == State(lineage=state.lineage, serial=1)


def test_serial_increments_on_every_write(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    state = backend.write(State.new(), None)
    serials = [state.serial]
    for _ in range(3):
        state = backend.write(state, state.serial)
        serials.append(state.serial)
    assert serials == [1, 2, 3, 4]
    assert backend.read() == state


def test_compare_and_set_conflict(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    backend.write(State.new(), None)
    first, second = backend.read(), LocalBackend(tmp_path).read()
    assert first is not None and second is not None
    first.resources["deployment.prod.a"] = {"by": "first"}
    second.resources["deployment.prod.a"] = {"by": "second"}
    backend.write(first, first.serial)
    with pytest.raises(StaleStateError) as caught:
        backend.write(second, second.serial)
    assert (caught.value.expected, caught.value.found) == (1, 2)
    assert caught.value.message == (
        f"the state {STATE} changed while this run was using it: expected serial 1, found serial 2"
    )
    stored = backend.read()
    assert stored is not None and stored.resources == {"deployment.prod.a": {"by": "first"}}


def test_creating_over_an_existing_state_is_stale(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    state = backend.write(State.new(), None)
    with pytest.raises(StaleStateError, match="expected no state, found serial 1"):
        backend.write(state, None)


def test_expecting_a_state_that_does_not_exist_is_stale(tmp_path: Path) -> None:
    with pytest.raises(StaleStateError, match="expected serial 3, found no state"):
        LocalBackend(tmp_path).write(State.new(), 3)
    assert not (tmp_path / STATE).exists()


def test_other_lineage_refused(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    ours = backend.write(State.new(), None)
    before = (tmp_path / STATE).read_bytes()
    theirs = State.new()
    with pytest.raises(LineageError) as caught:
        backend.write(theirs, ours.serial)
    assert (caught.value.stored, caught.value.given) == (ours.lineage, theirs.lineage)
    assert "lineage" in caught.value.message
    assert (tmp_path / STATE).read_bytes() == before


def test_backup_holds_the_previous_version(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    first = backend.write(sample_state(), None)
    assert not (tmp_path / BACKUP).exists()
    first_bytes = (tmp_path / STATE).read_bytes()
    first.resources.clear()
    second = backend.write(first, first.serial)
    assert (tmp_path / BACKUP).read_bytes() == first_bytes
    backend.write(second, second.serial)
    backup = State.model_validate_json((tmp_path / BACKUP).read_bytes())
    assert backup == second


def test_no_temporary_files_left(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    leftover = tmp_path / ".mlops-plan" / ".state.json.killed.tmp"
    state = backend.write(State.new(), None)
    leftover.write_text("{", encoding="utf-8")  # a writer killed mid-write left this
    backend.write(state, state.serial)
    names = sorted(p.name for p in (tmp_path / ".mlops-plan").iterdir())
    assert names == [".state.json.write-lock", "state.json", "state.json.backup"]


def test_newer_format_refused(tmp_path: Path) -> None:
    data = State.new().model_dump(mode="json") | {"format_version": FORMAT_VERSION + 1}
    data["future_field"] = []
    write(tmp_path / STATE, json.dumps(data).encode())
    with pytest.raises(StateError) as caught:
        LocalBackend(tmp_path).read()
    assert caught.value.message == (
        f"{STATE}: the state was written by a newer mlops-plan (format {FORMAT_VERSION + 1}); "
        f"this version reads format {FORMAT_VERSION}"
    )
    assert caught.value.hint == "upgrade mlops-plan"


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", f"{STATE}:1:1: corrupt state file: Expecting value"),
        (b'{"lineage": "x", "serial": 1', f"{STATE}:1:29: corrupt state file: Expecting ',' "),
        (b"\xff\xfe\x00garbage", f"{STATE}: corrupt state file: not UTF-8 text"),
        (b"[]", f"{STATE}: not a valid mlops-plan state file: (top level): Input should be"),
        (b'{"serial": 1}', f"{STATE}: not a valid mlops-plan state file: lineage: Field required"),
        (
            b'{"lineage": "x", "serial": 1, "resources": []}',
            f"{STATE}: not a valid mlops-plan state file: resources: Input should be",
        ),
    ],
)
def test_corrupt_file_refused(tmp_path: Path, content: bytes, message: str) -> None:
    write(tmp_path / STATE, content)
    with pytest.raises(StateError) as caught:
        LocalBackend(tmp_path).read()
    assert caught.value.message.startswith(message)
    assert "\n" not in caught.value.message
    assert caught.value.hint == "restore it from a backup, or move it away to start a new state"


def test_corrupt_file_hint_names_the_backup(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    state = backend.write(State.new(), None)
    backend.write(state, state.serial)
    write(tmp_path / STATE, b'{"lineage": ')
    with pytest.raises(StateError) as caught:
        backend.read()
    assert caught.value.hint == f"restore the previous version from {BACKUP}"


def test_corrupt_file_is_never_overwritten(tmp_path: Path) -> None:
    write(tmp_path / STATE, b"{oops")
    with pytest.raises(StateError, match="corrupt state file"):
        LocalBackend(tmp_path).write(State.new(), None)
    assert (tmp_path / STATE).read_bytes() == b"{oops"


def test_terraform_state_refused(tmp_path: Path) -> None:
    terraform = {
        "version": 4,
        "terraform_version": "1.7.5",
        "serial": 3,
        "lineage": "7b1f3c4e-0000-4000-8000-000000000000",
        "outputs": {},
        "resources": [],
    }
    write(tmp_path / STATE, json.dumps(terraform).encode())
    with pytest.raises(StateError) as caught:
        LocalBackend(tmp_path).read()
    assert caught.value.message == f"{STATE}: not a mlops-plan state file (it is a Terraform state)"


@pytest.mark.parametrize("path", ["../state.json", "a/../../state.json", "/tmp/state.json", ""])
def test_path_escaping_the_repository_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(StateError, match="escapes the repository root"):
        LocalBackend(tmp_path / "repo", path)


def test_path_through_a_symlink_out_of_the_repository_refused(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (repo / ".mlops-plan").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StateError, match="resolves outside the repository root"):
        LocalBackend(repo)


def test_custom_path_inside_the_repository(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path, "ops/state/prod.json")
    assert state_path(tmp_path, "ops/state/prod.json") == tmp_path.resolve() / "ops/state/prod.json"
    backend.write(State.new(), None)
    assert (tmp_path / "ops/state/prod.json").is_file()


def test_backend_for(tmp_path: Path) -> None:
    backend = backend_for(StateConfig(path="custom/state.json"), tmp_path)
    assert isinstance(backend, LocalBackend)
    assert backend.path == tmp_path.resolve() / "custom/state.json"
    pg = backend_for(StateConfig(backend="postgres", dsn="postgresql://db/x"), tmp_path)
    assert type(pg).__name__ == "PostgresBackend"  # no connection until first use
    with pytest.raises(StateError, match="escapes the repository root"):
        backend_for(StateConfig(path="../state.json"), tmp_path)


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    """Threads retrying on StaleStateError: every successful write is counted in the serial."""
    LocalBackend(tmp_path).write(State.new(), None)
    successes: list[str] = []

    def writer(name: str) -> None:
        backend = LocalBackend(tmp_path)
        done = 0
        while done < 5:
            state = backend.read()
            assert state is not None
            state.resources[f"deployment.prod.{name}-{done}"] = {"n": done}
            try:
                backend.write(state, state.serial)
            except StaleStateError:
                continue
            successes.append(name)
            done += 1

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = LocalBackend(tmp_path).read()
    assert final is not None
    assert final.serial == 1 + len(successes) == 21
    assert len(final.resources) == 20


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mlops_plan.state import LocalBackend, State

    backend = LocalBackend(Path(sys.argv[1]))
    blob = {f"deployment.prod.model-{i}": {"spec": "x" * 200, "i": i} for i in range(2000)}
    while True:
        current = backend.read()
        state = current if current is not None else State.new()
        state.resources = dict(blob)
        state.resources["written-at"] = {"serial": state.serial + 1}
        backend.write(state, None if current is None else current.serial)
    """
)


def stored_serial(backend: LocalBackend) -> int:
    state = backend.read()
    return 0 if state is None else state.serial


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_writer_never_leaves_a_partial_state(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    rng = random.Random(20240501)
    seen = 0
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while stored_serial(backend) <= seen:  # wait until the child is writing
                assert child.poll() is None, "the writer died on its own"
                assert time.monotonic() < deadline, "the writer never wrote"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.2))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        text = (tmp_path / STATE).read_bytes()
        state = State.model_validate_json(text)  # complete and valid, old or new
        assert state.resources["written-at"] == {"serial": state.serial}
        assert len(state.resources) == 2001
        assert state.serial >= seen
        assert backend.read() == state
        backup = State.model_validate_json((tmp_path / BACKUP).read_bytes())
        assert backup.serial in (state.serial - 1, state.serial)
        seen = state.serial
