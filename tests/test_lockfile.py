"""mlops-plan.lock: `lock`, `lock --check`, `lock --upgrade`, `lint --locked` (MP307).

Regenerate the golden files with `UPDATE_GOLDEN=1 python -m pytest tests/test_lockfile.py`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_plan import pipeline

WriteRepo = Callable[..., Path]
RunCli = Callable[..., Any]
GOLDEN = Path(__file__).parent / "golden" / "lock"
LOCK = "mlops-plan.lock"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def embedder_version(version: str, n: int) -> str:
    return (
        f'    - version: "{version}"\n'
        f"      artifact: {{uri: s3://models/text-embedder/{version}/model.onnx, "
        f'digest: "{digest(n)}"}}\n'
        '      requires: {onnxruntime: ">=1.16"}\n'
    )


MODELS = f"""\
apiVersion: mlops-plan/v1
kind: Model
metadata: {{name: fraud-detector}}
spec:
  framework: pytorch
  versions:
    - version: "2.4.1"
      artifact: {{uri: s3://models/fraud-detector/2.4.1/model.pt, digest: "{digest(1)}"}}
      requires: {{pytorch: ">=2.1,<2.5"}}
      dependsOn: [{{model: text-embedder, version: "~=1.2"}}]
    - version: "2.5.0"
      artifact: {{uri: s3://models/fraud-detector/2.5.0/model.pt, digest: "{digest(2)}"}}
      requires: {{pytorch: ">=2.3,<2.5"}}
---
apiVersion: mlops-plan/v1
kind: Model
metadata: {{name: text-embedder}}
spec:
  framework: onnx
  versions:
{embedder_version("1.2.0", 3)}"""
PLATFORM = """\
apiVersion: mlops-plan/v1
kind: Runtime
metadata: {name: triton}
spec:
  supportedFormats: [onnx, pytorch]
  versions:
    - version: "24.05"
      image: nvcr.io/nvidia/tritonserver:24.05-py3
      provides: {pytorch: "2.4.0a0+07cecf4168", onnxruntime: "1.18.0"}
      accelerators: [gpu, cpu]
    - version: "24.07"
      image: nvcr.io/nvidia/tritonserver:24.07-py3
      provides: {pytorch: "2.4.0", onnxruntime: "1.18.1"}
      accelerators: [gpu, cpu]
---
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata: {name: cpu-x86}
spec: {arch: x86_64, accelerator: cpu}
---
apiVersion: mlops-plan/v1
kind: Environment
metadata: {name: staging}
spec: {targets: [cpu-x86], runtimes: {triton: "24.05"}}
---
apiVersion: mlops-plan/v1
kind: Environment
metadata: {name: prod}
spec: {promotesFrom: [staging], targets: [cpu-x86], runtimes: {triton: "24.05"}}
"""
DEPLOYMENTS = """\
apiVersion: mlops-plan/v1
kind: Deployment
metadata: {name: fraud-detector}
spec:
  model: fraud-detector
  runtime: triton
  target: cpu-x86
  environments:
    staging: {version: "2.5.0"}
    prod: {version: "2.4.1", canary: {version: "2.5.0", weight: 10}}
---
apiVersion: mlops-plan/v1
kind: Deployment
metadata: {name: text-embedder}
spec:
  model: text-embedder
  runtime: triton
  target: cpu-x86
  environments:
    staging: {version: "~=1.2"}
    prod: {version: "~=1.2"}
"""
FILES = {"models.yaml": MODELS, "platform.yaml": PLATFORM, "deployments.yaml": DEPLOYMENTS}


@pytest.fixture
def repo(tmp_path: Path, write_repo: WriteRepo) -> Path:
    return write_repo(tmp_path / "repo", FILES)


@pytest.fixture
def locked(repo: Path, run_cli: RunCli) -> Path:
    """The small repository with a fresh lockfile."""
    assert run_cli(["lock", str(repo)]).code == 0
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def add_embedder_version(root: Path, version: str = "1.3.0") -> None:
    models = root / "models.yaml"
    models.write_text(models.read_text(encoding="utf-8") + embedder_version(version, 4))


def lint_locked(run_cli: RunCli, root: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli(["lint", "--locked", "--format", "json", str(root)])
    assert result.err == ""
    return result.code, json.loads(result.out)["findings"]


def resolved(root: Path) -> dict[str, str | None]:
    analysis = pipeline.analyze(root)
    return {
        a: item.version.version if item.version is not None else None
        for a, item in sorted(analysis.resolution.resolved.items())
    }


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


# --- lock -------------------------------------------------------------------------------------


def test_lock_writes_the_lockfile(repo: Path, run_cli: RunCli) -> None:
    result = run_cli(["lock", str(repo)])
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "+ deployment.prod.fraud-detector: fraud-detector 2.4.1\n"
        "+ deployment.prod.text-embedder: text-embedder 1.2.0\n"
        "+ deployment.staging.fraud-detector: fraud-detector 2.5.0\n"
        "+ deployment.staging.text-embedder: text-embedder 1.2.0\n"
        "Wrote mlops-plan.lock (4 change(s)).\n"
    )
    check_golden("small.lock", (repo / LOCK).read_text(encoding="utf-8"))
    # nothing else was written (the temporary file of the atomic write is gone)
    assert sorted(p.name for p in repo.iterdir()) == [
        "deployments.yaml",
        "mlops-plan.lock",
        "mlops-plan.yaml",
        "models.yaml",
        "platform.yaml",
    ]


def test_lock_is_stable(locked: Path, run_cli: RunCli) -> None:
    before = (locked / LOCK).read_bytes()
    result = run_cli(["lock", str(locked)])
    assert (result.code, result.out, result.err) == (0, "mlops-plan.lock is up to date.\n", "")
    assert (locked / LOCK).read_bytes() == before


def test_lock_is_the_same_from_another_layout(
    locked: Path, tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    """Sorted and stable: other file names and document order give the same bytes."""
    docs = [d for text in FILES.values() for d in text.split("---\n")]
    other = write_repo(
        tmp_path / "other", {f"d{len(docs) - i}.yaml": d for i, d in enumerate(docs)}
    )
    assert run_cli(["lock", str(other)]).code == 0
    assert (other / LOCK).read_bytes() == (locked / LOCK).read_bytes()


def test_lock_round_trips_names_and_versions_yaml_would_retype(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    """Names like `yes`, `on`, `null` and versions like 1.10 stay strings in the lock."""
    files = {
        "all.yaml": f"""\
apiVersion: mlops-plan/v1
kind: Model
metadata: {{name: "yes"}}
spec:
  framework: onnx
  versions:
    - {{version: "1.10", artifact: {{uri: s3://m/yes/1.10/model.onnx, digest: "{digest(1)}"}}}}
---
apiVersion: mlops-plan/v1
kind: Runtime
metadata: {{name: "on"}}
spec:
  supportedFormats: [onnx]
  versions: [{{version: "24.10", image: "registry.example.com/on:24.10"}}]
---
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata: {{name: "null"}}
spec: {{arch: x86_64, accelerator: cpu}}
---
apiVersion: mlops-plan/v1
kind: Environment
metadata: {{name: "no"}}
spec: {{targets: ["null"], runtimes: {{"on": "24.10"}}}}
---
apiVersion: mlops-plan/v1
kind: Deployment
metadata: {{name: "off"}}
spec: {{model: "yes", runtime: "on", target: "null", environments: {{"no": {{version: "1.10"}}}}}}
"""
    }
    root = write_repo(tmp_path / "repo", files)
    assert run_cli(["lock", str(root)]).code == 0
    assert lint_locked(run_cli, root) == (0, [])
    assert run_cli(["lock", "--check", str(root)]).code == 0


def test_lock_check(locked: Path, run_cli: RunCli) -> None:
    result = run_cli(["lock", "--check", str(locked)])
    assert (result.code, result.out, result.err) == (0, "mlops-plan.lock is up to date.\n", "")
    add_embedder_version(locked)
    edit(locked / "deployments.yaml", 'prod: {version: "~=1.2"}', 'prod: {version: ">=1.3"}')
    before = (locked / LOCK).read_bytes()
    result = run_cli(["lock", "--check", str(locked)])
    assert result.code == 1
    assert result.out == (
        "~ deployment.prod.text-embedder: version 1.2.0 -> 1.3.0, "
        f"digest {digest(3)} -> {digest(4)}\n"
    )
    assert result.err == "mlops-plan.lock is out of date: run `mlops-plan lock`\n"
    assert (locked / LOCK).read_bytes() == before  # --check writes nothing


def test_lock_check_without_a_lockfile(repo: Path, run_cli: RunCli) -> None:
    result = run_cli(["lock", "--check", str(repo)])
    assert result.code == 1
    assert not (repo / LOCK).exists()


# --- lint --locked ------------------------------------------------------------------------------


def test_lint_locked_passes_when_fresh(locked: Path, run_cli: RunCli) -> None:
    assert lint_locked(run_cli, locked) == (0, [])


def test_lint_locked_without_a_lockfile(repo: Path, run_cli: RunCli) -> None:
    assert lint_locked(run_cli, repo) == (
        1,
        [
            {
                "rule": "MP307",
                "severity": "error",
                "file": "mlops-plan.lock",
                "line": None,
                "col": None,
                "message": "no lockfile, and --locked needs one",
                "hint": "run `mlops-plan lock` and commit mlops-plan.lock",
            }
        ],
    )
    # without --locked a missing lockfile is fine
    assert run_cli(["lint", str(repo)]).code == 0


def test_lint_locked_fails_when_a_deployment_was_added(locked: Path, run_cli: RunCli) -> None:
    edit(
        locked / "deployments.yaml",
        '    prod: {version: "~=1.2"}\n',
        '    prod: {version: "~=1.2"}\n    dev: {version: "1.2.0"}\n',
    )
    edit(
        locked / "platform.yaml",
        "kind: Environment\nmetadata: {name: staging}\n",
        "kind: Environment\nmetadata: {name: staging}\nspec: {promotesFrom: [dev], targets: "
        '[cpu-x86], runtimes: {triton: "24.05"}}\n---\napiVersion: mlops-plan/v1\n'
        "kind: Environment\nmetadata: {name: dev}\n",
    )
    code, findings = lint_locked(run_cli, locked)
    assert code == 1
    assert [(f["rule"], f["file"], f["line"], f["message"]) for f in findings] == [
        (
            "MP307",
            "mlops-plan.lock",
            None,
            "mlops-plan.lock is out of date (1 changes): "
            "+ deployment.dev.text-embedder: text-embedder 1.2.0",
        )
    ]


def test_lint_locked_fails_when_a_deployment_was_removed(locked: Path, run_cli: RunCli) -> None:
    edit(locked / "deployments.yaml", '    staging: {version: "~=1.2"}\n', "")
    code, findings = lint_locked(run_cli, locked)
    assert code == 1
    assert [f["message"] for f in findings] == [
        "mlops-plan.lock is out of date (1 changes): "
        "- deployment.staging.text-embedder: text-embedder 1.2.0"
    ]


def test_lint_locked_fails_when_the_pin_leaves_the_specifier(locked: Path, run_cli: RunCli) -> None:
    add_embedder_version(locked)
    edit(locked / "deployments.yaml", 'prod: {version: "~=1.2"}', 'prod: {version: ">=1.3"}')
    code, findings = lint_locked(run_cli, locked)
    assert code == 1
    assert [f["message"] for f in findings] == [
        "mlops-plan.lock is out of date (1 changes): ~ deployment.prod.text-embedder: "
        f"version 1.2.0 -> 1.3.0, digest {digest(3)} -> {digest(4)}"
    ]


def test_lint_locked_fails_when_the_runtime_release_changed(locked: Path, run_cli: RunCli) -> None:
    edit(
        locked / "platform.yaml",
        'spec: {promotesFrom: [staging], targets: [cpu-x86], runtimes: {triton: "24.05"}}',
        'spec: {promotesFrom: [staging], targets: [cpu-x86], runtimes: {triton: "24.07"}}',
    )
    code, findings = lint_locked(run_cli, locked)
    assert code == 1
    assert [f["message"] for f in findings] == [
        "mlops-plan.lock is out of date (2 changes): "
        "~ deployment.prod.fraud-detector: runtime_version 24.05 -> 24.07, "
        "image nvcr.io/nvidia/tritonserver:24.05-py3 -> nvcr.io/nvidia/tritonserver:24.07-py3; "
        "~ deployment.prod.text-embedder: runtime_version 24.05 -> 24.07, "
        "image nvcr.io/nvidia/tritonserver:24.05-py3 -> nvcr.io/nvidia/tritonserver:24.07-py3"
    ]


def test_a_specifier_change_that_still_admits_the_pin_is_not_stale(
    locked: Path, run_cli: RunCli
) -> None:
    add_embedder_version(locked)
    edit(locked / "deployments.yaml", 'prod: {version: "~=1.2"}', 'prod: {version: ">=1.2"}')
    assert lint_locked(run_cli, locked) == (0, [])
    assert resolved(locked)["deployment.prod.text-embedder"] == "1.2.0"


def test_a_new_model_version_changes_nothing_until_upgrade(locked: Path, run_cli: RunCli) -> None:
    add_embedder_version(locked)
    before = (locked / LOCK).read_bytes()
    # not stale: lint --locked and lock --check pass, lock leaves the file alone
    assert lint_locked(run_cli, locked) == (0, [])
    assert run_cli(["lock", "--check", str(locked)]).code == 0
    assert run_cli(["lock", str(locked)]).out == "mlops-plan.lock is up to date.\n"
    assert (locked / LOCK).read_bytes() == before
    # and the old pin is what resolves (status, explain, plan all read the same analysis)
    assert resolved(locked)["deployment.prod.text-embedder"] == "1.2.0"
    status = json.loads(run_cli(["status", str(locked), "--format", "json"]).out)
    assert status["rows"]["text-embedder"]["prod"]["version"] == "1.2.0"
    assert status["rows"]["text-embedder"]["staging"]["version"] == "1.2.0"
    # without the lock the new version would win
    analysis = pipeline.analyze(locked, use_lock=False)
    item = analysis.resolution.resolved["deployment.prod.text-embedder"]
    assert item.version is not None and item.version.version == "1.3.0"
    # `lock --upgrade` picks it up
    result = run_cli(["lock", "--upgrade", str(locked)])
    assert result.code == 0
    assert result.out == (
        f"~ deployment.prod.text-embedder: version 1.2.0 -> 1.3.0, digest {digest(3)} -> "
        f"{digest(4)}\n"
        f"~ deployment.staging.text-embedder: version 1.2.0 -> 1.3.0, digest {digest(3)} -> "
        f"{digest(4)}\n"
        "Wrote mlops-plan.lock (2 change(s)).\n"
    )
    assert resolved(locked)["deployment.prod.text-embedder"] == "1.3.0"
    assert lint_locked(run_cli, locked) == (0, [])
    assert run_cli(["lock", "--upgrade", "--check", str(locked)]).code == 0


def test_explain_says_the_lock_pinned_it(locked: Path, run_cli: RunCli) -> None:
    add_embedder_version(locked)
    out = run_cli(["explain", "deployment.prod.text-embedder", "-C", str(locked)]).out
    assert '  version:   "~=1.2" -> 1.2.0 (pinned by mlops-plan.lock)\n' in out
    assert "  1.3.0  compatible, not chosen\n" in out
    assert "  1.2.0  chosen: pinned by mlops-plan.lock\n" in out


def test_a_yanked_pin_is_dropped_and_the_lock_goes_stale(locked: Path, run_cli: RunCli) -> None:
    add_embedder_version(locked, "1.2.1")
    edit(
        locked / "models.yaml",
        '    - version: "1.2.0"\n',
        '    - version: "1.2.0"\n      status: yanked\n',
    )
    assert resolved(locked)["deployment.prod.text-embedder"] == "1.2.1"
    code, findings = lint_locked(run_cli, locked)
    assert code == 1
    assert [f["rule"] for f in findings] == ["MP307"]


# --- broken lockfiles and refusals ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deployments: [\n", [("MP001", 2)]),
        ("- a\n- b\n", [("MP101", 1)]),
        ("lockVersion: 2\n", [("MP101", 1)]),
        ("lockVersion: 1\ndeployments:\n  deployment.prod.x: {model: x}\n", None),
        ("lockVersion: 1\nx: !!python/object/apply:os.system [true]\n", [("MP003", 2)]),
        (b"\xff\xfe\x00binary", None),
    ],
)
def test_a_corrupt_lockfile_is_a_finding(
    repo: Path, run_cli: RunCli, text: str | bytes, expected: list[tuple[str, int]] | None
) -> None:
    path = repo / LOCK
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    for args in (["lint"], ["lint", "--locked"]):
        result = run_cli([*args, "--format", "json", str(repo)])
        assert result.code == 1, args
        assert result.err == ""
        findings = json.loads(result.out)["findings"]
        assert findings, args
        assert {f["file"] for f in findings} == {LOCK}
        assert {f["rule"] for f in findings} <= {"MP001", "MP003", "MP101"}
        if expected is not None:
            assert sorted({(f["rule"], f["line"]) for f in findings}) == expected
    # status still works (no traceback), and `lock` regenerates the broken file
    assert run_cli(["status", str(repo)]).code == 0
    result = run_cli(["lock", str(repo)])
    assert result.code == 0, result.err
    assert "Traceback" not in result.err + result.out
    assert run_cli(["lint", "--locked", str(repo)]).code == 0


def test_lock_refuses_while_lint_errors_remain(repo: Path, run_cli: RunCli) -> None:
    edit(
        repo / "deployments.yaml",
        '  target: cpu-x86\n  environments:\n    staging: {version: "2.5.0"}',
        '  target: cpu-x68\n  environments:\n    staging: {version: "2.5.0"}',
    )
    result = run_cli(["lock", str(repo)])
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Error: cannot lock: 1 error(s), first deployments.yaml:7:11: MP201 unknown target "
        '"cpu-x68"\n'
        "  hint: run `mlops-plan lint` and fix the errors first\n"
    )
    assert not (repo / LOCK).exists()


def test_lock_proceeds_with_warnings_only(repo: Path, run_cli: RunCli) -> None:
    edit(
        repo / "models.yaml",
        '    - version: "1.2.0"\n',
        '    - version: "1.2.0"\n      status: deprecated\n',
    )
    assert run_cli(["lint", str(repo)]).code == 0  # MP305 is a warning
    assert run_cli(["lock", str(repo)]).code == 0
    assert lint_locked(run_cli, repo)[0] == 0
