"""An apply killed with SIGKILL in the middle of a change (DESIGN §6): the state stays valid
JSON, keeps what finished and notes the interrupted change; the next plan warns and shows
exactly what is left; the dead process's lock is reported as orphaned until force-unlock."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CliResult, RunCli
from gitrepo import DIGEST, git, init

from mlops_plan.state import State, current_host, current_user

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and POSIX sessions")

STATE = ".mlops-plan/state.json"
LOCKS = ".mlops-plan/locks"
NAMES = ("alpha", "bravo", "charlie", "delta")
HANGS_ON = "deployment.dev.charlie"  # the third change

MODEL = f"""\
apiVersion: mlops-plan/v1
kind: Model
metadata:
  name: ranker
spec:
  framework: onnx
  versions:
    - version: "1.0.0"
      artifact:
        uri: s3://models/ranker/1.0.0/model.onnx
        digest: {DIGEST.format(1)}
"""
RUNTIME = """\
apiVersion: mlops-plan/v1
kind: Runtime
metadata:
  name: ort
spec:
  supportedFormats: [onnx]
  versions:
    - version: "1.17"
      image: mcr.microsoft.com/onnxruntime/server:1.17
      accelerators: [cpu]
"""
TARGET = """\
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata:
  name: cpu-small
spec:
  arch: x86_64
  accelerator: cpu
"""
DEV = """\
apiVersion: mlops-plan/v1
kind: Environment
metadata:
  name: dev
spec:
  targets: [cpu-small]
  runtimes:
    ort: "1.17"
"""


def deployment(name: str) -> str:
    return f"""\
apiVersion: mlops-plan/v1
kind: Deployment
metadata:
  name: {name}
spec:
  model: ranker
  runtime: ort
  target: cpu-small
  replicas: 1
  environments:
    dev:
      version: "1.0.0"
"""


# The exec provider's command: logs each change; on `hang` it writes its pid to `marker`
# (atomically) and sleeps, so the test can kill the apply in the middle of that change.
SCRIPT = """\
import os, sys, time
log, hang, marker = sys.argv[1:4]
address = os.environ["MLOPS_PLAN_ADDRESS"]
sys.stdin.read()
with open(log, "a", encoding="utf-8") as out:
    out.write(address + "\\n")
if address == hang:
    with open(marker + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(os.getpid()))
    os.replace(marker + ".tmp", marker)
    time.sleep(60)
print("deployed", address)
"""


def config(tmp_path: Path, hang: str) -> str:
    argv = [sys.executable, str(tmp_path / "deploy.py"), str(tmp_path / "exec.log"), hang]
    argv.append(str(tmp_path / "hanging"))
    return f"providers:\n  dev: {{type: exec, command: {json.dumps(argv)}, timeout: 120}}\n"


def make_repo(tmp_path: Path) -> Path:
    (tmp_path / "deploy.py").write_text(SCRIPT, encoding="utf-8")
    repo = tmp_path / "repo"
    files = {
        "mlops-plan.yaml": config(tmp_path, HANGS_ON),
        "models/ranker.yaml": MODEL,
        "runtimes/ort.yaml": RUNTIME,
        "targets/cpu.yaml": TARGET,
        "environments/dev.yaml": DEV,
        **{f"deployments/{name}.yaml": deployment(name) for name in NAMES},
    }
    return init(repo, files, "four deployments in dev")


def no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err


def read_state(repo: Path) -> State:
    return State.model_validate(json.loads((repo / STATE).read_text(encoding="utf-8")))


def planned(run_cli: RunCli, repo: Path) -> list[tuple[str, list[str]]]:
    result = run_cli(["plan", "--format", "json"], cwd=repo)
    no_traceback(result)
    return [(c["address"], c["actions"]) for c in json.loads(result.out)["resource_changes"]]


def kill_by_pid_file(marker: Path) -> None:
    """Stop the provider's command (in a session of its own, it outlives the apply)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(marker.read_text(encoding="utf-8")), signal.SIGKILL)


class Crashed:
    """What the killed apply left: its pid, the plan it ran, the repository."""

    def __init__(self, repo: Path, pid: int, plan_id: str) -> None:
        self.repo = repo
        self.pid = pid
        self.plan_id = plan_id
        self.commit = git(repo, "rev-parse", "HEAD")


@pytest.fixture
def crashed(run_cli: RunCli, tmp_path: Path) -> Iterator[Crashed]:
    """`plan --out` then `python -m mlops_plan apply`, SIGKILLed during the third change."""
    repo = make_repo(tmp_path)
    planned_result = run_cli(["plan", "--out", "plan.json"], cwd=repo)
    assert planned_result.code == 0, planned_result.out + planned_result.err
    plan_id = json.loads((repo / "plan.json").read_text(encoding="utf-8"))["plan_id"]
    marker = tmp_path / "hanging"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_plan", "apply", "plan.json"],
        cwd=repo,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the apply never reached the third change"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)  # reaped: its pid is really gone now
        assert proc.returncode == -signal.SIGKILL
        assert "Traceback" not in out + err
        yield Crashed(repo, proc.pid, plan_id)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
        if marker.exists():
            kill_by_pid_file(marker)


def recover(run_cli: RunCli, crashed: Crashed, tmp_path: Path) -> str:
    """Fix the command, break the dead process's lock; return the lock's ID."""
    (crashed.repo / "mlops-plan.yaml").write_text(config(tmp_path, "-"), encoding="utf-8")
    git(crashed.repo, "commit", "-qam", "the command no longer hangs")
    (lock,) = sorted((crashed.repo / LOCKS).glob("*.lock"))
    lock_id = str(json.loads(lock.read_text(encoding="utf-8"))["id"])
    broken = run_cli(["state", "force-unlock", lock_id], cwd=crashed.repo)
    assert broken.code == 0, broken.err
    return lock_id


def test_a_killed_apply_leaves_a_valid_state_a_note_and_an_orphaned_lock(
    run_cli: RunCli, crashed: Crashed, tmp_path: Path
) -> None:
    repo = crashed.repo
    assert (tmp_path / "exec.log").read_text(encoding="utf-8").splitlines() == [
        "deployment.dev.alpha",
        "deployment.dev.bravo",
        "deployment.dev.charlie",
    ]

    # the state: valid, the two finished changes, the interrupted one noted as pending
    state = read_state(repo)
    assert sorted(state.resources) == ["deployment.dev.alpha", "deployment.dev.bravo"]
    (pending,) = state.pending
    assert (pending.address, pending.actions, pending.plan_id, pending.who) == (
        HANGS_ON,
        ["create"],
        crashed.plan_id,
        current_user(),
    )
    assert not list((repo / ".mlops-plan").glob("*.tmp"))

    # the next plan warns about the interrupted apply and shows exactly what is left
    result = run_cli(["plan"], cwd=repo)
    no_traceback(result)
    assert result.code == 0
    assert result.out.splitlines()[:2] == [
        f"Warning: an earlier apply was interrupted while it changed {HANGS_ON} (create, "
        f"started {pending.started} by {pending.who}); the plan below shows what is left to do.",
        "",
    ]
    assert result.out.rstrip().splitlines()[-1] == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert planned(run_cli, repo) == [
        ("deployment.dev.charlie", ["create"]),
        ("deployment.dev.delta", ["create"]),
    ]

    # the dead process's lock stays, and is reported as orphaned with the way out
    (lock,) = sorted((repo / LOCKS).glob("*.lock"))
    assert lock.name == "dev.lock"
    record = json.loads(lock.read_text(encoding="utf-8"))
    assert (record["pid"], record["environment"], record["operation"]) == (
        crashed.pid,
        "dev",
        "apply",
    )
    assert record["commit"] == crashed.commit
    lock_id = record["id"]
    (repo / "mlops-plan.yaml").write_text(config(tmp_path, "-"), encoding="utf-8")
    git(repo, "commit", "-qam", "the command no longer hangs")
    assert run_cli(["plan", "--out", "plan.json"], cwd=repo).code == 0
    before = (repo / STATE).read_bytes()
    result = run_cli(["apply", "plan.json", "--lock-timeout", "0s"], cwd=repo)
    no_traceback(result)
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[:4] == [
        'Error: Error acquiring the state lock for environment "dev"',
        "",
        "Lock Info:",
        f"  ID:        {lock_id}",
    ]
    assert f"  Info:      environment dev, pid {crashed.pid}, commit {crashed.commit}" in lines
    assert lines[-2:] == [
        f"The process holding this lock (pid {crashed.pid} on {current_host()}) is gone.",
        f"If no apply is running, `mlops-plan state force-unlock {lock_id}` breaks the lock.",
    ]
    assert (repo / STATE).read_bytes() == before
    assert lock.exists()

    # force-unlock, then the saved plan finishes the job
    broken = run_cli(["state", "force-unlock", lock_id], cwd=repo)
    assert broken.code == 0
    assert broken.out.startswith(f"Lock {lock_id} on environment dev (held by ")
    result = run_cli(["apply", "plan.json", "--lock-timeout", "0s"], cwd=repo)
    no_traceback(result)
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == (
        "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    )
    state = read_state(repo)
    assert sorted(state.resources) == [f"deployment.dev.{name}" for name in NAMES]
    assert planned(run_cli, repo) == []
    assert not list((repo / LOCKS).glob("*.lock"))


def test_a_plan_made_before_the_crash_is_stale_after_it(run_cli: RunCli, crashed: Crashed) -> None:
    (lock,) = sorted((crashed.repo / LOCKS).glob("*.lock"))
    lock_id = json.loads(lock.read_text(encoding="utf-8"))["id"]
    assert run_cli(["state", "force-unlock", lock_id], cwd=crashed.repo).code == 0
    before = (crashed.repo / STATE).read_bytes()
    result = run_cli(["apply", "plan.json"], cwd=crashed.repo)
    no_traceback(result)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "Error: Saved plan is stale: the state changed since the plan was made "
        f"(serial 0 -> {read_state(crashed.repo).serial})"
    )
    assert (crashed.repo / STATE).read_bytes() == before


def test_the_interrupted_note_is_cleared_once_the_change_is_applied(
    run_cli: RunCli, crashed: Crashed, tmp_path: Path
) -> None:
    recover(run_cli, crashed, tmp_path)
    assert run_cli(["plan", "--out", "plan.json"], cwd=crashed.repo).code == 0
    result = run_cli(["apply", "plan.json"], cwd=crashed.repo)
    assert result.code == 0, result.err
    assert planned(run_cli, crashed.repo) == []
    assert read_state(crashed.repo).pending == []
    result = run_cli(["plan"], cwd=crashed.repo)
    assert "Warning: an earlier apply was interrupted" not in result.out


def test_the_audit_trail_records_the_changes_a_killed_apply_finished(
    run_cli: RunCli, crashed: Crashed
) -> None:
    state = read_state(crashed.repo)
    recorded = [
        (change.address, change.outcome)
        for entry in state.history
        if entry.plan_id == crashed.plan_id
        for change in entry.changes
    ]
    assert ("deployment.dev.alpha", "applied") in recorded
    assert ("deployment.dev.bravo", "applied") in recorded
    history = run_cli(["state", "history"], cwd=crashed.repo)
    assert "deployment.dev.alpha" in history.out
