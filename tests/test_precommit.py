"""The pre-commit hook, run for real: `pre-commit try-repo` on a snapshot of this checkout.

try-repo only carries a checkout's *tracked* changes into its temporary clone, so a new,
uncommitted file (a new module, or the hook manifest itself) would be missing. The module
fixture therefore snapshots the working tree (tracked and untracked, minus .gitignore'd
files) into a fresh git repository and points try-repo at that.

Slow: each try-repo run builds the hook's virtualenv (pip installs this package and its
dependencies). try-repo keeps its store in a throw-away directory of its own, ignoring
PRE_COMMIT_HOME, so the two runs below build twice; a shared pip cache makes the second
build cheap.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pre_commit.clientlib import load_manifest  # type: ignore[import-untyped]

CHECKOUT = Path(__file__).resolve().parents[1]
HOOK_ID = "mlops-plan-lint"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IGNORED = shutil.ignore_patterns(
    ".git", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis", ".venv", "build", "dist"
)

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None, reason="git is not installed: pre-commit needs git repositories"
)

MODEL = f"""\
apiVersion: mlops-plan/v1
kind: Model
metadata:
  name: demo
spec:
  framework: onnx
  versions:
    - version: "1.0.0"
      artifact:
        uri: s3://bucket/demo/1.0.0/model.onnx
        digest: {DIGEST}
"""
BROKEN = """\
apiVersion: mlops-plan/v1
kind: Model
metadata:
  name: broken
spec:
  framework: onnx
  colour: red
  versions:
    - version: "1.0.0"
      artifact:
        uri: s3://bucket/broken/1.0.0/model.onnx
"""
BROKEN_LINE = 'models/broken.yaml:7:3: error MP101 unknown key "colour" in spec'


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def checkout_files() -> list[Path]:
    """The working tree's files as a commit of it would hold them."""
    try:
        out = git(CHECKOUT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except subprocess.CalledProcessError:  # not a git checkout (e.g. an unpacked sdist)
        return []
    return [Path(name) for name in out.split("\0") if name and (CHECKOUT / name).is_file()]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Pinned git identity; pre-commit's home and pip's cache shared by the module."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.com",
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "PIP_CACHE_DIR": str(home / "pip"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "NO_COLOR": "1",
    }


def commit_all(repo: Path, env: dict[str, str], message: str) -> None:
    git(repo, "add", "-A", env=env)
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message, env=env)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """This checkout's working tree, committed to a fresh repository."""
    snapshot = tmp_path_factory.mktemp("hook-repo")
    files = checkout_files()
    if files:
        for rel in files:
            (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(CHECKOUT / rel, snapshot / rel)
    else:
        shutil.copytree(CHECKOUT, snapshot, ignore=IGNORED, dirs_exist_ok=True)
    git(snapshot, "init", "-q", env=env)
    commit_all(snapshot, env, "snapshot of the mlops-plan checkout")
    return snapshot


@pytest.fixture
def user_repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """A tiny valid mlops-plan repository, committed."""
    repo = tmp_path / "user-repo"
    (repo / "models").mkdir(parents=True)
    (repo / "mlops-plan.yaml").write_text("", encoding="utf-8")
    (repo / "models" / "demo.yaml").write_text(MODEL, encoding="utf-8")
    git(repo, "init", "-q", env=env)
    commit_all(repo, env, "a valid model")
    return repo


def try_repo(repo: Path, hook_repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo HOOK_REPO mlops-plan-lint --all-files` in `repo`, output merged."""
    command = ["try-repo", str(hook_repo), HOOK_ID, "--all-files", "--color=never"]
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *command],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )


def test_manifest_declares_the_hook() -> None:
    (hook,) = load_manifest(str(CHECKOUT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == HOOK_ID
    assert hook["name"] == "mlops-plan lint"
    assert hook["entry"] == "mlops-plan lint"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["require_serial"] is True
    assert re.search(hook["files"], "models/fraud.yaml")
    assert re.search(hook["files"], "mlops-plan.yml")
    assert not re.search(hook["files"], "README.md")


def test_hook_passes_on_a_clean_repository(
    user_repo: Path, hook_repo: Path, env: dict[str, str]
) -> None:
    done = try_repo(user_repo, hook_repo, env)
    assert done.returncode == 0, done.stdout
    assert re.search(r"^mlops-plan lint\.+Passed$", done.stdout, re.MULTILINE), done.stdout


def test_hook_fails_with_the_finding_line(
    user_repo: Path, hook_repo: Path, env: dict[str, str]
) -> None:
    (user_repo / "models" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    git(user_repo, "add", "models/broken.yaml", env=env)
    done = try_repo(user_repo, hook_repo, env)
    assert done.returncode == 1, done.stdout
    assert re.search(r"^mlops-plan lint\.+Failed$", done.stdout, re.MULTILINE), done.stdout
    assert f"- hook id: {HOOK_ID}" in done.stdout.splitlines()
    assert BROKEN_LINE in done.stdout.splitlines(), done.stdout
