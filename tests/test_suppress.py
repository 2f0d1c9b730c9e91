"""Tests of mlops_plan/suppress.py: inline `# mlops-plan: ignore[ID] reason: …` comments."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_plan import pipeline
from mlops_plan.findings import Finding, Severity
from mlops_plan.suppress import apply_suppressions, comment_start, scan

WriteRepo = Callable[..., Path]
FILE = "deployments/fraud.yaml"
TEXT = textwrap.dedent(
    """\
    apiVersion: mlops-plan/v1
    kind: Deployment
    # mlops-plan: ignore[MP305] reason: rollback for INC-123
    prod: {version: "1.1.0"}
    dev: {version: "1.1.0"}  # mlops-plan: ignore[MP305, MP304] reason: testing
    # mlops-plan: ignore[MP201]
    staging: x
    # mlops-plan: ignore[MP402] reason: pinned upstream
    # mlops-plan: ignore[policy/prod-min-replicas] reason: one replica is enough here
    qa: {replicas: 1}
    name: "has # mlops-plan: ignore[MP305] reason: a string, not a comment"
    other: 'it''s # mlops-plan: ignore[MP305] reason: still a string'
    plain: don't  # mlops-plan: ignore[MP103] reason: a comment after a plain scalar
    """
)


def finding(rule: str, line: int | None, col: int | None = 3, file: str = FILE) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity.ERROR,
        file=file,
        line=line,
        col=col,
        message=f"{rule} here",
    )


Row = tuple[str, int | None, int | None]


def rows(findings: list[Finding]) -> list[Row]:
    return sorted(((f.rule, f.line, f.col) for f in findings), key=lambda r: (r[1] or 0, r[0]))


@pytest.mark.parametrize(
    ("findings", "require_reason", "allow", "expected"),
    [
        pytest.param(
            [],
            True,
            True,
            [
                ("MP005", 3, 1),
                ("MP005", 5, 26),
                ("MP005", 5, 26),
                ("MP004", 6, 1),
                ("MP005", 8, 1),
                ("MP005", 9, 1),
                ("MP005", 13, 15),
            ],
            id="nothing-to-suppress",
        ),
        pytest.param(
            [
                finding("MP305", 4),  # the line below a suppression
                finding("MP305", 5),  # the line of a trailing suppression (one of its IDs)
                finding("MP201", 7),  # a reasonless suppression suppresses nothing
                finding("MP402", 10),  # two stacked suppressions above one line
                finding("policy/prod-min-replicas", 10),
                finding("MP103", 13),
                finding("MP305", 11),  # in a quoted string: no suppression
                finding("MP305", 12),
            ],
            True,
            True,
            [
                ("MP005", 5, 26),  # MP304 unused
                ("MP004", 6, 1),
                ("MP201", 7, 3),
                ("MP305", 11, 3),
                ("MP305", 12, 3),
            ],
            id="suppressed",
        ),
        pytest.param(
            [finding("MP201", 7), finding("MP305", 4), finding("MP305", 6)],
            False,
            True,
            [
                ("MP305", 6, 3),  # a suppression covers its line and the next code line only
                ("MP005", 5, 26),
                ("MP005", 5, 26),
                ("MP005", 8, 1),
                ("MP005", 9, 1),
                ("MP005", 13, 15),
            ],
            id="reasons-not-required",
        ),
        pytest.param(
            [finding("MP305", 4), finding("MP305", 5)],
            True,
            False,
            [("MP305", 4, 3), ("MP305", 5, 3)],
            id="not-allowed",
        ),
        pytest.param(
            [finding("MP305", None, None), finding("MP305", 4, file="other.yaml")],
            True,
            True,
            [
                ("MP305", None, None),
                ("MP005", 3, 1),
                ("MP305", 4, 3),
                ("MP005", 5, 26),
                ("MP005", 5, 26),
                ("MP004", 6, 1),
                ("MP005", 8, 1),
                ("MP005", 9, 1),
                ("MP005", 13, 15),
            ],
            id="whole-file-and-other-file",
        ),
    ],
)
def test_apply_suppressions(
    findings: list[Finding], require_reason: bool, allow: bool, expected: list[Row]
) -> None:
    texts = {FILE: TEXT, "other.yaml": "a: 1\n"}
    result = apply_suppressions(findings, texts, require_reason=require_reason, allow=allow)
    assert rows(result) == sorted(expected, key=lambda r: (r[1] or 0, r[0]))


def test_messages_severities_and_hints() -> None:
    text = (
        "a: 1  # mlops-plan: ignore[MP305]\n"
        "b: 2  # mlops-plan: ignore[MP201,MP201] reason: typo\n"
        "# mlops-plan: ignore[MP304] reason: rollback\n"
        "c: 3\n"
    )
    result = apply_suppressions([], {"f.yaml": text})
    assert [(f.rule, f.severity, f.line, f.col, f.message, f.hint) for f in result] == [
        (
            "MP004",
            Severity.ERROR,
            1,
            7,
            "suppression of MP305 has no reason, so it suppresses nothing",
            "say why: # mlops-plan: ignore[MP305] reason: …",
        ),
        (
            "MP005",
            Severity.WARNING,
            2,
            7,
            "suppression of MP201 is unused: no MP201 finding on this line",
            "remove it (or the rule ID) from the comment",
        ),
        (
            "MP005",
            Severity.WARNING,
            3,
            1,
            "suppression of MP304 is unused: no MP304 finding on line 4",
            "remove it (or the rule ID) from the comment",
        ),
    ]


def test_rules_that_did_not_run_are_never_unused() -> None:
    text = "a: 1  # mlops-plan: ignore[MP503, MP305] reason: approved downgrade\n"
    result = apply_suppressions([], {"f.yaml": text}, not_run={"MP503", "MP504"})
    assert [(f.rule, f.message) for f in result] == [
        ("MP005", "suppression of MP305 is unused: no MP305 finding on this line")
    ]


@pytest.mark.parametrize(
    ("comment", "rules", "reason", "problem"),
    [
        (
            "# mlops-plan: ignore[MP305] reason: rollback for INC-123",
            ("MP305",),
            "rollback for INC-123",
            None,
        ),
        ("#mlops-plan: ignore[ MP305 ,MP304 ]", ("MP305", "MP304"), None, None),
        ("# mlops-plan: ignore[MP305] reason:", ("MP305",), None, None),
        (
            "# mlops-plan: ignore[MP305] because",
            ("MP305",),
            None,
            "write the reason as `reason: …`",
        ),
        ("# mlops-plan: ignore MP305", (), None, "write the rule IDs in brackets"),
        ("# mlops-plan: ignore[]", (), None, "name at least one rule ID"),
        ("# mlops-plan: ignore[MP 305]", (), None, '"MP 305" is not a rule ID'),
    ],
)
def test_scan_reads_the_comment(
    comment: str, rules: tuple[str, ...], reason: str | None, problem: str | None
) -> None:
    (item,) = scan("f.yaml", f"key: value  {comment}\n")
    assert (item.line, item.col, item.covers) == (1, 13, (1,))
    assert item.rules == rules
    assert item.reason == reason
    if problem is None:
        assert item.problem is None
    else:
        assert item.problem is not None and item.problem.startswith(problem)


@pytest.mark.parametrize(
    ("line", "index"),
    [
        ("a: 1 # c", 5),
        ("# c", 0),
        ('a: "x # y" # c', 11),
        ("a: 'it''s # y' # c", 15),
        ("a: don't # c", 9),
        ("a: b#c", None),
        ('a: ["x#", "y # z"]  # c', 20),
        ('a: "unterminated # c', None),
        ('a: "esc \\" # y" # c', 16),
    ],
)
def test_comment_start(line: str, index: int | None) -> None:
    assert comment_start(line) == index


DEPRECATED_REPO = {
    "models/m.yaml": textwrap.dedent(
        """\
        apiVersion: mlops-plan/v1
        kind: Model
        metadata: {name: embedder}
        spec:
          framework: onnx
          versions:
            - version: "1.1.0"
              status: deprecated
              artifact: {uri: s3://ml/embedder/1.1.0, digest: DIGEST}
            - version: "1.2.0"
              artifact: {uri: s3://ml/embedder/1.2.0, digest: DIGEST}
        """
    ).replace("DIGEST", "sha256:" + "ab" * 32),
    "stack.yaml": textwrap.dedent(
        """\
        apiVersion: mlops-plan/v1
        kind: Runtime
        metadata: {name: onnxrt}
        spec:
          supportedFormats: [onnx]
          versions: [{version: "1.18.0", image: "mcr.microsoft.com/onnxruntime:1.18.0"}]
        ---
        apiVersion: mlops-plan/v1
        kind: HardwareTarget
        metadata: {name: cpu}
        spec: {arch: x86_64, accelerator: cpu}
        ---
        apiVersion: mlops-plan/v1
        kind: Environment
        metadata: {name: prod}
        spec: {targets: [cpu], runtimes: {onnxrt: "1.18.0"}}
        ---
        apiVersion: mlops-plan/v1
        kind: Environment
        metadata: {name: dev}
        spec: {targets: [cpu], runtimes: {onnxrt: "1.18.0"}}
        """
    ),
    "deployments/embedder.yaml": textwrap.dedent(
        """\
        apiVersion: mlops-plan/v1
        kind: Deployment
        metadata: {name: embedder}
        spec:
          model: embedder
          runtime: onnxrt
          target: cpu
          environments:
            # mlops-plan: ignore[MP305] reason: rollback for INC-123
            prod: {version: "1.1.0"}
            dev: {version: "1.1.0"}
        """
    ),
}


def test_a_suppression_with_a_reason_silences_exactly_that_finding(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    write_repo(tmp_path, DEPRECATED_REPO)
    analysis = pipeline.analyze(tmp_path)
    findings = [*analysis.loaded.findings, *pipeline.rule_findings(analysis)]
    assert rows(findings) == [("MP305", 10, 21), ("MP305", 11, 20)]
    kept = apply_suppressions(findings, analysis.loaded.locator.texts)
    assert [(f.rule, f.line, f.message) for f in kept] == [
        ("MP305", 11, "deployment.dev.embedder deploys embedder 1.1.0, which is deprecated")
    ]
