"""The ``exec`` provider: run a configured command once per change.

The command is an argv list from ``mlops-plan.yaml`` (never a shell string), run from the
repository root; a first element with a ``/`` (``./scripts/deploy.sh``) is relative to
the root. It reads the change as JSON on stdin: the plan's ``resource_changes`` entry
plus ``plan_id``. Its environment is the caller's plus:

* ``MLOPS_PLAN_ACTION``: ``create``, ``update``, ``delete`` or ``replace``;
* ``MLOPS_PLAN_ADDRESS``: ``deployment.<environment>.<name>``;
* ``MLOPS_PLAN_ENVIRONMENT`` and ``MLOPS_PLAN_PLAN_ID``;
* ``MODEL_NAME`` and ``MODEL_VERSION``: the model and version after the change (before
  it, for a delete).

A non-zero exit status, a timeout or a command that cannot start fails the change. The
command runs in a process group of its own, and on timeout the whole group is killed, so
a script's children do not outlive it. What it prints (stdout, then stderr) is kept in
the result, at most 64 KiB: the beginning and the end of anything longer.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mlops_plan.plan import ResourceChange
from mlops_plan.providers.base import (
    ProviderContext,
    ProviderError,
    ProviderResult,
    action_of,
    failed,
)

MAX_OUTPUT = 64 * 1024
KILL_GRACE = 5  # seconds to collect output once the process group is killed


def payload(change: ResourceChange, plan_id: str) -> bytes:
    """The JSON document written to the command's stdin."""
    data = change.model_dump(mode="json")
    data["plan_id"] = plan_id
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def environment(change: ResourceChange, action: str, plan_id: str) -> dict[str, str]:
    """The command's environment: the caller's, plus the variables describing the change."""
    obj = change.after if change.after is not None else change.before
    env = dict(os.environ)
    env.update(
        {
            "MLOPS_PLAN_ACTION": action,
            "MLOPS_PLAN_ADDRESS": change.address,
            "MLOPS_PLAN_ENVIRONMENT": change.environment,
            "MLOPS_PLAN_PLAN_ID": plan_id,
            "MODEL_NAME": str(obj["model"]) if obj else "",
            "MODEL_VERSION": str(obj["version"]) if obj else "",
        }
    )
    return env


def truncate(data: bytes, limit: int = MAX_OUTPUT) -> str:
    """`data` as text; when longer than `limit`, its beginning and end around a marker."""
    if len(data) <= limit:
        return data.decode("utf-8", errors="replace")
    half = limit // 2
    head = data[:half].decode("utf-8", errors="replace")
    tail = data[-half:].decode("utf-8", errors="replace")
    return f"{head}\n[... {len(data) - 2 * half} bytes of output omitted ...]\n{tail}"


def _program(command: tuple[str, ...], root: Path) -> str:
    first = command[0]
    if ("/" in first or os.sep in first) and not Path(first).is_absolute():
        return str(root / first)
    return first


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if sys.platform != "win32":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.kill()


def _as_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    return data.encode("utf-8", errors="replace") if isinstance(data, str) else data


def _stop(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Kill the command's process group; what it printed so far."""
    _kill(proc)
    try:
        return proc.communicate(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired as expired:
        # A descendant left the process group and still holds the pipes open.
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()
        return _as_bytes(expired.stdout), _as_bytes(expired.stderr)


def _status(program: str, code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"{program} was killed by {name}"
    return f"{program} exited with status {code}"


@dataclass(frozen=True)
class Exec:
    """Runs `command` (an argv list) for each change, failing it after `timeout` seconds."""

    command: tuple[str, ...]
    timeout: int = 600
    name: str = field(default="exec", init=False)

    def apply(self, change: ResourceChange, ctx: ProviderContext) -> ProviderResult:
        if not self.command:
            return ProviderResult(ok=False, message="the exec provider has no command")
        try:
            action = action_of(change)
        except ProviderError as error:
            return failed(error)
        program = self.command[0]
        argv = [_program(self.command, ctx.root), *self.command[1:]]
        ctx.log(f"{change.address}: running {' '.join(self.command)}")
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=ctx.root,
                env=environment(change, action, ctx.plan_id),
                start_new_session=sys.platform != "win32",
            )
        except FileNotFoundError:
            return ProviderResult(
                ok=False,
                message=f"cannot run {program!r}: no such executable "
                "(check providers.<environment>.command in mlops-plan.yaml; "
                "a relative path is relative to the repository root)",
            )
        except PermissionError:
            return ProviderResult(
                ok=False, message=f"cannot run {program!r}: permission denied (chmod +x?)"
            )
        except OSError as error:
            reason = error.strerror or str(error)
            return ProviderResult(ok=False, message=f"cannot run {program!r}: {reason}")
        try:
            out, err = proc.communicate(payload(change, ctx.plan_id), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            out, err = _stop(proc)
            return ProviderResult(
                ok=False,
                message=f"{program} timed out after {self.timeout} s and was killed",
                output=truncate(out + err),
            )
        except BaseException:
            _stop(proc)
            raise
        output = truncate(out + err)
        if proc.returncode != 0:
            return ProviderResult(
                ok=False, message=_status(program, proc.returncode), output=output
            )
        return ProviderResult(ok=True, message=_status(program, 0), output=output)
