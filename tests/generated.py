"""The benchmark's repository generator (benchmarks/generate.py), for tests that need a
realistic repository of any size: `generate(root, models=..., seed=...)`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("bench_generate", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_generate", module)
    spec.loader.exec_module(module)
    return module


generate = _load().generate
