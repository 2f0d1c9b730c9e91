"""The command line: version, lint output formats, exit codes and error handling."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mlops_plan
from mlops_plan import pipeline

WriteRepo = Callable[..., Path]
RunCli = Callable[..., Any]

TARGET = """\
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata:
  name: cpu-x86
spec: {arch: x86_64, accelerator: cpu}
"""

BROKEN_MODEL = """\
apiVersion: mlops-plan/v1
kind: Model
metadata:
  name: fraud-detector
  lables: {team: risk}
spec:
  framework: pytorch
  versions:
    - version: 1.10
      artifact: {uri: s3://ml-artifacts/fraud-detector/1.10/model.pt}
"""

SMALL_REPO = {
    "models/fraud-detector.yaml": BROKEN_MODEL,
    "targets/cpu-x86.yaml": TARGET,
    "targets/copy.yml": TARGET,
    "README.md": "# not read\n",
}

SMALL_REPO_TEXT = """\
models/fraud-detector.yaml:5:3: error MP101 unknown key "lables" in metadata
    hint: did you mean "labels"?
models/fraud-detector.yaml:9:16: error MP101 spec.versions[0].version: expected a string, got \
the number 1.10
    hint: quote it: "1.10" (YAML reads an unquoted 1.10 as a number; versions are always strings)
targets/cpu-x86.yaml:4:9: error MP103 duplicate HardwareTarget "cpu-x86": first declared at \
targets/copy.yml:4:9
    hint: rename one of them: names are unique per kind
3 files checked: 3 errors, 0 warnings.
"""


def test_version(run_cli: RunCli) -> None:
    assert mlops_plan.__version__ == "0.1.0"
    assert tuple(run_cli(["--version"])) == (0, f"mlops-plan {mlops_plan.__version__}\n", "")


def test_python_m_version(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlops_plan", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"mlops-plan {mlops_plan.__version__}\n",
        "",
    )


def test_lint_clean_exits_0(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(tmp_path, {"targets/cpu-x86.yaml": TARGET})
    assert tuple(run_cli(["lint", str(repo)])) == (
        0,
        "1 file checked: 0 errors, 0 warnings.\n",
        "",
    )


def test_lint_empty_repository(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(tmp_path, {})
    assert tuple(run_cli(["lint", str(repo)])) == (
        0,
        "0 files checked: 0 errors, 0 warnings.\n",
        "",
    )


def test_lint_text_output(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(tmp_path, SMALL_REPO)
    assert tuple(run_cli(["lint", str(repo)])) == (1, SMALL_REPO_TEXT, "")


def test_lint_json_output(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(tmp_path, SMALL_REPO)
    code, out, err = run_cli(["lint", "--format", "json", str(repo)])
    assert (code, err) == (1, "")
    assert json.loads(out) == {
        "findings": [
            {
                "rule": "MP101",
                "severity": "error",
                "file": "models/fraud-detector.yaml",
                "line": 5,
                "col": 3,
                "message": 'unknown key "lables" in metadata',
                "hint": 'did you mean "labels"?',
            },
            {
                "rule": "MP101",
                "severity": "error",
                "file": "models/fraud-detector.yaml",
                "line": 9,
                "col": 16,
                "message": "spec.versions[0].version: expected a string, got the number 1.10",
                "hint": 'quote it: "1.10" (YAML reads an unquoted 1.10 as a number; '
                "versions are always strings)",
            },
            {
                "rule": "MP103",
                "severity": "error",
                "file": "targets/cpu-x86.yaml",
                "line": 4,
                "col": 9,
                "message": 'duplicate HardwareTarget "cpu-x86": first declared at '
                "targets/copy.yml:4:9",
                "hint": "rename one of them: names are unique per kind",
            },
        ],
        "summary": {"errors": 3, "warnings": 0, "infos": 0, "files": 3},
    }
    assert out.endswith("}\n")
    # the short option gives the same document
    assert run_cli(["lint", "-f", "json", str(repo)]).out == out


def test_lint_json_whole_file_finding(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    repo = write_repo(tmp_path, {"nested/dir/blob.yaml": b"apiVersion: mlops-plan/v1\n\x00"})
    code, out, _ = run_cli(["lint", "--format", "json", str(repo)])
    assert code == 1
    assert json.loads(out) == {
        "findings": [
            {
                "rule": "MP001",
                "severity": "error",
                "file": "nested/dir/blob.yaml",
                "line": None,
                "col": None,
                "message": "binary file (contains NUL bytes), not YAML",
                "hint": None,
            }
        ],
        "summary": {"errors": 1, "warnings": 0, "infos": 0, "files": 1},
    }


def test_lint_json_clean(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(tmp_path, {"t.yaml": TARGET})
    code, out, _ = run_cli(["lint", "--format", "json", str(repo)])
    assert code == 0
    assert json.loads(out) == {
        "findings": [],
        "summary": {"errors": 0, "warnings": 0, "infos": 0, "files": 1},
    }


@pytest.mark.parametrize("start", ["models", "models/deeper", "."])
def test_lint_from_a_subdirectory_finds_the_root(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, start: str
) -> None:
    repo = write_repo(tmp_path / "repo", SMALL_REPO)
    (repo / "models" / "deeper").mkdir()
    assert tuple(run_cli(["lint"], cwd=repo / start)) == (1, SMALL_REPO_TEXT, "")
    # a path to a folder or a file inside the repository lints the whole repository
    assert run_cli(["lint", str(repo / "models" / "fraud-detector.yaml")]).out == SMALL_REPO_TEXT


def test_lint_root_from_git_folder(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(tmp_path / "repo", {"targets/cpu-x86.yaml": TARGET}, config=None)
    (repo / ".git").mkdir()
    (repo / ".git" / "HEAD.yaml").write_text("apiVersion: mlops-plan/v1\nkind: [\n")
    code, out, _ = run_cli(["lint"], cwd=repo / "targets")
    assert (code, out) == (0, "1 file checked: 0 errors, 0 warnings.\n")


# --- severities from mlops-plan.yaml: warnings, --strict, infos, off ---------------------

DUPLICATES = {"a.yaml": TARGET, "b.yaml": TARGET}
DUPLICATE_LINE = (
    'b.yaml:4:9: {severity} MP103 duplicate HardwareTarget "cpu-x86": first declared at '
    "a.yaml:4:9\n"
    "    hint: rename one of them: names are unique per kind\n"
)


def test_warnings_exit_0_unless_strict(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    repo = write_repo(tmp_path, DUPLICATES, config="rules: {MP103: warning}\n")
    expected = DUPLICATE_LINE.format(severity="warning") + "2 files checked: 0 errors, 1 warning.\n"
    assert tuple(run_cli(["lint", str(repo)])) == (0, expected, "")
    assert tuple(run_cli(["lint", "--strict", str(repo)])) == (1, expected, "")
    report = json.loads(run_cli(["lint", "--format", "json", str(repo)]).out)
    assert report["findings"][0]["severity"] == "warning"
    assert report["summary"] == {"errors": 0, "warnings": 1, "infos": 0, "files": 2}


def test_infos_are_counted_and_never_fail(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    repo = write_repo(tmp_path, DUPLICATES, config="rules: {MP103: info}\n")
    expected = DUPLICATE_LINE.format(severity="info") + (
        "2 files checked: 0 errors, 0 warnings, 1 info.\n"
    )
    assert tuple(run_cli(["lint", "--strict", str(repo)])) == (0, expected, "")


def test_rule_off(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(tmp_path, DUPLICATES, config='rules: {MP103: "off"}\n')
    assert tuple(run_cli(["lint", str(repo)])) == (
        0,
        "2 files checked: 0 errors, 0 warnings.\n",
        "",
    )


def test_design_config_example_with_bare_off(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    """DESIGN §1 writes `rules: {MP305: error, MP403: off}`: YAML 1.1 reads `off` as false."""
    repo = write_repo(tmp_path, DUPLICATES, config="rules: {MP305: error, MP103: off}\n")
    assert tuple(run_cli(["lint", str(repo)])) == (
        0,
        "2 files checked: 0 errors, 0 warnings.\n",
        "",
    )


# --- usage errors and unexpected errors ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lint", "--bogus"], "No such option: --bogus"),
        (["lint", "--format", "xml"], "xml"),
        (["no-such-command"], "No such command"),
        (["lint", "a", "b"], "unexpected extra argument"),
        ([], "Usage:"),
    ],
)
def test_usage_errors_exit_2(run_cli: RunCli, args: list[str], message: str) -> None:
    code, out, err = run_cli(args)
    assert code == 2
    assert message in out + err
    assert "internal error" not in err
    assert "Traceback" not in out + err


def test_help_exits_0(run_cli: RunCli) -> None:
    code, out, err = run_cli(["lint", "--help"])
    assert (code, err) == (0, "")
    assert "--format" in out and "--strict" in out


def _boom(path: Path, **_: object) -> pipeline.LintResult:
    raise RuntimeError(f"boom in {path.name or '.'}")


def test_unexpected_error_exits_3_with_one_line(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = write_repo(tmp_path / "repo", {"t.yaml": TARGET})
    monkeypatch.setattr(pipeline, "lint", _boom)
    assert tuple(run_cli(["lint", str(repo)])) == (
        3,
        "",
        "mlops-plan: internal error (RuntimeError: boom in repo). This is a bug: please "
        "report it with the command you ran; --traceback shows the stack.\n",
    )


def test_traceback_flag_shows_the_stack(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = write_repo(tmp_path / "repo", {"t.yaml": TARGET})
    monkeypatch.setattr(pipeline, "lint", _boom)
    code, out, err = run_cli(["--traceback", "lint", str(repo)])
    assert (code, out) == (3, "")
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("RuntimeError: boom in repo\n")
    assert "_boom" in err
