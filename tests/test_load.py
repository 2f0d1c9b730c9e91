"""Unit tests of mlops_plan/load.py: discovery, safe reading and parsing, positions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_plan import load
from mlops_plan.errors import PathError
from mlops_plan.findings import Anchor, Finding, Severity
from mlops_plan.load import Locator, RawDoc

WriteRepo = Callable[..., Path]
HEADER = "apiVersion: mlops-plan/v1\n"


def finding(
    rule: str,
    file: str,
    line: int | None,
    col: int | None,
    message: str,
    hint: str | None = None,
) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity.ERROR,
        file=file,
        line=line,
        col=col,
        message=message,
        hint=hint,
    )


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """A mlops-plan document whose aliases expand to width**levels strings."""
    lines = [HEADER.rstrip("\n"), "kind: Model", "metadata: {name: laughs}"]
    lines.append("x-a0: &a0 [" + ", ".join(['"lol"'] * width) + "]")
    for level in range(1, levels + 1):
        alias = f"*a{level - 1}"
        lines.append(f"x-a{level}: &a{level} [" + ", ".join([alias] * width) + "]")
    return "\n".join(lines) + "\n"


def run_isolated(code: str, stdin: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter limited to 1 GiB of address space.

    A crash of libyaml (a segfault) or a runaway expansion then fails this one test
    instead of killing the test run.
    """
    prelude = textwrap.dedent(
        """
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from mlops_plan import load
        """
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


PARSE_IN_CHILD = """
docs, findings = load.parse("x.yaml", sys.stdin.read())
print(json.dumps({"docs": len(docs), "findings": [f.model_dump(mode="json") for f in findings]}))
"""


# --- find_root ---------------------------------------------------------------------------


def test_find_root_is_the_nearest_folder_with_a_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "platform").mkdir()
    (tmp_path / "platform" / "mlops-plan.yaml").write_text("")
    deep = tmp_path / "platform" / "models" / "risk"
    deep.mkdir(parents=True)
    assert load.find_root(deep) == (tmp_path / "platform").resolve()
    assert load.find_root(tmp_path / "platform") == (tmp_path / "platform").resolve()


def test_find_root_stops_at_a_git_folder_or_file(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "models").mkdir()
    assert load.find_root(tmp_path / "repo" / "models") == (tmp_path / "repo").resolve()
    # worktrees and submodules have a `.git` file, not a folder
    (tmp_path / "worktree" / "models").mkdir(parents=True)
    (tmp_path / "worktree" / ".git").write_text("gitdir: ../repo/.git/worktrees/w\n")
    assert load.find_root(tmp_path / "worktree" / "models") == (tmp_path / "worktree").resolve()


def test_find_root_of_a_file_starts_at_its_folder(tmp_path: Path) -> None:
    (tmp_path / "mlops-plan.yaml").write_text("")
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "fraud.yaml"
    model.write_text(HEADER)
    assert load.find_root(model) == tmp_path.resolve()


def test_find_root_without_any_marker_is_the_folder_itself(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    markers = [
        p
        for p in folder.resolve().parents
        if (p / ".git").exists() or (p / "mlops-plan.yaml").is_file()
    ]
    if markers:
        pytest.skip(f"{markers[0]} above tmp_path is a repository")
    assert load.find_root(folder) == folder.resolve()


def test_find_root_of_a_missing_path_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(PathError) as caught:
        load.find_root(missing)
    assert caught.value.message == f"{missing}: no such file or directory"
    assert caught.value.exit_code == 1


# --- discover ----------------------------------------------------------------------------

DEFAULT_INCLUDE = list(load.DEFAULT_INCLUDE)


def test_discover_default_patterns_sorted(tmp_path: Path, write_repo: WriteRepo) -> None:
    write_repo(
        tmp_path,
        {
            "b.yaml": "",
            "a.yaml": "",
            "a/z.yml": "",
            "a/b/c.yaml": "",
            "A.yaml": "",
            "README.md": "",
            "schema.json": "",
            "models/fraud.yaml.bak": "",
            "models/fraud.YAML": "",
        },
    )
    files, findings = load.discover(tmp_path, DEFAULT_INCLUDE, [])
    assert findings == []
    # plain string order: '.' (0x2e) sorts before '/' (0x2f), upper case before lower
    assert files == ["A.yaml", "a.yaml", "a/b/c.yaml", "a/z.yml", "b.yaml", "mlops-plan.yaml"]


def test_discover_skips_vcs_and_tool_folders(tmp_path: Path, write_repo: WriteRepo) -> None:
    write_repo(
        tmp_path,
        {
            ".git/config.yaml": "",
            ".hg/x.yaml": "",
            ".svn/x.yaml": "",
            ".mlops-plan/state.yaml": "",
            "node_modules/pkg/x.yaml": "",
            "models/__pycache__/x.yaml": "",
            "models/.git/x.yaml": "",
            ".github/workflows/ci.yaml": "",
            "models/fraud.yaml": "",
        },
        config=None,
    )
    files, _ = load.discover(tmp_path, ["**/*"], [])
    assert files == [".github/workflows/ci.yaml", "models/fraud.yaml"]


def test_discover_include_and_exclude(tmp_path: Path, write_repo: WriteRepo) -> None:
    write_repo(
        tmp_path,
        {
            "declarations/models/fraud.yaml": "",
            "declarations/models/churn.yml": "",
            "declarations/rendered/prod/fraud.yaml": "",
            "declarations/targets/gpu.yaml": "",
            ".github/workflows/ci.yaml": "",
            "scratch/draft.yaml": "",
        },
        config=None,
    )
    files, _ = load.discover(tmp_path, ["declarations/**/*.yaml"], ["declarations/rendered/**"])
    assert files == ["declarations/models/fraud.yaml", "declarations/targets/gpu.yaml"]
    files, _ = load.discover(tmp_path, DEFAULT_INCLUDE, [".github/**", "scratch/"])
    assert files == [
        "declarations/models/churn.yml",
        "declarations/models/fraud.yaml",
        "declarations/rendered/prod/fraud.yaml",
        "declarations/targets/gpu.yaml",
    ]


def test_discover_refuses_symlinks_out_of_the_root(tmp_path: Path, write_repo: WriteRepo) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(HEADER)
    repo = write_repo(tmp_path / "repo", {"models/real.yaml": HEADER})
    (repo / "models" / "link.yaml").symlink_to(outside / "secret.yaml")
    (repo / "models" / "inner.yaml").symlink_to(repo / "models" / "real.yaml")
    (repo / "models" / "dangling.yaml").symlink_to(repo / "models" / "missing.yaml")
    (repo / "linked-folder").symlink_to(outside, target_is_directory=True)
    files, findings = load.discover(repo, DEFAULT_INCLUDE, [])
    assert files == ["mlops-plan.yaml", "models/inner.yaml", "models/real.yaml"]
    assert findings == [
        finding(
            "MP003",
            "models/link.yaml",
            None,
            None,
            "symlink points outside the repository; refused",
            "copy the file into the repository or exclude the link",
        )
    ]
    # an excluded link is not even looked at
    files, findings = load.discover(repo, DEFAULT_INCLUDE, ["models/link.yaml"])
    assert findings == []


# --- read_text ---------------------------------------------------------------------------


def test_read_text_plain_and_bom(tmp_path: Path, write_repo: WriteRepo) -> None:
    write_repo(
        tmp_path,
        {
            "plain.yaml": "kind: Model\n",
            "bom.yaml": b"\xef\xbb\xbfkind: Model\nname: caf\xc3\xa9\n",
        },
    )
    assert load.read_text(tmp_path, "plain.yaml") == "kind: Model\n"
    assert load.read_text(tmp_path, "bom.yaml") == "kind: Model\nname: café\n"


def test_read_text_size_limit(
    tmp_path: Path, write_repo: WriteRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 16)
    write_repo(tmp_path, {"ok.yaml": "x" * 16, "big.yaml": "x" * 17})
    assert load.read_text(tmp_path, "ok.yaml") == "x" * 16
    assert load.read_text(tmp_path, "big.yaml") == finding(
        "MP003",
        "big.yaml",
        None,
        None,
        "file is 17 bytes, over the 16-byte limit",
        "split it into several files",
    )


def test_read_text_real_size_limit(tmp_path: Path, write_repo: WriteRepo) -> None:
    assert load.MAX_FILE_BYTES == 2 * 1024 * 1024
    write_repo(tmp_path, {"big.yaml": HEADER + "#" * load.MAX_FILE_BYTES})
    result = load.read_text(tmp_path, "big.yaml")
    assert isinstance(result, Finding)
    assert (result.rule, result.line, result.col) == ("MP003", None, None)
    assert result.message == f"file is {len(HEADER) + 2097152} bytes, over the 2097152-byte limit"


def test_read_text_binary(tmp_path: Path, write_repo: WriteRepo) -> None:
    write_repo(tmp_path, {"model.yaml": HEADER.encode() + b"\x00\x01\x02PK\x03\x04"})
    assert load.read_text(tmp_path, "model.yaml") == finding(
        "MP001", "model.yaml", None, None, "binary file (contains NUL bytes), not YAML"
    )


@pytest.mark.parametrize(
    ("content", "line", "col", "byte"),
    [
        pytest.param(b"\xffapiVersion: x\n", 1, 1, 0xFF, id="first-byte"),
        pytest.param(
            b"apiVersion: mlops-plan/v1\nkind: Model\nmetadata: {name: caf\xe9}\n",
            3,
            21,
            0xE9,
            id="latin-1",
        ),
        pytest.param(b"a: 1\r\nb: \x80\r\n", 2, 4, 0x80, id="crlf"),
        pytest.param(b"a: 1\nb: 2\n\xc3", 3, 1, 0xC3, id="truncated-at-end"),
    ],
)
def test_read_text_not_utf8(
    tmp_path: Path, write_repo: WriteRepo, content: bytes, line: int, col: int, byte: int
) -> None:
    write_repo(tmp_path, {"latin1.yaml": content})
    assert load.read_text(tmp_path, "latin1.yaml") == finding(
        "MP001",
        "latin1.yaml",
        line,
        col,
        f"not valid UTF-8 (byte 0x{byte:02x})",
        "save the file as UTF-8",
    )


def test_read_text_not_utf8_column_counts_characters(tmp_path: Path, write_repo: WriteRepo) -> None:
    write_repo(
        tmp_path,
        {"m.yaml": b"apiVersion: mlops-plan/v1\nkind: Model\nmetadata: {name: caf\xc3\xa9\xff}\n"},
    )
    result = load.read_text(tmp_path, "m.yaml")
    assert isinstance(result, Finding)
    assert (result.line, result.col) == (3, 22)


def test_read_text_missing_file(tmp_path: Path) -> None:
    assert load.read_text(tmp_path, "gone.yaml") == finding(
        "MP001", "gone.yaml", None, None, "cannot read file: No such file or directory"
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200))
def test_read_text_never_raises(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "f.yaml").write_bytes(content)
    result = load.read_text(tmp_path, "f.yaml")
    if isinstance(result, str):
        assert result == content.decode("utf-8-sig")
        return
    assert result.rule == "MP001"
    if result.line is not None:  # not UTF-8: the position is that of the first bad byte
        assert result.col is not None
        with pytest.raises(UnicodeDecodeError) as caught:
            content.decode("utf-8-sig")
        bad = caught.value.start
        line_start = content.rfind(b"\n", 0, bad) + 1
        assert result.line == content.count(b"\n", 0, bad) + 1
        # columns count characters, as for every other finding
        assert result.col == len(content[line_start:bad].decode("utf-8", errors="replace")) + 1


# --- parse -------------------------------------------------------------------------------


def test_parse_skips_files_that_are_not_mlops_plan() -> None:
    assert load.parse("chart/templates/x.yaml", "{{- if .Values.enabled }}\nkind: [\n") == ([], [])
    assert load.parse("ci.yaml", "name: ci\non: [push]\n") == ([], [])


def test_parse_multi_document_indices_count_every_document() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: v1
        kind: ConfigMap
        ---
        ---
        apiVersion: mlops-plan/v1
        kind: HardwareTarget
        metadata: {name: cpu}
        ---
        - not a mapping
        ---
        apiVersion: mlops-plan/v1
        kind: Environment
        metadata: {name: prod}
        ...
        """
    )
    docs, findings = load.parse("all.yaml", text)
    assert findings == []
    assert docs == [
        RawDoc(
            "all.yaml",
            2,
            {"apiVersion": "mlops-plan/v1", "kind": "HardwareTarget", "metadata": {"name": "cpu"}},
        ),
        RawDoc(
            "all.yaml",
            4,
            {"apiVersion": "mlops-plan/v1", "kind": "Environment", "metadata": {"name": "prod"}},
        ),
    ]


def test_parse_keeps_yaml_types() -> None:
    text = HEADER + "a: 1.10\nb: '1.10'\nc: yes\nd: 017\ne: ~\nf: 2026-01-04\n"
    docs, findings = load.parse("x.yaml", text)
    assert findings == []
    data = docs[0].data
    assert (data["a"], data["b"], data["c"], data["d"], data["e"]) == (1.1, "1.10", True, 15, None)
    assert str(data["f"]) == "2026-01-04"


def test_parse_duplicate_keys_keep_the_first() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: mlops-plan/v1
        kind: HardwareTarget
        metadata:
          name: first
          name: second
        spec: {arch: x86_64, arch: aarch64, accelerator: cpu}
        """
    )
    docs, findings = load.parse("t.yaml", text)
    assert docs[0].data["metadata"] == {"name": "first"}
    assert docs[0].data["spec"] == {"arch": "x86_64", "accelerator": "cpu"}
    hint = "remove or rename one of them; YAML keeps only one"
    assert findings == [
        finding("MP002", "t.yaml", 5, 3, 'duplicate key "name" in one mapping', hint),
        finding("MP002", "t.yaml", 6, 22, 'duplicate key "arch" in one mapping', hint),
    ]


def test_parse_unhashable_key() -> None:
    assert load.parse("x.yaml", HEADER + "? [a, b]\n: 1\n") == (
        [],
        [finding("MP001", "x.yaml", 2, 3, "while constructing a mapping: found an unhashable key")],
    )


@pytest.mark.parametrize(
    ("value", "col", "tag"),
    [
        (
            '!!python/object/apply:os.system ["true"]',
            4,
            "tag:yaml.org,2002:python/object/apply:os.system",
        ),
        ("!!python/name:os.system", 4, "tag:yaml.org,2002:python/name:os.system"),
        ("[1, !!python/tuple [a]]", 8, "tag:yaml.org,2002:python/tuple"),
        ("!foo bar", 4, "!foo"),
        ("!<tag:example.com,2000:app/x> bar", 4, "tag:example.com,2000:app/x"),
    ],
)
def test_parse_refuses_custom_tags(value: str, col: int, tag: str) -> None:
    assert load.parse("x.yaml", HEADER + f"x: {value}\n") == (
        [],
        [
            finding(
                "MP003",
                "x.yaml",
                2,
                col,
                f"custom tag '{tag}'",
                "mlops-plan documents use plain YAML only; remove the tag",
            )
        ],
    )


def test_parse_does_not_run_python_tags(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    text = HEADER + f'x: !!python/object/apply:os.system ["touch {target}"]\n'
    docs, findings = load.parse("x.yaml", text)
    assert docs == []
    assert [f.rule for f in findings] == ["MP003"]
    assert not target.exists()


def test_parse_accepts_modest_anchors_and_aliases() -> None:
    text = HEADER + "owners: &o [a, b]\nx-copy: *o\nx-more: [*o, *o]\n"
    docs, findings = load.parse("x.yaml", text)
    assert findings == []
    assert docs[0].data["x-copy"] == ["a", "b"]
    assert docs[0].data["x-more"] == [["a", "b"], ["a", "b"]]


def test_parse_refuses_a_billion_laughs_with_bounded_memory() -> None:
    text = billion_laughs()
    tracemalloc.start()
    try:
        docs, findings = load.parse("bomb.yaml", text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert docs == []
    assert findings == [
        finding(
            "MP003",
            "bomb.yaml",
            1,
            1,
            "document expands to over 100000 nodes through 81 aliases "
            "(a 'billion laughs' bomb?); refused",
            "write the values out instead of using anchors and aliases",
        )
    ]
    assert peak < 16 * 1024 * 1024  # 9**9 strings would take gigabytes


def test_parse_billion_laughs_in_a_fresh_process(tmp_path: Path) -> None:
    """The same bomb under a 1 GiB address-space limit: refused, not expanded."""
    result = run_isolated(PARSE_IN_CHILD, billion_laughs(), tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["docs"] == 0
    assert [(f["rule"], f["line"], f["col"]) for f in report["findings"]] == [("MP003", 1, 1)]


def test_parse_refuses_too_many_aliases() -> None:
    text = HEADER + "a: &a x\nb: [" + ", ".join(["*a"] * (load.MAX_ALIASES + 1)) + "]\n"
    docs, findings = load.parse("x.yaml", text)
    assert docs == []
    assert [(f.rule, f.line, f.col) for f in findings] == [("MP003", 1, 1)]
    assert f"through {load.MAX_ALIASES + 1} aliases" in findings[0].message
    within = HEADER + "a: &a x\nb: [" + ", ".join(["*a"] * (load.MAX_ALIASES - 1)) + "]\n"
    assert load.parse("x.yaml", within)[1] == []


@pytest.mark.parametrize(
    "nesting",
    [
        pytest.param("[" * 100_000, id="unclosed-brackets"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="closed-brackets"),
        pytest.param("{a: " * 50_000 + "[" * 50_000, id="mixed"),
    ],
)
def test_parse_refuses_deep_nesting_without_crashing(tmp_path: Path, nesting: str) -> None:
    """100,000 levels used to crash libyaml's recursive composer (a segfault)."""
    result = run_isolated(PARSE_IN_CHILD, HEADER + "x: " + nesting + "\n", tmp_path)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    assert report["docs"] == 0
    assert len(report["findings"]) == 1
    reported = report["findings"][0]
    assert (reported["rule"], reported["line"], reported["message"]) == (
        "MP003",
        2,
        "nesting deeper than 64 levels",
    )


def test_parse_deep_nesting_position() -> None:
    # the document mapping is level 1: the 64th bracket opens level 65
    text = HEADER + "x: " + "[" * 100_000 + "\n"
    assert load.parse("deep.yaml", text) == (
        [],
        [
            finding(
                "MP003", "deep.yaml", 2, 67, "nesting deeper than 64 levels", "flatten the document"
            )
        ],
    )


def test_parse_nesting_limit_is_exact() -> None:
    at_limit = HEADER + "x: " + "[" * 63 + "]" * 63 + "\n"
    docs, findings = load.parse("x.yaml", at_limit)
    assert findings == []
    assert len(docs) == 1
    over = HEADER + "x: " + "[" * 64 + "]" * 64 + "\n"
    assert [(f.rule, f.line, f.col) for f in load.parse("x.yaml", over)[1]] == [("MP003", 2, 67)]


def test_parse_deep_block_sequences() -> None:
    text = HEADER + "x:\n" + "- " * 70 + "bottom\n"
    assert [(f.rule, f.line, f.col) for f in load.parse("x.yaml", text)[1]] == [("MP003", 3, 127)]


def test_parse_deep_block_mappings_with_one_space_indent() -> None:
    """Block nesting one level per column: the cheap depth bound must still catch it."""
    lines = [HEADER.rstrip("\n"), "kind: Model", "metadata: {name: x}", "spec:"]
    lines += [" " * (level + 1) + f"k{level}:" for level in range(100)]
    lines.append(" " * 101 + "v: 1")
    docs, findings = load.parse("deep.yaml", "\n".join(lines) + "\n")
    assert docs == []
    assert findings == [
        finding(
            "MP003", "deep.yaml", 68, 65, "nesting deeper than 64 levels", "flatten the document"
        )
    ]


def test_parse_merge_key_override_is_not_a_duplicate() -> None:
    """An explicit key overrides a merged (<<) one: YAML merge semantics, no MP002."""
    text = HEADER + "base: &base {team: risk, tier: gold}\nlabels:\n  <<: *base\n  tier: silver\n"
    docs, findings = load.parse("x.yaml", text)
    assert findings == []
    assert docs[0].data["labels"] == {"team": "risk", "tier": "silver"}
    assert docs[0].data["base"] == {"team": "risk", "tier": "gold"}


def test_parse_merge_keys_earlier_maps_win_and_explicit_duplicates_are_found() -> None:
    text = HEADER + "labels:\n  <<: [{a: 1, b: 1}, {a: 2, c: 2}]\n  b: 3\n  b: 4\n"
    docs, findings = load.parse("x.yaml", text)
    assert docs[0].data["labels"] == {"a": 1, "b": 3, "c": 2}
    assert findings == [
        finding(
            "MP002",
            "x.yaml",
            5,
            3,
            'duplicate key "b" in one mapping',
            "remove or rename one of them; YAML keeps only one",
        )
    ]


@pytest.mark.parametrize(
    ("value", "col", "message"),
    [
        ("2026-02-30", 4, "invalid timestamp value '2026-02-30'"),
        ("2026-13-01T00:00:00Z", 4, "invalid timestamp value '2026-13-01T00:00:00Z'"),
        ("[1, 2026-02-30]", 8, "invalid timestamp value '2026-02-30'"),
        ("!!int abc", 4, "invalid int value 'abc'"),
        ("!!int ''", 4, "invalid int value ''"),
        ("!!float abc", 4, "invalid float value 'abc'"),
        ("!!bool maybe", 4, "invalid bool value 'maybe'"),
        ("!!timestamp soon", 4, "invalid timestamp value 'soon'"),
        ("!!set [a]", 4, "tag:yaml.org,2002:set needs a mapping"),
        ("!!map [a]", 4, "tag:yaml.org,2002:map needs a mapping"),
        ("!!seq {a: 1}", 4, "expected a sequence node, but found mapping"),
    ],
)
def test_parse_bad_scalars_are_findings(value: str, col: int, message: str) -> None:
    """Values PyYAML's constructors reject with a plain Python error: a finding, no crash."""
    assert load.parse("x.yaml", HEADER + f"x: {value}\n") == (
        [],
        [finding("MP001", "x.yaml", 2, col, message)],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "kind: [\n", ("MP001", 3, 1)),
        (HEADER + "kind: Model\n  bad: 1\n", ("MP001", 3, 6)),
        (HEADER + "metadata:\n\tname: x\n", ("MP001", 3, 1)),
        (HEADER + 'x: "unterminated\n', ("MP001", 3, 1)),
        (HEADER + "x: *undefined\n", ("MP001", 2, 4)),
    ],
)
def test_parse_syntax_errors(text: str, expected: tuple[str, int, int]) -> None:
    docs, findings = load.parse("x.yaml", text)
    assert docs == []
    assert [(f.rule, f.line, f.col) for f in findings] == [expected]


def test_parse_tab_message() -> None:
    _, findings = load.parse("x.yaml", HEADER + "metadata:\n\tname: x\n")
    assert findings == [
        finding(
            "MP001",
            "x.yaml",
            3,
            1,
            "a tab character where YAML expects spaces",
            "YAML indents with spaces: replace the tab",
        )
    ]


# Any document PyYAML's safe dumper writes is read exactly as PyYAML's safe loader reads it:
# no false duplicate, tag, alias or nesting findings on ordinary data.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.dates()
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150)
@given(
    data=st.dictionaries(st.text(max_size=10), VALUES, max_size=5),
    flow=st.booleans(),
    unicode=st.booleans(),
)
def test_parse_reads_what_safe_dump_writes(data: dict[str, Any], flow: bool, unicode: bool) -> None:
    document = {"apiVersion": "mlops-plan/v1", "kind": "Model", **data}
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=unicode)
    docs, findings = load.parse("x.yaml", text)
    assert findings == []
    assert [d.data for d in docs] == [yaml.load(text, Loader=yaml.CSafeLoader)]


# --- Locator -----------------------------------------------------------------------------

RUNTIME = """\
# a comment line
apiVersion: mlops-plan/v1
kind: Runtime
metadata:
  name: triton
spec:
  supportedFormats: [onnx, pytorch]
  versions:
    - version: 1.10   # YAML reads 1.1
      image: nvcr.io/nvidia/tritonserver:24.10-py3
      provides: {python: 3.10, cuda: "12.4"}
    - version: "24.05"
      image: y
---
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata: {name: cpu}
spec: {arch: x86_64, accelerator: cpu}
"""


@pytest.fixture
def locator() -> Locator:
    return Locator(Path("/nonexistent"), {"r.yaml": RUNTIME})


@pytest.mark.parametrize(
    ("doc", "path", "key", "position", "token"),
    [
        (0, (), False, (2, 1), "apiVersion: mlops-plan/v1"),
        (0, ("metadata", "name"), False, (5, 9), "triton"),
        (0, ("metadata", "name"), True, (5, 3), "name: triton"),
        # a mapping or list value is located at its key
        (0, ("metadata",), False, (4, 1), "metadata:"),
        (0, ("spec", "versions"), False, (8, 3), "versions:"),
        # list items
        (0, ("spec", "supportedFormats", 1), False, (7, 28), "pytorch"),
        (0, ("spec", "versions", 0), False, (9, 7), "version: 1.10"),
        (0, ("spec", "versions", 1), False, (12, 7), 'version: "24.05"'),
        # scalars: the token is the source text, before YAML turned it into a number
        (0, ("spec", "versions", 0, "version"), False, (9, 16), "1.10"),
        (0, ("spec", "versions", 0, "provides", "python"), False, (11, 26), "3.10"),
        (0, ("spec", "versions", 0, "provides", "cuda"), False, (11, 38), '"12.4"'),
        # a path that does not exist: the deepest node found
        (0, ("spec", "versions", 0, "missing"), False, (9, 7), "version: 1.10"),
        (0, ("spec", "versions", 7, "version"), False, (8, 3), "versions:"),
        (0, ("spec", "versions", 1, "image", "deeper"), False, (13, 14), "y"),
        # the second document
        (1, (), False, (15, 1), "apiVersion: mlops-plan/v1"),
        (1, ("metadata", "name"), False, (17, 18), "cpu"),
        (1, ("spec", "accelerator"), False, (18, 35), "cpu"),
    ],
)
def test_locator_positions(
    locator: Locator,
    doc: int,
    path: tuple[str | int, ...],
    key: bool,
    position: tuple[int, int],
    token: str,
) -> None:
    anchor = Anchor("r.yaml", doc, path, key)
    assert locator.position(anchor) == position
    assert locator.token(anchor) == token


def test_locator_unknown_document_or_file(locator: Locator, tmp_path: Path) -> None:
    assert locator.position(Anchor("r.yaml", 2, ())) == (None, None)
    assert locator.token(Anchor("r.yaml", 2, ())) is None
    assert Locator(tmp_path).position(Anchor("missing.yaml", 0, ())) == (None, None)


def test_locator_reads_files_from_the_root(tmp_path: Path, write_repo: WriteRepo) -> None:
    write_repo(tmp_path, {"models/m.yaml": b"\xef\xbb\xbf" + RUNTIME.encode()})
    located = Locator(tmp_path)
    anchor = Anchor("models/m.yaml", 0, ("spec", "versions", 0, "version"))
    assert located.position(anchor) == (9, 16)
    assert located.token(anchor) == "1.10"


def test_locator_crlf_line_endings() -> None:
    located = Locator(Path("/nonexistent"), {"w.yaml": RUNTIME.replace("\n", "\r\n")})
    anchor = Anchor("w.yaml", 0, ("spec", "versions", 0, "version"))
    assert located.position(anchor) == (9, 16)
    assert located.token(anchor) == "1.10"


def test_locator_duplicate_keys_point_at_the_kept_value() -> None:
    text = HEADER + "kind: Model\nmetadata:\n  name: Bad_Name\n  name: good\n"
    located = Locator(Path("/nonexistent"), {"d.yaml": text})
    assert load.parse("d.yaml", text)[0][0].data["metadata"]["name"] == "Bad_Name"
    assert located.position(Anchor("d.yaml", 0, ("metadata", "name"))) == (4, 9)


def test_locator_empty_value_is_located_at_its_key() -> None:
    """DESIGN §3: the value, or the key when the value is missing (not the next key)."""
    text = HEADER + "kind: Model\nmetadata:\n  name:\n  labels: {team: risk}\n"
    located = Locator(Path("/nonexistent"), {"e.yaml": text})
    assert located.position(Anchor("e.yaml", 0, ("metadata", "name"))) == (4, 3)
