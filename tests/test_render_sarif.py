"""Tests of mlops_plan/render/sarif.py: a golden file, and the official SARIF 2.1.0 schema.

`tests/data/sarif-2.1.0.json` is the OASIS schema (errata01, as published in
oasis-tcs/sarif-spec `Schemata/sarif-schema-2.1.0.json`). Regenerate the golden files
with `UPDATE_GOLDEN=1 python -m pytest tests/test_render_sarif.py`.
"""

from __future__ import annotations

import copy
import json
import os
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mlops_plan import __version__, pipeline
from mlops_plan.findings import Finding, Severity, summarize
from mlops_plan.pipeline import LintResult
from mlops_plan.render import sarif
from mlops_plan.rules import RULES
from mlops_plan.rules.base import Rule

WriteRepo = Callable[..., Path]
GOLDEN = Path(__file__).parent / "golden" / "sarif"
SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0.json"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@cache
def validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator().iter_errors(document)
    ]


def finding(
    rule: str,
    severity: Severity,
    file: str,
    line: int | None,
    col: int | None,
    message: str,
    hint: str | None = None,
) -> Finding:
    return Finding(
        rule=rule, severity=severity, file=file, line=line, col=col, message=message, hint=hint
    )


FINDINGS = [
    finding(
        "MP201",
        Severity.ERROR,
        "deployments/fraud detector.yaml",
        12,
        7,
        'unknown model "fraud-detecter"',
        'did you mean "fraud-detector"?',
    ),
    finding("MP305", Severity.WARNING, "models/embedder.yaml", 9, None, "1.1.0 is deprecated"),
    finding("MP003", Severity.ERROR, "models/huge.yaml", None, None, "file is over the limit"),
    finding(
        "policy/prod-min-replicas",
        Severity.INFO,
        "deployments/ranker.yaml",
        16,
        5,
        "deployment.prod.ranker: prod deployments need at least 2 replicas",
    ),
]
RESULT = LintResult(root=Path("/repo"), findings=FINDINGS, summary=summarize(FINDINGS, 4))
CATALOG = {
    rule.id: rule
    for rule in (
        Rule("MP003", "unsafe-yaml", Severity.ERROR, "Unsafe input.\n\nMore words.", None),
        Rule("MP201", "unknown-reference", Severity.ERROR, "A name that does not exist.", None),
        Rule("MP305", "deprecated", Severity.WARNING, "A deprecated version is deployed.", None),
    )
}


def test_golden() -> None:
    document = sarif.document(RESULT, CATALOG)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    check_golden("small.sarif.json", text.replace(__version__, "VERSION"))
    assert schema_errors(document) == []


def test_render_describes_every_catalog_rule_and_validates() -> None:
    document = json.loads(sarif.render(RESULT))
    assert schema_errors(document) == []
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids[: len(RULES)] == list(RULES)
    assert ids[len(RULES) :] == ["policy/prod-min-replicas"]
    for rule in rules[: len(RULES)]:
        assert rule["fullDescription"]["text"] == RULES[rule["id"]].doc
        assert rule["shortDescription"]["text"] == RULES[rule["id"]].doc.splitlines()[0]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert run["tool"]["driver"]["version"] == __version__


@pytest.mark.parametrize(
    ("index", "location"),
    [
        (
            0,
            {
                "artifactLocation": {
                    "uri": "deployments/fraud%20detector.yaml",
                    "uriBaseId": "%SRCROOT%",
                },
                "region": {"startLine": 12, "startColumn": 7},
            },
        ),
        (
            1,
            {
                "artifactLocation": {"uri": "models/embedder.yaml", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 9},
            },
        ),
        (2, {"artifactLocation": {"uri": "models/huge.yaml", "uriBaseId": "%SRCROOT%"}}),
    ],
)
def test_locations(index: int, location: dict[str, Any]) -> None:
    result = sarif.document(RESULT, CATALOG)["runs"][0]["results"][index]
    assert result["locations"] == [{"physicalLocation": location}]


def test_levels_and_messages() -> None:
    results = sarif.document(RESULT, CATALOG)["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("MP201", "error"),
        ("MP305", "warning"),
        ("MP003", "error"),
        ("policy/prod-min-replicas", "note"),
    ]
    assert results[0]["message"]["text"] == (
        'unknown model "fraud-detecter"\nhint: did you mean "fraud-detector"?'
    )


def test_the_schema_catches_what_code_scanning_refuses() -> None:
    document = sarif.document(RESULT, CATALOG)
    broken = copy.deepcopy(document)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    del broken["runs"][0]["tool"]["driver"]["name"]
    assert len(schema_errors(broken)) == 2


def test_a_real_lint_run_validates(write_repo: WriteRepo, tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {
            "models/m.yaml": textwrap.dedent(
                """\
                apiVersion: mlops-plan/v1
                kind: Model
                metadata: {name: m}
                spec: {framework: onnx, versions: [{version: 1.10, artifact: {uri: s3://m}}]}
                """
            ),
            "broken.yaml": "apiVersion: mlops-plan/v1\nkind: [\n",
        },
    )
    result = pipeline.lint(tmp_path)
    assert {f.rule for f in result.findings} == {"MP001", "MP101"}
    document = json.loads(sarif.render(result))
    assert schema_errors(document) == []
    assert len(document["runs"][0]["results"]) == len(result.findings)
