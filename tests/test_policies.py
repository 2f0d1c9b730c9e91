"""Tests of mlops_plan/policies.py: CEL policies compiled once, evaluated on effective objects.

Each test writes a small repository to tmp_path (the `BASE` declarations plus policies),
runs the real loading and resolution, then compiles and evaluates the policies.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_plan import model as m
from mlops_plan import pipeline
from mlops_plan.errors import MlopsPlanError
from mlops_plan.findings import Finding, Severity
from mlops_plan.policies import (
    MAX_EXPRESSION_CHARS,
    builtin_policies,
    check_policy_folders,
    compile_expression,
    compile_policies,
    comprehension_depth,
    evaluate,
    referenced,
)
from mlops_plan.rules.base import Context

WriteRepo = Callable[..., Path]


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


BASE = {
    "models/fraud.yaml": doc(
        """
        apiVersion: mlops-plan/v1
        kind: Model
        metadata: {name: fraud-detector, labels: {team: risk}}
        spec:
          framework: pytorch
          versions:
            - version: "2.4.1"
              artifact: {uri: s3://ml/fraud/2.4.1/model.pt}
              metrics: {auc: 0.93}
            - version: "2.5.0"
              artifact: {uri: s3://ml/fraud/2.5.0/model.pt}
              metrics: {auc: 0.88}
        """
    ),
    "runtimes/triton.yaml": doc(
        """
        apiVersion: mlops-plan/v1
        kind: Runtime
        metadata: {name: triton}
        spec:
          supportedFormats: [pytorch]
          versions:
            - version: "24.01"
              image: nvcr.io/nvidia/tritonserver:24.01-py3
              provides: {pytorch: "2.2.0"}
            - version: "24.05"
              image: nvcr.io/nvidia/tritonserver:24.05-py3
              provides: {pytorch: "2.3.0"}
        """
    ),
    "targets/cpu.yaml": doc(
        """
        apiVersion: mlops-plan/v1
        kind: HardwareTarget
        metadata: {name: cpu-x86, labels: {pool: general}}
        spec: {arch: x86_64, accelerator: cpu}
        """
    ),
    "environments/all.yaml": doc(
        """
        apiVersion: mlops-plan/v1
        kind: Environment
        metadata: {name: dev}
        spec: {targets: [cpu-x86], runtimes: {triton: "24.01"}}
        ---
        apiVersion: mlops-plan/v1
        kind: Environment
        metadata: {name: prod}
        spec: {targets: [cpu-x86], runtimes: {triton: "24.05"}, protected: true}
        """
    ),
    "deployments/fraud.yaml": doc(
        """
        apiVersion: mlops-plan/v1
        kind: Deployment
        metadata: {name: fraud-detector, labels: {team: risk}}
        spec:
          model: fraud-detector
          runtime: triton
          target: cpu-x86
          env:
            MODEL_NAME: fraud-detector
            API_TOKEN: ghp_abcdefghijklmnopqrstuvwxyz0123456789
          environments:
            dev: {version: "2.5.0"}
            prod:
              version: "~=2.4.0"
              replicas: 1
        """
    ),
}


def policy(name: str, spec: str, metadata: str = "") -> str:
    head = f"apiVersion: mlops-plan/v1\nkind: Policy\nmetadata:\n  name: {name}\n"
    return head + metadata + "spec:\n" + textwrap.indent(doc(spec), "  ")


def run(
    write_repo: WriteRepo,
    root: Path,
    extra: dict[str, str],
    builtin: tuple[m.Policy, ...] = (),
) -> list[Finding]:
    """Compile and evaluate every policy of a repository: BASE plus `extra` files."""
    write_repo(root, {**BASE, **extra})
    analysis = pipeline.analyze(root)
    assert analysis.loaded.findings == []
    compiled, findings = compile_policies(analysis.repo, analysis.loaded.locator, builtin)
    ctx = Context(
        repo=analysis.repo,
        locator=analysis.loaded.locator,
        deployments=analysis.deployments,
        resolution=analysis.resolution,
    )
    return sorted([*findings, *evaluate(compiled, ctx)], key=Finding.sort_key)


def brief(findings: list[Finding]) -> list[tuple[str, int | None, int | None, str, str]]:
    return [(f.file, f.line, f.col, f.rule, f.message) for f in findings]


def test_design_example_points_at_the_overridden_field(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    found = run(
        write_repo,
        tmp_path,
        {
            "policies/prod-min-replicas.yaml": policy(
                "prod-min-replicas",
                """
                severity: error
                match: {kinds: [Deployment], environments: [prod]}
                condition: "deployment.replicas >= 2"
                message: "prod deployments need at least 2 replicas"
                """,
            )
        },
    )
    assert brief(found) == [
        (
            "deployments/fraud.yaml",
            15,
            17,
            "policy/prod-min-replicas",
            "deployment.prod.fraud-detector: prod deployments need at least 2 replicas",
        )
    ]
    assert found[0].severity is Severity.ERROR
    assert found[0].hint == (
        "policy prod-min-replicas (policies/prod-min-replicas.yaml:8) requires: "
        "deployment.replicas >= 2"
    )


def test_a_field_from_the_base_spec_points_at_the_environment_entry(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    found = run(
        write_repo,
        tmp_path,
        {
            "policies/p.yaml": policy(
                "no-tokens-in-dev",
                """
                severity: warning
                match: {environments: [dev]}
                condition: "!('API_TOKEN' in deployment.env)"
                """,
            )
        },
    )
    assert brief(found) == [
        (
            "deployments/fraud.yaml",
            12,
            5,
            "policy/no-tokens-in-dev",
            'deployment.dev.fraud-detector: does not satisfy policy "no-tokens-in-dev": '
            "!('API_TOKEN' in deployment.env)",
        )
    ]
    assert found[0].severity is Severity.WARNING


def test_message_expression_and_every_variable(write_repo: WriteRepo, tmp_path: Path) -> None:
    found = run(
        write_repo,
        tmp_path,
        {
            "policies/p.yaml": policy(
                "min-auc",
                """
                match: {kinds: [Deployment], labels: {team: risk}}
                condition: >-
                  version.metrics.auc >= 0.9
                  || environment.name == "dev" && runtime.version == "24.05"
                messageExpression: >-
                  model.metadata.name + " " + deployment.version + " has auc "
                  + string(version.metrics.auc) + " on " + target.name + "/" + runtime.name
                  + " " + deployment.runtimeVersion + " (" + deployment.versionSpec + ")"
                """,
            )
        },
    )
    assert brief(found) == [
        (
            "deployments/fraud.yaml",
            12,
            5,
            "policy/min-auc",
            "deployment.dev.fraud-detector: fraud-detector 2.5.0 has auc 0.88 on "
            "cpu-x86/triton 24.01 (2.5.0)",
        )
    ]


def test_labels_that_do_not_match_skip_the_object(write_repo: WriteRepo, tmp_path: Path) -> None:
    found = run(
        write_repo,
        tmp_path,
        {
            "policies/p.yaml": policy(
                "never",
                """
                match: {kinds: [Deployment, Model, HardwareTarget], labels: {team: search}}
                condition: "false"
                """,
            )
        },
    )
    assert found == []


@pytest.mark.parametrize(
    ("kind", "condition", "expected"),
    [
        (
            "Model",
            "model.spec.versions.all(v, v.artifact.digest != null)",
            [("models/fraud.yaml", 3, 18, "model.fraud-detector")],
        ),
        (
            "Runtime",
            'runtime.image.endsWith("-py3") && runtime.version != "24.01"',
            [("runtimes/triton.yaml", 7, 7, "runtime.triton@24.01")],
        ),
        (
            "HardwareTarget",
            'target.accelerator == "gpu"',
            [("targets/cpu.yaml", 3, 18, "target.cpu-x86")],
        ),
        (
            "Environment",
            "environment.protected",
            [("environments/all.yaml", 3, 18, "environment.dev")],
        ),
    ],
)
def test_each_kind_is_evaluated_at_its_document(
    write_repo: WriteRepo,
    tmp_path: Path,
    kind: str,
    condition: str,
    expected: list[tuple[str, int, int, str]],
) -> None:
    found = run(
        write_repo,
        tmp_path,
        {"policies/p.yaml": policy("p", f"match: {{kinds: [{kind}]}}\ncondition: '{condition}'\n")},
    )
    assert [(f.file, f.line, f.col, f.message.split(":")[0]) for f in found] == expected


@pytest.mark.parametrize(
    ("environments", "kind", "subjects"),
    [
        ("[prod]", "Deployment", ["deployment.prod.fraud-detector"]),
        ("[prod]", "Environment", ["environment.prod"]),
        ("[prod]", "Runtime", ["runtime.triton@24.05"]),
        ("[dev]", "Runtime", ["runtime.triton@24.01"]),
        ("[dev]", "HardwareTarget", ["target.cpu-x86"]),
        ("[dev]", "Model", ["model.fraud-detector"]),
        ("[staging]", "Model", []),
    ],
)
def test_match_environments(
    write_repo: WriteRepo, tmp_path: Path, environments: str, kind: str, subjects: list[str]
) -> None:
    found = run(
        write_repo,
        tmp_path,
        {
            "policies/p.yaml": policy(
                "p",
                f'match: {{kinds: [{kind}], environments: {environments}}}\ncondition: "false"\n',
            )
        },
    )
    assert [f.message.split(":")[0] for f in found] == subjects


SYNTAX = "policy does not compile: Syntax error: mismatched input '<EOF>' expecting a value"
UNDECLARED = "policy does not compile: undeclared reference to "
EVERYTHING = (
    "a policy matching Deployment sees: deployment, environment, model, runtime, target, version"
)
CEL_HINT = "conditions and messages are CEL expressions (github.com/google/cel-spec)"


@pytest.mark.parametrize(
    ("spec", "line", "col", "message", "hint"),
    [
        ('condition: "deployment.replicas >= "', 6, 38, SYNTAX, CEL_HINT),
        ("condition: 'deployment.replicas >= '", 6, 38, SYNTAX, CEL_HINT),
        (
            "condition: deploymen.replicas >= 2",
            6,
            23,
            UNDECLARED + "'deploymen.replicas'",
            EVERYTHING,
        ),
        (
            "match: {kinds: [Model]}\ncondition: deployment.replicas > 1",
            7,
            24,
            UNDECLARED + "'deployment.replicas'",
            "a policy matching Model sees: model",
        ),
        (
            'condition: "deployment.replicas + 1"',
            6,
            15,
            "policy does not compile: the expression returns int, not bool",
            "a condition is true when the object is fine, e.g. deployment.replicas >= 2",
        ),
        (
            "condition: |\n  deployment.replicas >\n   >= 2",
            8,
            6,
            "policy does not compile: Syntax error: extraneous input '>=' expecting a value",
            CEL_HINT,
        ),
        (
            "condition: |-\n  deployment.replicas > 1 &&\n    deploymen.x",
            8,
            16,
            UNDECLARED + "'deploymen.x'",
            EVERYTHING,
        ),
        ("condition: >-\n  deployment.replicas >=", 7, 27, SYNTAX, CEL_HINT),
        (  # a folded scalar whose lines join: the error is reported at the scalar
            "condition: >-\n  deployment.replicas\n  >=",
            6,
            14,
            SYNTAX,
            CEL_HINT,
        ),
        (
            'condition: "a b"',
            6,
            17,
            "policy does not compile: Syntax error: extraneous input 'b' expecting <EOF>",
            CEL_HINT,
        ),
        ('condition: "true"\nmessageExpression: "1 +"', 7, 26, SYNTAX, CEL_HINT),
        (
            'condition: "true"\nmessageExpression: "deployment.replicas > 1"',
            7,
            23,
            "policy does not compile: the expression returns bool, not string",
            "a messageExpression builds a string: 'replicas: ' + string(deployment.replicas)",
        ),
        (
            'condition: "true &&" # and then some\nmessage: "no"',
            6,
            22,
            SYNTAX,
            CEL_HINT,
        ),
    ],
)
def test_a_policy_that_does_not_compile_is_an_error_at_its_expression(
    write_repo: WriteRepo,
    tmp_path: Path,
    spec: str,
    line: int,
    col: int,
    message: str,
    hint: str,
) -> None:
    found = run(write_repo, tmp_path, {"policies/broken.yaml": policy("broken", spec)})
    assert [(f.file, f.line, f.col, f.rule, f.severity, f.message, f.hint) for f in found] == [
        ("policies/broken.yaml", line, col, "policy/broken", Severity.ERROR, message, hint)
    ]


def test_a_policy_matching_no_kind_it_can_match(write_repo: WriteRepo, tmp_path: Path) -> None:
    text = policy("meta", 'match: {kinds: [Policy]}\ncondition: "true"')
    found = run(write_repo, tmp_path, {"policies/meta.yaml": text})
    assert brief(found) == [
        (
            "policies/meta.yaml",
            6,
            3,
            "policy/meta",
            "policy does not compile: match.kinds names no kind a policy can match",
        )
    ]


def test_a_schema_error_in_a_policy_is_mp101(write_repo: WriteRepo, tmp_path: Path) -> None:
    write_repo(tmp_path, {**BASE, "policies/broken.yaml": policy("broken", "condition: [a]")})
    assert [f.rule for f in pipeline.analyze(tmp_path).loaded.findings] == ["MP101"]


def test_evaluation_errors_are_findings_not_crashes(write_repo: WriteRepo, tmp_path: Path) -> None:
    found = run(
        write_repo,
        tmp_path,
        {
            "policies/p.yaml": policy(
                "latency",
                """
                severity: warning
                match: {environments: [prod]}
                condition: "version.metrics.latencyMs < 20"
                """,
            ),
            "policies/q.yaml": policy(
                "weird",
                """
                match: {environments: [prod]}
                condition: "deployment.replicas"
                """,
            ),
        },
    )
    assert brief(found) == [
        (
            "deployments/fraud.yaml",
            13,
            5,
            "policy/latency",
            'policy "latency" could not be evaluated on deployment.prod.fraud-detector: '
            'no key "latencyMs"',
        ),
        (
            "deployments/fraud.yaml",
            15,
            17,
            "policy/weird",
            'policy "weird" could not be evaluated on deployment.prod.fraud-detector: '
            "it returned 1, not a bool",
        ),
    ]
    assert [f.severity for f in found] == [Severity.WARNING, Severity.ERROR]


def test_unresolved_variables_skip_the_policy(write_repo: WriteRepo, tmp_path: Path) -> None:
    deployment = BASE["deployments/fraud.yaml"].replace('"~=2.4.0"', '"~=9.0"')
    found = run(
        write_repo,
        tmp_path,
        {
            "deployments/fraud.yaml": deployment,
            "policies/p.yaml": policy("p", 'condition: "version.metrics.auc > 2.0"'),
            "policies/q.yaml": policy("q", 'condition: "deployment.version != null"'),
        },
    )
    assert [(f.rule, f.message.split(":")[0]) for f in found] == [
        ("policy/p", "deployment.dev.fraud-detector"),
        ("policy/q", "deployment.prod.fraud-detector"),
    ]


def test_secret_looking_values_never_reach_a_message(write_repo: WriteRepo, tmp_path: Path) -> None:
    found = run(
        write_repo,
        tmp_path,
        {
            "policies/p.yaml": policy(
                "show",
                """
                match: {environments: [dev]}
                condition: "false"
                messageExpression: "deployment.env.API_TOKEN + ' ' + deployment.env.MODEL_NAME"
                """,
            )
        },
    )
    assert [f.message for f in found] == [
        "deployment.dev.fraud-detector: (sensitive value) fraud-detector"
    ]


CANARY = (
    BASE["deployments/fraud.yaml"]
    .replace(
        "replicas: 1",
        "replicas: 1\n      canary: {version: 2.4.1, weight: 0}",
    )
    .replace(
        'dev: {version: "2.5.0"}', 'dev: {version: "2.5.0", canary: {version: "2.5", weight: 5}}'
    )
)


def test_builtin_canary_policies_report_mp404(write_repo: WriteRepo, tmp_path: Path) -> None:
    found = run(
        write_repo,
        tmp_path,
        {"deployments/fraud.yaml": CANARY.replace("version: 2.4.1,", 'version: "2.4.1",')},
        builtin_policies(),
    )
    version_is_main = "is the main version: the canary changes nothing"
    assert brief(found) == [
        (
            "deployments/fraud.yaml",
            12,
            47,
            "MP404",
            f"deployment.dev.fraud-detector: canary version 2.5.0 {version_is_main}",
        ),
        (
            "deployments/fraud.yaml",
            16,
            25,
            "MP404",
            f"deployment.prod.fraud-detector: canary version 2.4.1 {version_is_main}",
        ),
        (
            "deployments/fraud.yaml",
            16,
            42,
            "MP404",
            "deployment.prod.fraud-detector: canary weight 0 is outside 1-99",
        ),
    ]
    assert all(f.hint and "canary" in f.hint for f in found)


def test_a_user_policy_replaces_a_builtin_of_the_same_name(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    replacement = policy("canary-weight", 'condition: "true"')
    found = run(
        write_repo,
        tmp_path,
        {
            "deployments/fraud.yaml": CANARY.replace("version: 2.4.1,", 'version: "2.4.0",'),
            "policies/canary-weight.yaml": replacement,
        },
        builtin_policies(),
    )
    assert [(f.rule, f.message.split(":")[0]) for f in found] == [
        ("MP404", "deployment.dev.fraud-detector")  # canary-version, still built in
    ]


def test_the_builtin_pack_compiles_and_only_builtins_carry_rule_ids(
    write_repo: WriteRepo, tmp_path: Path
) -> None:
    pack = builtin_policies()
    assert {p.metadata.name for p in pack} >= {"canary-weight", "canary-version"}
    spoof = policy(
        "spoof",
        'condition: "false"\n',
        metadata="  annotations: {mlops-plan/rule: MP101}\n",
    )
    found = run(write_repo, tmp_path, {"policies/spoof.yaml": spoof}, pack)
    assert {f.rule for f in found} == {"policy/spoof"}


def test_a_broken_builtin_cannot_continue(write_repo: WriteRepo, tmp_path: Path) -> None:
    broken = m.Policy.model_validate(
        {
            "apiVersion": "mlops-plan/v1",
            "kind": "Policy",
            "metadata": {"name": "broken"},
            "spec": {"condition": "nope("},
        }
    )
    with pytest.raises(MlopsPlanError, match='built-in policy "broken" does not compile'):
        run(write_repo, tmp_path, {}, (broken,))


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: mlops-plan/v1\nkind: Policy\nmetadata: {name: x}\nspec: {}\n",
        "apiVersion: mlops-plan/v1\nkind: [\n",
    ],
)
def test_a_broken_builtin_pack_file_cannot_continue(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    import mlops_plan.resources

    monkeypatch.setattr(mlops_plan.resources, "policy_files", lambda: [("bad.yaml", text)])
    builtin_policies.cache_clear()
    try:
        with pytest.raises(MlopsPlanError, match=r"built-in policy pack file bad\.yaml is broken"):
            builtin_policies()
    finally:
        builtin_policies.cache_clear()


def test_policy_folders_must_exist(write_repo: WriteRepo, tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {**BASE, "policies/p.yaml": policy("p", 'condition: "true"')},
        config="policies: [policies/, missing/, ../outside]\n",
    )
    analysis = pipeline.analyze(tmp_path)
    found = check_policy_folders(analysis.repo, analysis.loaded.locator)
    assert brief(found) == [
        ("mlops-plan.yaml", 1, 23, "MP101", 'policies[1]: folder "missing/" does not exist'),
        ("mlops-plan.yaml", 1, 33, "MP101", 'policies[2]: "../outside" is outside the repository'),
    ]


@pytest.mark.parametrize(
    ("expression", "depth"),
    [
        ("deployment.replicas > 1", 0),
        ("model.spec.versions.all(v, v.status == 'released')", 1),
        ("a.all(x, x.b.exists(y, y > (1 + 2)))", 2),
        ("a.all(x, x.b.exists(y, y.c.map(z, z).size() > 0))", 3),
        ("'a.all(x, b.all(y, c.all(z, true)))' == ''", 0),
        ("a.all(x, true) && b.exists(y, true) && c.map(z, z).size() > 0", 1),
    ],
)
def test_comprehension_depth(expression: str, depth: int) -> None:
    assert comprehension_depth(expression) == depth


def test_cost_limits_are_compile_errors() -> None:
    everything = frozenset({"a"})
    nested = compile_expression(
        "a.x.all(x, x.b.exists(y, y.c.map(z, z).size() > 0))", everything, ("BOOL",)
    )
    assert nested.message.startswith("comprehensions nest 3 deep")  # type: ignore[union-attr]
    long = compile_expression("true" + " && true" * MAX_EXPRESSION_CHARS, everything, ("BOOL",))
    assert "characters, over" in long.message  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("deployment.replicas >= 2", {"deployment"}),
        ("version.metrics.auc > 0.9 && model.spec.framework == 'x'", {"version", "model"}),
        ("'target.x' == deployment.target", {"deployment"}),
        ("deployment.version == '1'", {"deployment"}),
        ("environment.name in target.provides", {"environment", "target"}),
    ],
)
def test_referenced_variables(expression: str, names: set[str]) -> None:
    assert referenced(expression) == names
