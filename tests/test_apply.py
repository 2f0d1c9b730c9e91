"""`plan --out` then `apply`, end to end through the real CLI on git repositories in tmp_path:
saved plans applied exactly as reviewed (DESIGN §6), refusals in their order with their own
messages, protected approvals, per-environment locks held by other processes, concurrent
applies, the exec provider's failures and order, the audit history, KServe manifests."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CliResult, RunCli
from gitrepo import DIGEST, edit, git, write
from gitrepo import commit as git_commit

from mlops_plan.state import State, current_host, current_user

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NO_CHANGES = "No changes. Your deployments match the configuration."
STATE = ".mlops-plan/state.json"
LOCKS = ".mlops-plan/locks"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

# --- the repository ---------------------------------------------------------------------

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
    - version: "1.1.0"
      artifact:
        uri: s3://models/ranker/1.1.0/model.onnx
        digest: {DIGEST.format(2)}
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
TARGETS = """\
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
PROD = """\
apiVersion: mlops-plan/v1
kind: Environment
metadata:
  name: prod
spec:
  promotesFrom: [dev]
  protected: true
  targets: [cpu-small]
  runtimes:
    ort: "1.17"
"""


def ranker(dev: str = "1.0.0", prod: str | None = "1.0.0", prod_replicas: int = 3) -> str:
    """The ranker deployment: dev and (unless None) prod at these versions."""
    text = f"""\
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
      version: "{dev}"
"""
    if prod is not None:
        text += f'    prod:\n      version: "{prod}"\n      replicas: {prod_replicas}\n'
    return text


def dev_deployment(name: str, model: str = "ranker", version: str = "1.0.0") -> str:
    """A deployment of `model` in dev only."""
    return f"""\
apiVersion: mlops-plan/v1
kind: Deployment
metadata:
  name: {name}
spec:
  model: {model}
  runtime: ort
  target: cpu-small
  replicas: 1
  environments:
    dev:
      version: "{version}"
"""


def base_files(**deployments: str) -> dict[str, str]:
    files = {
        "models/ranker.yaml": MODEL,
        "runtimes/ort.yaml": RUNTIME,
        "targets/cpu.yaml": TARGETS,
        "environments/dev.yaml": DEV,
        "environments/prod.yaml": PROD,
    }
    files.update({f"deployments/{name}.yaml": text for name, text in deployments.items()})
    return files


def commit(repo: Path, message: str) -> str:
    """Commit the declarations, never what apply writes (manifests, state, plans)."""
    return git_commit(repo, message, exclude=("rendered", ".mlops-plan", "*.json"))


def make_repo(root: Path, files: dict[str, str], config: str = "") -> Path:
    """A git repository at `root` with `files` and `mlops-plan.yaml`, committed."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write(root, {"mlops-plan.yaml": config, **files})
    commit(root, "base")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """ranker in dev and prod (protected), both 1.0.0, manifests provider by default."""
    return make_repo(tmp_path / "repo", base_files(ranker=ranker()))


# --- the exec provider's script ----------------------------------------------------------

SCRIPT = """\
import json, os, sys, time
log, fail, hang, marker = sys.argv[1:5]
address = os.environ["MLOPS_PLAN_ADDRESS"]
change = json.loads(sys.stdin.read())
record = {
    "address": address,
    "action": os.environ["MLOPS_PLAN_ACTION"],
    "environment": os.environ["MLOPS_PLAN_ENVIRONMENT"],
    "plan_id": os.environ["MLOPS_PLAN_PLAN_ID"],
    "model": os.environ["MODEL_NAME"],
    "version": os.environ["MODEL_VERSION"],
    "cwd": os.getcwd(),
    "stdin": change,
}
with open(log, "a", encoding="utf-8") as out:
    out.write(json.dumps(record, sort_keys=True) + "\\n")
if address == hang:
    with open(marker + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(os.getpid()))
    os.replace(marker + ".tmp", marker)
    time.sleep(60)
if address == fail:
    print("deploying", address)
    print("cluster said no", file=sys.stderr)
    sys.exit(3)
print("deployed", address)
"""


def exec_config(tmp_path: Path, fail: str = "-", hang: str = "-") -> str:
    """mlops-plan.yaml: dev through the exec provider, logging to tmp_path/exec.log."""
    script = tmp_path / "deploy.py"
    script.write_text(SCRIPT, encoding="utf-8")
    argv = [sys.executable, str(script), str(tmp_path / "exec.log"), fail, hang]
    argv.append(str(tmp_path / "hanging"))
    return f"providers:\n  dev: {{type: exec, command: {json.dumps(argv)}, timeout: 60}}\n"


def exec_log(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "exec.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- helpers -----------------------------------------------------------------------------


def read_state(repo: Path) -> State:
    return State.model_validate_json((repo / STATE).read_bytes())


def held_locks(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / LOCKS).glob("*.lock"))


def no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err


def plan_out(run_cli: RunCli, repo: Path, out: str = "plan.json") -> CliResult:
    result = run_cli(["plan", "--out", out], cwd=repo)
    no_traceback(result)
    assert result.code == 0, result.out + result.err
    return result


def applied(run_cli: RunCli, repo: Path, *args: str) -> CliResult:
    result = run_cli(["apply", *args], cwd=repo)
    no_traceback(result)
    assert result.code == 0, result.out + result.err
    return result


def plan_and_apply(run_cli: RunCli, repo: Path, *args: str) -> CliResult:
    plan_out(run_cli, repo)
    return applied(run_cli, repo, "plan.json", *args)


def footer(result: CliResult) -> str:
    return result.out.rstrip("\n").splitlines()[-1]


def planned(run_cli: RunCli, repo: Path) -> list[tuple[str, list[str]]]:
    """The (address, actions) of a fresh plan against the state."""
    result = run_cli(["plan", "--format", "json"], cwd=repo)
    no_traceback(result)
    return [(c["address"], c["actions"]) for c in json.loads(result.out)["resource_changes"]]


def world(repo: Path) -> dict[str, bytes]:
    """What an apply may change: the state, its backup, the rendered manifests, the locks."""
    out: dict[str, bytes] = {}
    for folder in (".mlops-plan", "rendered"):
        for path in sorted((repo / folder).rglob("*")):
            if path.is_file() and not path.name.endswith(".write-lock"):
                out[path.relative_to(repo).as_posix()] = path.read_bytes()
    return out


def refused(run_cli: RunCli, repo: Path, args: list[str], *error: str) -> CliResult:
    """`apply args` exits 1 with exactly these stderr lines and changes nothing at all."""
    before = world(repo)
    result = run_cli(["apply", *args], cwd=repo)
    no_traceback(result)
    assert (result.code, result.err.splitlines()) == (1, list(error)), result.out + result.err
    assert world(repo) == before
    assert held_locks(repo) == []
    return result


def edit_plan(repo: Path, change: Any, name: str = "plan.json") -> None:
    path = repo / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# --- 1. the happy path -------------------------------------------------------------------


def test_plan_out_then_apply_renders_records_and_converges(run_cli: RunCli, repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    planned_result = plan_out(run_cli, repo)
    assert footer(planned_result) == "Plan: 2 to add, 0 to change, 0 to destroy."
    plan = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    assert plan["prior_state"] == {"lineage": None, "serial": 0}

    # creates in a protected environment are neither destroys nor downgrades: no approval
    result = applied(run_cli, repo, "plan.json")
    assert result.out.splitlines() == [
        "deployment.dev.ranker: create via manifests...",
        "deployment.dev.ranker: wrote rendered/dev/ranker.yaml",
        "deployment.prod.ranker: create via manifests...",
        "deployment.prod.ranker: wrote rendered/prod/ranker.yaml",
        "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.",
    ]
    assert result.err == ""
    for env, replicas in (("dev", 2), ("prod", 3)):
        manifest = yaml.safe_load((repo / "rendered" / env / "ranker.yaml").read_text())
        assert manifest["kind"] == "InferenceService"
        assert manifest["metadata"]["name"] == "ranker"
        assert manifest["metadata"]["namespace"] == env
        assert manifest["metadata"]["annotations"]["mlops-plan/plan-id"] == plan["plan_id"]
        assert manifest["spec"]["predictor"]["minReplicas"] == replicas
        assert manifest["spec"]["predictor"]["model"]["storageUri"] == (
            "s3://models/ranker/1.0.0/model.onnx"
        )
    assert held_locks(repo) == []

    again = run_cli(["plan", "--detailed-exitcode"], cwd=repo)
    assert again.code == 0
    assert footer(again) == NO_CHANGES
    assert planned(run_cli, repo) == []

    listed = run_cli(["state", "list"], cwd=repo)
    assert (listed.code, listed.out) == (0, "deployment.dev.ranker\ndeployment.prod.ranker\n")

    state = read_state(repo)
    shown = run_cli(["state", "show", "deployment.prod.ranker"], cwd=repo)
    assert shown.code == 0
    assert json.loads(shown.out) == state.resources["deployment.prod.ranker"]
    assert json.loads(shown.out) == plan["resource_changes"][1]["after"]
    assert json.loads(shown.out)["replicas"] == 3

    missing = run_cli(["state", "show", "deployment.prod.rankr"], cwd=repo)
    assert missing.code == 1
    assert missing.err.splitlines()[0] == 'Error: no "deployment.prod.rankr" in the state'
    no_traceback(missing)

    (entry,) = state.history
    assert (entry.plan_id, entry.commit, entry.who) == (plan["plan_id"], head, current_user())
    assert [(c.address, c.actions, c.outcome) for c in entry.changes] == [
        ("deployment.dev.ranker", ["create"], "applied"),
        ("deployment.prod.ranker", ["create"], "applied"),
    ]
    # the record is written when the apply starts (serial 2: 1 created the state) and
    # updated with each change, so a killed apply keeps its audit trail
    assert entry.serial == 2 < state.serial
    assert state.pending == []
    history = run_cli(["state", "history"], cwd=repo)
    assert history.code == 0
    assert history.out.splitlines() == [
        f"serial {entry.serial}  {entry.when}  {entry.who}  commit {head[:12]}  "
        f"{plan['plan_id'][:19]}",
        "  applied     create        deployment.dev.ranker  (wrote rendered/dev/ranker.yaml)",
        "  applied     create        deployment.prod.ranker  (wrote rendered/prod/ranker.yaml)",
    ]


def test_state_commands_before_any_apply(run_cli: RunCli, repo: Path) -> None:
    assert run_cli(["state", "list"], cwd=repo) == (0, "", "")
    assert run_cli(["state", "history"], cwd=repo) == (0, "No applies recorded.\n", "")
    assert not (repo / ".mlops-plan").exists()


def test_an_update_then_a_destroy_through_manifests(run_cli: RunCli, repo: Path) -> None:
    plan_and_apply(run_cli, repo)
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0")})
    commit(repo, "dev 1.1.0")
    result = plan_and_apply(run_cli, repo)
    assert footer(result) == "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
    manifest = yaml.safe_load((repo / "rendered/dev/ranker.yaml").read_text())
    assert manifest["metadata"]["annotations"]["mlops-plan/version"] == "1.1.0"
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0", prod=None)})
    commit(repo, "retire prod")
    result = plan_and_apply(run_cli, repo, "--allow-protected")
    assert footer(result) == "Apply complete! Resources: 0 added, 0 changed, 1 destroyed."
    assert not (repo / "rendered/prod/ranker.yaml").exists()
    assert (repo / "rendered/dev/ranker.yaml").exists()
    assert sorted(read_state(repo).resources) == ["deployment.dev.ranker"]
    assert [len(e.changes) for e in read_state(repo).history] == [2, 1, 1]
    assert planned(run_cli, repo) == []


def test_a_saved_plan_without_changes_does_nothing(run_cli: RunCli, repo: Path) -> None:
    plan_and_apply(run_cli, repo)
    plan_out(run_cli, repo)
    before = world(repo)
    result = run_cli(["apply", "plan.json"], cwd=repo)
    assert result == (0, NO_CHANGES + "\n", "")
    assert world(repo) == before


# --- 2. refusals, in DESIGN order --------------------------------------------------------

HINT_NEW_PLAN = "  hint: make a new plan with `mlops-plan plan --out FILE` and review it"
TAMPERED = (
    "Error: Saved plan does not match its plan_id: it was changed after it was made",
    HINT_NEW_PLAN,
)
DIFFERENT_CONFIGURATION = (
    "Error: Saved plan was made from a different configuration than the one checked out",
    "  hint: check out the commit the plan was made from, or make a new plan",
)


def stale(before: int, after: int) -> tuple[str, str]:
    return (
        "Error: Saved plan is stale: the state changed since the plan was made "
        f"(serial {before} -> {after})",
        HINT_NEW_PLAN,
    )


def test_a_tampered_plan_is_refused(run_cli: RunCli, repo: Path) -> None:
    plan_out(run_cli, repo)

    def bump(data: dict[str, Any]) -> None:
        data["resource_changes"][0]["after"]["replicas"] = 50

    edit_plan(repo, bump)
    refused(run_cli, repo, ["plan.json"], *TAMPERED)
    assert not (repo / STATE).exists()


def test_a_plan_of_another_lineage_is_refused(run_cli: RunCli, repo: Path) -> None:
    plan_and_apply(run_cli, repo)
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0")})
    commit(repo, "dev 1.1.0")
    plan_out(run_cli, repo)
    state = read_state(repo)
    other = state.model_copy(update={"lineage": "00000000-0000-4000-8000-000000000000"})
    (repo / STATE).write_text(other.model_dump_json(indent=2), encoding="utf-8")
    refused(
        run_cli,
        repo,
        ["plan.json"],
        f"Error: Saved plan was made against another state (lineage {state.lineage}, "
        "the state is 00000000-0000-4000-8000-000000000000)",
        "  hint: make a new plan against this state",
    )


def test_a_stale_plan_is_refused(run_cli: RunCli, repo: Path) -> None:
    plan_out(run_cli, repo)
    applied(run_cli, repo, "plan.json")
    serial = read_state(repo).serial
    refused(run_cli, repo, ["plan.json"], *stale(0, serial))


def test_a_plan_from_another_configuration_is_refused(run_cli: RunCli, repo: Path) -> None:
    plan_out(run_cli, repo)
    edit(repo, "deployments/ranker.yaml", "replicas: 2", "replicas: 3")
    refused(run_cli, repo, ["plan.json"], *DIFFERENT_CONFIGURATION)


def test_a_comment_in_the_configuration_counts_as_another_configuration(
    run_cli: RunCli, repo: Path
) -> None:
    plan_out(run_cli, repo)
    path = repo / "mlops-plan.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    refused(run_cli, repo, ["plan.json"], *DIFFERENT_CONFIGURATION)


def test_stale_and_from_another_configuration_is_reported_as_stale(
    run_cli: RunCli, repo: Path
) -> None:
    plan_out(run_cli, repo, "first.json")
    applied(run_cli, repo, "first.json")
    serial = read_state(repo).serial
    edit(repo, "deployments/ranker.yaml", "replicas: 2", "replicas: 3")
    refused(run_cli, repo, ["first.json"], *stale(0, serial))


def test_a_plan_made_against_a_base_is_refused(run_cli: RunCli, repo: Path) -> None:
    result = run_cli(["plan", "--base", "HEAD", "--out", "plan.json"], cwd=repo)
    assert result.code == 0, result.err
    refused(
        run_cli,
        repo,
        ["plan.json"],
        "Error: this plan was made against a base, not against the state, so it cannot be applied",
        "  hint: make the plan to apply with `mlops-plan plan --out FILE` (without --base)",
    )


def test_a_plan_of_another_major_format_is_refused(run_cli: RunCli, repo: Path) -> None:
    plan_out(run_cli, repo)
    edit_plan(repo, lambda data: data.update(format_version="2.0"))
    refused(
        run_cli,
        repo,
        ["plan.json"],
        "Error: plan.json has plan format 2.0; this mlops-plan 0.1.0 reads format 1.x",
        "  hint: make the plan again with this version of mlops-plan",
    )


def test_a_newer_minor_plan_with_an_additive_field_is_accepted(run_cli: RunCli, repo: Path) -> None:
    from mlops_plan.plan import plan_id_of

    plan_out(run_cli, repo)

    def newer(data: dict[str, Any]) -> None:
        data["format_version"] = "1.1"
        data["review"] = {"approved_by": "release-eng"}
        data["plan_id"] = plan_id_of(data)

    edit_plan(repo, newer)
    result = applied(run_cli, repo, "plan.json")
    assert footer(result) == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."


def test_a_plan_against_a_non_empty_state_says_so(run_cli: RunCli, repo: Path) -> None:
    plan_and_apply(run_cli, repo)
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0")})
    commit(repo, "dev 1.1.0")
    result = run_cli(["plan", "--no-color"], cwd=repo)
    serial = read_state(repo).serial
    assert result.out.startswith(
        f"mlops-plan compared the configuration with the recorded state (serial {serial})."
    )
    data = json.loads(run_cli(["plan", "--format", "json"], cwd=repo).out)
    assert data["registry_changes"] == []
    assert data["prior_state"] == {"lineage": read_state(repo).lineage, "serial": serial}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{", "Error: plan.json is not a saved plan (not JSON: line 1)"),
        ("[]", "Error: plan.json is not an mlops-plan saved plan"),
        ('{"tool": "mlops-plan"}', "Error: plan.json is not an mlops-plan saved plan"),
        (
            '{"tool": {"name": "mlops-plan"}, "format_version": "1.0"}',
            "Error: plan.json is not a valid saved plan (6 errors)",
        ),
    ],
    ids=["truncated", "not-an-object", "tool-not-object", "incomplete"],
)
def test_a_file_that_is_not_a_saved_plan_is_one_error_line(
    run_cli: RunCli, repo: Path, content: str, error: str
) -> None:
    write(repo, {"plan.json": content})
    before = world(repo)
    result = run_cli(["apply", "plan.json"], cwd=repo)
    no_traceback(result)
    assert result.code == 1
    assert result.out == ""
    lines = result.err.splitlines()
    assert lines[0] == error
    assert lines[1:] in ([], ["  hint: save one with `mlops-plan plan --out FILE`"])
    assert world(repo) == before


def test_a_missing_plan_file_is_one_error_line(run_cli: RunCli, repo: Path) -> None:
    result = refused(
        run_cli,
        repo,
        ["nope.json"],
        "Error: cannot read plan file nope.json: No such file or directory",
    )
    assert result.out == ""


def test_a_plan_file_that_is_not_utf8_is_one_error_line(run_cli: RunCli, repo: Path) -> None:
    (repo / "plan.json").write_bytes(b"\xff\xfe\x00binary")
    result = run_cli(["apply", "plan.json"], cwd=repo)
    no_traceback(result)
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("Error: plan.json is not a saved plan")


def test_a_saved_empty_plan_of_another_configuration_is_refused(
    run_cli: RunCli, repo: Path
) -> None:
    plan_and_apply(run_cli, repo)
    plan_out(run_cli, repo)  # no changes
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0")})
    commit(repo, "dev 1.1.0")
    assert planned(run_cli, repo) == [("deployment.dev.ranker", ["update"])]
    refused(run_cli, repo, ["plan.json"], *DIFFERENT_CONFIGURATION)


def test_a_plan_with_errors_is_never_applied(run_cli: RunCli, repo: Path) -> None:
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.0.0", prod="1.1.0")})  # MP504
    commit(repo, "prod ahead of dev")
    result = run_cli(["plan", "--out", "plan.json"], cwd=repo)
    assert result.code == 1
    assert "error MP504" in result.out
    refused(
        run_cli,
        repo,
        ["plan.json"],
        "Error: Saved plan has errors; fix them and make a new plan",
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            b"{\n",
            "Error: .mlops-plan/state.json:2:1: corrupt state file: Expecting property "
            "name enclosed in double quotes",
        ),
        (
            b'{"terraform_version": "1.9.0"}\n',
            "Error: .mlops-plan/state.json: not a mlops-plan state file (it is a Terraform state)",
        ),
        (
            b'{"format_version": 9, "lineage": "x", "serial": 1}\n',
            "Error: "
            ".mlops-plan/state.json: the state was written by a newer mlops-plan (format 9); "
            "this version reads format 1",
        ),
    ],
    ids=["corrupt", "terraform", "newer"],
)
def test_a_bad_state_file_refuses_plan_and_apply_in_one_line(
    run_cli: RunCli, repo: Path, content: bytes, error: str
) -> None:
    plan_out(run_cli, repo)
    (repo / STATE).parent.mkdir(parents=True)
    (repo / STATE).write_bytes(content)
    result = run_cli(["plan"], cwd=repo)
    no_traceback(result)
    assert (result.code, result.err.splitlines()[0]) == (1, error)
    result = refused(run_cli, repo, ["plan.json"], *result.err.splitlines())
    assert (repo / STATE).read_bytes() == content


# --- 3. apply without a saved plan ---------------------------------------------------------


def test_apply_without_a_plan_file_is_refused_without_a_terminal(
    run_cli: RunCli, repo: Path
) -> None:
    result = refused(
        run_cli,
        repo,
        [],
        "Do you want to perform these actions? Only 'yes' will be accepted: no terminal to ask "
        "on; refused.",
        "Error: Apply cancelled: not approved",
        "  hint: answer yes at the prompt, or pass --auto-approve (never without review)",
    )
    assert '+ deployment "prod.ranker" {' in result.out
    assert footer(result) == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert not (repo / ".mlops-plan").exists()
    assert not (repo / "rendered").exists()


def test_apply_with_auto_approve_plans_and_applies(run_cli: RunCli, repo: Path) -> None:
    result = applied(run_cli, repo, "--auto-approve")
    lines = result.out.splitlines()
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in lines
    assert lines[-1] == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    assert sorted(read_state(repo).resources) == [
        "deployment.dev.ranker",
        "deployment.prod.ranker",
    ]
    assert (repo / "rendered/prod/ranker.yaml").is_file()
    again = applied(run_cli, repo, "--auto-approve")
    assert footer(again) == NO_CHANGES
    assert len(read_state(repo).history) == 1


def test_apply_with_a_path_option_from_another_folder(
    run_cli: RunCli, repo: Path, tmp_path: Path
) -> None:
    result = run_cli(["plan", str(repo), "--out", str(tmp_path / "saved.json")], cwd=tmp_path)
    assert result.code == 0
    result = run_cli(["apply", "saved.json", "-C", str(repo)], cwd=tmp_path)
    no_traceback(result)
    assert (result.code, footer(result)) == (
        0,
        "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.",
    )
    assert (repo / "rendered/dev/ranker.yaml").is_file()
    assert not (tmp_path / "rendered").exists()


# --- 4. protected environments ---------------------------------------------------------------

PROTECTED_REFUSAL = (
    "Apply them? Only 'yes' will be accepted: no terminal to ask on; refused.",
    "Error: Apply refused: destroys and downgrades in protected environments need approval",
    "  hint: answer yes at the prompt, or pass --allow-protected",
)


def test_a_downgrade_in_a_protected_environment_needs_approval(
    run_cli: RunCli, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", base_files(ranker=ranker("1.1.0", "1.1.0")))
    plan_and_apply(run_cli, repo)
    write(repo, {"deployments/ranker.yaml": ranker("1.0.0", "1.0.0")})
    commit(repo, "roll back")
    plan_out(run_cli, repo)
    result = refused(run_cli, repo, ["plan.json"], *PROTECTED_REFUSAL)
    assert result.out.splitlines() == [
        "Protected environments will see destroys or downgrades:",
        "  deployment.prod.ranker: DOWNGRADE 1.1.0 -> 1.0.0",
    ]
    assert read_state(repo).resources["deployment.dev.ranker"]["version"] == "1.1.0"
    result = applied(run_cli, repo, "plan.json", "--allow-protected")
    assert footer(result) == "Apply complete! Resources: 0 added, 2 changed, 0 destroyed."
    assert "Protected environments" not in result.out
    assert {a: r["version"] for a, r in read_state(repo).resources.items()} == {
        "deployment.dev.ranker": "1.0.0",
        "deployment.prod.ranker": "1.0.0",
    }
    manifest = yaml.safe_load((repo / "rendered/prod/ranker.yaml").read_text())
    assert manifest["metadata"]["annotations"]["mlops-plan/version"] == "1.0.0"


def test_a_destroy_in_a_protected_environment_needs_approval(run_cli: RunCli, repo: Path) -> None:
    plan_and_apply(run_cli, repo)
    write(repo, {"deployments/ranker.yaml": ranker(prod=None)})
    commit(repo, "retire prod")
    plan_out(run_cli, repo)
    result = refused(run_cli, repo, ["plan.json"], *PROTECTED_REFUSAL)
    assert result.out.splitlines() == [
        "Protected environments will see destroys or downgrades:",
        "  deployment.prod.ranker: destroy",
    ]
    assert (repo / "rendered/prod/ranker.yaml").is_file()
    result = applied(run_cli, repo, "plan.json", "--allow-protected")
    assert result.out.splitlines() == [
        "deployment.prod.ranker: delete via manifests...",
        "deployment.prod.ranker: removed rendered/prod/ranker.yaml",
        "Apply complete! Resources: 0 added, 0 changed, 1 destroyed.",
    ]
    assert not (repo / "rendered/prod/ranker.yaml").exists()
    assert planned(run_cli, repo) == []


def test_auto_approve_does_not_approve_a_protected_destroy(run_cli: RunCli, repo: Path) -> None:
    plan_and_apply(run_cli, repo)
    write(repo, {"deployments/ranker.yaml": ranker(prod=None)})
    commit(repo, "retire prod")
    result = refused(run_cli, repo, ["--auto-approve"], *PROTECTED_REFUSAL)
    assert "  deployment.prod.ranker: destroy" in result.out.splitlines()
    result = applied(run_cli, repo, "--auto-approve", "--allow-protected")
    assert footer(result) == "Apply complete! Resources: 0 added, 0 changed, 1 destroyed."


def test_an_upgrade_in_a_protected_environment_needs_no_approval(
    run_cli: RunCli, repo: Path
) -> None:
    plan_and_apply(run_cli, repo)
    write(repo, {"deployments/ranker.yaml": ranker("1.1.0", "1.1.0", prod_replicas=4)})
    commit(repo, "promote")
    result = plan_and_apply(run_cli, repo)
    assert footer(result) == "Apply complete! Resources: 0 added, 2 changed, 0 destroyed."


def on_a_terminal(repo: Path, args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal; type `answer` at its first prompt."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_plan", *args],
        cwd=repo,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Enter a value" in output:
                os.write(master, answer.encode() + b"\n")
                answered = True
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        os.close(master)
    assert answered, output
    return code, output.decode("utf-8", errors="replace").replace("\r\n", "\n")


@posix_only
def test_a_yes_at_the_prompt_approves(run_cli: RunCli, repo: Path) -> None:
    code, out = on_a_terminal(repo, ["apply"], "yes")
    assert code == 0, out
    assert "Do you want to perform these actions? Only 'yes' will be accepted\n" in out
    assert out.splitlines()[-1] == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    write(repo, {"deployments/ranker.yaml": ranker(prod=None)})
    commit(repo, "retire prod")
    plan_out(run_cli, repo)
    before = world(repo)
    code, out = on_a_terminal(repo, ["apply", "plan.json"], "y")  # only "yes" is a yes
    assert code == 1, out
    assert "  deployment.prod.ranker: destroy\nApply them? Only 'yes' will be accepted\n" in out
    assert "Error: Apply refused: destroys and downgrades in protected environments need " in out
    assert world(repo) == before
    code, out = on_a_terminal(repo, ["apply", "plan.json"], "yes")
    assert code == 0, out
    assert out.splitlines()[-1] == "Apply complete! Resources: 0 added, 0 changed, 1 destroyed."
    assert "Traceback" not in out


# --- 5. locks --------------------------------------------------------------------------------

HOLDER = """\
import sys, time
from pathlib import Path
from mlops_plan.state import LocalBackend
backend = LocalBackend(Path(sys.argv[1]))
info = backend.lock(sys.argv[2], "apply", None, 0)
print(info.id, flush=True)
time.sleep(float(sys.argv[3]))
if sys.argv[4] == "release":
    backend.unlock(sys.argv[2], info.id)
"""


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes started by a test; each is stopped (by its own pid) at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def hold_lock(
    holders: list[subprocess.Popen[str]],
    repo: Path,
    environment: str,
    seconds: float,
    release: bool,
) -> tuple[subprocess.Popen[str], str]:
    """Another process holding `environment`'s lock; returns it and the lock's ID."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLDER,
            str(repo),
            environment,
            str(seconds),
            "release" if release else "keep",
        ],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    holders.append(proc)
    assert proc.stdout is not None
    lock_id = proc.stdout.readline().strip()
    assert lock_id, "the holder did not take the lock"
    assert (repo / LOCKS / f"{environment}.lock").is_file()
    return proc, lock_id


@posix_only
def test_a_lock_held_by_another_process_refuses_then_force_unlock_breaks_it(
    run_cli: RunCli, repo: Path, holders: list[subprocess.Popen[str]]
) -> None:
    plan_and_apply(run_cli, repo)
    holder, lock_id = hold_lock(holders, repo, "prod", 60, release=False)

    # a plan touching prod (and dev): refused, dev's lock released again, nothing applied
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0", prod_replicas=4)})
    commit(repo, "dev 1.1.0, prod 4 replicas")
    plan_out(run_cli, repo, "both.json")
    before = world(repo)
    result = run_cli(["apply", "both.json", "--lock-timeout", "0s"], cwd=repo)
    no_traceback(result)
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[:4] == [
        'Error: Error acquiring the state lock for environment "prod"',
        "",
        "Lock Info:",
        f"  ID:        {lock_id}",
    ]
    assert f"  Path:      {LOCKS}/prod.lock" in lines
    assert "  Operation: apply" in lines
    assert f"  Who:       {current_user()}@{current_host()}" in lines
    assert f"  Info:      environment prod, pid {holder.pid}" in lines
    assert lines[-1] == "  hint: wait for it to finish, or retry with --lock-timeout"
    assert "is gone" not in result.err
    assert world(repo) == before
    assert held_locks(repo) == ["prod.lock"]

    # locks are per environment: a plan touching only dev goes through meanwhile
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0")})
    commit(repo, "dev 1.1.0 only")
    plan_out(run_cli, repo, "dev.json")
    result = applied(run_cli, repo, "dev.json", "--lock-timeout", "0s")
    assert footer(result) == "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
    assert held_locks(repo) == ["prod.lock"]

    wrong = run_cli(["state", "force-unlock", "not-an-id"], cwd=repo)
    assert wrong.code == 1
    assert wrong.err.splitlines() == [
        'Error: no lock with ID "not-an-id"',
        f"  hint: locks held: {lock_id} (prod)",
    ]
    broken = run_cli(["state", "force-unlock", lock_id], cwd=repo)
    assert broken == (
        0,
        f"Lock {lock_id} on environment prod (held by {current_user()}@{current_host()}) "
        "is broken.\n",
        "",
    )
    assert held_locks(repo) == []
    assert holder.poll() is None  # breaking a lock stops nobody
    write(repo, {"deployments/ranker.yaml": ranker(dev="1.1.0", prod_replicas=4)})
    commit(repo, "prod 4 replicas")
    result = plan_and_apply(run_cli, repo, "--lock-timeout", "0s")
    assert footer(result) == "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."


@posix_only
def test_lock_timeout_waits_for_the_holder_to_release(
    run_cli: RunCli, repo: Path, holders: list[subprocess.Popen[str]]
) -> None:
    plan_out(run_cli, repo)
    holder, _ = hold_lock(holders, repo, "prod", 1.0, release=True)
    started = time.monotonic()
    result = applied(run_cli, repo, "plan.json", "--lock-timeout", "5s")
    assert footer(result) == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    assert time.monotonic() - started < 10
    assert holder.wait(timeout=30) == 0
    assert held_locks(repo) == []


def test_a_bad_lock_timeout_is_one_error_line(run_cli: RunCli, repo: Path) -> None:
    plan_out(run_cli, repo)
    refused(
        run_cli,
        repo,
        ["plan.json", "--lock-timeout", "soon"],
        'Error: "soon" is not a duration',
        '  hint: e.g. "30s", "2m", "0"',
    )


# --- 6. two applies at once ------------------------------------------------------------------


@posix_only
def test_two_concurrent_applies_of_one_plan_apply_it_once(run_cli: RunCli, repo: Path) -> None:
    plan_out(run_cli, repo)
    argv = [sys.executable, "-m", "mlops_plan", "apply", "plan.json", "--lock-timeout", "0s"]
    procs = [
        subprocess.Popen(
            argv,
            cwd=repo,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    results = [(proc.returncode, out, err) for proc, (out, err) in zip(procs, outputs, strict=True)]
    for _, out, err in results:
        assert "Traceback" not in out + err
    assert sorted(code for code, _, _ in results) == [0, 1]
    (winner,) = [r for r in results if r[0] == 0]
    (loser,) = [r for r in results if r[0] == 1]
    assert winner[1].splitlines()[-1] == (
        "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    )
    # both take dev's lock first (sorted order): the loser is refused there, or, when the
    # winner was already done, finds the plan stale
    lines = loser[2].splitlines()
    if "Lock Info:" in lines:
        assert lines[:3] == [
            'Error: Error acquiring the state lock for environment "dev"',
            "",
            "Lock Info:",
        ]
    else:
        assert lines[0] == (
            "Error: Saved plan is stale: the state changed since the plan was made "
            f"(serial 0 -> {read_state(repo).serial})"
        )
    assert "Apply complete" not in loser[1]
    state = read_state(repo)
    assert sorted(state.resources) == ["deployment.dev.ranker", "deployment.prod.ranker"]
    assert len(state.history) == 1
    assert state.pending == []
    assert held_locks(repo) == []
    assert planned(run_cli, repo) == []


# --- 7. the exec provider -----------------------------------------------------------------------


def four_in_dev() -> dict[str, str]:
    return base_files(**{n: dev_deployment(n) for n in ("alpha", "bravo", "charlie", "delta")})


def test_a_failing_exec_command_stops_the_apply_and_keeps_what_was_applied(
    run_cli: RunCli, tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo", four_in_dev(), exec_config(tmp_path, fail="deployment.dev.charlie")
    )
    plan_out(run_cli, repo)
    result = run_cli(["apply", "plan.json"], cwd=repo)
    no_traceback(result)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[-1] == "Apply failed after 3 of 4 changes: 2 applied, 1 failed, 1 not started."
    assert f"deployment.dev.charlie: failed: {sys.executable} exited with status 3" in lines
    assert not any(line.startswith("deployment.dev.delta") for line in lines)
    assert [r["address"] for r in exec_log(tmp_path)] == [
        "deployment.dev.alpha",
        "deployment.dev.bravo",
        "deployment.dev.charlie",
    ]

    state = read_state(repo)
    assert sorted(state.resources) == ["deployment.dev.alpha", "deployment.dev.bravo"]
    assert state.pending == []
    assert held_locks(repo) == []
    (entry,) = state.history
    assert [(c.address, c.outcome) for c in entry.changes] == [
        ("deployment.dev.alpha", "applied"),
        ("deployment.dev.bravo", "applied"),
        ("deployment.dev.charlie", "failed"),
        ("deployment.dev.delta", "not-started"),
    ]
    assert entry.changes[2].output == ("deploying deployment.dev.charlie\ncluster said no\n")
    assert entry.changes[0].output == "deployed deployment.dev.alpha\n"
    history = run_cli(["state", "history"], cwd=repo)
    assert history.out.splitlines()[1:] == [
        f"  applied     create        deployment.dev.alpha  ({sys.executable} exited with "
        "status 0)",
        f"  applied     create        deployment.dev.bravo  ({sys.executable} exited with "
        "status 0)",
        f"  failed      create        deployment.dev.charlie  ({sys.executable} exited with "
        "status 3)",
        "  not-started create        deployment.dev.delta",
    ]

    # the next plan shows exactly what is left, and a fixed command finishes it
    assert planned(run_cli, repo) == [
        ("deployment.dev.charlie", ["create"]),
        ("deployment.dev.delta", ["create"]),
    ]
    write(repo, {"mlops-plan.yaml": exec_config(tmp_path)})
    result = plan_and_apply(run_cli, repo)
    assert footer(result) == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    assert planned(run_cli, repo) == []
    assert [len(e.changes) for e in read_state(repo).history] == [4, 2]


def test_the_exec_command_gets_the_change_on_stdin_and_in_its_environment(
    run_cli: RunCli, tmp_path: Path
) -> None:
    files = base_files(ranker=ranker("1.0.0", None))
    repo = make_repo(tmp_path / "repo", files, exec_config(tmp_path))
    plan_out(run_cli, repo)
    plan = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    result = applied(run_cli, repo, "plan.json")
    assert result.out.splitlines() == [
        "deployment.dev.ranker: create via exec...",
        f"deployment.dev.ranker: running {sys.executable} {tmp_path / 'deploy.py'} "
        f"{tmp_path / 'exec.log'} - - {tmp_path / 'hanging'}",
        f"deployment.dev.ranker: {sys.executable} exited with status 0",
        "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
    ]
    assert not (repo / "rendered").exists()  # exec, not manifests
    (record,) = exec_log(tmp_path)
    assert {k: v for k, v in record.items() if k != "stdin"} == {
        "address": "deployment.dev.ranker",
        "action": "create",
        "environment": "dev",
        "plan_id": plan["plan_id"],
        "model": "ranker",
        "version": "1.0.0",
        "cwd": str(repo.resolve()),
    }
    assert record["stdin"] == {**plan["resource_changes"][0], "plan_id": plan["plan_id"]}

    # an update and a destroy: MODEL_VERSION is the version after, and before for a delete
    write(repo, {"deployments/ranker.yaml": ranker("1.1.0", None)})
    commit(repo, "1.1.0")
    plan_and_apply(run_cli, repo)
    (repo / "deployments/ranker.yaml").unlink()
    commit(repo, "gone")
    result = plan_and_apply(run_cli, repo)
    assert footer(result) == "Apply complete! Resources: 0 added, 0 changed, 1 destroyed."
    assert [(r["action"], r["version"], r["stdin"]["after"]) for r in exec_log(tmp_path)[1:]] == [
        (
            "update",
            "1.1.0",
            record["stdin"]["after"] | {"version": "1.1.0", "digest": DIGEST.format(2)},
        ),
        ("delete", "1.1.0", None),
    ]
    assert read_state(repo).resources == {}


# --- 9. apply order ------------------------------------------------------------------------------

EMBEDDER = f"""\
apiVersion: mlops-plan/v1
kind: Model
metadata:
  name: embedder
spec:
  framework: onnx
  versions:
    - version: "1.0.0"
      artifact:
        uri: s3://models/embedder/1.0.0/model.onnx
        digest: {DIGEST.format(7)}
"""
RANKER_NEEDS_EMBEDDER = MODEL.replace(
    f"        digest: {DIGEST.format(1)}\n",
    f"        digest: {DIGEST.format(1)}\n"
    '      dependsOn:\n        - {model: embedder, version: ">=1.0"}\n',
)


def dependency_repo(tmp_path: Path) -> Path:
    """ranker (deployment "ranker") depends on embedder, deployed as "vectors": the names
    sort the other way round, so only the dependency can put vectors first."""
    files = base_files(
        ranker=dev_deployment("ranker"), vectors=dev_deployment("vectors", model="embedder")
    )
    files["models/ranker.yaml"] = RANKER_NEEDS_EMBEDDER
    files["models/embedder.yaml"] = EMBEDDER
    return make_repo(tmp_path / "repo", files, exec_config(tmp_path))


def order(tmp_path: Path) -> list[tuple[str, str]]:
    return [(r["action"], r["address"]) for r in exec_log(tmp_path)]


def test_dependencies_are_applied_first(run_cli: RunCli, tmp_path: Path) -> None:
    repo = dependency_repo(tmp_path)
    assert [a for a, _ in planned(run_cli, repo)] == [
        "deployment.dev.ranker",
        "deployment.dev.vectors",
    ]
    plan_and_apply(run_cli, repo)
    assert order(tmp_path) == [
        ("create", "deployment.dev.vectors"),
        ("create", "deployment.dev.ranker"),
    ]
    # an update of both: still the dependency first
    (tmp_path / "exec.log").unlink()
    for name in ("ranker", "vectors"):
        edit(repo, f"deployments/{name}.yaml", "replicas: 1", "replicas: 2")
    commit(repo, "scale both")
    plan_and_apply(run_cli, repo)
    assert order(tmp_path) == [
        ("update", "deployment.dev.vectors"),
        ("update", "deployment.dev.ranker"),
    ]


def test_creates_and_updates_come_first_and_deletes_last(run_cli: RunCli, tmp_path: Path) -> None:
    repo = dependency_repo(tmp_path)
    plan_and_apply(run_cli, repo)
    (tmp_path / "exec.log").unlink()
    write(repo, {"deployments/aardvark.yaml": dev_deployment("aardvark", model="embedder")})
    edit(repo, "deployments/vectors.yaml", "replicas: 1", "replicas: 2")
    commit(repo, "aardvark, more vectors")
    plan_and_apply(run_cli, repo)
    assert order(tmp_path) == [
        ("create", "deployment.dev.aardvark"),
        ("update", "deployment.dev.vectors"),
    ]
    (tmp_path / "exec.log").unlink()
    (repo / "deployments/aardvark.yaml").unlink()
    write(repo, {"deployments/zulu.yaml": dev_deployment("zulu")})
    commit(repo, "zulu in, aardvark out")
    plan_and_apply(run_cli, repo)
    assert order(tmp_path) == [
        ("create", "deployment.dev.zulu"),
        ("delete", "deployment.dev.aardvark"),
    ]


def test_deletes_run_in_reverse_dependency_order(run_cli: RunCli, tmp_path: Path) -> None:
    repo = dependency_repo(tmp_path)
    plan_and_apply(run_cli, repo)
    (tmp_path / "exec.log").unlink()
    (repo / "deployments/ranker.yaml").unlink()
    (repo / "deployments/vectors.yaml").unlink()
    commit(repo, "decommission both")
    result = plan_and_apply(run_cli, repo)
    assert footer(result) == "Apply complete! Resources: 0 added, 0 changed, 2 destroyed."
    assert order(tmp_path) == [
        ("delete", "deployment.dev.ranker"),
        ("delete", "deployment.dev.vectors"),
    ]


# --- 10. KServe accepts what apply renders -------------------------------------------------------


def kserve_checker() -> Any:
    from test_providers_manifests import kserve_problems  # the CRD checker, shared

    return kserve_problems


def test_rendered_manifests_validate_against_kserves_crd(run_cli: RunCli, repo: Path) -> None:
    plan_and_apply(run_cli, repo)
    problems = kserve_checker()
    rendered = sorted((repo / "rendered").rglob("*.yaml"))
    assert [p.relative_to(repo).as_posix() for p in rendered] == [
        "rendered/dev/ranker.yaml",
        "rendered/prod/ranker.yaml",
    ]
    for path in rendered:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert problems(manifest) == [], path


def test_the_richer_example_applies_to_manifests_kserve_accepts(
    run_cli: RunCli, tmp_path: Path
) -> None:
    root = tmp_path / "ml-platform"
    shutil.copytree(EXAMPLES / "ml-platform", root)
    git(root, "init", "-q", "-b", "main")
    commit(root, "example")
    planned_result = plan_out(run_cli, root)
    total = int(footer(planned_result).split()[1])
    result = applied(run_cli, root, "plan.json")
    assert footer(result) == f"Apply complete! Resources: {total} added, 0 changed, 0 destroyed."
    lines = result.out.splitlines()
    for env in ("dev", "staging", "prod"):  # search-ranker dependsOn text-embedder
        assert lines.index(f"deployment.{env}.text-embedder: create via manifests...") < (
            lines.index(f"deployment.{env}.search-ranker: create via manifests...")
        )
    state = read_state(root)
    rendered = sorted((root / "rendered").rglob("*.yaml"))
    assert len(rendered) == total == len(state.resources)
    problems = kserve_checker()
    for path in rendered:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert problems(manifest) == [], path
        env, name = path.relative_to(root / "rendered").with_suffix("").parts
        assert f"deployment.{env}.{name}" in state.resources
    again = run_cli(["plan", "--detailed-exitcode"], cwd=root)
    assert (again.code, footer(again)) == (0, NO_CHANGES)
    stale = refused(
        run_cli,
        root,
        ["plan.json"],
        "Error: Saved plan is stale: the state changed since the plan was made "
        f"(serial 0 -> {state.serial})",
        HINT_NEW_PLAN,
    )
    assert stale.out == ""
