"""The exec provider: a real command per change, reading the change as JSON on stdin, with
its exit status, timeout and output turned into a result (never a traceback)."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mlops_plan import plan as p
from mlops_plan.providers import Exec, ProviderContext
from mlops_plan.providers.exec import MAX_OUTPUT, truncate

PLAN_ID = "sha256:" + "cd" * 32
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

RECORDER = """\
import json, os, sys
record = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "stdin": sys.stdin.read(),
    "env": {k: v for k, v in os.environ.items() if k.startswith(("MLOPS_PLAN_", "MODEL_"))},
    "path_kept": "PATH" in os.environ,
}
with open(os.environ["RECORD_TO"], "w", encoding="utf-8") as handle:
    json.dump(record, handle)
print("deployed", os.environ["MLOPS_PLAN_ADDRESS"])
"""


def obj(version: str) -> dict[str, Any]:
    return {
        "model": "fraud-detector",
        "version": version,
        "digest": None,
        "runtime": "triton",
        "runtimeVersion": "24.05",
        "image": "nvcr.io/nvidia/tritonserver:24.05-py3",
        "target": "a100-80g",
        "replicas": 2,
        "canary": None,
        "env": {"TOKEN": "(sensitive value)"},
    }


def change(actions: list[str], before: str | None, after: str | None) -> p.ResourceChange:
    return p.ResourceChange(
        address="deployment.prod.fraud-detector",
        environment="prod",
        name="fraud-detector",
        actions=actions,
        before=obj(before) if before else None,
        after=obj(after) if after else None,
        changed_paths=[["version"]] if before and after else [],
        replace_paths=[],
        causes=[p.Cause(address="model.fraud-detector", reason="version 2.5.0 added")],
    )


def context(root: Path, log: list[str] | None = None) -> ProviderContext:
    lines = log if log is not None else []
    return ProviderContext(
        root=root,
        environment=None,
        model=None,
        target=None,
        runtime=None,
        plan_id=PLAN_ID,
        log=lines.append,
    )


def script(path: Path, body: str) -> Path:
    """`body` as an executable Python script at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A repository with scripts/deploy.py that records what it was given; (root, record)."""
    root = tmp_path / "repo"
    script(root / "scripts" / "deploy.py", RECORDER)
    record = tmp_path / "record.json"
    monkeypatch.setenv("RECORD_TO", str(record))
    monkeypatch.chdir(tmp_path)  # not the root: the command still runs from the root
    return root, record


@pytest.mark.parametrize(
    ("actions", "before", "after", "action", "version"),
    [
        (["create"], None, "2.5.0", "create", "2.5.0"),
        (["update"], "2.4.1", "2.5.0", "update", "2.5.0"),
        (["delete", "create"], "2.4.1", "2.5.0", "replace", "2.5.0"),
        (["delete"], "2.4.1", None, "delete", "2.4.1"),
    ],
)
def test_the_command_gets_the_change_on_stdin_and_in_its_environment(
    recorder: tuple[Path, Path],
    actions: list[str],
    before: str | None,
    after: str | None,
    action: str,
    version: str,
) -> None:
    root, record = recorder
    item = change(actions, before, after)
    log: list[str] = []
    provider = Exec(command=("./scripts/deploy.py", "--env", "prod"), timeout=60)
    result = provider.apply(item, context(root, log))
    assert result.ok, result
    assert result.message == "./scripts/deploy.py exited with status 0"
    assert result.output == "deployed deployment.prod.fraud-detector\n"
    assert log == ["deployment.prod.fraud-detector: running ./scripts/deploy.py --env prod"]
    seen = json.loads(record.read_text(encoding="utf-8"))
    assert seen["argv"] == ["--env", "prod"]
    assert Path(seen["cwd"]) == root.resolve()
    assert json.loads(seen["stdin"]) == {**item.model_dump(mode="json"), "plan_id": PLAN_ID}
    assert seen["env"] == {
        "MLOPS_PLAN_ACTION": action,
        "MLOPS_PLAN_ADDRESS": "deployment.prod.fraud-detector",
        "MLOPS_PLAN_ENVIRONMENT": "prod",
        "MLOPS_PLAN_PLAN_ID": PLAN_ID,
        "MODEL_NAME": "fraud-detector",
        "MODEL_VERSION": version,
    }
    assert seen["path_kept"]


def test_an_interpreter_and_a_script_argument_work_too(recorder: tuple[Path, Path]) -> None:
    root, record = recorder
    provider = Exec(command=(sys.executable, "scripts/deploy.py"), timeout=60)
    assert provider.apply(change(["create"], None, "2.5.0"), context(root)).ok
    assert json.loads(record.read_text(encoding="utf-8"))["env"]["MODEL_VERSION"] == "2.5.0"


def test_a_failing_command_fails_the_change_with_its_status_and_output(tmp_path: Path) -> None:
    failing = script(
        tmp_path / "fail.py",
        "import sys\nprint('rolling out')\nprint('error: quota exceeded', file=sys.stderr)\n"
        "sys.exit(3)\n",
    )
    result = Exec(command=(str(failing),), timeout=60).apply(
        change(["create"], None, "2.5.0"), context(tmp_path)
    )
    assert not result.ok
    assert result.message == f"{failing} exited with status 3"
    assert result.output == "rolling out\nerror: quota exceeded\n"


def test_a_command_that_does_not_read_stdin_still_works(tmp_path: Path) -> None:
    result = Exec(command=(sys.executable, "-c", "print('ok')"), timeout=60).apply(
        change(["create"], None, "2.5.0"), context(tmp_path)
    )
    assert result.ok
    assert result.output == "ok\n"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat_file = Path(f"/proc/{pid}/stat")
    try:
        return stat_file.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # zombie: dead
    except (OSError, IndexError):
        return True


@posix_only
def test_a_command_that_times_out_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    sleeper = script(
        tmp_path / "sleep.py",
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "print('waiting for rollout', flush=True)\n"
        "time.sleep(120)\n",
    )
    started = time.monotonic()
    result = Exec(command=(str(sleeper),), timeout=1).apply(
        change(["create"], None, "2.5.0"), context(tmp_path)
    )
    assert time.monotonic() - started < 60  # not the 120 s the script and its child wanted
    assert not result.ok
    assert result.message == f"{sleeper} timed out after 1 s and was killed"
    assert result.output == "waiting for rollout\n"
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), f"process {pid} survived the timeout"


@pytest.mark.parametrize(
    "command", [("mlops-plan-no-such-command-4711",), ("./scripts/missing.sh", "--flag")]
)
def test_a_missing_executable_fails_the_change_cleanly(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = Exec(command=command, timeout=60).apply(
        change(["create"], None, "2.5.0"), context(tmp_path)
    )
    assert not result.ok
    assert result.message.startswith(f"cannot run {command[0]!r}: no such executable")
    assert "mlops-plan.yaml" in result.message


@posix_only
def test_a_file_that_is_not_executable_fails_the_change_cleanly(tmp_path: Path) -> None:
    (tmp_path / "deploy.sh").write_text("echo hi\n")
    result = Exec(command=("./deploy.sh",), timeout=60).apply(
        change(["create"], None, "2.5.0"), context(tmp_path)
    )
    assert not result.ok
    assert result.message == "cannot run './deploy.sh': permission denied (chmod +x?)"


def test_output_is_truncated_at_64_kib(tmp_path: Path) -> None:
    chatty = script(
        tmp_path / "chatty.py",
        "import sys\nsys.stdout.write('a' * 100_000)\nsys.stdout.flush()\n"
        "sys.stderr.write('b' * 100_000 + 'THE END')\n",
    )
    result = Exec(command=(str(chatty),), timeout=60).apply(
        change(["create"], None, "2.5.0"), context(tmp_path)
    )
    assert result.ok
    assert len(result.output) < MAX_OUTPUT + 100
    assert result.output.startswith("a" * 1000)
    assert result.output.endswith("b" * 1000 + "THE END")
    assert "bytes of output omitted" in result.output


def test_truncate() -> None:
    assert truncate(b"short") == "short"
    assert truncate(b"\xff") == "\ufffd"
    assert truncate(b"0123456789", limit=4) == "01\n[... 6 bytes of output omitted ...]\n89"
