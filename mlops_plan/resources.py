"""The data files that ship with mlops-plan: JSON Schemas and the built-in policy pack.

In a wheel, the top-level ``schemas/`` and ``policies/`` folders are mapped to
``mlops_plan/_data/`` (see ``force-include`` in pyproject.toml) and read here with
``importlib.resources``. In a source checkout or an editable install they are not under the
package, so the checkout's top-level folders are read instead.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from mlops_plan.errors import MlopsPlanError

PACKAGE = "mlops_plan"
DATA = "_data"
SCHEMAS = "schemas"
POLICIES = "policies"
_CHECKOUT = Path(__file__).resolve().parents[1]


def data_dir(folder: str) -> Traversable:
    """The packaged ``folder`` (schemas or policies), or the checkout's when not packaged."""
    packaged = files(PACKAGE) / DATA / folder
    if packaged.is_dir():
        return packaged
    checkout = _CHECKOUT / folder
    if checkout.is_dir():
        return checkout
    raise MlopsPlanError(
        f"mlops-plan's data folder {folder}/ is missing from the installation",
        hint="reinstall mlops-plan (the wheel ships it as mlops_plan/_data/)",
    )


def _files(folder: str, suffix: str) -> list[Traversable]:
    entries = [e for e in data_dir(folder).iterdir() if e.is_file() and e.name.endswith(suffix)]
    return sorted(entries, key=lambda e: e.name)


def schema_names() -> list[str]:
    """File names of the JSON Schemas, sorted: ``["Deployment.json", ..., "Model.json", ...]``."""
    return [e.name for e in _files(SCHEMAS, ".json")]


def schema_text(name: str) -> str:
    """The text of one JSON Schema, by file name as listed by `schema_names` (``Model.json``)."""
    if name not in schema_names():
        raise MlopsPlanError(
            f'no packaged JSON Schema named "{name}"',
            hint="known: " + ", ".join(schema_names()),
        )
    return (data_dir(SCHEMAS) / name).read_text(encoding="utf-8")


def policy_files() -> list[tuple[str, str]]:
    """``(file name, text)`` of every ``*.yaml`` in the built-in policy pack, sorted by name."""
    return [(e.name, e.read_text(encoding="utf-8")) for e in _files(POLICIES, ".yaml")]
