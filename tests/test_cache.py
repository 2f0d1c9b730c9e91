"""The parse cache: content-addressed, invalidated by content, never trusted blindly."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_plan.analysis import load_repository
from mlops_plan.cache import ParseCache, cache_dir
from mlops_plan.cli import main

MODEL = """\
apiVersion: mlops-plan/v1
kind: Model
metadata: {name: m}
spec:
  framework: onnx
  versions:
    - version: "1.0.0"
      artifact: {uri: s3://m/1.0.0, digest: sha256:%s}
"""


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    (root / "mlops-plan.yaml").write_text("")
    (root / "models/m.yaml").write_text(MODEL % ("a" * 64))
    (root / "models/n.yaml").write_text((MODEL % ("b" * 64)).replace("name: m", "name: n"))
    return root


def test_a_second_run_reads_parsed_files_from_the_cache(tmp_path: Path) -> None:
    root = repo(tmp_path)
    first = load_repository(root)
    cache = ParseCache(root)
    assert cache.get("missing") is None
    second = load_repository(root)
    assert sorted(second.repo.models) == sorted(first.repo.models) == ["m", "n"]
    assert second.findings == first.findings == []
    assert len(list(cache_dir().glob("parse-*.cache"))) >= 1


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    root = repo(tmp_path)
    assert main(["lint", str(root)]) == 0
    (root / "models/m.yaml").write_text((MODEL % ("a" * 64)).replace('"1.0.0"', "1.0"))
    assert main(["lint", str(root)]) == 1  # the float version is found: not a stale answer


def test_findings_keep_the_path_of_the_file_they_are_in(tmp_path: Path) -> None:
    root = repo(tmp_path)
    bad = "apiVersion: mlops-plan/v1\nkind: [\n"
    (root / "a.yaml").write_text(bad)
    load_repository(root)
    (root / "a.yaml").unlink()
    (root / "b.yaml").write_text(bad)  # same content, another path: the cached entry
    findings = load_repository(root).findings
    assert [(f.rule, f.file, f.line) for f in findings] == [("MP001", "b.yaml", 3)]


def _reopen() -> None:
    """Forget the caches this process opened, so the next run reads the file."""
    from mlops_plan import cache

    cache._OPEN.clear()


@pytest.mark.parametrize("damage", [b"", b"not a cache", b"\xff" * 40, "truncated"])
def test_a_damaged_cache_file_is_ignored(tmp_path: Path, damage: bytes | str) -> None:
    root = repo(tmp_path)
    load_repository(root)
    path = ParseCache(root).path
    path.write_bytes(path.read_bytes()[:-7] if damage == "truncated" else damage)  # type: ignore[index]
    _reopen()
    loaded = load_repository(root)
    assert sorted(loaded.repo.models) == ["m", "n"]
    assert loaded.findings == []


def test_a_damaged_entry_is_parsed_again(tmp_path: Path) -> None:
    import marshal

    root = repo(tmp_path)
    load_repository(root)
    path = ParseCache(root).path
    header, entries = marshal.loads(path.read_bytes())
    path.write_bytes(marshal.dumps((header, {key: b"m\x00garbage" for key in entries})))
    _reopen()
    assert sorted(load_repository(root).repo.models) == ["m", "n"]


def test_a_cached_timestamp_survives(tmp_path: Path) -> None:
    """marshal cannot hold a datetime: such an entry is pickled, and read back the same."""
    root = repo(tmp_path)
    (root / "environments").mkdir()
    (root / "environments/prod.yaml").write_text(
        "apiVersion: mlops-plan/v1\nkind: Environment\nmetadata: {name: prod}\n"
        "spec:\n  freezes:\n"
        "    - {start: 2026-12-18T00:00:00Z, end: 2027-01-04T00:00:00Z, reason: r}\n"
    )
    first = load_repository(root)
    _reopen()
    second = load_repository(root)
    assert second.docs == first.docs
    freeze = second.repo.environments["prod"].spec.freezes[0]
    assert freeze.start.year == 2026 and freeze.start.tzinfo is not None


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh"))
    root = repo(tmp_path)
    assert main(["lint", str(root), "--no-cache"]) == 0
    assert not (tmp_path / "fresh").exists()
    assert main(["lint", str(root)]) == 0
    assert (tmp_path / "fresh").exists()
