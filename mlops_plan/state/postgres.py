"""The postgres backend: one PostgreSQL database shared by a team, one workspace per repository.

Configured as ``state: {backend: postgres, dsn: "postgresql://deploy@db.internal/mlops",
workspace: fraud-team}``. The DSN comes from ``state.dsn``, else from ``MLOPS_PLAN_PG_DSN``
(the file wins, as Terraform's ``conn_str`` does over ``PG_CONN_STR``). A DSN carrying a
password is refused: libpq reads it from ``PGPASSWORD`` or ``~/.pgpass``. Messages name the
server as ``host:port/database``, never the DSN.

Tables (created on first write or lock, in the first schema of the search path, under a
transaction-level advisory lock so two first users cannot race; versioned by
``mlops_plan_schema``):

- ``mlops_plan_state``: one row per workspace: lineage, serial, the state without its
  history as ``document`` (jsonb), when and by whom it was last written.
- ``mlops_plan_history``: the audit trail, one row per apply (``seq`` = its index), with
  a hash chained over the entries so far (a write rewrites only the rows that changed).
- ``mlops_plan_locks``: one row per locked (workspace, environment) holding the LockInfo
  and the PostgreSQL backend pid of the session that holds the lock.

A write is one transaction: the state row is read ``FOR UPDATE``, its lineage and serial
compared (StaleStateError, LineageError, as the local backend), then ``UPDATE … WHERE
serial = expected`` (or ``INSERT`` when no state may exist yet), history rows appended. A
run that holds locks also checks, in that transaction, that it still holds every one of
them: a lock lost with its session (connection dropped, server restart) or broken with
``force-unlock`` stops the writes instead of letting two applies interleave.

A lock is a session-level advisory lock on a 64-bit key derived from (workspace,
environment), held on a dedicated connection for as long as the lock is held, plus a row
with the lock record, so anyone can see who holds it. A row whose session no longer holds
the advisory lock (its backend pid is gone from ``pg_stat_activity``) is orphaned: reported
like the local backend's orphaned lock file, broken with ``state force-unlock``. Breaking a
lock whose session is still connected removes the row only: the session is not terminated,
so PostgreSQL keeps the environment locked until that session ends, and a notice says so.

Reads and writes run on one connection, opened when first needed; when it turns out lost
(an idle timeout, a restart) before anything could be committed, the step runs once more
on a new one. Session-level advisory locks need a real session: point the DSN at the
server or a session-pooling PgBouncer, never a transaction-pooling one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from mlops_plan.state.errors import LineageError, LockError, StaleStateError, StateError
from mlops_plan.state.host import current_host, current_user, new_lock
from mlops_plan.state.local import ENVIRONMENT_NAME, FIRST_DELAY, MAX_DELAY, UNREADABLE_GRACE
from mlops_plan.state.model import FORMAT_VERSION, LockInfo, State, load_state

ENV_DSN = "MLOPS_PLAN_PG_DSN"
_T = TypeVar("_T")
SCHEMA_VERSION = 1
CONNECT_TIMEOUT = "10"
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE mlops_plan_state (
            workspace text PRIMARY KEY,
            lineage text NOT NULL,
            serial bigint NOT NULL CHECK (serial >= 0),
            format_version integer NOT NULL,
            document jsonb NOT NULL,
            history_count integer NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL
        )""",
        """CREATE TABLE mlops_plan_history (
            workspace text NOT NULL REFERENCES mlops_plan_state (workspace) ON DELETE CASCADE,
            seq integer NOT NULL,
            serial bigint NOT NULL,
            entry jsonb NOT NULL,
            chain text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (workspace, seq)
        )""",
        """CREATE TABLE mlops_plan_locks (
            workspace text NOT NULL,
            environment text NOT NULL,
            id text NOT NULL,
            info jsonb NOT NULL,
            backend_pid integer NOT NULL,
            backend_start timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (workspace, environment)
        )""",
        "CREATE INDEX mlops_plan_locks_id ON mlops_plan_locks (workspace, id)",
    ],
}
"""Schema version -> the statements that bring the previous version to it."""

# Does the session `pid` hold the advisory lock with this key (high, low 32 bits)?
_HOLDS = """EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted
    AND k.pid = {pid} AND k.objsubid = 1
    AND k.classid::bigint = {high} AND k.objid::bigint = {low})"""
_HOLDER_QUERY = f"""SELECT l.info, l.backend_pid,
        {_HOLDS.format(pid="l.backend_pid", high="%(high)s", low="%(low)s")} AS holding,
        EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid
            AND (l.backend_start IS NULL OR a.backend_start IS NULL
                 OR a.backend_start = l.backend_start)) AS connected
    FROM mlops_plan_locks l WHERE l.workspace = %(workspace)s AND l.environment = %(environment)s"""
_LOST_LOCKS_QUERY = f"""SELECT e.environment FROM unnest(
        %s::text[], %s::text[], %s::integer[], %s::bigint[], %s::bigint[])
        AS e(environment, id, pid, high, low)
    WHERE NOT EXISTS (SELECT 1 FROM mlops_plan_locks l WHERE l.workspace = %s
            AND l.environment = e.environment AND l.id = e.id AND l.backend_pid = e.pid)
        OR NOT {_HOLDS.format(pid="e.pid", high="e.high", low="e.low")}
    ORDER BY e.environment"""
_ADVISORY_HOLDER_QUERY = """SELECT k.pid, a.usename, host(a.client_addr), a.application_name
    FROM pg_locks k LEFT JOIN pg_stat_activity a ON a.pid = k.pid
    WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1
        AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND k.classid::bigint = %s AND k.objid::bigint = %s"""


def dsn_params(dsn: str, source: str) -> dict[str, Any]:
    """The parsed DSN; StateError when it does not parse or carries a password.

    libpq's own parse errors quote the DSN, so they are not repeated: a mistyped password
    must not reach a terminal or a CI log.
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        raise StateError(
            f"the PostgreSQL DSN in {source} is not a valid connection string",
            'use a URI such as "postgresql://deploy@db.internal:5432/mlops" or keywords '
            'such as "host=db.internal dbname=mlops user=deploy"',
        ) from None
    if "password" in params:
        raise StateError(
            f"the PostgreSQL DSN in {source} contains a password: refusing it "
            "(credentials never go in the repository or the DSN)",
            "remove the password from the DSN and give it to libpq through PGPASSWORD or ~/.pgpass",
        )
    return params


def describe(params: dict[str, Any]) -> str:
    """``host:port/database`` for messages: what libpq will connect to, no credentials."""
    host = str(params.get("host") or os.environ.get("PGHOST") or "localhost")
    port = str(params.get("port") or os.environ.get("PGPORT") or "")
    database = str(
        params.get("dbname")
        or os.environ.get("PGDATABASE")
        or params.get("user")
        or os.environ.get("PGUSER")
        or current_user()
    )
    return f"{host}:{port}/{database}" if port else f"{host}/{database}"


def lock_key(workspace: str, environment: str) -> int:
    """The advisory-lock key of (workspace, environment): 64 bits of a SHA-256, signed."""
    digest = hashlib.sha256(f"mlops-plan\0{workspace}\0{environment}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


SCHEMA_KEY = lock_key("", "schema")


def _halves(key: int) -> tuple[int, int]:
    """How pg_locks shows a bigint advisory key: (classid, objid) = (high, low) 32 bits."""
    return (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF


def reason(exc: BaseException) -> str:
    """One line out of a psycopg error, without libpq's repetition of where it connected."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[-1] if lines[0].startswith("Multiple connection attempts") else lines[0]
    text = re.sub(r"^- host: .*?: ", "", text)
    text = re.sub(r"^connection failed: ", "", text)
    text = re.sub(r"^connection to server (at|on) .*? failed: ", "", text)
    return re.sub(r"^(FATAL|ERROR):\s+", "", text)


def _connect_hint(exc: BaseException) -> str:
    text = str(exc)
    if "password" in text:
        return "give the password to libpq through PGPASSWORD or ~/.pgpass (never in the DSN)"
    return (
        f"check host, port and database in state.dsn or {ENV_DSN}, and that the server "
        "accepts connections"
    )


def _chains(history: list[dict[str, Any]]) -> list[str]:
    """Per entry, a SHA-256 over it and every entry before it (canonical JSON)."""
    chains: list[str] = []
    previous = ""
    for entry in history:
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()
        chains.append(previous)
    return chains


def _warn(text: str) -> None:
    print(f"Warning: {text}", file=sys.stderr)


def _close_all(connections: list[psycopg.Connection[Any]]) -> None:
    for conn in connections:
        with contextlib.suppress(Exception):
            conn.close()
    connections.clear()


@dataclass
class _Held:
    """A lock this backend holds: its ID and the connection holding the advisory lock."""

    id: str
    conn: psycopg.Connection[Any]
    pid: int
    key: int


def from_config(config: Any) -> PostgresBackend:
    """The backend `config` (a ``StateConfig``) asks for; the DSN from it or the environment."""
    if config.dsn:
        return PostgresBackend(config.dsn, config.workspace, source="state.dsn")
    dsn = os.environ.get(ENV_DSN, "").strip()
    if not dsn:
        raise StateError(
            "the postgres state backend needs a DSN",
            f"set state.dsn in mlops-plan.yaml or {ENV_DSN} (without a password)",
        )
    return PostgresBackend(dsn, config.workspace, source=ENV_DSN)


class PostgresBackend:
    """State, history and locks of one workspace in a PostgreSQL database."""

    def __init__(
        self,
        dsn: str,
        workspace: str = "default",
        *,
        source: str = "the DSN",
        notify: Callable[[str], None] = _warn,
    ) -> None:
        if not workspace:
            raise StateError("the postgres state backend needs a non-empty workspace")
        params = dsn_params(dsn, source)
        self.workspace = workspace
        self.where = describe(params)
        self.label = f"{self.where} (workspace {workspace})"
        defaults = {
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": "mlops-plan",
            # a lock lives as long as its connection: notice a dead peer in about a minute
            "keepalives": "1",
            "keepalives_idle": "30",
            "keepalives_interval": "10",
            "keepalives_count": "3",
        }
        self._conninfo = make_conninfo(
            dsn, **{key: value for key, value in defaults.items() if key not in params}
        )
        self._notify = notify
        self._conn: psycopg.Connection[Any] | None = None
        self._schema_ready = False
        self._held: dict[str, _Held] = {}
        self._connections: list[psycopg.Connection[Any]] = []
        self._finalizer = weakref.finalize(self, _close_all, self._connections)

    # -- connections ---------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection: a lock still held ends like its process ending."""
        self._held.clear()
        self._conn = None
        _close_all(self._connections)

    def __enter__(self) -> PostgresBackend:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def session_pid(self) -> int | None:
        """The backend pid of the connection reads and writes use (None before the first)."""
        if self._conn is None or self._conn.closed:
            return None
        return self._conn.info.backend_pid

    def _connect(self) -> psycopg.Connection[Any]:
        self._connections[:] = [c for c in self._connections if not c.closed]
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise StateError(
                f"cannot connect to PostgreSQL at {self.where}: {reason(exc)}",
                _connect_hint(exc),
            ) from None
        self._connections.append(conn)
        return conn

    def _main(self) -> psycopg.Connection[Any]:
        """The connection for reads and writes; a new one when the last was lost."""
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _error(
        self, conn: psycopg.Connection[Any], doing: str, exc: psycopg.Error, committing: bool
    ) -> StateError:
        """One StateError line for a psycopg error."""
        if not conn.closed:
            return StateError(f"PostgreSQL at {self.where} failed while {doing}: {reason(exc)}")
        if committing:
            return StateError(
                f"lost the connection to PostgreSQL at {self.where} while committing "
                f"({doing}): {reason(exc)}",
                "this write may or may not have been stored: read the state again "
                "(`mlops-plan plan`) before going on",
            )
        return StateError(
            f"lost the connection to PostgreSQL at {self.where} while {doing}: {reason(exc)}",
            "nothing was stored by this step; run the command again (it reconnects)",
        )

    @contextlib.contextmanager
    def _db(self, conn: psycopg.Connection[Any], doing: str) -> Iterator[None]:
        """Turn a psycopg error into one StateError line."""
        try:
            yield
        except psycopg.Error as exc:
            raise self._error(conn, doing, exc, committing=False) from None

    def _on_main(self, doing: str, work: Callable[[psycopg.Connection[Any], list[bool]], _T]) -> _T:
        """Run `work` on the main connection; once more on a new one when the connection
        turns out lost before anything could be committed (`work` appends to its list just
        before it commits). A connection dropped while idle (a server-side idle timeout, a
        NAT, a restart) thus costs nothing; a lost lock is caught by `_check_held`."""
        for attempt in (1, 2):
            conn = self._main()
            committing: list[bool] = []
            try:
                return work(conn, committing)
            except psycopg.Error as exc:
                if attempt == 1 and conn.closed and not committing:
                    continue
                raise self._error(conn, doing, exc, bool(committing)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _schema(self, conn: psycopg.Connection[Any], create: bool) -> bool:
        """Is the schema there (created or migrated when `create`)? StateError when newer.

        psycopg errors pass through: the caller knows what it was doing.
        """
        if self._schema_ready:
            return True
        version = self._schema_version(conn)
        if version is not None and version > SCHEMA_VERSION:
            raise StateError(
                f"the mlops-plan tables at {self.where} have schema version {version}; "
                f"this mlops-plan knows versions up to {SCHEMA_VERSION}",
                "upgrade mlops-plan",
            )
        if version == SCHEMA_VERSION:
            self._schema_ready = True
            return True
        if version is None and not create:
            return False
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_KEY])
            conn.execute("CREATE TABLE IF NOT EXISTS mlops_plan_schema (version integer NOT NULL)")
            current = self._schema_version(conn) or 0
            for number in sorted(MIGRATIONS):
                if number > current:
                    for statement in MIGRATIONS[number]:
                        conn.execute(statement.encode())
                    conn.execute("INSERT INTO mlops_plan_schema (version) VALUES (%s)", [number])
        self._schema_ready = True
        return True

    @staticmethod
    def _schema_version(conn: psycopg.Connection[Any]) -> int | None:
        row = conn.execute("SELECT to_regclass('mlops_plan_schema') IS NOT NULL").fetchone()
        if row is None or not row[0]:
            return None
        found = conn.execute("SELECT max(version) FROM mlops_plan_schema").fetchone()
        return None if found is None or found[0] is None else int(found[0])

    # -- state ---------------------------------------------------------------------------

    def read(self) -> State | None:
        def work(conn: psycopg.Connection[Any], _: list[bool]) -> tuple[Any, ...] | None:
            if not self._schema(conn, create=False):
                return None
            return conn.execute(
                """SELECT s.lineage, s.serial, s.format_version, s.document,
                    COALESCE((SELECT jsonb_agg(h.entry ORDER BY h.seq) FROM mlops_plan_history h
                              WHERE h.workspace = s.workspace), '[]'::jsonb)
                FROM mlops_plan_state s WHERE s.workspace = %s""",
                [self.workspace],
            ).fetchone()

        row = self._on_main("reading the state", work)
        if row is None:
            return None
        lineage, serial, version, document, history = row
        if version > FORMAT_VERSION:
            raise StateError(
                f"the state {self.label} was written by a newer mlops-plan (format {version}); "
                f"this version reads format {FORMAT_VERSION}",
                "upgrade mlops-plan",
            )
        fields = dict(document) | {
            "lineage": lineage,
            "serial": serial,
            "format_version": version,
            "history": history,
        }
        return load_state(
            fields,
            f"the state {self.label} is not a valid mlops-plan state",
            "restore the tables from a database backup",
        )

    def write(self, state: State, expected_serial: int | None) -> State:
        def work(conn: psycopg.Connection[Any], committing: list[bool]) -> State:
            self._schema(conn, create=True)
            with conn.transaction():
                stored = self._store(conn, state, expected_serial)
                committing.append(True)  # the transaction's end sends COMMIT
            return stored

        return self._on_main("writing the state", work)

    def _store(
        self, conn: psycopg.Connection[Any], state: State, expected_serial: int | None
    ) -> State:
        """The compare-and-set, in the caller's transaction."""
        self._check_held(conn)
        row = conn.execute(
            "SELECT lineage, serial, history_count FROM mlops_plan_state "
            "WHERE workspace = %s FOR UPDATE",
            [self.workspace],
        ).fetchone()
        if row is not None and row[0] != state.lineage:
            raise LineageError(self.label, row[0], state.lineage)
        found = None if row is None else int(row[1])
        if found != expected_serial:
            raise StaleStateError(self.label, expected_serial, found)
        serial = (state.serial if found is None else found) + 1
        fields = state.model_dump(mode="json") | {
            "serial": serial,
            "format_version": FORMAT_VERSION,
        }
        stored = State.model_validate(fields)  # a checked copy, shared with no caller
        document = {
            key: value
            for key, value in fields.items()
            if key not in ("lineage", "serial", "format_version", "history")
        }
        history = [entry.model_dump(mode="json") for entry in stored.history]
        values = {
            "workspace": self.workspace,
            "lineage": stored.lineage,
            "serial": serial,
            "version": FORMAT_VERSION,
            "document": Jsonb(document),
            "count": len(history),
            "by": f"{current_user()}@{current_host()}",
            "expected": found,
        }
        if row is None:
            inserted = conn.execute(
                """INSERT INTO mlops_plan_state (workspace, lineage, serial, format_version,
                    document, history_count, updated_by)
                VALUES (%(workspace)s, %(lineage)s, %(serial)s, %(version)s, %(document)s,
                    %(count)s, %(by)s)
                ON CONFLICT (workspace) DO NOTHING""",
                values,
            )
            if inserted.rowcount != 1:  # created meanwhile by another writer
                self._raise_conflict(conn, state.lineage, expected_serial)
            self._append_history(conn, history, 0)
        else:
            conn.execute(
                """UPDATE mlops_plan_state SET lineage = %(lineage)s, serial = %(serial)s,
                    format_version = %(version)s, document = %(document)s,
                    history_count = %(count)s, updated_at = now(), updated_by = %(by)s
                WHERE workspace = %(workspace)s AND serial = %(expected)s""",
                values,
            )
            self._sync_history(conn, history, int(row[2]))
        return stored

    def _raise_conflict(
        self, conn: psycopg.Connection[Any], lineage: str, expected: int | None
    ) -> None:
        row = conn.execute(
            "SELECT lineage, serial FROM mlops_plan_state WHERE workspace = %s",
            [self.workspace],
        ).fetchone()
        if row is not None and row[0] != lineage:
            raise LineageError(self.label, row[0], lineage)
        raise StaleStateError(self.label, expected, None if row is None else int(row[1]))

    def _sync_history(
        self, conn: psycopg.Connection[Any], history: list[dict[str, Any]], stored: int
    ) -> None:
        """Make the history rows `history`, touching only what changed.

        Each row carries a chain hash over its entry and every entry before it, so one
        matching chain proves the whole prefix equal: the rows past the longest such prefix
        among the last two stored are replaced (an apply appends its entry, then updates it
        after each change), anything else rewrites them all.
        """
        chains = _chains(history)
        rows = conn.execute(
            "SELECT seq, chain FROM mlops_plan_history WHERE workspace = %s AND seq >= %s",
            [self.workspace, stored - 2],
        ).fetchall()
        stored_chains = dict(rows)
        keep = next(
            (
                n
                for n in (stored, stored - 1)
                if 0 < n <= len(chains) and stored_chains.get(n - 1) == chains[n - 1]
            ),
            0,
        )
        if keep < stored:
            conn.execute(
                "DELETE FROM mlops_plan_history WHERE workspace = %s AND seq >= %s",
                [self.workspace, keep],
            )
        self._append_history(conn, history, keep, chains)

    def _append_history(
        self,
        conn: psycopg.Connection[Any],
        history: list[dict[str, Any]],
        start: int,
        chains: list[str] | None = None,
    ) -> None:
        chains = chains or _chains(history)
        rows = [
            (self.workspace, seq, history[seq]["serial"], Jsonb(history[seq]), chains[seq])
            for seq in range(start, len(history))
        ]
        if rows:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO mlops_plan_history (workspace, seq, serial, entry, chain) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    rows,
                )

    def _check_held(self, conn: psycopg.Connection[Any]) -> None:
        """Refuse to write when a lock this run took was lost or broken meanwhile."""
        if not self._held:
            return
        environments = sorted(self._held)
        held = [self._held[name] for name in environments]
        halves = [_halves(h.key) for h in held]
        lost = conn.execute(
            _LOST_LOCKS_QUERY.encode(),
            [
                environments,
                [h.id for h in held],
                [h.pid for h in held],
                [high for high, _ in halves],
                [low for _, low in halves],
                self.workspace,
            ],
        ).fetchall()
        if lost:
            names = ", ".join(f'"{row[0]}"' for row in lost)
            what = (
                f"the lock on environment {names} is"
                if len(lost) == 1
                else f"the locks on environments {names} are"
            )
            raise StateError(
                f"{what} no longer held (its PostgreSQL session ended, or it was broken with "
                "force-unlock): refusing to write the state",
                "the state keeps its last committed serial; plan again and re-apply",
            )

    # -- locks ---------------------------------------------------------------------------

    def _check_environment(self, environment: str, doing: str) -> None:
        if not ENVIRONMENT_NAME.fullmatch(environment):
            raise StateError(
                f'cannot {doing} environment "{environment}": not a DNS-1123 label',
                "environment names are lowercase letters, digits and '-', at most 63",
            )

    def lock(
        self, environment: str, operation: str, commit: str | None, timeout: float
    ) -> LockInfo:
        self._check_environment(environment, "lock")
        main = self._main()
        with self._db(main, "creating the mlops-plan tables"):
            self._schema(main, create=True)
        info = new_lock(environment, operation, commit, self.label)
        key = lock_key(self.workspace, environment)
        conn = self._connect()  # dedicated: the advisory lock lives as long as it
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = FIRST_DELAY
        try:
            with self._db(conn, f'locking environment "{environment}"'):
                if conn.info.server_version >= 140000:  # the lock must outlive idle periods
                    conn.execute("SET idle_session_timeout = 0")
                while True:
                    if self._try_lock(conn, key, info):
                        pid = conn.info.backend_pid
                        self._held[environment] = _Held(info.id, conn, pid, key)
                        return info
                    holder = self._holder(conn, environment, key)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 and holder is not None:
                        raise LockError(environment, holder[0], holder[1])
                    if remaining <= -UNREADABLE_GRACE:
                        self._raise_unrecorded(conn, environment, key)
                    time.sleep(max(min(delay * random.uniform(0.5, 1.0), remaining), FIRST_DELAY))
                    delay = min(delay * 2, MAX_DELAY)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            raise

    def _try_lock(self, conn: psycopg.Connection[Any], key: int, info: LockInfo) -> bool:
        """Take the advisory lock and record it; False when someone (or a stale row) has it."""
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        if got is None or not got[0]:
            return False
        inserted = conn.execute(
            """INSERT INTO mlops_plan_locks (workspace, environment, id, info, backend_pid,
                backend_start)
            VALUES (%s, %s, %s, %s, pg_backend_pid(),
                (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()))
            ON CONFLICT (workspace, environment) DO NOTHING""",
            [self.workspace, info.environment, info.id, Jsonb(info.model_dump(mode="json"))],
        )
        if inserted.rowcount == 1:
            return True
        conn.execute("SELECT pg_advisory_unlock(%s)", [key])  # the row of a gone session
        return False

    def _holder(
        self, conn: psycopg.Connection[Any], environment: str, key: int
    ) -> tuple[LockInfo, bool] | None:
        """The recorded holder of `environment`'s lock and whether it is orphaned."""
        high, low = _halves(key)
        row = conn.execute(
            _HOLDER_QUERY.encode(),
            {"workspace": self.workspace, "environment": environment, "high": high, "low": low},
        ).fetchone()
        if row is None:
            return None
        info = self._lock_info(row[0])
        if info is None:
            return None
        return info, not (row[2] and row[3])

    def _lock_info(self, data: Any) -> LockInfo | None:
        try:
            return LockInfo.model_validate(data)
        except ValidationError:
            return None

    def _raise_unrecorded(self, conn: psycopg.Connection[Any], environment: str, key: int) -> None:
        """The advisory lock is held by a session whose lock record was removed."""
        row = conn.execute(_ADVISORY_HOLDER_QUERY.encode(), list(_halves(key))).fetchone()
        who = "" if row is None else f" (PostgreSQL backend pid {row[0]}, user {row[1]}"
        if row is not None:
            who += f" from {row[2]})" if row[2] else " over a local socket)"
        raise StateError(
            f'environment "{environment}" is locked by a session{who} whose lock record was '
            "removed with force-unlock while it was still connected",
            "wait for that apply to end; if it hangs, end its session in PostgreSQL "
            "(SELECT pg_terminate_backend(pid))",
        )

    def unlock(self, environment: str, lock_id: str) -> None:
        self._check_environment(environment, "unlock")
        held = self._held.get(environment)
        key = lock_key(self.workspace, environment)

        def work(conn: psycopg.Connection[Any], _: list[bool]) -> tuple[Any, Any]:
            deleted = conn.execute(
                "DELETE FROM mlops_plan_locks "
                "WHERE workspace = %s AND environment = %s AND id = %s RETURNING id",
                [self.workspace, environment, lock_id],
            ).fetchone()
            return deleted, None if deleted else self._holder(conn, environment, key)

        try:
            deleted, holder = self._on_main(f'unlocking environment "{environment}"', work)
        finally:
            if held is not None and held.id == lock_id:
                del self._held[environment]
                held.conn.close()  # ends the session: releases the advisory lock
        if deleted is not None:
            return
        if holder is None:
            raise StateError(
                f'cannot unlock environment "{environment}": lock {lock_id} is not held '
                "(was it broken with force-unlock?)"
            )
        raise StateError(
            f'cannot unlock environment "{environment}": it is locked by {holder[0].id}, '
            f"not {lock_id}",
            "`mlops-plan state force-unlock ID` breaks another run's lock",
        )

    def force_unlock(self, lock_id: str) -> LockInfo:
        def work(conn: psycopg.Connection[Any], _: list[bool]) -> tuple[Any, bool]:
            if not self._schema(conn, create=False):
                return None, False
            row = conn.execute(
                "DELETE FROM mlops_plan_locks WHERE workspace = %s AND id = %s "
                "RETURNING environment, info, backend_pid",
                [self.workspace, lock_id],
            ).fetchone()
            if row is None:
                return None, False
            high, low = _halves(lock_key(self.workspace, row[0]))
            found = conn.execute(
                f"SELECT {_HOLDS.format(pid='%s', high='%s', low='%s')}".encode(),
                [row[2], high, low],
            ).fetchone()
            return row, bool(found and found[0])

        row, alive = self._on_main(f"breaking lock {lock_id}", work)
        if row is None:
            ids = ", ".join(f"{info.id} ({info.environment})" for info in self.locks())
            raise StateError(
                f'no lock with ID "{lock_id}" in workspace {self.workspace}',
                f"locks held: {ids}" if ids else "no environment is locked",
            )
        info = self._lock_info(row[1]) or LockInfo(
            id=lock_id,
            operation="unknown",
            who="unknown",
            host="unknown",
            pid=0,
            created="unknown",
            commit=None,
            environment=row[0],
            path=self.label,
        )
        held = self._held.get(row[0])
        if held is not None and held.id == lock_id:
            del self._held[row[0]]
            held.conn.close()
        elif alive:
            self._notify(
                f"the session holding lock {lock_id} (PostgreSQL backend pid {row[2]}, "
                f"{info.who}@{info.host} pid {info.pid}) is still connected: its lock record "
                "was removed, the session was not terminated, so PostgreSQL keeps environment "
                f'"{row[0]}" locked until it ends; its next state write will fail'
            )
        return info

    def locks(self) -> list[LockInfo]:
        def work(conn: psycopg.Connection[Any], _: list[bool]) -> list[tuple[Any, ...]]:
            if not self._schema(conn, create=False):
                return []
            return conn.execute(
                "SELECT info FROM mlops_plan_locks WHERE workspace = %s ORDER BY environment",
                [self.workspace],
            ).fetchall()

        found = [self._lock_info(row[0]) for row in self._on_main("listing the locks", work)]
        return [info for info in found if info is not None]
