"""Tests of mlops_plan/render/github.py: workflow commands and the job summary.

Regenerate the golden files with `UPDATE_GOLDEN=1 python -m pytest tests/test_render_github.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_plan.errors import MlopsPlanError
from mlops_plan.findings import Finding, Severity, summarize
from mlops_plan.pipeline import LintResult
from mlops_plan.render import github

GOLDEN = Path(__file__).parent / "golden" / "github"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _no_github_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests running inside GitHub Actions must not write the real job summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)


def finding(
    rule: str,
    severity: Severity,
    file: str,
    line: int | None,
    col: int | None,
    message: str,
    hint: str | None = None,
) -> Finding:
    return Finding(
        rule=rule, severity=severity, file=file, line=line, col=col, message=message, hint=hint
    )


FINDINGS = [
    finding(
        "MP201",
        Severity.ERROR,
        "deployments/fraud.yaml",
        12,
        7,
        'unknown model "fraud-detecter"',
        'did you mean "fraud-detector"?',
    ),
    finding("MP305", Severity.WARNING, "models/a,b:c.yaml", 9, None, "100% deprecated\r\nreally"),
    finding("MP003", Severity.ERROR, "models/huge.yaml", None, None, "file is over the limit"),
    finding(
        "policy/prod-min-replicas",
        Severity.INFO,
        "deployments/ranker.yaml",
        16,
        5,
        "a | b <c> & d",
    ),
]


def result(findings: list[Finding], root: Path = Path("/repo")) -> LintResult:
    return LintResult(root=root, findings=findings, summary=summarize(findings, 4))


def test_golden() -> None:
    check_golden("small.txt", github.render(result(FINDINGS)))


def test_golden_step_summary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    output = github.render(result(FINDINGS))
    assert output == (GOLDEN / "small.txt").read_text(encoding="utf-8")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")
    check_golden("small-summary.md", text.removeprefix("earlier step\n"))


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            FINDINGS[0],
            "::error file=deployments/fraud.yaml,line=12,col=7,title=MP201::"
            'unknown model "fraud-detecter"%0Ahint: did you mean "fraud-detector"?',
        ),
        (
            FINDINGS[1],
            "::warning file=models/a%2Cb%3Ac.yaml,line=9,title=MP305::"
            "100%25 deprecated%0D%0Areally",
        ),
        (FINDINGS[2], "::error file=models/huge.yaml,title=MP003::file is over the limit"),
        (
            FINDINGS[3],
            "::notice file=deployments/ranker.yaml,line=16,col=5,"
            "title=policy/prod-min-replicas::a | b <c> & d",
        ),
    ],
)
def test_command(item: Finding, expected: str) -> None:
    assert github.command(item) == expected


def test_a_sub_folder_of_the_workspace_prefixes_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = tmp_path / "ml" / "platform"
    root.mkdir(parents=True)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    first = github.render(result(FINDINGS, root)).splitlines()[0]
    assert first.startswith("::error file=ml/platform/deployments/fraud.yaml,line=12,")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(root))
    assert github.render(result(FINDINGS, root)).startswith("::error file=deployments/")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "elsewhere"))
    assert github.render(result(FINDINGS, root)).startswith("::error file=deployments/")


def test_the_summary_shows_the_first_fifty(tmp_path: Path) -> None:
    many = [
        finding("MP101", Severity.ERROR, f"models/m{i:03}.yaml", 1, 1, "bad") for i in range(53)
    ]
    path = tmp_path / "summary.md"
    github.write_step_summary(result(many), path)
    text = path.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| error |")]
    assert len(rows) == github.SUMMARY_ROWS
    assert rows[-1] == "| error | models/m049.yaml:1:1 | MP101 | bad |"
    assert "… and 3 more: see the job log." in text


def test_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    github.write_step_summary(result([]), path)
    assert path.read_text(encoding="utf-8") == (
        "### mlops-plan lint\n\n4 files checked: 0 errors, 0 warnings.\n\n"
    )
    assert github.render(result([])) == "4 files checked: 0 errors, 0 warnings.\n"


def test_an_unwritable_summary_is_one_message(tmp_path: Path) -> None:
    with pytest.raises(MlopsPlanError, match="cannot append the job summary"):
        github.write_step_summary(result(FINDINGS), tmp_path)
