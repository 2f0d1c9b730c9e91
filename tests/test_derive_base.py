"""A plan's base derived from its head (incremental.derive_base) is the base a full
analysis gives: the same plan, byte for byte, for every kind of change."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from gitrepo import commit, edit, git

from mlops_plan import incremental, pipeline
from mlops_plan.analysis import analyze
from mlops_plan.plan import objects

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ml-platform"
NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)  # outside the example's freezes
FD = "deployments/fraud-detector.yaml"
TE = "models/text-embedder.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    commit(root, "base")
    return root


def add_deployment(root: Path) -> None:
    text = (root / FD).read_text()
    (root / "deployments/fraud-detector-2.yaml").write_text(
        text.replace("name: fraud-detector\n", "name: fraud-detector-2\n", 1)
    )


CHANGES: dict[str, Any] = {
    "replicas": lambda r: edit(r, FD, "replicas: 2", "replicas: 3"),
    "a pin": lambda r: edit(r, FD, 'staging: {version: "2.4.1"', 'staging: {version: "2.5.0"'),
    "a pin that does not resolve": lambda r: edit(
        r, FD, 'staging: {version: "2.4.1"', 'staging: {version: "9.9.9"'
    ),
    "a dependency's version": lambda r: edit(r, TE, '- version: "1.3.0"', '- version: "1.3.1"'),
    "a new deployment": add_deployment,
    "a deleted deployment": lambda r: (r / "deployments/churn-predictor.yaml").unlink(),
    "a deleted model": lambda r: (r / "models/churn-predictor.yaml").unlink(),
    "a runtime's image (shared)": lambda r: edit(
        r, "runtimes/triton.yaml", "tritonserver:24.05-py3", "tritonserver:24.05-py3-patched"
    ),
    "the configuration": lambda r: (r / "mlops-plan.yaml").write_text(
        (r / "mlops-plan.yaml").read_text() + "\n# edited\n"
    ),
    "nothing": lambda r: None,
}
DERIVED = {
    "replicas",
    "a pin",
    "a pin that does not resolve",
    "a dependency's version",
    "a new deployment",
    "a deleted deployment",
    "a deleted model",
    "nothing",
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_derived_base_plans_as_a_full_one(
    repo: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    CHANGES[change](repo)
    derived: list[bool] = []
    real = incremental.derive_base

    def spy(head: Any, source: Any) -> Any:
        found = real(head, source)
        derived.append(found is not None)
        return found

    monkeypatch.setattr(incremental, "derive_base", spy)
    fast = pipeline.plan(repo, base="HEAD", now=NOW)
    assert derived == [change in DERIVED]
    monkeypatch.setattr(incremental, "derive_base", lambda head, source: None)
    full = pipeline.plan(repo, base="HEAD", now=NOW)
    assert fast.to_json() == full.to_json()
    if change not in {"nothing", "the configuration"}:  # a comment: no plan change
        assert fast.resource_changes or fast.registry_changes or fast.findings


@pytest.mark.parametrize("change", sorted(DERIVED - {"nothing"}))
def test_the_derived_analysis_equals_the_full_one(repo: Path, change: str) -> None:
    from mlops_plan import vcs

    CHANGES[change](repo)
    head = analyze(repo)
    source = vcs.base_source(head.repo.root, "HEAD")
    derived = incremental.derive_base(head, source)
    assert derived is not None and derived is not head
    full = analyze(vcs.base_source(head.repo.root, "HEAD"))
    assert derived.loaded.findings == full.loaded.findings
    assert derived.loaded.repo.origins == full.loaded.repo.origins
    assert derived.loaded.docs == full.loaded.docs
    for kind in ("Model", "Deployment", "Runtime", "Environment"):
        assert derived.repo.of_kind(kind) == full.repo.of_kind(kind)
    assert derived.deployments == full.deployments
    assert objects(derived) == objects(full)
    assert {a: r.verdicts for a, r in derived.resolution.resolved.items()} == {
        a: r.verdicts for a, r in full.resolution.resolved.items()
    }
