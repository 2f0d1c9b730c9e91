"""DESIGN §8: every malformed input gets a finding or a one-line error, exit 1, no traceback.

Each case goes through the real command line, `mlops_plan.cli.main(["lint", ...])`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

WriteRepo = Callable[..., Path]
RunCli = Callable[..., Any]

HEADER = "apiVersion: mlops-plan/v1\n"
TARGET = (
    HEADER
    + "kind: HardwareTarget\nmetadata: {name: cpu-x86}\nspec: {arch: x86_64, accelerator: cpu}\n"
)
TAG_HINT = "    hint: mlops-plan documents use plain YAML only; remove the tag"


def billion_laughs() -> str:
    lines = [HEADER.rstrip("\n"), "kind: Model", "metadata: {name: laughs}"]
    lines.append("x-a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]")
    for level in range(1, 10):
        lines.append(f"x-a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def lint(run_cli: RunCli, repo: Path) -> tuple[int, str, str]:
    code, out, err = run_cli(["lint", str(repo)])
    assert "Traceback" not in out
    assert "Traceback" not in err
    return code, out, err


CASES: list[Any] = [
    pytest.param(
        {"models/m.yaml": HEADER + "kind: Model\nmetadata: {name: m\nspec: {}\n"},
        [
            "models/m.yaml:4:5: error MP001 while parsing a flow mapping: "
            "did not find expected ',' or '}'"
        ],
        id="broken-yaml",
    ),
    pytest.param(
        {"models/m.yaml": HEADER + "kind: Model\nmetadata:\n\tname: m\n"},
        [
            "models/m.yaml:4:1: error MP001 a tab character where YAML expects spaces",
            "    hint: YAML indents with spaces: replace the tab",
        ],
        id="tabs",
    ),
    pytest.param(
        {"t.yaml": TARGET + "metadata: {name: again}\n"},
        [
            't.yaml:5:1: error MP002 duplicate key "metadata" in one mapping',
            "    hint: remove or rename one of them; YAML keeps only one",
        ],
        id="duplicate-keys",
    ),
    pytest.param(
        {"m.yaml": HEADER + 'kind: Model\nx-run: !!python/object/apply:os.system ["true"]\n'},
        [
            "m.yaml:3:8: error MP003 custom tag 'tag:yaml.org,2002:python/object/apply:os.system'",
            TAG_HINT,
        ],
        id="python-tag",
    ),
    pytest.param(
        {"m.yaml": HEADER + "kind: Model\nspec: !Ref ModelSpec\n"},
        ["m.yaml:3:7: error MP003 custom tag '!Ref'", TAG_HINT],
        id="unknown-tag",
    ),
    pytest.param(
        {"bomb.yaml": billion_laughs()},
        [
            "bomb.yaml:1:1: error MP003 document expands to over 100000 nodes through 81 "
            "aliases (a 'billion laughs' bomb?); refused",
            "    hint: write the values out instead of using anchors and aliases",
        ],
        id="alias-bomb",
    ),
    pytest.param(
        {"big.yaml": TARGET + "# padding\n" * 220_000},
        [
            "big.yaml: error MP003 file is 2200112 bytes, over the 2097152-byte limit",
            "    hint: split it into several files",
        ],
        id="over-size",
    ),
    pytest.param(
        {"model.yaml": HEADER.encode() + b"kind: Model\n\x00\x00\x00\x89PNG\r\n\x1a\n"},
        ["model.yaml: error MP001 binary file (contains NUL bytes), not YAML"],
        id="binary",
    ),
    pytest.param(
        {
            "m.yaml": HEADER.encode()
            + b"kind: Model\nmetadata: {name: m, labels: {team: r\xe9seau}}\n"
        },
        [
            "m.yaml:3:37: error MP001 not valid UTF-8 (byte 0xe9)",
            "    hint: save the file as UTF-8",
        ],
        id="non-utf8",
    ),
    pytest.param(
        {"deep.yaml": HEADER + "kind: Model\nx-deep: " + "[" * 100_000 + "\n"},
        [
            "deep.yaml:3:72: error MP003 nesting deeper than 64 levels",
            "    hint: flatten the document",
        ],
        id="deep-nesting",
    ),
    pytest.param(
        {"m.yaml": "apiVersion: mlops-plan/v2\nkind: Model\nmetadata: {name: m}\n"},
        [
            'm.yaml:1:13: error MP102 unknown apiVersion "mlops-plan/v2"',
            '    hint: this version of mlops-plan reads apiVersion "mlops-plan/v1"',
        ],
        id="unknown-api-version",
    ),
    pytest.param(
        {"a.yaml": TARGET, "b.yaml": TARGET},
        [
            'b.yaml:3:18: error MP103 duplicate HardwareTarget "cpu-x86": first declared at '
            "a.yaml:3:18",
            "    hint: rename one of them: names are unique per kind",
        ],
        id="duplicate-names",
    ),
    pytest.param(
        {"t.yaml": TARGET.replace("{name: cpu-x86}", '{name: "../../etc/passwd"}')},
        [
            't.yaml:3:18: error MP101 metadata.name: "../../etc/passwd" is not a valid name',
            "    hint: names are DNS-1123 labels: lowercase letters, digits and '-', starting "
            'and ending with a letter or digit, at most 63 characters (e.g. "etc-passwd")',
        ],
        id="name-escaping-a-folder",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_bad_input_is_a_finding(
    tmp_path: Path,
    write_repo: WriteRepo,
    run_cli: RunCli,
    files: dict[str, str | bytes],
    expected: list[str],
) -> None:
    repo = write_repo(tmp_path / "repo", files)
    code, out, err = lint(run_cli, repo)
    lines = out.splitlines()
    errors = sum(1 for line in expected if not line.startswith(" "))
    noun = "error" if errors == 1 else "errors"
    assert lines[:-1] == expected
    checked = sum(1 for name in files if name.endswith((".yaml", ".yml")))
    assert (
        lines[-1]
        == f"{checked} file{'' if checked == 1 else 's'} checked: {errors} {noun}, 0 warnings."
    )
    assert err == ""
    assert code == 1


def test_python_tag_runs_nothing(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    marker = tmp_path / "pwned"
    repo = write_repo(
        tmp_path / "repo",
        {
            "m.yaml": HEADER
            + f'kind: Model\nx-run: !!python/object/apply:os.system ["touch {marker}"]\n'
        },
    )
    code, out, _ = lint(run_cli, repo)
    assert code == 1
    assert "error MP003 custom tag" in out
    assert not marker.exists()


def test_symlink_out_of_the_repository_is_refused(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.yaml").write_text(TARGET.replace("cpu-x86", "secret"))
    repo = write_repo(tmp_path / "repo", {"targets/cpu.yaml": TARGET})
    (repo / "targets" / "link.yaml").symlink_to(elsewhere / "secret.yaml")
    code, out, err = lint(run_cli, repo)
    assert out == (
        "targets/link.yaml: error MP003 symlink points outside the repository; refused\n"
        "    hint: copy the file into the repository or exclude the link\n"
        "1 file checked: 1 error, 0 warnings.\n"  # the refused link is not read
    )
    assert (code, err) == (1, "")


def test_a_missing_path_is_one_line_on_stderr(tmp_path: Path, run_cli: RunCli) -> None:
    missing = tmp_path / "no" / "such" / "repo"
    code, out, err = lint(run_cli, missing)
    assert (code, out) == (1, "")
    assert err == f"Error: {missing}: no such file or directory\n"


def test_empty_and_comment_only_files_are_fine(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {
            "empty.yaml": "",
            "comments.yaml": "# apiVersion: mlops-plan/v1\n",
            "dashes.yaml": "---\n",
        },
    )
    code, out, err = lint(run_cli, repo)
    assert (code, out, err) == (0, "3 files checked: 0 errors, 0 warnings.\n", "")


# --- values PyYAML cannot construct, the config files, special files -------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "invalid timestamp value '2026-02-30'"),
        ("2026-13-45", "invalid timestamp value '2026-13-45'"),
        ("!!int abc", "invalid int value 'abc'"),
        ("!!bool maybe", "invalid bool value 'maybe'"),
        ("!!timestamp soon", "invalid timestamp value 'soon'"),
        ("!!set [a]", "tag:yaml.org,2002:set needs a mapping"),
    ],
)
def test_impossible_scalars_are_findings(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, value: str, message: str
) -> None:
    text = (
        HEADER + "kind: Environment\nmetadata: {name: prod}\nspec:\n  freezes:\n"
        f"    - {{start: {value}, end: 2027-01-04, reason: typo}}\n"
    )
    repo = write_repo(tmp_path / "repo", {"prod.yaml": text})
    assert lint(run_cli, repo) == (
        1,
        f"prod.yaml:6:15: error MP001 {message}\n1 file checked: 1 error, 0 warnings.\n",
        "",
    )


def run_in_child(repo: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """lint in a fresh interpreter, so that a crash (segfault) or a hang fails one test."""
    return subprocess.run(
        [sys.executable, "-m", "mlops_plan", "lint", str(repo)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("name", ["mlops-plan.yaml", "mlops-plan.lock"])
def test_deep_nesting_in_config_files(tmp_path: Path, write_repo: WriteRepo, name: str) -> None:
    """The config and the lockfile get the checks of every other file (this used to segfault)."""
    repo = write_repo(
        tmp_path / "repo", {"mlops-plan.yaml": "", name: "x: " + "[" * 100_000 + "\n"}
    )
    result = run_in_child(repo)
    assert (result.returncode, result.stderr) == (1, ""), result.stderr[-2000:]
    assert result.stdout == (
        f"{name}:1:67: error MP003 nesting deeper than 64 levels\n"
        "    hint: flatten the document\n"
        "0 files checked: 1 error, 0 warnings.\n"
    )


@pytest.mark.parametrize("name", ["mlops-plan.yaml", "mlops-plan.lock"])
def test_alias_bomb_in_config_files(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, name: str
) -> None:
    repo = write_repo(tmp_path / "repo", {"mlops-plan.yaml": "", name: billion_laughs()})
    assert lint(run_cli, repo) == (
        1,
        f"{name}:1:1: error MP003 document expands to over 100000 nodes through 81 aliases "
        "(a 'billion laughs' bomb?); refused\n"
        "    hint: write the values out instead of using anchors and aliases\n"
        "0 files checked: 1 error, 0 warnings.\n",
        "",
    )


def test_config_with_two_documents(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    repo = write_repo(
        tmp_path / "repo", {"mlops-plan.yaml": 'include: ["**/*.yaml"]\n---\nexclude: []\n'}
    )
    assert lint(run_cli, repo) == (
        1,
        "mlops-plan.yaml: error MP001 mlops-plan.yaml must hold one YAML document\n"
        "0 files checked: 1 error, 0 warnings.\n",
        "",
    )


def test_a_fifo_is_not_read(tmp_path: Path, write_repo: WriteRepo) -> None:
    """A FIFO named *.yaml used to block lint forever: only regular files are read."""
    repo = write_repo(tmp_path / "repo", {"t.yaml": TARGET})
    os.mkfifo(repo / "pipe.yaml")
    result = run_in_child(repo, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "1 file checked: 0 errors, 0 warnings.\n",
        "",
    )


# --- known bugs ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlops-plan.yaml", "mlops-plan.lock"])
def test_config_files_symlinked_out_of_the_repository_are_refused(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, name: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secrets.yaml").write_text("DATABASE_PASSWORD: hunter2\n")
    repo = write_repo(tmp_path / "repo", {"t.yaml": TARGET}, config=None)
    if name != "mlops-plan.yaml":
        (repo / "mlops-plan.yaml").write_text("")
    (repo / name).symlink_to(elsewhere / "secrets.yaml")
    code, out, err = lint(run_cli, repo)
    assert "DATABASE_PASSWORD" not in out + err
    assert out.startswith(f"{name}: error MP003 symlink points outside the repository; refused\n")
    assert code == 1


def test_a_tab_before_a_comment_keeps_positions(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    text = (
        HEADER + "kind: Runtime\nmetadata: {name: triton}\nspec:\n  supportedFormats: [onnx]\n"
        "  versions:\n    - version: 1.10\t# a tab, then a comment\n      image: x:1\n"
    )
    repo = write_repo(tmp_path / "repo", {"r.yaml": text})
    assert lint(run_cli, repo) == (
        1,
        "r.yaml:7:16: error MP101 spec.versions[0].version: expected a string, got the "
        "number 1.10\n"
        '    hint: quote it: "1.10" (YAML reads an unquoted 1.10 as a number; versions are '
        "always strings)\n"
        "1 file checked: 1 error, 0 warnings.\n",
        "",
    )


def test_an_unknown_name_hints_at_a_file_that_does_not_parse(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    deployment = (
        HEADER + "kind: Deployment\nmetadata: {name: d}\n"
        "spec: {model: m, runtime: r, target: t, environments: {dev: {}}}\n"
    )
    broken = HEADER + "kind: Environment\nmetadata: {name: dev\n"
    repo = write_repo(tmp_path / "repo", {"d.yaml": deployment, "env.yaml": broken})
    code, out, _ = run_cli(["lint", str(repo)])
    assert code == 1
    lines = [line for line in out.splitlines() if "unknown environment" in line]
    assert len(lines) == 1
    hint = out.splitlines()[out.splitlines().index(lines[0]) + 1]
    assert hint.endswith("(or it is declared in a file that does not parse: env.yaml)")
