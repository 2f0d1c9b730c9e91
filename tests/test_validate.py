"""MP101 messages and positions from mlops_plan/validate.py, through `lint --format json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

WriteRepo = Callable[..., Path]
RunCli = Callable[..., Any]

HEADER = "apiVersion: mlops-plan/v1\nkind: HardwareTarget\n"
SPEC = "spec: {arch: x86_64, accelerator: cpu}\n"


def findings(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, text: str
) -> list[tuple[int | None, int | None, str, str, str | None]]:
    repo = write_repo(tmp_path / "repo", {"t.yaml": text})
    code, out, err = run_cli(["lint", "--format", "json", str(repo)])
    assert err == ""
    report = json.loads(out)
    assert code == (1 if report["summary"]["errors"] else 0)
    return [(f["line"], f["col"], f["rule"], f["message"], f["hint"]) for f in report["findings"]]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    text = HEADER + "metadata: {name: cpu, colour: red}\n" + SPEC
    assert findings(tmp_path, write_repo, run_cli, text) == [
        (
            3,
            23,
            "MP101",
            'unknown key "colour" in metadata',
            'allowed here: name, labels, annotations; extension keys start with "x-"',
        )
    ]


def test_unknown_top_level_key(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    text = HEADER + "metadata: {name: cpu}\n" + SPEC + "specs: {}\n"
    assert findings(tmp_path, write_repo, run_cli, text) == [
        (5, 1, "MP101", 'unknown key "specs"', 'did you mean "spec"?')
    ]


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Fraud Detector!", "fraud-detector"),
        ("gpu.a100", "gpu-a100"),
        ("_", None),
    ],
)
def test_invalid_name_suggests_a_dns_label(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, name: str, suggestion: str | None
) -> None:
    text = HEADER + f'metadata: {{name: "{name}"}}\n' + SPEC
    hint = (
        "names are DNS-1123 labels: lowercase letters, digits and '-', starting and ending "
        "with a letter or digit, at most 63 characters"
    )
    if suggestion:
        hint += f' (e.g. "{suggestion}")'
    assert findings(tmp_path, write_repo, run_cli, text) == [
        (3, 18, "MP101", f'metadata.name: "{name}" is not a valid name', hint)
    ]


def test_a_broken_document_does_not_hide_the_others(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    text = (
        HEADER
        + "metadata: {name: a}\nspec: {arch: sparc, accelerator: cpu}\n---\n"
        + HEADER
        + "metadata: {name: b}\nspec: {arch: x86_64, accelerator: tpu}\n"
    )
    assert findings(tmp_path, write_repo, run_cli, text) == [
        (
            4,
            14,
            "MP101",
            "spec.arch: \"sparc\" is not allowed; input should be 'x86_64' or 'aarch64'",
            None,
        ),
        (
            9,
            35,
            "MP101",
            "spec.accelerator: \"tpu\" is not allowed; input should be 'gpu' or 'cpu'",
            None,
        ),
    ]


# --- keys that are not strings ------------------------------------------------------------


def test_integer_label_key(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    text = HEADER + "metadata: {name: cpu, labels: {team: risk, 7: x}}\n" + SPEC
    assert findings(tmp_path, write_repo, run_cli, text) == [
        (3, 44, "MP101", 'invalid key "7" in metadata.labels', None)
    ]


@pytest.mark.xfail(
    strict=True,
    reason="validate._data_path cannot find a null or float key (pydantic reports it as the "
    "string 'None' / '1.5'): the finding says 'invalid key \"labels\" in metadata', at labels",
)
@pytest.mark.parametrize("key", ["~", "1.5"])
def test_null_or_float_label_key(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, key: str
) -> None:
    text = HEADER + f"metadata: {{name: cpu, labels: {{{key}: x}}}}\n" + SPEC
    found = findings(tmp_path, write_repo, run_cli, text)
    assert [(line, col, rule) for line, col, rule, _, _ in found] == [(3, 32, "MP101")]
    assert found[0][3].endswith(" in metadata.labels")


@pytest.mark.xfail(
    strict=True,
    reason="a non-string key in an object (`1: y`) is reported as '[1]: keys should be "
    "strings' (a list index), at its value instead of its key",
)
def test_integer_key_in_a_document(tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli) -> None:
    text = HEADER + "metadata: {name: cpu}\n" + SPEC + "1: y\n"
    found = findings(tmp_path, write_repo, run_cli, text)
    assert [(line, col, rule) for line, col, rule, _, _ in found] == [(5, 1, "MP101")]
    assert "[1]" not in found[0][3]


@pytest.mark.xfail(
    strict=True,
    reason="duplicate-key detection compares keys as Python values: `1` and `true` (or `1` "
    "and `1.0`), distinct YAML keys, are reported as a duplicate 'True' (MP002)",
)
@pytest.mark.parametrize("keys", ["{1: a, true: b}", "{1: a, 1.0: b}"])
def test_keys_equal_only_in_python_are_not_duplicates(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli, keys: str
) -> None:
    text = HEADER + f"metadata: {{name: cpu, labels: {keys}}}\n" + SPEC
    found = findings(tmp_path, write_repo, run_cli, text)
    assert [rule for _, _, rule, _, _ in found] == ["MP101", "MP101"]
