"""Regenerate schemas/ from mlops_plan/model.py (tests/test_schemas.py checks for drift)."""

import json
from pathlib import Path

from mlops_plan.model import schema_files

OUT = Path(__file__).resolve().parent.parent / "schemas"

for name, schema in schema_files().items():
    (OUT / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    print(f"wrote schemas/{name}")
