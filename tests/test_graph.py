"""The dependency graph (mlops_plan/graph.py) and `mlops-plan graph`.

Regenerate the golden files with `UPDATE_GOLDEN=1 python -m pytest tests/test_graph.py`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_plan import graph as g
from mlops_plan import pipeline

WriteRepo = Callable[..., Path]
RunCli = Callable[..., Any]
GOLDEN = Path(__file__).parent / "golden" / "graph"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


MODELS = f"""\
apiVersion: mlops-plan/v1
kind: Model
metadata: {{name: fraud-detector}}
spec:
  framework: pytorch
  versions:
    - version: "2.4.1"
      artifact: {{uri: s3://models/fraud-detector/2.4.1/model.pt, digest: "{digest(1)}"}}
      requires: {{pytorch: ">=2.1,<2.5"}}
      dependsOn: [{{model: feature-encoder, version: "~=1.2"}}]
    - version: "2.5.0"
      artifact: {{uri: s3://models/fraud-detector/2.5.0/model.pt, digest: "{digest(2)}"}}
      requires: {{pytorch: ">=2.3,<2.5"}}
---
apiVersion: mlops-plan/v1
kind: Model
metadata: {{name: feature-encoder}}
spec:
  framework: onnx
  versions:
    - version: "1.2.0"
      artifact: {{uri: s3://models/feature-encoder/1.2.0/model.onnx, digest: "{digest(3)}"}}
      requires: {{onnxruntime: ">=1.16"}}
"""
PLATFORM = """\
apiVersion: mlops-plan/v1
kind: Runtime
metadata: {name: triton}
spec:
  supportedFormats: [onnx, pytorch]
  versions:
    - version: "24.05"
      image: nvcr.io/nvidia/tritonserver:24.05-py3
      provides: {pytorch: "2.4.0a0+07cecf4168", onnxruntime: "1.18.0"}
      accelerators: [gpu, cpu]
---
apiVersion: mlops-plan/v1
kind: Runtime
metadata: {name: torchserve}
spec:
  supportedFormats: [pytorch]
  versions:
    - version: "0.11.0"
      image: pytorch/torchserve:0.11.0-gpu
      provides: {pytorch: "2.3.0"}
      requires: {cudaDriver: ">=525"}
      accelerators: [gpu]
---
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata: {name: cpu-x86}
spec: {arch: x86_64, accelerator: cpu}
---
apiVersion: mlops-plan/v1
kind: HardwareTarget
metadata: {name: a100-80g}
spec:
  arch: x86_64
  accelerator: gpu
  gpu: {model: A100, memory: 80Gi}
  provides: {cudaDriver: "550.54.15"}
---
apiVersion: mlops-plan/v1
kind: Environment
metadata: {name: staging}
spec:
  targets: [cpu-x86]
  runtimes: {triton: "24.05"}
---
apiVersion: mlops-plan/v1
kind: Environment
metadata: {name: prod}
spec:
  promotesFrom: [staging]
  targets: [cpu-x86, a100-80g]
  runtimes: {triton: "24.05", torchserve: "0.11.0"}
  protected: true
"""
DEPLOYMENTS = """\
apiVersion: mlops-plan/v1
kind: Deployment
metadata: {name: fraud-detector}
spec:
  model: fraud-detector
  runtime: triton
  target: cpu-x86
  environments:
    staging: {version: "2.5.0"}
    prod: {version: "2.4.1", canary: {version: "2.5.0", weight: 10}}
---
apiVersion: mlops-plan/v1
kind: Deployment
metadata: {name: feature-encoder}
spec:
  model: feature-encoder
  runtime: triton
  target: cpu-x86
  environments:
    staging: {version: "~=1.2"}
    prod: {version: "~=1.2"}
"""
FILES = {"models.yaml": MODELS, "platform.yaml": PLATFORM, "deployments.yaml": DEPLOYMENTS}


@pytest.fixture
def repo(tmp_path: Path, write_repo: WriteRepo) -> Path:
    return write_repo(tmp_path / "repo", FILES)


def built(root: Path) -> Any:
    analysis = pipeline.analyze(root)
    return g.build(analysis.repo, analysis.deployments, analysis.resolution)


def edges(graph: Any) -> set[tuple[str, str, str]]:
    return {(a, b, data["relation"]) for a, b, data in graph.edges(data=True)}


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


DEPLOYMENT_NODES = {
    "deployment.prod.feature-encoder",
    "deployment.prod.fraud-detector",
    "deployment.staging.feature-encoder",
    "deployment.staging.fraud-detector",
}


def test_lints_clean(repo: Path, run_cli: RunCli) -> None:
    assert run_cli(["lint", str(repo)]).code == 0


def test_node_ids_and_kinds(repo: Path) -> None:
    graph = built(repo)
    assert {n: graph.nodes[n].get("kind") for n in graph.nodes} == {
        "capability.cudaDriver": "capability",
        "capability.onnxruntime": "capability",
        "capability.pytorch": "capability",
        **dict.fromkeys(DEPLOYMENT_NODES, "deployment"),
        "environment.prod": "environment",
        "environment.staging": "environment",
        "model.feature-encoder": "model",
        "model.feature-encoder@1.2.0": "model-version",
        "model.fraud-detector": "model",
        "model.fraud-detector@2.4.1": "model-version",
        "model.fraud-detector@2.5.0": "model-version",
        "runtime.torchserve": "runtime",
        "runtime.torchserve@0.11.0": "runtime-release",
        "runtime.triton": "runtime",
        "runtime.triton@24.05": "runtime-release",
        "target.a100-80g": "target",
        "target.cpu-x86": "target",
    }


def test_edges_and_relations(repo: Path) -> None:
    graph = built(repo)
    prod_fd, prod_fe = "deployment.prod.fraud-detector", "deployment.prod.feature-encoder"
    stg_fd, stg_fe = "deployment.staging.fraud-detector", "deployment.staging.feature-encoder"
    triton = "runtime.triton@24.05"
    assert edges(graph) == {
        # models: versions, requires, dependsOn
        ("model.fraud-detector@2.4.1", "model.fraud-detector", "version-of"),
        ("model.fraud-detector@2.5.0", "model.fraud-detector", "version-of"),
        ("model.feature-encoder@1.2.0", "model.feature-encoder", "version-of"),
        ("model.fraud-detector@2.4.1", "capability.pytorch", "requires"),
        ("model.fraud-detector@2.5.0", "capability.pytorch", "requires"),
        ("model.feature-encoder@1.2.0", "capability.onnxruntime", "requires"),
        ("model.fraud-detector@2.4.1", "model.feature-encoder", "depends-on"),
        # runtimes and targets: releases, provides, requires
        (triton, "runtime.triton", "release-of"),
        (triton, "capability.pytorch", "provides"),
        (triton, "capability.onnxruntime", "provides"),
        ("runtime.torchserve@0.11.0", "runtime.torchserve", "release-of"),
        ("runtime.torchserve@0.11.0", "capability.pytorch", "provides"),
        ("runtime.torchserve@0.11.0", "capability.cudaDriver", "requires"),
        ("target.a100-80g", "capability.cudaDriver", "provides"),
        # environments: promotion, pinned releases, offered targets
        ("environment.prod", "environment.staging", "promotes-from"),
        ("environment.prod", triton, "pins"),
        ("environment.prod", "runtime.torchserve@0.11.0", "pins"),
        ("environment.prod", "target.cpu-x86", "offers"),
        ("environment.prod", "target.a100-80g", "offers"),
        ("environment.staging", triton, "pins"),
        ("environment.staging", "target.cpu-x86", "offers"),
        # placement of the effective deployments
        (prod_fd, "model.fraud-detector@2.4.1", "runs"),
        (prod_fd, "model.fraud-detector@2.5.0", "canary"),
        (prod_fd, triton, "on-runtime"),
        (prod_fd, "target.cpu-x86", "on-target"),
        (prod_fd, "environment.prod", "in-environment"),
        (prod_fd, prod_fe, "depends-on"),
        (prod_fe, "model.feature-encoder@1.2.0", "runs"),
        (prod_fe, triton, "on-runtime"),
        (prod_fe, "target.cpu-x86", "on-target"),
        (prod_fe, "environment.prod", "in-environment"),
        (stg_fd, "model.fraud-detector@2.5.0", "runs"),  # 2.5.0 has no dependsOn
        (stg_fd, triton, "on-runtime"),
        (stg_fd, "target.cpu-x86", "on-target"),
        (stg_fd, "environment.staging", "in-environment"),
        (stg_fe, "model.feature-encoder@1.2.0", "runs"),
        (stg_fe, triton, "on-runtime"),
        (stg_fe, "target.cpu-x86", "on-target"),
        (stg_fe, "environment.staging", "in-environment"),
    }


def test_edge_details(repo: Path) -> None:
    graph = built(repo)
    assert graph.edges["model.fraud-detector@2.4.1", "capability.pytorch"]["specifier"] == (
        ">=2.1,<2.5"
    )
    assert graph.edges["runtime.triton@24.05", "capability.pytorch"]["version"] == (
        "2.4.0a0+07cecf4168"
    )
    assert (
        graph.edges["deployment.prod.fraud-detector", "deployment.prod.feature-encoder"][
            "specifier"
        ]
        == "~=1.2"
    )
    assert graph.nodes["runtime.triton@24.05"]["image"] == "nvcr.io/nvidia/tritonserver:24.05-py3"
    assert graph.nodes["deployment.prod.fraud-detector"]["environment"] == "prod"
    assert graph.nodes["model.fraud-detector"]["framework"] == "pytorch"


def test_impact_of_a_runtime_release(repo: Path) -> None:
    """ "What depends on triton 24.05?": every effective deployment placed on it."""
    graph = built(repo)
    assert g.dependents(graph, "runtime.triton@24.05", "deployment") == sorted(DEPLOYMENT_NODES)
    # a dependency's users include what depends on it through dependsOn
    assert g.dependents(graph, "deployment.prod.feature-encoder", "deployment") == [
        "deployment.prod.fraud-detector"
    ]


def test_impact_ignores_releases_and_targets_an_environment_merely_offers(repo: Path) -> None:
    graph = built(repo)
    # prod pins torchserve 0.11.0 and offers a100-80g; no deployment runs on either
    assert g.dependents(graph, "runtime.torchserve@0.11.0", "deployment") == []
    assert g.dependents(graph, "target.a100-80g", "deployment") == []


SEARCH = f"""\
apiVersion: mlops-plan/v1
kind: Model
metadata: {{name: search-ranker}}
spec:
  framework: pytorch
  versions:
    - version: "1.1.0"
      artifact: {{uri: s3://models/search-ranker/1.1.0/model.pt, digest: "{digest(4)}"}}
      dependsOn: [{{model: text-embedder, version: "~=1.2"}}]
---
apiVersion: mlops-plan/v1
kind: Model
metadata: {{name: text-embedder}}
spec:
  framework: onnx
  versions:
    - version: "1.2.0"
      artifact: {{uri: s3://models/text-embedder/1.2.0/model.onnx, digest: "{digest(5)}"}}
---
apiVersion: mlops-plan/v1
kind: Deployment
metadata: {{name: search-ranker}}
spec:
  model: search-ranker
  runtime: triton
  target: cpu-x86
  environments: {{prod: {{version: "1.1.0"}}}}
---
apiVersion: mlops-plan/v1
kind: Deployment
metadata: {{name: text-embedder}}
spec:
  model: text-embedder
  runtime: triton
  target: cpu-x86
  environments: {{prod: {{version: "1.2.0"}}}}
"""


def test_node_attributes_do_not_depend_on_the_order_of_names(
    tmp_path: Path, write_repo: WriteRepo
) -> None:
    root = write_repo(tmp_path / "repo", {"platform.yaml": PLATFORM, "search.yaml": SEARCH})
    graph = built(root)
    assert graph.nodes["deployment.prod.text-embedder"] == {
        "kind": "deployment",
        "environment": "prod",
    }
    assert graph.nodes["model.text-embedder"] == {"kind": "model", "framework": "onnx"}
    assert graph.nodes["environment.staging"] == {"kind": "environment", "protected": False}


def test_impact_counts_a_dependency_that_sorts_after_its_dependent(
    tmp_path: Path, write_repo: WriteRepo
) -> None:
    root = write_repo(tmp_path / "repo", {"platform.yaml": PLATFORM, "search.yaml": SEARCH})
    assert g.dependents(built(root), "runtime.triton@24.05", "deployment") == [
        "deployment.prod.search-ranker",
        "deployment.prod.text-embedder",
    ]


# --- focus ---------------------------------------------------------------------------------------


def test_focus_on_a_deployment_keeps_what_it_needs_and_what_needs_it(repo: Path) -> None:
    focused = g.focus(built(repo), "deployment.prod.feature-encoder")
    assert set(focused.nodes) == {
        "deployment.prod.feature-encoder",
        "deployment.prod.fraud-detector",  # depends on it (an ancestor)
        "model.feature-encoder@1.2.0",
        "model.feature-encoder",
        "capability.onnxruntime",
        "runtime.triton@24.05",
        "runtime.triton",
        "capability.pytorch",  # provided by triton 24.05
        "target.cpu-x86",
        "environment.prod",
        "environment.staging",  # prod promotes from it
    }
    # prod pins torchserve and offers a100-80g: context, not followed from a deployment
    assert "runtime.torchserve@0.11.0" not in focused
    assert "target.a100-80g" not in focused
    assert not {r for _, _, r in edges(focused)} & {"pins", "offers"}


def test_focus_on_a_runtime_release_shows_its_users(repo: Path) -> None:
    focused = g.focus(built(repo), "runtime.triton@24.05")
    assert set(focused.nodes) == {
        "runtime.triton@24.05",
        "runtime.triton",
        "capability.pytorch",
        "capability.onnxruntime",
        *DEPLOYMENT_NODES,
    }


def test_focus_on_an_environment_follows_its_pins_and_offers(repo: Path) -> None:
    focused = g.focus(built(repo), "environment.prod")
    assert set(focused.nodes) == {
        "environment.prod",
        "environment.staging",
        "deployment.prod.feature-encoder",
        "deployment.prod.fraud-detector",
        "runtime.triton@24.05",
        "runtime.triton",
        "runtime.torchserve@0.11.0",
        "runtime.torchserve",
        "capability.pytorch",
        "capability.onnxruntime",
        "capability.cudaDriver",
        "target.cpu-x86",
        "target.a100-80g",
    }
    assert ("environment.prod", "runtime.torchserve@0.11.0", "pins") in edges(focused)


def test_focus_keeps_edge_attributes(repo: Path) -> None:
    focused = g.focus(built(repo), "model.fraud-detector@2.4.1")
    assert focused.edges["model.fraud-detector@2.4.1", "capability.pytorch"] == {
        "relation": "requires",
        "specifier": ">=2.1,<2.5",
    }
    assert "deployment.staging.fraud-detector" not in focused  # it runs 2.5.0


def test_focus_cli_on_an_unknown_node(repo: Path, run_cli: RunCli) -> None:
    result = run_cli(["graph", str(repo), "--focus", "deployment.prod.fraud-detecter"])
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        'Error: no node "deployment.prod.fraud-detecter" in the graph\n'
        '  hint: did you mean "deployment.prod.fraud-detector"?\n'
    )
    result = run_cli(["graph", str(repo), "--focus", "NO-SUCH"])
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[0] == 'Error: no node "NO-SUCH" in the graph'
    assert "Traceback" not in result.err


# --- renderers ---------------------------------------------------------------------------------

_DOT_NODE = re.compile(r'^  "((?:[^"\\]|\\.)+)" \[shape=(\w+)\];$')
_DOT_EDGE = re.compile(r'^  "((?:[^"\\]|\\.)+)" -> "((?:[^"\\]|\\.)+)" \[label="([a-z-]+)"\];$')


def parse_dot(text: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """A strict reading of the subset of DOT the exporter writes."""
    lines = text.split("\n")
    assert lines[:3] == ["digraph mlops_plan {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    assert lines[-2:] == ["}", ""]
    nodes: list[str] = []
    found: list[tuple[str, str, str]] = []
    for line in lines[3:-2]:
        if node := _DOT_NODE.match(line):
            assert not found, "nodes come before edges"
            nodes.append(node.group(1))
        else:
            edge = _DOT_EDGE.match(line)
            assert edge, f"not DOT: {line!r}"
            assert edge.group(1) in nodes and edge.group(2) in nodes
            found.append((edge.group(1), edge.group(2), edge.group(3)))
    return nodes, found


def test_dot_output(repo: Path, run_cli: RunCli) -> None:
    result = run_cli(["graph", str(repo), "--format", "dot"])
    assert result.code == 0
    nodes, found = parse_dot(result.out)
    graph = built(repo)
    assert nodes == sorted(graph.nodes)
    assert found == sorted(found)
    assert set(found) == edges(graph)
    assert '  "environment.prod" [shape=folder];' in result.out
    assert '  "deployment.prod.fraud-detector" [shape=ellipse];' in result.out
    # default format, and the same bytes every time
    assert run_cli(["graph", str(repo)]).out == result.out


def test_dot_quotes_what_needs_quoting() -> None:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_node('odd "name" \\ here', kind="model")
    graph.add_node("b", kind="target")
    graph.add_edge('odd "name" \\ here', "b", relation="on-target")
    nodes, found = parse_dot(g.to_dot(graph))
    assert nodes == ["b", 'odd \\"name\\" \\\\ here']
    assert found == [('odd \\"name\\" \\\\ here', "b", "on-target")]


def test_output_does_not_depend_on_file_layout(
    repo: Path, tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    """Same declarations, other files and order: the same graph, byte for byte."""
    docs = [d for text in FILES.values() for d in text.split("---\n")]
    other = write_repo(
        tmp_path / "other",
        {f"z{len(docs) - i:02d}/doc.yaml": d for i, d in enumerate(docs)},
    )
    for fmt in ("dot", "mermaid", "json"):
        a = run_cli(["graph", str(repo), "--format", fmt]).out
        b = run_cli(["graph", str(other), "--format", fmt]).out
        assert a == b, fmt


def test_mermaid_golden(repo: Path, run_cli: RunCli) -> None:
    result = run_cli(["graph", str(repo), "--format", "mermaid"])
    assert result.code == 0
    assert result.out.startswith("flowchart LR\n")
    check_golden("small.mmd", result.out)


def test_mermaid_focus_golden(repo: Path, run_cli: RunCli) -> None:
    result = run_cli(
        ["graph", str(repo), "--format", "mermaid", "--focus", "deployment.prod.fraud-detector"]
    )
    assert result.code == 0
    check_golden("focus-deployment.mmd", result.out)


_MERMAID_NODE = re.compile(
    r'^  (n\d+)(\(\[|\[/|\[\[|\{\{|\[\(|\[)"([^"]+)"(\]\)|/\]|\]\]|\}\}|\)\]|\])$'
)
_MERMAID_EDGE = re.compile(r"^  (n\d+) -->\|([a-z-]+)\| (n\d+)$")
_PAIRS = {"([": "])", "[/": "/]", "[[": "]]", "{{": "}}", "[(": ")]", "[": "]"}


def test_mermaid_is_well_formed(repo: Path) -> None:
    graph = built(repo)
    lines = g.to_mermaid(graph).splitlines()
    assert lines[0] == "flowchart LR"
    ids: dict[str, str] = {}
    found = set()
    for line in lines[1:]:
        if node := _MERMAID_NODE.match(line):
            ident, left, label, right = node.groups()
            assert _PAIRS[left] == right, line
            assert ident not in ids
            ids[ident] = label
        else:
            edge = _MERMAID_EDGE.match(line)
            assert edge, f"not mermaid: {line!r}"
            found.add((ids[edge.group(1)], ids[edge.group(3)], edge.group(2)))
    assert sorted(ids.values()) == sorted(graph.nodes)
    assert found == edges(graph)


def test_json_output(repo: Path, run_cli: RunCli) -> None:
    result = run_cli(["graph", str(repo), "--format", "json"])
    assert result.code == 0
    data = json.loads(result.out)
    graph = built(repo)
    assert [n["id"] for n in data["nodes"]] == sorted(graph.nodes)
    assert {(e["from"], e["to"], e["relation"]) for e in data["edges"]} == edges(graph)
    assert {"from": "model.fraud-detector@2.4.1", "to": "capability.pytorch"} | {
        "relation": "requires",
        "specifier": ">=2.1,<2.5",
    } in data["edges"]
    assert {
        "id": "runtime.triton@24.05",
        "kind": "runtime-release",
        "image": "nvcr.io/nvidia/tritonserver:24.05-py3",
    } in data["nodes"]
    focused = json.loads(
        run_cli(["graph", str(repo), "--format", "json", "--focus", "target.a100-80g"]).out
    )
    assert [n["id"] for n in focused["nodes"]] == ["capability.cudaDriver", "target.a100-80g"]


# --- cycles --------------------------------------------------------------------------------------


def test_cycles_are_found_once_each_from_their_smallest_node() -> None:
    import networkx as nx

    graph = nx.DiGraph(
        [("prod", "staging"), ("staging", "qa"), ("qa", "prod"), ("b", "a"), ("a", "b"), ("x", "x")]
    )
    graph.add_edge("dev", "prod")  # leads into a cycle, is not part of one
    assert g.cycles(graph) == [["a", "b"], ["prod", "staging", "qa"], ["x"]]
    assert g.cycles(nx.DiGraph([("prod", "staging"), ("staging", "dev")])) == []
