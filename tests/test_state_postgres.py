"""The postgres backend against a real, throwaway PostgreSQL (tests/postgres_server.py).

State round trips and compare-and-set, lineage, workspaces that share nothing, locks seen
by another connection with the holder's record, orphaned and broken locks, lock timeouts,
connections dropped mid-apply, migration local -> postgres -> local, DSN hygiene; and two
checkouts of one repository sharing state and locks through the real CLI.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

psycopg = pytest.importorskip("psycopg", reason='psycopg is not installed ("psycopg[binary]")')

from conftest import RunCli  # noqa: E402
from postgres_server import PgServer, serve  # noqa: E402

from mlops_plan.model import StateConfig  # noqa: E402
from mlops_plan.state import (  # noqa: E402
    HistoryChange,
    HistoryEntry,
    LineageError,
    LocalBackend,
    LockError,
    PendingOperation,
    StaleStateError,
    State,
    StateError,
    backend_for,
)
from mlops_plan.state.migrate import migrate, migrate_between  # noqa: E402
from mlops_plan.state.postgres import (  # noqa: E402
    ENV_DSN,
    SCHEMA_VERSION,
    PostgresBackend,
    from_config,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NO_CHANGES = "No changes. Your deployments match the configuration."


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    yield from serve()


@pytest.fixture
def dsn(pg_server: PgServer) -> str:
    return pg_server.dsn()


@pytest.fixture
def workspace() -> str:
    """A workspace of its own for each test: tests share one database and nothing else."""
    return f"ws-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_backend(dsn: str, workspace: str) -> Iterator[Any]:
    """`make_backend(workspace=..., dsn=...)`: a backend closed at the end of the test."""
    made: list[PostgresBackend] = []

    def make(ws: str = workspace, at: str = dsn, **kwargs: Any) -> PostgresBackend:
        backend = PostgresBackend(at, ws, **kwargs)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def sql(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run `query` on a connection of the test's own (not the backend's)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(query.encode(), params or None)
        return cur.fetchall() if cur.description else []


def terminate(dsn: str, pid: int) -> None:
    """pg_terminate_backend(pid), and wait until the session is gone."""
    assert sql(dsn, "SELECT pg_terminate_backend(%s)", pid) == [(True,)]
    for _ in range(200):
        if not sql(dsn, "SELECT 1 FROM pg_stat_activity WHERE pid = %s", pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} still there")


def applied(serial: int = 1) -> State:
    """A state with a resource, a pending operation and one history entry."""
    return State(
        lineage=str(uuid.uuid4()),
        serial=serial,
        resources={"deployment.prod.ranker": {"model": "ranker", "version": "1.0.0", "x": 1.5}},
        pending=[
            PendingOperation(
                address="deployment.dev.ranker",
                actions=["update"],
                plan_id="sha256:" + "0" * 64,
                started="2024-05-01T10:00:00+00:00",
                who="alice",
            )
        ],
        history=[
            HistoryEntry(
                serial=serial,
                who="alice",
                when="2024-05-01T10:00:00+00:00",
                commit="0123abcd",
                plan_id="sha256:" + "1" * 64,
                changes=[
                    HistoryChange(
                        address="deployment.prod.ranker", actions=["create"], outcome="applied"
                    )
                ],
            )
        ],
    )


def entry(serial: int) -> HistoryEntry:
    return HistoryEntry(
        serial=serial, who="bob", when="2024-05-02T10:00:00+00:00", commit=None, plan_id="p"
    )


# --- state ------------------------------------------------------------------------------


def test_schema_is_created_on_first_write_and_versioned(pg_server: PgServer) -> None:
    dsn = pg_server.dsn(pg_server.create_database())
    with PostgresBackend(dsn, "team") as backend:
        assert backend.read() is None
        assert backend.locks() == []
        # reading creates nothing: a read-only user can plan against an empty database
        assert sql(dsn, "SELECT to_regclass('mlops_plan_schema')") == [(None,)]
        backend.write(State.new(), None)
    assert sql(dsn, "SELECT version FROM mlops_plan_schema") == [(SCHEMA_VERSION,)]
    tables = sql(dsn, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'mlops_plan%%'")
    assert sorted(t for (t,) in tables) == [
        "mlops_plan_history",
        "mlops_plan_locks",
        "mlops_plan_schema",
        "mlops_plan_state",
    ]
    sql(dsn, "INSERT INTO mlops_plan_schema (version) VALUES (%s)", SCHEMA_VERSION + 1)
    with PostgresBackend(dsn, "team") as newer, pytest.raises(StateError) as raised:
        newer.read()
    assert f"schema version {SCHEMA_VERSION + 1}" in raised.value.message
    assert raised.value.hint == "upgrade mlops-plan"


def test_first_users_racing_create_the_schema_once(pg_server: PgServer) -> None:
    dsn = pg_server.dsn(pg_server.create_database())
    errors: list[BaseException] = []

    def first_lock(environment: str) -> None:
        try:
            with PostgresBackend(dsn, "team") as backend:
                backend.lock(environment, "apply", None, timeout=0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_lock, args=(f"env-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sql(dsn, "SELECT version FROM mlops_plan_schema") == [(SCHEMA_VERSION,)]


def test_round_trip(make_backend: Any, dsn: str, workspace: str) -> None:
    backend = make_backend()
    assert backend.read() is None
    first = backend.write(State.new(), None)
    assert first.serial == 1
    assert backend.read() == first
    state = applied().model_copy(update={"lineage": first.lineage})
    stored = backend.write(state, 1)
    assert stored == state.model_copy(update={"serial": 2})
    assert make_backend().read() == stored  # another connection, another "machine"
    # history rows: the audit trail, queryable in SQL
    rows = sql(
        dsn,
        "SELECT seq, serial, entry->>'who' FROM mlops_plan_history WHERE workspace = %s",
        workspace,
    )
    assert rows == [(0, 1, "alice")]
    # history is appended, not rewritten
    more = stored.model_copy(update={"history": [*stored.history, entry(3)], "pending": []})
    again = backend.write(more, 2)
    assert make_backend().read() == again
    assert again.serial == 3 and again.pending == []
    assert [e.serial for e in again.history] == [1, 3]
    # an apply updates its own entry after each change: only that row is rewritten
    rows = "SELECT seq, xmin::text FROM mlops_plan_history WHERE workspace = %s ORDER BY seq"
    [(_, first_xmin), (_, last_xmin)] = sql(dsn, rows, workspace)
    last = again.history[-1].model_copy(update={"commit": "4567cdef"})
    updated = backend.write(again.model_copy(update={"history": [again.history[0], last]}), 3)
    assert make_backend().read() == updated
    [(_, xmin_0), (_, xmin_1)] = sql(dsn, rows, workspace)
    assert xmin_0 == first_xmin and xmin_1 != last_xmin
    # an earlier entry changed, the last ones equal: the chain notices
    edited = updated.history[0].model_copy(update={"who": "carol"})
    fixed = backend.write(updated.model_copy(update={"history": [edited, last]}), 4)
    assert make_backend().read() == fixed
    # a rewritten history is stored as given
    rewritten = backend.write(fixed.model_copy(update={"history": [entry(9)]}), 5)
    assert make_backend().read() == rewritten
    assert sql(dsn, "SELECT count(*) FROM mlops_plan_history WHERE workspace = %s", workspace) == [
        (1,)
    ]


def test_compare_and_set(make_backend: Any) -> None:
    alice, bob = make_backend(), make_backend()
    base = alice.write(State.new(), None)
    seen_by_bob = bob.read()
    assert seen_by_bob == base
    alice.write(base, base.serial)
    with pytest.raises(StaleStateError) as raised:
        bob.write(seen_by_bob, seen_by_bob.serial)
    assert (raised.value.expected, raised.value.found) == (1, 2)
    assert "expected serial 1, found serial 2" in raised.value.message
    with pytest.raises(StaleStateError) as raised:
        bob.write(seen_by_bob, None)  # "no state may exist yet"
    assert (raised.value.expected, raised.value.found) == (None, 2)
    with pytest.raises(StaleStateError) as raised:
        make_backend(f"other-{uuid.uuid4().hex[:8]}").write(State.new(), 3)
    assert (raised.value.expected, raised.value.found) == (3, None)


def test_concurrent_writers_never_lose_an_update(make_backend: Any) -> None:
    base = make_backend().write(State.new(), None)
    writers = [make_backend() for _ in range(8)]
    outcomes: list[str] = []
    start = threading.Barrier(len(writers))

    def write(backend: PostgresBackend, n: int) -> None:
        start.wait()
        try:
            backend.write(base.model_copy(update={"history": [entry(n)]}), base.serial)
            outcomes.append("stored")
        except StaleStateError:
            outcomes.append("stale")

    threads = [threading.Thread(target=write, args=(w, n)) for n, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["stale"] * 7 + ["stored"]
    final = make_backend().read()
    assert final.serial == 2 and len(final.history) == 1


def test_lineage_is_checked(make_backend: Any) -> None:
    backend = make_backend()
    stored = backend.write(State.new(), None)
    other = State.new()
    with pytest.raises(LineageError) as raised:
        backend.write(other, stored.serial)
    assert (raised.value.stored, raised.value.given) == (stored.lineage, other.lineage)
    assert "refusing to overwrite a state of another lineage" in raised.value.message
    assert backend.read() == stored


def test_workspaces_share_neither_state_nor_locks(make_backend: Any, workspace: str) -> None:
    fraud, search = make_backend(f"fraud-{workspace}"), make_backend(f"search-{workspace}")
    fraud_state = fraud.write(State.new(), None)
    search_state = search.write(State.new(), None)
    assert fraud_state.lineage != search_state.lineage
    fraud.write(fraud_state, fraud_state.serial)
    assert search.read() == search_state
    mine = fraud.lock("prod", "apply", None, timeout=0)
    theirs = search.lock("prod", "apply", None, timeout=0)  # same environment name
    assert fraud.locks() == [mine] and search.locks() == [theirs]
    with pytest.raises(StateError, match="no lock with ID"):
        search.force_unlock(mine.id)
    fraud.unlock("prod", mine.id)
    search.unlock("prod", theirs.id)
    assert fraud.locks() == search.locks() == []


# --- locks ------------------------------------------------------------------------------


def test_a_held_lock_is_refused_with_the_holders_record(make_backend: Any) -> None:
    holder, other = make_backend(), make_backend()
    info = holder.lock("prod", "apply", "0123abcd", timeout=0)
    assert info.path == holder.label
    assert other.locks() == [info]
    with pytest.raises(LockError) as raised:
        other.lock("prod", "apply", None, timeout=0)
    assert raised.value.holder == info and not raised.value.orphaned
    assert "Lock Info:" in raised.value.message
    assert f"ID:        {info.id}" in raised.value.message
    assert raised.value.hint == "wait for it to finish, or retry with --lock-timeout"
    # the same backend is refused too: a lock is not re-entrant
    with pytest.raises(LockError):
        holder.lock("prod", "plan", None, timeout=0)
    other.lock("dev", "apply", None, timeout=0)  # per environment, never global
    holder.unlock("prod", info.id)
    again = other.lock("prod", "apply", None, timeout=0)
    assert [i.environment for i in other.locks()] == ["dev", "prod"]
    with pytest.raises(StateError, match=f"it is locked by {again.id}"):
        holder.unlock("prod", info.id)


def test_lock_names_are_checked(make_backend: Any) -> None:
    with pytest.raises(StateError, match="not a DNS-1123 label"):
        make_backend().lock("Prod/../x", "apply", None, timeout=0)


def test_a_killed_holder_leaves_an_orphaned_lock(
    make_backend: Any, dsn: str, workspace: str
) -> None:
    script = textwrap.dedent(
        f"""\
        import sys, time
        from mlops_plan.state.postgres import PostgresBackend
        backend = PostgresBackend({dsn!r}, {workspace!r})
        info = backend.lock("prod", "apply", None, timeout=0)
        print(info.id, flush=True)
        time.sleep(600)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            lock_id = child.stdout.readline().strip()
        finally:
            child.kill()  # SIGKILL: no unlock, no goodbye to the server
    [(pid,)] = sql(dsn, "SELECT backend_pid FROM mlops_plan_locks WHERE id = %s", lock_id)
    for _ in range(200):  # the server notices the closed socket
        if not sql(dsn, "SELECT 1 FROM pg_stat_activity WHERE pid = %s", pid):
            break
        time.sleep(0.05)
    backend = make_backend()
    with pytest.raises(LockError) as raised:
        backend.lock("prod", "apply", None, timeout=0)
    assert raised.value.orphaned and raised.value.holder.id == lock_id
    assert f"(pid {child.pid} on " in raised.value.message
    assert f"mlops-plan state force-unlock {lock_id}" in raised.value.message
    assert backend.force_unlock(lock_id).id == lock_id
    assert backend.lock("prod", "apply", None, timeout=0).environment == "prod"


def test_a_planted_row_with_a_dead_backend_pid_is_orphaned(
    make_backend: Any, dsn: str, workspace: str
) -> None:
    backend = make_backend()
    real = backend.lock("staging", "apply", None, timeout=0)  # creates the schema
    backend.unlock("staging", real.id)
    with psycopg.connect(dsn) as gone:
        dead_pid = gone.info.backend_pid
    info = real.model_copy(update={"id": "planted", "environment": "prod", "who": "mallory"})
    sql(
        dsn,
        "INSERT INTO mlops_plan_locks (workspace, environment, id, info, backend_pid) "
        "VALUES (%s, 'prod', 'planted', %s, %s)",
        workspace,
        psycopg.types.json.Jsonb(info.model_dump(mode="json")),
        dead_pid,
    )
    with pytest.raises(LockError) as raised:
        backend.lock("prod", "apply", None, timeout=0)
    assert raised.value.orphaned and raised.value.holder == info
    assert backend.locks() == [info]


def test_force_unlock_of_a_live_session_removes_the_row_only(make_backend: Any) -> None:
    notices: list[str] = []
    holder, breaker = make_backend(), make_backend(notify=notices.append)
    state = holder.write(State.new(), None)
    info = holder.lock("prod", "apply", None, timeout=0)
    with pytest.raises(StateError) as raised:
        breaker.force_unlock("no-such-id")
    assert raised.value.hint == f"locks held: {info.id} (prod)"
    assert breaker.force_unlock(info.id) == info
    assert breaker.locks() == []
    [notice] = notices
    assert "is still connected" in notice and "was not terminated" in notice
    # PostgreSQL still has the session's advisory lock: the environment stays locked
    with pytest.raises(StateError) as raised:
        breaker.lock("prod", "apply", None, timeout=0)
    assert "whose lock record was removed with force-unlock" in raised.value.message
    # and the holder notices at its next write: nothing interleaves
    with pytest.raises(StateError, match='the lock on environment "prod" is no longer held'):
        holder.write(state, state.serial)
    assert breaker.read() == state
    with pytest.raises(StateError, match="is not held"):
        holder.unlock("prod", info.id)  # ... and its session ends
    assert breaker.lock("prod", "apply", None, timeout=0).environment == "prod"


def test_lock_timeout_waits_with_backoff(make_backend: Any) -> None:
    holder, waiter = make_backend(), make_backend()
    info = holder.lock("prod", "apply", None, timeout=0)
    with pytest.raises(LockError):
        waiter.lock("prod", "apply", None, timeout=0.2)
    release = threading.Timer(0.5, holder.unlock, args=("prod", info.id))
    release.start()
    try:
        got = waiter.lock("prod", "apply", None, timeout=60)
    finally:
        release.join()
    assert waiter.locks() == [got]


# --- connections ------------------------------------------------------------------------


def test_connection_dropped_while_idle_costs_nothing(make_backend: Any, dsn: str) -> None:
    writer, observer = make_backend(), make_backend()
    state = writer.write(State.new(), None)
    state = writer.write(applied().model_copy(update={"lineage": state.lineage}), state.serial)
    first = writer.session_pid
    assert first is not None
    terminate(dsn, first)  # e.g. idle_session_timeout while a provider ran
    assert observer.read() == state  # the last committed serial, intact
    stored = writer.write(state.model_copy(update={"pending": []}), state.serial)
    assert stored.serial == state.serial + 1 and writer.session_pid not in (None, first)
    assert observer.read() == stored
    terminate(dsn, writer.session_pid)
    assert writer.read() == stored


def waiting_writer(dsn: str, other_than: set[int]) -> int:
    """The pid of a session of this test's database blocked on a row lock."""
    for _ in range(400):
        rows = sql(
            dsn,
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()",
        )
        pids = {pid for (pid,) in rows} - other_than
        if pids:
            [pid] = pids
            return pid
        time.sleep(0.025)
    raise AssertionError("no writer is waiting")


def test_connection_dropped_mid_write(make_backend: Any, dsn: str, workspace: str) -> None:
    """Terminated inside its transaction, a write is retried once on a new connection
    (nothing was committed); terminated again, it fails with one line; never half-stored."""
    writer, observer = make_backend(), make_backend()
    state = writer.write(applied(), None)
    outcome: list[object] = []

    def write() -> None:
        try:
            outcome.append(writer.write(state.model_copy(update={"pending": []}), state.serial))
        except StateError as exc:
            outcome.append(exc)

    for kills in (1, 2):
        outcome.clear()
        with psycopg.connect(dsn) as blocker:  # holds the state row: the writer waits
            blocker.execute(
                "SELECT 1 FROM mlops_plan_state WHERE workspace = %s FOR UPDATE", [workspace]
            )
            thread = threading.Thread(target=write)
            thread.start()
            seen: set[int] = set()
            for _ in range(kills):
                pid = waiting_writer(dsn, seen)
                seen.add(pid)
                terminate(dsn, pid)
            if kills == 1:
                waiting_writer(dsn, seen)  # the retry, on a new connection
            blocker.rollback()
            thread.join()
        if kills == 1:
            [stored] = outcome
            assert isinstance(stored, State) and stored.serial == state.serial + 1
            assert observer.read() == stored
            state = stored
        else:
            [error] = outcome
            assert isinstance(error, StateError)
            assert error.message.startswith(
                "lost the connection to PostgreSQL at 127.0.0.1:"
            ) and error.message.endswith(
                "while writing the state: terminating connection due to administrator command"
            )
            assert (
                error.hint
                == "nothing was stored by this step; run the command again (it reconnects)"
            )
            assert observer.read() == state


def test_lock_session_dropped_mid_apply_stops_the_writes(make_backend: Any, dsn: str) -> None:
    writer, other = make_backend(), make_backend()
    state = writer.write(State.new(), None)
    info = writer.lock("prod", "apply", None, timeout=0)
    state = writer.write(state, state.serial)
    [(lock_pid,)] = sql(dsn, "SELECT backend_pid FROM mlops_plan_locks WHERE id = %s", info.id)
    terminate(dsn, lock_pid)
    # the row is orphaned now; once it is broken, someone else may take the lock ...
    with pytest.raises(LockError) as raised:
        other.lock("prod", "apply", None, timeout=0)
    assert raised.value.orphaned
    other.force_unlock(info.id)
    taken = other.lock("prod", "apply", None, timeout=0)
    # ... and the first writer must not write any more
    with pytest.raises(StateError, match="no longer held"):
        writer.write(state, state.serial)
    assert other.read() == state
    with pytest.raises(StateError, match=f"it is locked by {taken.id}"):
        writer.unlock("prod", info.id)


def test_dsn_with_a_password_is_refused() -> None:
    for dsn in (
        "postgresql://deploy:s3cret-pw@db.internal/mlops",
        "host=db.internal dbname=mlops user=deploy password=s3cret-pw",
        "postgresql://deploy@db.internal/mlops?password=s3cret-pw",
    ):
        with pytest.raises(StateError) as raised:
            PostgresBackend(dsn, "team", source=ENV_DSN)
        assert raised.value.message.startswith(
            f"the PostgreSQL DSN in {ENV_DSN} contains a password"
        )
        assert "PGPASSWORD" in (raised.value.hint or "")
        assert "s3cret" not in raised.value.message + (raised.value.hint or "")
    with pytest.raises(StateError) as raised:
        PostgresBackend("host=db.internal s3cret-pw", "team")
    assert "not a valid connection string" in raised.value.message
    assert "s3cret" not in raised.value.message + (raised.value.hint or "")


def test_unreachable_server_is_one_line(workspace: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with (
            PostgresBackend(f"host=127.0.0.1 port={port} dbname=mlops", workspace) as backend,
            pytest.raises(StateError) as raised,
        ):
            backend.read()
    assert raised.value.message == (
        f"cannot connect to PostgreSQL at 127.0.0.1:{port}/mlops: Connection refused"
    )
    assert "hint" not in raised.value.message and raised.value.hint


def test_missing_database_and_missing_dsn(pg_server: PgServer, workspace: str) -> None:
    with (
        PostgresBackend(pg_server.dsn("nope"), workspace) as backend,
        pytest.raises(StateError) as raised,
    ):
        backend.lock("prod", "apply", None, timeout=0)
    assert raised.value.message == (
        f'cannot connect to PostgreSQL at 127.0.0.1:{pg_server.port}/nope: database "nope" '
        "does not exist"
    )

    with pytest.raises(StateError, match="needs a DSN"):
        backend_for(StateConfig(backend="postgres", workspace=workspace), Path())


def test_dsn_from_config_wins_over_the_environment(
    pg_server: PgServer, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = StateConfig(backend="postgres", dsn=pg_server.socket_dsn(), workspace=workspace)
    monkeypatch.setenv(ENV_DSN, "host=127.0.0.1 port=1 dbname=elsewhere")
    with from_config(config) as backend:
        assert backend.where == f"{pg_server.socket_dir}:{pg_server.port}/mlops"
        assert backend.read() is None  # over the unix socket
    with from_config(config.model_copy(update={"dsn": None})) as backend:
        assert backend.where == "127.0.0.1:1/elsewhere"


# --- migration --------------------------------------------------------------------------


def checkout(root: Path, state: str) -> Path:
    """A copy of examples/quickstart with `state` as its state config."""
    shutil.copytree(EXAMPLES / "quickstart", root)
    config = root / "mlops-plan.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"state: {state}\n", encoding="utf-8")
    return root


def test_migration_local_to_postgres_and_back(
    tmp_path: Path,
    run_cli: RunCli,
    make_backend: Any,
    dsn: str,
    workspace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = checkout(tmp_path / "repo", "{backend: local}")
    assert run_cli(["apply", "--auto-approve"], cwd=repo).code == 0
    local = LocalBackend(repo)
    before = local.read()
    assert before is not None and before.history and before.resources
    target = make_backend()
    moved = migrate(local, target)
    assert moved.serial == before.serial + 1
    assert target.read() == moved
    # back into the same local file: only the serial moved
    back = migrate(make_backend(), local)
    assert back.model_dump(exclude={"serial"}) == before.model_dump(exclude={"serial"})
    assert (back.serial, local.read()) == (before.serial + 1, back)
    # and into a fresh one
    fresh = LocalBackend(tmp_path / "fresh")
    copy = migrate(target, fresh)
    assert copy.model_dump(exclude={"serial"}) == before.model_dump(exclude={"serial"})
    # the repository plans "No changes." against either backend
    assert NO_CHANGES in run_cli(["plan"], cwd=repo).out
    config = repo / "mlops-plan.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("{backend: local}", f"{{backend: postgres, workspace: {workspace}}}"),
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_DSN, dsn)
    assert NO_CHANGES in run_cli(["plan"], cwd=repo).out
    history = run_cli(["state", "history"], cwd=repo).out
    assert f"serial {before.history[0].serial} " in history


def test_migration_refusals(tmp_path: Path, make_backend: Any) -> None:
    local = LocalBackend(tmp_path)
    with pytest.raises(StateError, match="no state to migrate"):
        migrate(local, make_backend())
    state = local.write(applied(), None)
    target = make_backend()
    target.write(State.new(), None)
    with pytest.raises(StateError, match="already holds a state of another lineage"):
        migrate(local, target)
    same = make_backend(f"ws-{uuid.uuid4().hex[:12]}")
    migrate(local, same)
    ahead = same.read()
    same.write(ahead.model_copy(update={"history": [*ahead.history, entry(9)]}), ahead.serial)
    with pytest.raises(StateError, match="has applies the source does not"):
        migrate(local, same)
    info = local.lock("prod", "apply", None, timeout=0)
    with pytest.raises(StateError, match=r"source backend has locked environments \(prod\)"):
        migrate(local, make_backend(f"ws-{uuid.uuid4().hex[:12]}"))
    local.unlock("prod", info.id)
    assert local.read() == state


def test_migrate_between_names_backends(
    tmp_path: Path, dsn: str, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = StateConfig(backend="postgres", workspace=workspace)
    monkeypatch.setenv(ENV_DSN, dsn)
    stored = LocalBackend(tmp_path).write(applied(), None)
    moved = migrate_between(config, tmp_path, "local", "postgres")
    assert moved.lineage == stored.lineage
    with pytest.raises(StateError, match="nothing to migrate"):
        migrate_between(config, tmp_path, "local", "local")
    with pytest.raises(StateError, match='unknown state backend "s3"'):
        migrate_between(config, tmp_path, "s3", "local")


# --- two checkouts through the CLI ------------------------------------------------------


@pytest.fixture
def checkouts(
    tmp_path: Path, dsn: str, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """Two checkouts of one repository sharing `workspace`; the DSN in the environment."""
    monkeypatch.setenv(ENV_DSN, dsn)
    state = f"{{backend: postgres, workspace: {workspace}}}"
    return checkout(tmp_path / "alice", state), checkout(tmp_path / "bob", state)


def test_two_checkouts_share_the_state(checkouts: tuple[Path, Path], run_cli: RunCli) -> None:
    alice, bob = checkouts
    planned = run_cli(["plan", "--out", "plan.json"], cwd=alice)
    assert planned.code == 0 and "to add" in planned.out
    done = run_cli(["apply", "plan.json"], cwd=alice)
    assert done.code == 0, done.err
    assert "Apply complete!" in done.out
    bob_plan = run_cli(["plan"], cwd=bob)
    assert bob_plan.code == 0 and NO_CHANGES in bob_plan.out
    assert not (bob / ".mlops-plan").exists()  # nothing local
    history = run_cli(["state", "history"], cwd=bob)
    assert history.code == 0 and "applied" in history.out
    listed = run_cli(["state", "list"], cwd=bob).out.split()
    assert "deployment.prod.ticket-router" in listed
    # alice's saved plan is now stale for bob too
    shutil.copy(alice / "plan.json", bob / "plan.json")
    again = run_cli(["apply", "plan.json"], cwd=bob)
    assert again.code == 1 and "Saved plan is stale" in again.err


def test_a_lock_held_by_one_checkout_is_refused_to_the_other(
    checkouts: tuple[Path, Path], run_cli: RunCli
) -> None:
    from mlops_plan.pipeline import load_repository, state_backend

    alice, bob = checkouts
    held = state_backend(load_repository(alice).repo)
    try:
        info = held.lock("prod", "apply", "0123abcd", timeout=0)
        refused = run_cli(["apply", "--auto-approve"], cwd=bob)
        assert refused.code == 1
        assert 'Error: Error acquiring the state lock for environment "prod"' in refused.err
        assert f"ID:        {info.id}" in refused.err
        assert "Operation: apply" in refused.err and "commit 0123abcd" in refused.err
        assert "Traceback" not in refused.err
        # bob's own dev lock was released on the way out
        assert [i.environment for i in held.locks()] == ["prod"]
        release = threading.Timer(0.5, held.unlock, args=("prod", info.id))
        release.start()
        try:
            waited = run_cli(["apply", "--auto-approve", "--lock-timeout", "60s"], cwd=bob)
        finally:
            release.join()
        assert waited.code == 0, waited.err
        assert NO_CHANGES in run_cli(["plan"], cwd=alice).out
    finally:
        held.close()  # type: ignore[attr-defined]


def test_force_unlock_through_the_cli(checkouts: tuple[Path, Path], run_cli: RunCli) -> None:
    from mlops_plan.pipeline import load_repository, state_backend

    alice, bob = checkouts
    held = state_backend(load_repository(alice).repo)
    try:
        info = held.lock("dev", "apply", None, timeout=0)
        held.close()  # type: ignore[attr-defined]  # the session ends: an orphaned row
        refused = run_cli(["apply", "--auto-approve"], cwd=bob)
        assert refused.code == 1 and "is gone" in refused.err
        broken = run_cli(["state", "force-unlock", info.id], cwd=bob)
        assert broken.code == 0 and f"Lock {info.id} on environment dev" in broken.out
        assert run_cli(["apply", "--auto-approve"], cwd=bob).code == 0
    finally:
        held.close()  # type: ignore[attr-defined]


def test_cli_errors_are_one_line(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = checkout(tmp_path / "alice", "{backend: postgres, workspace: team}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        monkeypatch.setenv(ENV_DSN, f"postgresql://deploy@127.0.0.1:{port}/mlops")
        refused = run_cli(["plan"], cwd=alice)
    assert refused.code == 1
    assert refused.err.splitlines()[0] == (
        f"Error: cannot connect to PostgreSQL at 127.0.0.1:{port}/mlops: Connection refused"
    )
    assert refused.err.splitlines()[1].startswith("  hint: check host, port and database")
    assert len(refused.err.splitlines()) == 2
    monkeypatch.setenv(ENV_DSN, "postgresql://deploy:s3cret-pw@127.0.0.1/mlops")
    secret = run_cli(["state", "list"], cwd=alice)
    assert secret.code == 1 and "contains a password" in secret.err
    assert "s3cret" not in secret.out + secret.err


def test_connection_dropped_mid_apply_through_the_cli(
    checkouts: tuple[Path, Path],
    run_cli: RunCli,
    dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The exec provider, on its second change, terminates the apply's sessions."""
    alice, bob = checkouts
    tag = f"mlops-plan-{uuid.uuid4().hex[:8]}"
    counter = tmp_path / "calls"
    script = tmp_path / "provider.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            import pathlib, psycopg
            counter = pathlib.Path({str(counter)!r})
            calls = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(calls))
            if calls == 2:
                with psycopg.connect({dsn!r}, autocommit=True) as conn:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = %s", [{tag!r}])
            """
        ),
        encoding="utf-8",
    )
    config = alice / "mlops-plan.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "default: {type: manifests, output: rendered/}",
            f"default: {{type: exec, command: [{sys.executable!r}, {str(script)!r}]}}",
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_DSN, f"{dsn} application_name={tag}")
    failed = run_cli(["apply", "--auto-approve"], cwd=alice)
    assert failed.code == 1
    # the write reconnects, and finds that its locks went with the old sessions
    assert 'Error: the locks on environments "dev", "prod" are no longer held' in failed.err
    assert "Traceback" not in failed.err and "internal error" not in failed.err
    monkeypatch.setenv(ENV_DSN, dsn)
    with PostgresBackend(dsn, config_workspace(alice)) as observer:
        state = observer.read()
        assert observer.locks() == []  # released (or orphaned rows removed) on the way out
    # the last committed state: the first change recorded, a note on the second
    assert state is not None and counter.read_text() == "2"
    assert list(state.resources) == ["deployment.dev.churn-classifier"]
    assert [p.address for p in state.pending] == ["deployment.dev.image-classifier"]
    plan = run_cli(["plan"], cwd=bob)
    assert plan.code == 0
    assert "interrupted while it changed deployment.dev.image-classifier" in plan.out
    assert "Plan: 5 to add" in plan.out
    again = run_cli(["apply", "--auto-approve"], cwd=alice)
    assert again.code == 0, again.err
    assert NO_CHANGES in run_cli(["plan"], cwd=bob).out


def config_workspace(root: Path) -> str:
    text = (root / "mlops-plan.yaml").read_text(encoding="utf-8")
    return text.rsplit("workspace: ", 1)[1].split("}", 1)[0]
