"""The built wheel, installed into a fresh virtualenv and run from another folder.

Slow (a wheel build, a venv and a pip install from the package index): the module builds
and installs once and every test below uses that installation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest

from mlops_plan import __version__

CHECKOUT = Path(__file__).resolve().parents[1]
BIN = "Scripts" if sys.platform == "win32" else "bin"


class Installed(NamedTuple):
    wheel: Path
    python: Path
    script: Path
    env: dict[str, str]


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )


def checked(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args} exited {done.returncode}:\n{done.stdout}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH"}
    }
    env |= {"PIP_CACHE_DIR": str(root / "pip-cache"), "PIP_NO_INPUT": "1", "NO_COLOR": "1"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = root / "dist"
    checked(
        run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, CHECKOUT, cwd=root, env=env)
    )
    (wheel,) = dist.glob("*.whl")
    venv = root / "venv"
    checked(run(sys.executable, "-m", "venv", venv, cwd=root, env=env))
    python = venv / BIN / "python"
    checked(run(python, "-m", "pip", "install", wheel, cwd=root, env=env))
    env["PATH"] = os.pathsep.join([str(venv / BIN), env.get("PATH", "")])
    return Installed(wheel, python, venv / BIN / "mlops-plan", env)


def test_wheel_carries_schemas_and_policies(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    for schema in (CHECKOUT / "schemas").glob("*.json"):
        assert f"mlops_plan/_data/schemas/{schema.name}" in names
    for policy in (CHECKOUT / "policies").iterdir():
        assert f"mlops_plan/_data/policies/{policy.name}" in names
    assert "mlops_plan/_data/schemas/Model.json" in names
    assert not [n for n in names if n.startswith(("schemas/", "policies/", "tests/"))]


def test_version(installed: Installed, tmp_path: Path) -> None:
    out = checked(run(installed.script, "--version", cwd=tmp_path, env=installed.env))
    assert out == f"mlops-plan {__version__}\n"


def test_lint_quickstart_from_another_folder(installed: Installed, tmp_path: Path) -> None:
    example = shutil.copytree(CHECKOUT / "examples" / "quickstart", tmp_path / "quickstart")
    done = run(installed.script, "lint", example, cwd=tmp_path, env=installed.env)
    out = checked(done)
    assert re.fullmatch(r"\d+ files? checked: 0 errors, 0 warnings\.", out.splitlines()[-1]), out


def test_resources_read_from_site_packages(installed: Installed, tmp_path: Path) -> None:
    code = (
        "import json, mlops_plan, mlops_plan.resources as r;"
        "print(json.dumps({'package': mlops_plan.__file__, 'dir': str(r.data_dir('schemas')),"
        "'schemas': r.schema_names(), 'model': r.schema_text('Model.json'),"
        "'policies': [name for name, _ in r.policy_files()]}))"
    )
    found = json.loads(checked(run(installed.python, "-c", code, cwd=tmp_path, env=installed.env)))
    package = Path(found["package"]).parent
    assert "site-packages" in package.parts
    assert not package.is_relative_to(CHECKOUT)
    assert Path(found["dir"]) == package / "_data" / "schemas"
    assert found["schemas"] == sorted(p.name for p in (CHECKOUT / "schemas").glob("*.json"))
    assert "Model.json" in found["schemas"]
    assert found["model"] == (CHECKOUT / "schemas" / "Model.json").read_text(encoding="utf-8")
    assert found["policies"] == sorted(p.name for p in (CHECKOUT / "policies").glob("*.yaml"))
