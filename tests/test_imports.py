"""Dependency direction: a module imports only modules to its left (STYLE.md), and each
third-party library has one home."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mlops_plan"

# left to right; modules in one layer may import each other
LAYERS: list[set[str]] = [
    {"__init__", "findings", "errors", "secrets", "resources", "files"},
    {"load", "cache"},
    {"model"},
    {"validate"},
    {"effective"},
    {"resolve"},
    {"vcs"},
    {"graph"},
    {"rules"},
    {"policies", "suppress"},
    {"analysis"},
    {"plan", "incremental"},
    {"plan_rules", "explain", "status"},
    {"state"},
    {"render"},
    {"providers"},
    {"apply"},
    {"pipeline"},
    {"cli", "__main__"},
]
HOMES = {
    "ruamel": {"load"},
    "yaml": {"load", "providers"},
    "jsonschema": {"validate"},
    "networkx": {"graph", "status", "apply"},
    "git": {"vcs"},
    "deepdiff": {"plan"},
    "typer": {"cli", "render"},
    "cel_expr_python": {"policies"},
    "psycopg": {"state"},
    "rich": {"cli", "render"},
    "resolvelib": {"resolve"},
}


def _layer(module: str) -> int:
    top = module.split(".")[0]
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    raise AssertionError(f"module {module} has no layer in tests/test_imports.py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            if node.module == "mlops_plan":
                names.extend(f"mlops_plan.{alias.name}" for alias in node.names)
    return names


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        out.append((rel.removesuffix(".__init__") if rel != "__init__" else rel, path))
    return out


def test_dependencies_point_left() -> None:
    wrong = []
    for module, path in _modules():
        mine = _layer(module)
        for name in _imports(path):
            if not name.startswith("mlops_plan."):
                continue
            target = name.removeprefix("mlops_plan.")
            if target.startswith("__version__"):
                target = "__init__"
            if target.split(".")[0] == module.split(".")[0]:
                continue
            if _layer(target) > mine:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_each_library_has_one_home() -> None:
    wrong = []
    for module, path in _modules():
        top = module.split(".")[0]
        for name in _imports(path):
            library = name.split(".")[0]
            if library in HOMES and top not in HOMES[library]:
                wrong.append(f"{module} imports {library}")
    assert wrong == []
