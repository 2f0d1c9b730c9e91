"""Plan scenarios on real git repositories built in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from gitrepo import DIGEST, GIT_ENV, commit, edit, git, write

from mlops_plan import pipeline
from mlops_plan.cli import main
from mlops_plan.render import plan_markdown, plan_text

NOW = pipeline.parse_now("2026-12-04T12:00:00Z")
GOLDEN = Path(__file__).parent / "golden" / "plan"
MODEL = """\
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
        digest: {d1}
    - version: "1.1.0"
      artifact:
        uri: s3://models/ranker/1.1.0/model.onnx
        digest: {d2}
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
    - version: "1.18"
      image: mcr.microsoft.com/onnxruntime/server:1.18
      accelerators: [cpu]
"""
TARGETS = """\
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata:
  name: cpu-small
spec:
  arch: x86_64
  accelerator: cpu
---
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata:
  name: cpu-large
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
  targets: [cpu-small, cpu-large]
  runtimes:
    ort: "1.17"
"""
PROD = """\
apiVersion: mlops-plan/v1
kind: Environment
metadata:
  name: prod
spec:
  promotesFrom: [dev]
  protected: true
  targets: [cpu-small, cpu-large]
  runtimes:
    ort: "1.17"
"""
DEPLOYMENT = """\
apiVersion: mlops-plan/v1
kind: Deployment
metadata:
  name: ranker
spec:
  model: ranker
  runtime: ort
  target: cpu-small
  replicas: 2
  env:
    LOG_LEVEL: info
  environments:
    dev:
      version: "~=1.1"
    prod:
      version: "1.0.0"
      replicas: 3
"""


def files() -> dict[str, str]:
    return {
        "mlops-plan.yaml": "",
        "models/ranker.yaml": MODEL.format(d1=DIGEST.format(1), d2=DIGEST.format(2)),
        "runtimes/ort.yaml": RUNTIME,
        "targets/cpu.yaml": TARGETS,
        "environments/dev.yaml": DEV,
        "environments/prod.yaml": PROD,
        "deployments/ranker.yaml": DEPLOYMENT,
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, files())
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def only(plan: pipeline.Plan) -> pipeline.Plan:
    return plan


def test_no_changes(repo: Path) -> None:
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert plan.resource_changes == []
    assert plan_text.footer(plan) == "No changes. Your deployments match the configuration."
    assert not plan.errored


def test_promote_one_version(repo: Path) -> None:
    edit(repo, "deployments/ranker.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    commit(repo, "promote")
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert [c.address for c in plan.resource_changes] == ["deployment.prod.ranker"]
    change = plan.resource_changes[0]
    assert change.actions == ["update"]
    assert change.changed_paths == [["digest"], ["version"]]
    assert [c.model_dump() for c in change.causes] == [
        {
            "address": "deployment.ranker",
            "reason": "spec.environments.prod.version 1.0.0 -> 1.1.0",
            "file": "deployments/ranker.yaml",
            "line": 16,
        }
    ]
    assert plan.findings == []
    assert plan_text.footer(plan) == "Plan: 0 to add, 1 to change, 0 to destroy."


def test_runtime_bump_cascades_to_exactly_its_environment(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", 'ort: "1.17"', 'ort: "1.18"')
    commit(repo, "bump ort in prod")
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert [c.address for c in plan.resource_changes] == ["deployment.prod.ranker"]
    change = plan.resource_changes[0]
    assert change.changed_paths == [["image"], ["runtimeVersion"]]
    assert change.causes[0].model_dump() == {
        "address": "environment.prod",
        "reason": "runtimes.ort changed 1.17 -> 1.18",
        "file": "environments/prod.yaml",
        "line": 10,
    }


def test_new_model_version_reaches_a_specifier(repo: Path) -> None:
    model = repo / "models/ranker.yaml"
    model.write_text(
        model.read_text()
        + '    - version: "1.1.1"\n      artifact:\n'
        + "        uri: s3://models/ranker/1.1.1/model.onnx\n"
        + f"        digest: {DIGEST.format(3)}\n"
    )
    commit(repo, "release 1.1.1")
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert [c.address for c in plan.resource_changes] == ["deployment.dev.ranker"]
    assert plan.resource_changes[0].after is not None
    assert plan.resource_changes[0].after["version"] == "1.1.1"
    assert plan.resource_changes[0].causes[0].model_dump() == {
        "address": "model.ranker@1.1.1",
        "reason": "version 1.1.1 added",
        "file": "models/ranker.yaml",
        "line": 16,
    }
    assert [(r.address, r.actions) for r in plan.registry_changes] == [
        ("model.ranker@1.1.1", ["create"])
    ]


def test_target_change_forces_replacement(repo: Path) -> None:
    edit(
        repo,
        "deployments/ranker.yaml",
        "      replicas: 3\n",
        "      replicas: 3\n      target: cpu-large\n",
    )
    commit(repo, "move prod")
    plan = pipeline.plan(repo, base="main", now=NOW)
    change = plan.resource_changes[0]
    assert change.actions == ["delete", "create"]
    assert change.replace_paths == [["target"]]
    assert plan.summary.replace == 1
    assert plan_text.footer(plan) == "Plan: 1 to add, 0 to change, 1 to destroy."
    text = plan_text.render(plan)
    assert '-/+ deployment "prod.ranker" {' in text
    assert '~ target         = "cpu-small" -> "cpu-large" # forces replacement' in text
    # a replacement in a protected environment is a warning (MP503)
    assert [(f.rule, f.file, f.line, f.col) for f in plan.findings] == [
        ("MP503", "deployments/ranker.yaml", 18, 15)
    ]


def test_environment_removed_is_a_destroy(repo: Path) -> None:
    edit(
        repo,
        "deployments/ranker.yaml",
        '    prod:\n      version: "1.0.0"\n      replicas: 3\n',
        "",
    )
    commit(repo, "retire prod")
    plan = pipeline.plan(repo, base="main", now=NOW)
    change = plan.resource_changes[0]
    assert (change.address, change.actions, change.after) == (
        "deployment.prod.ranker",
        ["delete"],
        None,
    )
    assert change.causes[0].reason == "prod removed from spec.environments"
    assert plan_text.footer(plan) == "Plan: 0 to add, 0 to change, 1 to destroy."
    assert [f.rule for f in plan.findings] == ["MP503"]


def test_only_the_branch_changes_show_when_main_moved_on(repo: Path) -> None:
    edit(repo, "deployments/ranker.yaml", "      replicas: 3\n", "      replicas: 4\n")
    commit(repo, "feature: more replicas")
    git(repo, "checkout", "-q", "main")
    edit(repo, "environments/dev.yaml", 'ort: "1.17"', 'ort: "1.18"')
    commit(repo, "main: bump dev")
    git(repo, "checkout", "-q", "feature")
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert [(c.address, c.changed_paths) for c in plan.resource_changes] == [
        ("deployment.prod.ranker", [["replicas"]])
    ]
    assert plan.base is not None
    assert plan.base["commit"] == git(repo, "merge-base", "main", "HEAD")


def test_edited_digest_of_a_released_version_is_mp501(repo: Path) -> None:
    edit(repo, "models/ranker.yaml", DIGEST.format(1), DIGEST.format(9))
    commit(repo, "oops")
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert plan.errored
    assert [(f.rule, f.file, f.line, f.col) for f in plan.findings if f.rule == "MP501"] == [
        ("MP501", "models/ranker.yaml", 11, 17)
    ]
    change = plan.resource_changes[0]
    assert change.causes[0].address == "model.ranker@1.0.0"
    assert change.causes[0].reason == "digest changed"


def test_freeze_blocks_changes_inside_its_window_only(repo: Path) -> None:
    edit(
        repo,
        "environments/prod.yaml",
        "  protected: true\n",
        "  protected: true\n  freezes:\n"
        '    - {start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00Z", reason: holidays}\n',
    )
    commit(repo, "freeze")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "feature")
    git(repo, "checkout", "-q", "feature")
    edit(repo, "deployments/ranker.yaml", "      replicas: 3\n", "      replicas: 4\n")
    commit(repo, "scale prod")
    inside = pipeline.plan(repo, base="main", now=pipeline.parse_now("2026-12-22T10:00:00Z"))
    assert [(f.rule, f.line, f.col) for f in inside.findings] == [("MP502", 17, 17)]
    assert "holidays" in inside.findings[0].message
    outside = pipeline.plan(repo, base="main", now=pipeline.parse_now("2027-01-05T00:00:00Z"))
    assert outside.findings == []


def test_downgrade_in_protected_environment_warns(repo: Path) -> None:
    edit(repo, "deployments/ranker.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    commit(repo, "up")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "feature")
    git(repo, "checkout", "-q", "feature")
    edit(repo, "deployments/ranker.yaml", 'version: "1.1.0"', 'version: "1.0.0"')
    commit(repo, "rollback")
    plan = pipeline.plan(repo, base="main", now=NOW)
    change = plan.resource_changes[0]
    assert change.notes == ["DOWNGRADE 1.1.0 -> 1.0.0"]
    assert [(f.rule, f.severity) for f in plan.findings] == [("MP503", "warning")]
    assert "# (DOWNGRADE 1.1.0 -> 1.0.0)" in plan_text.render(plan)
    assert "> [!WARNING]" in plan_markdown.render(plan)


def test_skipping_promotion_order_is_mp504(repo: Path) -> None:
    edit(repo, "deployments/ranker.yaml", '      version: "~=1.1"\n', '      version: "1.0.0"\n')
    edit(
        repo,
        "deployments/ranker.yaml",
        'version: "1.0.0"\n      replicas',
        'version: "1.1.0"\n      replicas',
    )
    commit(repo, "prod ahead of dev")
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert [(f.rule, f.line, f.col) for f in plan.findings] == [("MP504", 16, 16)]
    assert "which dev does not run" in plan.findings[0].message


def test_plan_is_deterministic_and_its_id_verifies(repo: Path, tmp_path: Path) -> None:
    edit(repo, "environments/prod.yaml", 'ort: "1.17"', 'ort: "1.18"')
    commit(repo, "bump")
    first = pipeline.plan(repo, base="main", now=NOW).to_json()
    second = pipeline.plan(repo, base="main", now=NOW).to_json()
    assert first == second
    document = json.loads(first)
    plan_id = document.pop("plan_id")
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    import hashlib

    assert plan_id == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert document["format_version"] == "1.0"
    assert document["source"]["dirty"] is False
    assert document["base"]["kind"] == "git"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_golden_renderings(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", 'ort: "1.17"', 'ort: "1.18"')
    edit(repo, "deployments/ranker.yaml", "    LOG_LEVEL: info\n", "    LOG_LEVEL: debug\n")
    commit(repo, "bump and debug")
    plan = pipeline.plan(repo, base="main", now=NOW)
    data = json.loads(plan.to_json())
    data["base"]["commit"] = "<commit>"
    data["source"]["git_commit"] = "<commit>"
    data["plan_id"] = "<plan_id>"
    _check_golden(
        "runtime-bump.txt", plan_text.render(plan).replace(plan.base["commit"][:12], "<commit>")
    )  # type: ignore[index]
    _check_golden("runtime-bump.md", plan_markdown.render(plan))
    _check_golden("runtime-bump.json", json.dumps(data, indent=2, sort_keys=True) + "\n")


def test_cli_plan_exit_codes_and_out(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", str(repo), "--base", "main", "--now", "2026-12-04T12:00:00Z"]
    assert main([*args, "--detailed-exitcode"]) == 0
    edit(repo, "environments/prod.yaml", 'ort: "1.17"', 'ort: "1.18"')
    commit(repo, "bump")
    capsys.readouterr()
    out = tmp_path / "plan.json"
    assert main([*args, "--detailed-exitcode", "--out", str(out), "--no-color"]) == 2
    printed = capsys.readouterr().out
    assert printed.endswith("Plan: 0 to add, 1 to change, 0 to destroy.\n")
    assert "\x1b[" not in printed
    saved = json.loads(out.read_text())
    assert saved["summary"] == {"add": 0, "change": 1, "destroy": 0, "replace": 0}
    assert main([*args]) == 0
    edit(repo, "models/ranker.yaml", DIGEST.format(1), DIGEST.format(9))
    commit(repo, "bad")
    assert main([*args, "--detailed-exitcode"]) == 1


def test_unknown_base_ref_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(repo), "--base", "origin/nope"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == 'Error: unknown git reference "origin/nope"'
    assert "Traceback" not in captured.err + captured.out


def test_shallow_clone_without_merge_base_says_how_to_fetch(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "main")
    for i in range(3):
        edit(
            repo,
            "deployments/ranker.yaml",
            f"replicas: {2 + i}\n  env",
            f"replicas: {3 + i}\n  env",
        )
        commit(repo, f"main {i}")
    git(repo, "checkout", "-q", "feature")
    edit(repo, "deployments/ranker.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")
    commit(repo, "feature")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{repo}", str(clone)],
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    git(clone, "checkout", "-q", "feature")
    assert main(["plan", str(clone), "--base", "origin/main"]) == 1
    err = capsys.readouterr().err
    assert "shallow clone" in err
    assert "git fetch --unshallow" in err


def test_base_directory(repo: Path, tmp_path: Path) -> None:
    export = tmp_path / "export"
    write(export, files())
    edit(repo, "environments/prod.yaml", 'ort: "1.17"', 'ort: "1.18"')
    plan = pipeline.plan(repo, base=str(export), now=NOW)
    assert [c.address for c in plan.resource_changes] == ["deployment.prod.ranker"]
    assert plan.base == {"kind": "dir", "ref": str(export), "commit": None}
    assert plan.source["dirty"] is True


def test_without_base_everything_is_created(repo: Path) -> None:
    plan = pipeline.plan(repo, now=NOW)
    assert [(c.address, c.actions) for c in plan.resource_changes] == [
        ("deployment.dev.ranker", ["create"]),
        ("deployment.prod.ranker", ["create"]),
    ]
    assert plan.resource_changes[0].causes[0].reason == "added"


def _big_plan(n: int, environments: int = 3) -> pipeline.Plan:
    from mlops_plan.plan import Cause, Plan, PlanSummary, ResourceChange

    changes = []
    for i in range(n):
        env = (
            ("dev", "staging", "prod")[i % 3]
            if environments == 3
            else f"env-{i % environments:03d}"
        )
        before = {
            "model": f"model-{i}",
            "version": "1.0.0",
            "digest": DIGEST.format(i),
            "runtime": "triton",
            "runtimeVersion": "24.05",
            "image": "triton:24.05",
            "target": "a100",
            "replicas": 2,
            "canary": None,
            "env": {"A": "1"},
        }
        after = {**before, "version": "1.1.0", "digest": DIGEST.format(i + n)}
        changes.append(
            ResourceChange(
                address=f"deployment.{env}.model-{i:05d}",
                environment=env,
                name=f"model-{i:05d}",
                actions=["update"],
                before=before,
                after=after,
                changed_paths=[["digest"], ["version"]],
                replace_paths=[],
                causes=[
                    Cause(
                        address=f"model.model-{i}",
                        reason="version 1.1.0 added",
                        file=f"models/model-{i}.yaml",
                        line=20,
                    )
                ],
            )
        )
    changes.sort(key=lambda c: c.address)
    return Plan(
        source={"root": ".", "git_commit": None, "dirty": False},
        base=None,
        summary=PlanSummary(change=n),
        resource_changes=changes,
        registry_changes=[],
        findings=[],
    )


@pytest.mark.parametrize(("n", "environments"), [(1, 3), (40, 3), (400, 3), (5000, 3), (3000, 300)])
def test_markdown_stays_under_budget_and_well_formed(n: int, environments: int) -> None:
    text = plan_markdown.render(_big_plan(n, environments))
    assert len(text.encode()) <= plan_markdown.MAX_BYTES
    assert text.rstrip().endswith(plan_markdown.MARKER)
    assert text.count("```") % 2 == 0
    assert text.count("<details>") == text.count("</details>")
    assert text.startswith(f"### mlops-plan: Plan: 0 to add, {n} to change, 0 to destroy.")
    if n in (400, 5000):
        assert "more change(s) in" in text  # per-environment truncation, with its marker
        assert "```mermaid" not in text
    if environments == 300:
        assert "<details>" not in text  # summary and addresses only
        assert "and 2900 more" in text


REGISTRY_EDITS = [
    (
        "a version deprecated",
        "models/ranker.yaml",
        '- version: "1.0.0"\n',
        '- version: "1.0.0"\n      status: deprecated\n',
        [
            (
                "model.ranker@1.0.0",
                ["update"],
                "status released -> deprecated",
                "models/ranker.yaml",
                8,
            )
        ],
    ),
    (
        "an artifact replaced",
        "models/ranker.yaml",
        "ranker/1.0.0/model.onnx",
        "ranker/1.0.0/model-v2.onnx",
        [("model.ranker@1.0.0", ["update"], "artifact changed", "models/ranker.yaml", 8)],
    ),
    (
        "requirements added",
        "models/ranker.yaml",
        '- version: "1.0.0"\n',
        '- version: "1.0.0"\n      requires: {onnxruntime: ">=1.17"}\n',
        [("model.ranker@1.0.0", ["update"], "requires changed", "models/ranker.yaml", 8)],
    ),
    (
        "a version removed",
        "models/ranker.yaml",
        '    - version: "1.0.0"\n      artifact:\n        uri: s3://models/ranker/1.0.0/model.onnx\n'
        f"        digest: {DIGEST.format(1)}\n",
        "",
        [("model.ranker@1.0.0", ["delete"], "version 1.0.0 removed", None, None)],
    ),
    (
        "a runtime release added",
        "runtimes/ort.yaml",
        '      accelerators: [cpu]\n    - version: "1.18"',
        '      accelerators: [cpu]\n    - version: "1.19"\n'
        "      image: mcr.microsoft.com/onnxruntime/server:1.19\n"
        '      accelerators: [cpu]\n    - version: "1.18"',
        [("runtime.ort@1.19", ["create"], "release 1.19 added", "runtimes/ort.yaml", 11)],
    ),
    (
        "a runtime release changed",
        "runtimes/ort.yaml",
        "server:1.18",
        "server:1.18-patched",
        [("runtime.ort@1.18", ["update"], "release changed", "runtimes/ort.yaml", 11)],
    ),
    (
        "a runtime release removed",
        "runtimes/ort.yaml",
        '    - version: "1.17"\n      image: mcr.microsoft.com/onnxruntime/server:1.17\n'
        "      accelerators: [cpu]\n",
        "",
        [("runtime.ort@1.17", ["delete"], "release 1.17 removed", None, None)],
    ),
]


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [case[1:] for case in REGISTRY_EDITS],
    ids=[case[0] for case in REGISTRY_EDITS],
)
def test_registry_changes_say_what_changed_and_where(
    repo: Path, rel: str, old: str, new: str, expected: list[tuple[object, ...]]
) -> None:
    edit(repo, rel, old, new)
    commit(repo, "registry")
    plan = pipeline.plan(repo, base="main", now=NOW)
    assert [
        (r.address, r.actions, r.reason, r.file, r.line) for r in plan.registry_changes
    ] == expected
