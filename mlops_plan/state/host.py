"""Who, where and when: the facts a lock and a history entry record about this process."""

from __future__ import annotations

import datetime
import getpass
import os
import socket
import sys
import uuid

from mlops_plan.state.model import LockInfo


def current_user() -> str:
    """The login name, or "unknown" when the platform cannot tell."""
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError, ImportError):
        return "unknown"


def current_host() -> str:
    return socket.gethostname()


def utc_now() -> str:
    """The current time as an ISO 8601 string in UTC, to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def new_lock(environment: str, operation: str, commit: str | None, path: str) -> LockInfo:
    """A lock record for this process, with a fresh ID."""
    return LockInfo(
        id=str(uuid.uuid4()),
        operation=operation,
        who=current_user(),
        host=current_host(),
        pid=os.getpid(),
        created=utc_now(),
        commit=commit,
        environment=environment,
        path=path,
    )


def holder_gone(info: LockInfo) -> bool:
    """True when the holder ran on this host and its process no longer exists.

    Only a definite answer counts: another host, a pid we may not signal, or a platform
    where signal 0 is not a probe (Windows: os.kill would terminate the process) is "not
    known to be gone".
    """
    if sys.platform == "win32" or info.pid <= 0 or info.host != current_host():
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, owned by someone else
        return False
    return False
