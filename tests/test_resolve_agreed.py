"""Joint resolution skips resolvelib when the preferred versions already agree
(resolve._agreed); the outcome must be exactly resolvelib's, conflicts included."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from generated import generate
from hypothesis import given
from hypothesis import strategies as st

from mlops_plan import resolve
from mlops_plan.analysis import analyze

ROOT = Path(__file__).resolve().parents[1]


SPECS = [">=0", ">=1.0", "<1.0", "~=1.1", "~=2.0", ">=99", "!=1.0.0", None]


def outcome(root: Path) -> dict[str, tuple[Any, ...]]:
    resolution = analyze(root, use_cache=False).resolution
    return {
        address: (
            item.version.version if item.version is not None else None,
            item.conflict,
            item.pinned_by_lock,
        )
        for address, item in sorted(resolution.resolved.items())
    }


def mutate(root: Path, rng: random.Random, steps: int) -> None:
    """Rewrite dependsOn entries: other specifiers, other models, new edges."""
    models = sorted((root / "models").glob("*.yaml"))
    names = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in models]
    for _ in range(steps):
        path = rng.choice(models)
        data = yaml.safe_load(path.read_text())
        entry = rng.choice(data["spec"]["versions"])
        spec = rng.choice(SPECS)
        edge: dict[str, Any] = {"model": rng.choice(names)}
        if spec is not None:
            edge["version"] = spec
        else:
            edge["version"] = ">=0"
        if edge["model"] == data["metadata"]["name"]:
            continue  # a cycle is MP202's business, not this test's
        entry["dependsOn"] = [*(entry.get("dependsOn") or [])[:1], edge]
        path.write_text(yaml.safe_dump(data, sort_keys=False))


@given(seed=st.integers(0, 2**32), steps=st.integers(0, 12))
def test_agreeing_preferences_resolve_as_resolvelib_does(seed: int, steps: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        generate(root, models=16, seed=seed % 1000)
        mutate(root, random.Random(seed), steps)
        fast = outcome(root)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(resolve, "_agreed", lambda *args: None)
            slow = outcome(root)
        assert fast == slow


def test_the_shortcut_is_taken_and_conflicts_still_reach_resolvelib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken: list[bool] = []
    real = resolve._agreed

    def spy(*args: Any) -> Any:
        found = real(*args)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(resolve, "_agreed", spy)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        generate(root, models=16, seed=3)
        clean = outcome(root)
        assert taken and all(taken)  # a generated repository agrees everywhere
        assert not any(conflict for _, conflict, _ in clean.values())
        taken.clear()
        mutate(root, random.Random(5), 0)
        path = next(
            p for p in sorted((root / "models").glob("*.yaml")) if "dependsOn" in p.read_text()
        )
        path.write_text(path.read_text().replace('version: "~=', 'version: ">=99,~=', 1))
        broken = outcome(root)
        assert False in taken
        assert any(conflict for _, conflict, _ in broken.values())
