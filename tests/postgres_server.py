"""A throwaway PostgreSQL cluster for the postgres backend tests (Debian's `postgresql`).

`serve()`, the body of a session fixture, runs ``initdb`` into a fresh temporary folder as
a non-root user (the ``postgres`` system user when the tests run as root), starts the
server with ``pg_ctl`` on a unix socket in that folder and a free TCP port on 127.0.0.1
(trust authentication: the DSN carries no password), creates a database and yields the
server; it stops it with ``pg_ctl stop -m immediate`` and removes the folder at the end.

When no server can be started (the binaries are missing, no non-root user...), every test
that uses it is skipped with the reason, which ``-ra`` prints. Set ``REQUIRE_POSTGRES=1``
(as ``.ci/run`` should after ``.ci/postgres.sh``) to turn that skip into a failure, so CI
never passes by skipping.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# CI (CI=true) must never pass by skipping: there the server is required
REQUIRED = any(
    os.environ.get(name, "") not in ("", "0", "false") for name in ("REQUIRE_POSTGRES", "CI")
)
SUPERUSER = "postgres"
DATABASE = "mlops"
START_ATTEMPTS = 3


class Unavailable(Exception):
    """No server can be started here; the message says why."""


@dataclass
class PgServer:
    """A running throwaway cluster."""

    bin_dir: Path
    base: Path
    port: int
    run_as: list[str]

    @property
    def socket_dir(self) -> Path:
        return self.base

    def dsn(self, database: str = DATABASE) -> str:
        """A password-less keyword DSN over TCP to `database`."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def socket_dsn(self, database: str = DATABASE) -> str:
        """The same over the unix socket in the cluster's folder."""
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={database}"

    def create_database(self) -> str:
        """A new empty database (its name), e.g. to watch the schema being created."""
        import psycopg

        name = f"db_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return name


def _bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl (or PATH)."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    found = sorted(
        (p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=version,
        reverse=True,
    )
    for candidate in found:
        if (candidate / "pg_ctl").is_file():
            return candidate
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise Unavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or "
        "on PATH: install Debian's `postgresql` package (.ci/postgres.sh does)"
    )


def _run_as() -> tuple[list[str], int, int]:
    """The command prefix that runs as a non-root user, and that user's uid/gid."""
    if os.geteuid() != 0:
        return [], os.geteuid(), os.getegid()
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable(
            "running as root and there is no `postgres` user to run the server as"
        ) from None
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user.pw_name, "--"], user.pw_uid, user.pw_gid
    raise Unavailable("running as root and `runuser` is missing to start the server as postgres")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise Unavailable(f"{what} failed (exit {done.returncode}): {' | '.join(output)}")


def start() -> PgServer:
    """Initialise and start a cluster in a new temporary folder; Unavailable if impossible."""
    bin_dir = _bin_dir()
    run_as, uid, gid = _run_as()
    # Not under pytest's tmp_path: its parents are private to root, and the server runs
    # as another user; a short path also keeps the socket path under its length limit.
    base = Path(tempfile.mkdtemp(prefix="mlops-plan-pg-"))
    try:
        os.chown(base, uid, gid)
        data = base / "data"
        _check(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            "initdb",
        )
        last = ""
        for _ in range(START_ATTEMPTS):  # the free port may be taken before the server binds
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                _check(
                    [
                        *run_as,
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(base / "server.log"),
                        "-o",
                        options,
                        "-w",
                        "-t",
                        "60",
                        "start",
                    ],
                    "pg_ctl start",
                )
            except Unavailable as exc:
                last = str(exc)
                with contextlib.suppress(OSError):
                    last += " | " + (base / "server.log").read_text()[-400:].replace("\n", " ")
                continue
            server = PgServer(bin_dir=bin_dir, base=base, port=port, run_as=run_as)
            _create_database(server)
            return server
        raise Unavailable(last)
    except BaseException:
        stop_folder(base, bin_dir, run_as)
        raise


def _create_database(server: PgServer) -> None:
    import psycopg

    try:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"'.encode())
    except psycopg.Error as exc:
        raise Unavailable(f"cannot create the test database: {exc}") from None


def stop_folder(base: Path, bin_dir: Path, run_as: list[str]) -> None:
    data = base / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate", "-w"],
            capture_output=True,
            check=False,
            timeout=60,
        )
    shutil.rmtree(base, ignore_errors=True)


def serve() -> Iterator[PgServer]:
    """A running throwaway PostgreSQL, or a skip (a failure under REQUIRE_POSTGRES=1).

    The body of a session fixture: ``yield from serve()``.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = 'psycopg is not installed (pip install "psycopg[binary]")'
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        server = start()
    except Unavailable as exc:
        reason = f"no PostgreSQL server for the postgres backend tests: {exc}"
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield server
    finally:
        stop_folder(server.base, server.bin_dir, server.run_as)
