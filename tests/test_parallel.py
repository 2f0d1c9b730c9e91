"""Work on two cores gives exactly what it gives on one, and a failing worker never
loses a finding.

The parallel paths only start on large repositories; these tests lower the thresholds
so that small, readable repositories take them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mlops_plan import analysis, policies
from mlops_plan.analysis import analyze, parse_many, rule_findings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ml-platform"

FILES = {
    "model.yaml": (EXAMPLE / "models" / "text-embedder.yaml").read_text(),
    # an unquoted timestamp: marshal cannot carry a datetime, so this one goes by pickle
    "env.yaml": "apiVersion: mlops-plan/v1\nkind: Environment\nmetadata: {name: e}\n"
    "spec:\n  freezes:\n    - {start: 2026-12-18T00:00:00Z, end: 2027-01-04}\n",
    "broken.yaml": "apiVersion: mlops-plan/v1\nkind: [\n",
    "twice.yaml": "apiVersion: mlops-plan/v1\nkind: Model\nkind: Model\n",
    "other.yaml": "not: ours\n",
    "two.yaml": "apiVersion: mlops-plan/v1\nkind: Model\n---\napiVersion: mlops-plan/v1\nkind: X\n",
}


def test_parsing_in_workers_equals_parsing_here(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [(rel, "", text) for rel, text in sorted(FILES.items())] * 3
    monkeypatch.setattr(analysis, "PARALLEL_MIN_FILES", 1_000_000)
    here = parse_many(items)
    monkeypatch.setattr(analysis, "PARALLEL_MIN_FILES", 0)
    workers = parse_many(items)
    assert [w[:4] for w in workers] == [h[:4] for h in here]  # (+ the packed bytes)
    rules = {f.rule for _, found, *_ in here for f in found}
    assert {"MP001", "MP002"} <= rules  # findings made the trip too
    env = here[[rel for rel, _, _ in items].index("env.yaml")][0]
    start = env[0].data["spec"]["freezes"][0]["start"]
    assert start.year == 2026 and start.tzinfo is not None


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    path = root / "deployments" / "fraud-detector.yaml"
    # a policy finding (prod-min-replicas) and a rule finding (MP301) to compare
    text = path.read_text().replace("replicas: 6,", "replicas: 1,", 1)
    path.write_text(text.replace('staging: {version: "2.4.1"', 'staging: {version: "9.9.9"', 1))
    return root


def _findings(root: Path) -> list[tuple[str, str, int | None, str]]:
    found = rule_findings(analyze(root, use_cache=False))
    return [(f.rule, f.file, f.line, f.message) for f in found]


def test_policies_in_a_child_equal_policies_here(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis, "PARALLEL_MIN_DEPLOYMENTS", 1_000_000)
    here = _findings(repo)
    monkeypatch.setattr(analysis, "PARALLEL_MIN_DEPLOYMENTS", 0)
    assert _findings(repo) == here
    assert {"policy/prod-min-replicas", "MP301"} <= {rule for rule, *_ in here}


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_failing_child_is_redone_here(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr(analysis, "PARALLEL_MIN_DEPLOYMENTS", 1_000_000)
    here = _findings(repo)
    parent = os.getpid()
    evaluate = policies.evaluate

    def flaky(*args: object) -> object:
        if os.getpid() != parent:
            if how == "dies":
                os._exit(3)
            raise MemoryError
        return evaluate(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(policies, "evaluate", flaky)
    monkeypatch.setattr(analysis, "PARALLEL_MIN_DEPLOYMENTS", 0)
    assert _findings(repo) == here


def test_files_read_and_parsed_by_workers_equal_files_read_here(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "binary.yaml").write_bytes(b"apiVersion: mlops-plan/v1\n\0")
    (repo / "broken.yaml").write_text("apiVersion: mlops-plan/v1\nkind: Model\nspec: [\n")
    (repo / "bad.yaml").write_text(FILES["model.yaml"].replace('"1.2.0"', "1.2", 1))

    def everything() -> tuple[object, ...]:
        found = analyze(repo, use_cache=False)
        loaded = found.loaded
        rules = [(f.rule, f.file, f.line, f.col) for f in rule_findings(found)]
        return (loaded.findings, sorted(loaded.repo.models), loaded.docs, rules)

    monkeypatch.setattr(analysis, "PARALLEL_MIN_FILES", 1_000_000)
    here = everything()
    monkeypatch.setattr(analysis, "PARALLEL_MIN_FILES", 0)
    assert everything() == here
    parse_rules = {(f.rule, f.file) for f in here[0]}  # type: ignore[attr-defined]
    assert {
        ("MP001", "binary.yaml"),
        ("MP001", "broken.yaml"),
        ("MP101", "bad.yaml"),
    } <= parse_rules
