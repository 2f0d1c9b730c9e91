"""Data-driven rule tests: every folder under fixtures/rules/<RULE>/{pass,fail}/ is a test.

Each case folder is a tiny repository (it always holds a `mlops-plan.yaml`, so it is its
own root). A `pass` case must lint with no finding at all. A `fail` case holds
`expected.txt`, every finding lint produces, in the order lint prints them:

    models/fraud.yaml:12:7 MP101                 location and rule only
    models/fraud.yaml:12:7 MP101 message text    location, rule and exact message ...
        hint: the exact hint                     ... and, if the finding has one, its hint
    models/big.yaml MP003                        a whole-file finding (no line or column)

Lines starting with `#` are comments. When a message is given, the hint is checked too:
no hint line means the finding must have no hint.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
OUTCOMES = ("pass", "fail")
RunCli = Callable[..., Any]  # the run_cli fixture of conftest.py


class Expected(NamedTuple):
    location: str
    rule: str
    message: str | None = None
    hint: str | None = None


def _cases() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*/*") if p.is_dir())


def _case_id(case: Path) -> str:
    return case.relative_to(FIXTURES).as_posix()


CASES = _cases()


def parse_expected(text: str) -> list[Expected]:
    entries: list[Expected] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("    hint: "):
            assert entries, f"expected.txt:{number}: a hint before any finding"
            last = entries[-1]
            assert last.message is not None, f"expected.txt:{number}: a hint needs a message"
            assert last.hint is None, f"expected.txt:{number}: two hints for one finding"
            entries[-1] = last._replace(hint=raw.removeprefix("    hint: "))
            continue
        parts = raw.split(" ", 2)
        assert len(parts) >= 2, f"expected.txt:{number}: want `LOCATION RULE [MESSAGE]`"
        entries.append(Expected(parts[0], parts[1], parts[2] if len(parts) == 3 else None))
    return entries


def _location(finding: dict[str, object]) -> str:
    if finding["line"] is None:
        return str(finding["file"])
    if finding["col"] is None:
        return f"{finding['file']}:{finding['line']}"
    return f"{finding['file']}:{finding['line']}:{finding['col']}"


def _project(actual: list[Expected], expected: list[Expected]) -> list[Expected]:
    """Actual findings, with message and hint dropped where expected.txt leaves them out."""
    out = []
    for index, finding in enumerate(actual):
        wanted = expected[index] if index < len(expected) else None
        if wanted is None or wanted.message is None:
            finding = finding._replace(message=None, hint=None)
        out.append(finding)
    return out


def lint_case(
    case: Path, tmp_path: Path, run_cli: RunCli, snap: Callable[[Path], dict[str, bytes]]
) -> tuple[int, dict[str, object]]:
    """Lint a copy of the case from inside it; check that lint wrote and ran nothing."""
    repo = tmp_path / "repo"
    shutil.copytree(case, repo, symlinks=True)
    before = snap(repo)
    result = run_cli(["lint", "--format", "json", "."], cwd=repo)
    assert result.err == ""
    assert "Traceback" not in result.out
    assert snap(repo) == before, "lint changed the repository (or ran something from it)"
    return result.code, json.loads(result.out)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_fixture(
    case: Path,
    tmp_path: Path,
    run_cli: RunCli,
    tree_snapshot: Callable[[Path], dict[str, bytes]],
) -> None:
    outcome = case.parent.name
    code, report = lint_case(case, tmp_path, run_cli, tree_snapshot)
    findings = report["findings"]
    assert isinstance(findings, list)
    actual = [
        Expected(_location(f), f["rule"], f["message"], f["hint"])
        for f in findings
        if isinstance(f, dict)
    ]
    if outcome == "pass":
        assert actual == []
        assert code == 0
        return
    expected = parse_expected((case / "expected.txt").read_text(encoding="utf-8"))
    assert _project(actual, expected) == expected
    errors = sum(1 for f in findings if f["severity"] == "error")
    assert report["summary"] == {
        "errors": errors,
        "warnings": len(findings) - errors,
        "infos": 0,
        "files": report["summary"]["files"],  # type: ignore[index]
    }
    assert code == (1 if errors else 0)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fixture_layout(case: Path) -> None:
    """Every case is its own root, fail cases say what they expect, pass cases do not."""
    rule, outcome = case.parent.parent.name, case.parent.name
    assert outcome in OUTCOMES, f"{case}: put cases under pass/ or fail/"
    assert (case / "mlops-plan.yaml").is_file(), f"{case}: needs a mlops-plan.yaml (the root)"
    declarations = [p for p in case.rglob("*.y*ml") if p.name != "mlops-plan.yaml"]
    assert declarations, f"{case}: holds no YAML file besides its mlops-plan.yaml"
    expected_file = case / "expected.txt"
    if outcome == "pass":
        assert not expected_file.exists(), f"{case}: a pass case has no expected.txt"
        return
    expected = parse_expected(expected_file.read_text(encoding="utf-8"))
    assert expected, f"{case}: expected.txt lists no finding"
    assert rule in {e.rule for e in expected}, f"{case}: no {rule} finding expected"


def test_every_rule_has_pass_and_fail_cases() -> None:
    from mlops_plan.rules import RULES

    rules = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    assert {"MP001", "MP002", "MP003", "MP101", "MP102", "MP103"} <= set(rules)
    assert set(rules) <= set(RULES), "a fixture folder names no registered rule"
    for rule in rules:
        for outcome in OUTCOMES:
            assert any((FIXTURES / rule / outcome).iterdir()), f"{rule}/{outcome} is empty"


def test_parse_expected_grammar() -> None:
    text = (
        "# a comment\n"
        "a.yaml:1:2 MP001\n"
        "b.yaml MP003 file is too big\n"
        "    hint: split it\n"
        "c.yaml:3:4 MP101 spec.x: bad\n"
    )
    assert parse_expected(text) == [
        Expected("a.yaml:1:2", "MP001"),
        Expected("b.yaml", "MP003", "file is too big", "split it"),
        Expected("c.yaml:3:4", "MP101", "spec.x: bad"),
    ]


# --- checks that the fixtures mean what they claim -------------------------------------


def test_helm_template_fixture_is_not_valid_yaml() -> None:
    """The Helm pass case only proves something if its template really breaks YAML."""
    template = FIXTURES / "MP001/pass/helm-chart/chart/templates/deployment.yaml"
    with pytest.raises(yaml.YAMLError):
        list(yaml.safe_load_all(template.read_text(encoding="utf-8")))
    assert "mlops-plan" not in template.read_text(encoding="utf-8")


def test_include_exclude_fixture_needs_its_config(
    tmp_path: Path, run_cli: RunCli, tree_snapshot: Callable[[Path], dict[str, bytes]]
) -> None:
    """Without its include/exclude settings the pass case is full of broken files."""
    case = FIXTURES / "MP001/pass/include-exclude"
    repo = tmp_path / "case"
    shutil.copytree(case, repo)
    (repo / "mlops-plan.yaml").write_text("", encoding="utf-8")
    code, report = lint_case(repo, tmp_path, run_cli, tree_snapshot)
    assert code == 1
    assert [(f["file"], f["rule"]) for f in report["findings"]] == [  # type: ignore[union-attr]
        ("declarations/notes.yml", "MP001"),
        ("declarations/rendered/prod/fraud-detector.yaml", "MP001"),
        ("scratch/draft.yaml", "MP001"),
    ]


def test_python_tag_fixture_would_create_a_file(tmp_path: Path) -> None:
    """An unsafe loader would run the tag of the MP003 case and create `pwned` in the cwd."""
    text = (FIXTURES / "MP003/fail/python-tags/models/apply.yaml").read_text(encoding="utf-8")
    assert '!!python/object/apply:os.system ["touch pwned"]' in text
