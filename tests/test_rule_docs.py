"""Every rule's documentation runs: its Failing and Passing examples go through the CLI.

A rule's docstring (what `mlops-plan explain ID` prints) has a `Failing:` and a
`Passing:` section. Each section holds steps, indented by four spaces, that run in order
in a fresh copy of the base repository `tests/rule_docs/base/` (a git repository whose
only commit is on branch `main`):

    # file: deployments/fraud-detector.yaml    the indented lines below it, up to the
    apiVersion: mlops-plan/v1                  next step or unindented prose, are the
    ...                                        complete new content of that file (it
                                               replaces the base's file, or adds one)
    $ mlops-plan lint --locked                 a command; lint and plan get --format json

Unindented lines are prose; indented text outside a `# file:` block is an error. A
section without a `$` line runs `$ mlops-plan lint`. Every command but the last must exit
0 (`$ mlops-plan lock` before a change, say); the last one (lint or plan) decides:

- Failing: at least one finding of the documented rule;
- Passing: no finding at all.

Either way its exit code must match (1 when an error finding is printed, else 0). The
clock is 2026-12-04T12:00:00Z (`MLOPS_PLAN_NOW`) unless a command passes `--now`.
Plan-time rules (MP501-MP504) compare the example with the base: `$ mlops-plan plan
--base main` (uncommitted changes against `main`, as in a pull request).

The base is small and consistent, and lints and plans with no finding (tested below):
models fraud-detector (pytorch, GPU; 2.4.0, 2.4.1, 2.4.2 yanked, 2.5.0 not deployed yet;
dependsOn text-embedder) and text-embedder (onnx, CPU; 1.1.0 deprecated, 1.2.0);
runtimes triton (24.05, 24.07) and torchserve (0.11.0); targets cpu-x86, l4-24g and
a100-80g; environments dev and prod (promotesFrom dev, protected); one deployment per
model, resolving to 2.4.1 and 1.2.0 in dev and prod. An example that needs more (a
freeze, a third model) adds it in its own `# file:` blocks.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import pytest
from conftest import RunCli
from gitrepo import git

from mlops_plan.rules import RULES

BASE = Path(__file__).parent / "rule_docs" / "base"
NOW = "2026-12-04T12:00:00Z"
INDENT = "    "
SECTIONS = ("Failing:", "Passing:")
DEFAULT_COMMAND = ("mlops-plan", "lint")


class Step(NamedTuple):
    """Write `content` to `path`, or (path None) run `command`."""

    path: str | None
    content: str
    command: tuple[str, ...]


def section(doc: str, header: str) -> list[str]:
    """The lines of one `Failing:`/`Passing:` section (empty when the doc has none)."""
    lines = doc.splitlines()
    if header not in lines:
        return []
    out: list[str] = []
    for line in lines[lines.index(header) + 1 :]:
        if line in SECTIONS:
            break
        out.append(line)
    return out


def parse_steps(lines: list[str]) -> list[Step]:
    """The steps of one section, in order; raises ValueError on text that is no step."""
    steps: list[Step] = []
    path: str | None = None
    body: list[str] = []

    def close() -> None:
        nonlocal path
        if path is not None:
            while body and not body[-1].strip():
                body.pop()
            if not body:
                raise ValueError(f"`# file: {path}` has no content")
            steps.append(Step(path, "\n".join(body) + "\n", ()))
        path = None
        body.clear()

    for line in lines:
        if line.strip() and not line.startswith(INDENT):  # prose
            close()
            continue
        text = line.removeprefix(INDENT)
        if text.startswith("# file: "):
            close()
            path = text.removeprefix("# file: ").strip()
            rel = PurePosixPath(path)
            if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                raise ValueError(f"`# file: {path}` must be a path inside the repository")
        elif text.startswith("$ "):
            close()
            steps.append(Step(None, "", tuple(shlex.split(text.removeprefix("$ ")))))
        elif path is not None:
            body.append(text.rstrip())
        elif text.strip():
            raise ValueError(f"indented text outside a `# file:` block: {text.strip()!r}")
    close()
    if not steps:
        raise ValueError("no `# file:` block and no `$ mlops-plan` command")
    return steps


def example(rule_id: str, header: str) -> list[Step]:
    lines = section(RULES[rule_id].doc, header)
    assert lines, f"{rule_id}'s docstring has no {header!r} section"
    try:
        return parse_steps(lines)
    except ValueError as exc:
        pytest.fail(f"{rule_id} {header} {exc}")


def base_repo(tmp_path: Path) -> Path:
    """A copy of the base repository, committed on branch `main`."""
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def cli_args(command: tuple[str, ...]) -> list[str]:
    assert command[:1] == ("mlops-plan",), f"not an mlops-plan command: {shlex.join(command)}"
    args = list(command[1:])
    if args[:1] in (["lint"], ["plan"]) and "--format" not in args:
        args += ["--format", "json"]
    return args


def run_steps(repo: Path, steps: list[Step], run_cli: RunCli) -> tuple[int, list[dict[str, Any]]]:
    """Run the steps; (exit code, findings) of the last command."""
    if not any(step.path is None for step in steps):
        steps = [*steps, Step(None, "", DEFAULT_COMMAND)]
    last = max(i for i, step in enumerate(steps) if step.path is None)
    for index, step in enumerate(steps):
        if step.path is not None:
            target = repo / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.content, encoding="utf-8")
            continue
        args = cli_args(step.command)
        result = run_cli(args, cwd=repo)
        if index < last:
            assert result.code == 0, f"$ {shlex.join(step.command)} exited {result.code}:\n" + (
                result.out + result.err
            )
            continue
        assert args[0] in ("lint", "plan"), "the last command must be `lint` or `plan`"
        assert result.err == "", result.err
        findings: list[dict[str, Any]] = json.loads(result.out)["findings"]
        return result.code, findings
    raise AssertionError("unreachable: the last step is a command")


def shown(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {f['file']}:{f['line']}:{f['col']}: {f['severity']} {f['rule']} {f['message']}"
        for f in findings
    )


def expected_code(findings: list[dict[str, Any]]) -> int:
    return 1 if any(f["severity"] == "error" for f in findings) else 0


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_PLAN_NOW", NOW)


RULE_IDS = sorted(RULES)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_failing_example_reports_the_rule(rule_id: str, tmp_path: Path, run_cli: RunCli) -> None:
    steps = example(rule_id, "Failing:")
    code, findings = run_steps(base_repo(tmp_path), steps, run_cli)
    assert any(f["rule"] == rule_id for f in findings), (
        f"{rule_id}'s failing example reports no {rule_id}; it reports:\n{shown(findings)}"
    )
    assert code == expected_code(findings)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_passing_example_reports_nothing(rule_id: str, tmp_path: Path, run_cli: RunCli) -> None:
    steps = example(rule_id, "Passing:")
    code, findings = run_steps(base_repo(tmp_path), steps, run_cli)
    assert findings == [], f"{rule_id}'s passing example reports:\n{shown(findings)}"
    assert code == 0


@pytest.mark.parametrize("command", ["lint", "plan --base main"])
def test_base_is_clean(command: str, tmp_path: Path, run_cli: RunCli) -> None:
    steps = [Step(None, "", ("mlops-plan", *command.split()))]
    code, findings = run_steps(base_repo(tmp_path), steps, run_cli)
    assert findings == [], shown(findings)
    assert code == 0


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_explain_prints_the_docstring(rule_id: str, run_cli: RunCli) -> None:
    rule = RULES[rule_id]
    result = run_cli(["explain", rule_id.lower()])
    assert result.code == 0
    heading = f"{rule.id} {rule.name} (default severity: {rule.severity})"
    assert result.out == f"{heading}\n\n{rule.doc}\n"
    assert result.err == ""


def test_explain_unknown_rule_is_a_one_line_error(run_cli: RunCli) -> None:
    result = run_cli(["explain", "MP999"])
    assert result.code == 1
    assert result.out == ""
    assert result.err == 'Error: unknown rule "MP999"\n'


def test_parse_steps() -> None:
    lines = [
        "Prose about the example.",
        "",
        "    # file: models/a.yaml",
        "    kind: Model",
        "",
        "      indented: yes",
        "",
        "    $ mlops-plan plan --base main --now 2026-12-22T10:00:00Z",
        "More prose.",
    ]
    assert parse_steps(lines) == [
        Step("models/a.yaml", "kind: Model\n\n  indented: yes\n", ()),
        Step(None, "", ("mlops-plan", "plan", "--base", "main", "--now", "2026-12-22T10:00:00Z")),
    ]
    with pytest.raises(ValueError, match="outside a `# file:` block"):
        parse_steps(["    # an explanation, but of which file?"])
    with pytest.raises(ValueError, match="inside the repository"):
        parse_steps(["    # file: ../escape.yaml", "    a: 1"])
    with pytest.raises(ValueError, match="no `# file:` block"):
        parse_steps(["Only prose."])
