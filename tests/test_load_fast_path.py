"""The loader's fast construction (documents without anchors or merge keys) builds
exactly what PyYAML's general construction builds: the same values, the same duplicate
keys, the same errors at the same positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mlops_plan import load

ROOT = Path(__file__).resolve().parents[1]


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = load.load_documents("f.yaml", text)
    with monkeypatch.context() as patch:
        general = yaml.constructor.BaseConstructor.construct_document
        patch.setattr(load._Loader, "construct_document", general)
        slow = load.load_documents("f.yaml", text)
    return fast, slow


def same(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    fast, slow = both(text, monkeypatch)
    assert fast == slow
    # equal as values is not enough: 1 == 1.0 == True
    assert repr(fast) == repr(slow)
    return fast


CORPUS = sorted(
    {
        *ROOT.glob("examples/**/*.yaml"),
        *ROOT.glob("tests/fixtures/**/*.yaml"),
        *ROOT.glob("tests/fixtures/**/*.yml"),
    }
)


def test_the_corpus_is_large() -> None:
    assert len(CORPUS) > 100


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_project(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    same(path.read_text(errors="replace"), monkeypatch)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\nb: {c: 1, c: 2}\n",  # duplicates, nested too
        "1: a\n'1': b\ntrue: c\n1.0: d\n~: e\n",  # keys of different types
        "a: [1, 1.5, .inf, -.nan, 0x1F, 0o17, 1_000, +1, yes, no, on, off, null, ~]\n",
        "when: 2026-12-18T00:00:00Z\nday: 2027-01-04\nraw: !!binary aGVsbG8=\n",
        "s: !!str 1\ni: !!int '2'\nf: !!float '3'\n",
        "? [a, b]\n: 1\n",  # an unhashable key
        "{[a]: 1}\n",
        "a: !custom x\n",
        "a: !!python/object:os.system x\n",
        "a: !!int x\n",  # a value that fails its tag
        "a: !!set {x, y}\nb: !!omap [{x: 1}]\n",
        "--- 1\n--- [a]\n--- {a: b}\n---\n",
        "a: =\n",
        "a: 'x'\nb: \"y\\n\"\nc: |\n  block\nd: >\n  folded\n",
        "x: &a 1\ny: *a\n",  # anchors: the general path
        "base: &b {k: 1}\nm: {<<: *b, k: 2}\n",
    ],
)
def test_the_corners_of_yaml(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    same(text, monkeypatch)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["yes", "null", "1.0", "0x1F", "2026-01-01", "~", "=", "<<", "&x", "*x"]),
)
keys = st.one_of(st.text(max_size=8), st.integers(-3, 3), st.booleans())
data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


@given(value=data, flow=st.booleans(), duplicate=st.booleans())
def test_any_dumped_data(value: Any, flow: bool, duplicate: bool) -> None:
    text = yaml.safe_dump({"doc": value, "k": 1}, default_flow_style=flow, sort_keys=False)
    if duplicate:
        text += "k: 2\n" if not flow else ""
    with pytest.MonkeyPatch.context() as patch:
        same(text, patch)


def _full_bound(text: str) -> int:
    """The depth bound as first defined: brackets + deepest indentation + longest run."""
    import re

    flow = text.count("[") + text.count("{")
    indent = max((len(m) for m in re.findall(r"^ *", text, re.MULTILINE)), default=0)
    compact = max((len(m) for m in re.findall(r"(?:[-?:] +){2,}", text)), default=0)
    return flow + indent + compact + 1


@given(
    text=st.text(alphabet=" -?:[{a\n", max_size=300),
    depth=st.integers(0, 80),
    kind=st.sampled_from(["indent", "compact", "flow"]),
)
def test_the_quick_depth_check_decides_as_the_full_bound(text: str, depth: int, kind: str) -> None:
    deep = {"indent": " " * depth + "a", "compact": "- " * depth + "a", "flow": "[" * depth}[kind]
    for sample in (text, text + "\n" + deep, deep + "\n" + text):
        assert (load._depth_bound(sample) > load.MAX_DEPTH) == (
            _full_bound(sample) > load.MAX_DEPTH
        )
        assert load._depth_bound(sample) >= min(_full_bound(sample), load.MAX_DEPTH)


segments = st.sampled_from(["a", "b", "models", "x.yaml", "y.yml", ".hidden", "deep", "m.json"])
patterns = st.sampled_from(
    ["**/*.yaml", "*.yml", "models/", "a/**", "/b/*.yaml", "**/deep/**", "x.yaml", "m.*", "!a/*"]
)


@given(
    paths=st.lists(st.lists(segments, min_size=1, max_size=4).map("/".join), max_size=20),
    lines=st.lists(patterns, max_size=4),
)
def test_joined_include_patterns_match_as_pathspec_does(paths: list[str], lines: list[str]) -> None:
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    ours = load._compile(lines)
    for path in paths:
        assert ours.match_file(path) == spec.match_file(path), (lines, path)


IMPLICIT = [
    "1", "-1", "+1", "0x1F", "0o17", "017", "1_000", "1:30", "1.5", ".5", "1e3", "1.0e+3",
    ".inf", "-.Inf", ".NaN", "true", "True", "yes", "No", "on", "OFF", "y", "n", "null",
    "Null", "~", "", "2026-12-18", "2026-12-18T00:00:00Z", "2026-12-18 10:00:00 +1",
    "=", "<<", "a", "1.2.3", "0.11.0", "24.05", "~=2.4", "--", "0b101",
]  # fmt: skip


@pytest.mark.parametrize("value", IMPLICIT)
def test_remembered_tags_are_pyyaml_tags(value: str) -> None:
    """The tag memo answers as PyYAML's resolver does, the first time and after."""
    for text in (f"k: {value}\n", f"- {value}\n", f"{{x: [{value}]}}\n") * 2:
        if value in {"=", "<<"}:
            continue  # no constructor in the safe loader / a merge key: errors, below
        expected = yaml.load(text, Loader=yaml.CSafeLoader)
        docs, findings = load.load_documents("f.yaml", text)
        assert findings == []
        assert repr(docs) == repr([expected])


def test_remembered_tags_keep_pyyaml_errors() -> None:
    for text in ("k: =\n", "k: <<\n"):
        ours = load.load_documents("f.yaml", text)
        with pytest.raises(yaml.YAMLError):
            yaml.load(text, Loader=yaml.CSafeLoader)
        assert ours[0] == [] and ours[1][0].rule in {"MP001", "MP003"}
