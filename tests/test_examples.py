"""Every example repository lints clean, and the README's example commands run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_plan.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/mlops-plan.yaml"))


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"quickstart", "ml-platform"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_lints_clean(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(example), "--strict"]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"\d+ files checked: 0 errors, 0 warnings\.\n", out), out


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_plans_and_locks(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    copy = tmp_path / example.name
    shutil.copytree(example, copy)
    assert main(["plan", str(copy), "--no-color"]) == 0
    assert "to add, 0 to change, 0 to destroy." in capsys.readouterr().out
    assert main(["lock", str(copy)]) == 0
    assert main(["lint", str(copy), "--locked"]) == 0
    assert main(["status", str(copy)]) == 0


def _readme_commands() -> list[list[str]]:
    """`mlops-plan …` lines of README code blocks that run on the bundled examples."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("mlops-plan ") and "examples/" in line:
                commands.append(line.split()[1:])
    return commands


@pytest.mark.parametrize("args", _readme_commands(), ids=" ".join)
def test_readme_example_commands_run(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(args) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_readme_has_commands() -> None:
    assert len(_readme_commands()) >= 4
