"""mlops_plan.resources: the packaged data folder first, the checkout's folders otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_plan import resources
from mlops_plan.errors import MlopsPlanError

CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture
def packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake installed package: `files("mlops_plan")` is tmp_path, with an `_data/` folder."""
    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    data = tmp_path / "_data"
    (data / "schemas").mkdir(parents=True)
    (data / "policies" / "nested").mkdir(parents=True)
    (data / "schemas" / "Zeta.json").write_text('{"title": "Zeta"}', encoding="utf-8")
    (data / "schemas" / "Alpha.json").write_text('{"title": "Alpha"}', encoding="utf-8")
    (data / "schemas" / "notes.txt").write_text("not a schema", encoding="utf-8")
    (data / "policies" / "b.yaml").write_text("kind: Policy # b\n", encoding="utf-8")
    (data / "policies" / "a.yaml").write_text("kind: Policy # a\n", encoding="utf-8")
    (data / "policies" / "README.md").write_text("docs\n", encoding="utf-8")
    (data / "policies" / "nested" / "c.yaml").write_text("kind: Policy # c\n", encoding="utf-8")
    return data


def test_schema_names_are_the_checkouts_schemas() -> None:
    expected = sorted(p.name for p in (CHECKOUT / "schemas").glob("*.json"))
    assert resources.schema_names() == expected
    assert "Model.json" in expected
    assert "mlops-plan.yaml.json" in expected


def test_schema_text_is_the_file_text() -> None:
    text = resources.schema_text("Model.json")
    assert text == (CHECKOUT / "schemas" / "Model.json").read_text(encoding="utf-8")
    assert json.loads(text)["type"] == "object"


def test_unknown_schema_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(MlopsPlanError, match=r'no packaged JSON Schema named "Modle.json"') as exc:
        resources.schema_text("Modle.json")
    assert exc.value.hint is not None
    assert "Model.json" in exc.value.hint


def test_policy_files_are_yaml_texts_sorted() -> None:
    expected = sorted(p.name for p in (CHECKOUT / "policies").glob("*.yaml"))
    assert [name for name, _ in resources.policy_files()] == expected


def test_packaged_data_wins_over_the_checkout(packaged: Path) -> None:
    assert resources.data_dir("schemas") == packaged / "schemas"
    assert resources.schema_names() == ["Alpha.json", "Zeta.json"]
    assert resources.schema_text("Zeta.json") == '{"title": "Zeta"}'


def test_packaged_policy_files_only_top_level_yaml_sorted(packaged: Path) -> None:
    assert resources.policy_files() == [
        ("a.yaml", "kind: Policy # a\n"),
        ("b.yaml", "kind: Policy # b\n"),
    ]


def test_missing_data_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "files", lambda package: tmp_path / "site-packages")
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path / "checkout")
    with pytest.raises(MlopsPlanError, match=r"data folder schemas/ is missing") as exc:
        resources.schema_names()
    assert exc.value.hint is not None
    assert "reinstall" in exc.value.hint
