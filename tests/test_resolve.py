"""Capability matching and version resolution (mlops_plan/resolve.py, DESIGN §2).

Most tests build a repository in memory (`world(...)`: dicts validated by the pydantic
kinds, exactly what the loader would produce) and call `resolve` directly; the ones
about findings write files in tmp_path and lint them as a user would. The property tests
compare the resolver with brute-force oracles written from DESIGN §2, not from the code.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from mlops_plan import model as m
from mlops_plan.effective import effective_deployments
from mlops_plan.resolve import (
    Placement,
    Reason,
    Resolution,
    Verdict,
    incompatibilities,
    is_exact,
    provided_ok,
    resolve,
)
from mlops_plan.validate import Repository

WriteRepo = Callable[..., Path]
RunCli = Callable[..., Any]
Doc = dict[str, Any]

# --- building repositories ----------------------------------------------------------------


def digest(seed: str) -> str:
    return "sha256:" + (seed.encode().hex() * 64)[:64]


def doc(kind: str, name: str, spec: Doc) -> Doc:
    return {"apiVersion": "mlops-plan/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def mv(version: str, status: str = "released", **extra: Any) -> Doc:
    """A model version entry: `requires`, `dependsOn` ({model: spec}), `resources`."""
    entry: Doc = {
        "version": version,
        "status": status,
        "artifact": {"uri": f"s3://models/{version}/model", "digest": digest(version)},
    }
    if "requires" in extra:
        entry["requires"] = extra["requires"]
    if "dependsOn" in extra:
        entry["dependsOn"] = [{"model": k, "version": v} for k, v in extra["dependsOn"].items()]
    if "resources" in extra:
        entry["resources"] = extra["resources"]
    return entry


def model_doc(name: str, versions: list[Doc], framework: str = "pytorch") -> Doc:
    return doc("Model", name, {"framework": framework, "versions": versions})


def runtime_doc(name: str, releases: dict[str, Doc], formats: Iterable[str] = ("pytorch",)) -> Doc:
    versions = [
        {
            "version": v,
            "image": f"registry.example.com/{name}:{v}",
            "accelerators": ["cpu", "gpu"],
            **extra,
        }
        for v, extra in releases.items()
    ]
    return doc("Runtime", name, {"supportedFormats": list(formats), "versions": versions})


def target_doc(name: str, provides: dict[str, str] | None = None, **spec: Any) -> Doc:
    body: Doc = {"arch": "x86_64", "accelerator": "cpu", **spec}
    if provides:
        body["provides"] = provides
    return doc("HardwareTarget", name, body)


def env_doc(name: str, runtimes: dict[str, str], targets: list[str], **spec: Any) -> Doc:
    return doc("Environment", name, {"runtimes": runtimes, "targets": targets, **spec})


def deployment_doc(name: str, model: str, runtime: str, target: str, envs: dict[str, Doc]) -> Doc:
    return doc(
        "Deployment",
        name,
        {"model": model, "runtime": runtime, "target": target, "environments": envs},
    )


def world(*docs: Doc) -> Repository:
    """A repository in memory, as validate_documents would fill it."""
    repo = Repository(root=Path("/repo"))
    for raw in docs:
        obj = m.KINDS[raw["kind"]].model_validate(raw)
        repo.of_kind(raw["kind"])[obj.metadata.name] = obj
        repo.origins[(raw["kind"], obj.metadata.name)] = (f"{raw['kind']}.yaml", 0)
    return repo


def resolve_repo(repo: Repository, pins: dict[str, str] | None = None) -> Resolution:
    return resolve(repo, effective_deployments(repo), pins)


def chosen(resolution: Resolution) -> dict[str, str | None]:
    return {
        address: item.version.version if item.version is not None else None
        for address, item in sorted(resolution.resolved.items())
    }


def write_docs(root: Path, write_repo: WriteRepo, docs: list[Doc]) -> Path:
    files = {
        f"{d['kind'].lower()}s/{d['metadata']['name']}.yaml": yaml.safe_dump(d, sort_keys=False)
        for d in docs
    }
    return write_repo(root, files)


def lint_json(run_cli: RunCli, root: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli(["lint", "--format", "json", str(root)])
    assert result.err == ""
    return result.code, json.loads(result.out)["findings"]


# a small world: torchserve 0.11.0 provides pytorch 2.3.0 (prod), 0.12.0 provides 2.4.0 (dev)
TORCHSERVE = runtime_doc(
    "torchserve",
    {"0.11.0": {"provides": {"pytorch": "2.3.0"}}, "0.12.0": {"provides": {"pytorch": "2.4.0"}}},
)
CPU = target_doc("cpu-x86")
PROD = env_doc("prod", {"torchserve": "0.11.0"}, ["cpu-x86"])
DEV = env_doc("dev", {"torchserve": "0.12.0"}, ["cpu-x86"])


def single_docs(versions: list[Doc], spec: str | None) -> list[Doc]:
    """fraud-detector deployed to prod only, with `spec` as its version (None: unset)."""
    override: Doc = {} if spec is None else {"version": spec}
    return [
        TORCHSERVE,
        CPU,
        PROD,
        DEV,
        model_doc("fraud-detector", versions),
        deployment_doc(
            "fraud-detector", "fraud-detector", "torchserve", "cpu-x86", {"prod": override}
        ),
    ]


def single(versions: list[Doc], spec: str | None) -> Repository:
    return world(*single_docs(versions, spec))


# --- capability matching -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "provided", "ok"),
    [
        (">=2.1,<2.5", "2.4.0a0+07cecf4168", True),  # NGC's PyTorch: a prerelease, inside
        (">=2.1,<2.4", "2.4.0a0+07cecf4168", False),  # <2.4 excludes 2.4's own prereleases
        (">=9.0", "10.0", True),  # versions, not text ("10.0" < "9.0" as text)
        (">=10.0", "9.0", False),  # ... and the other way round
        (">=545", "550.54.15", True),  # a driver version with three parts
        (">=545", "535.104.05", False),
        ("~=2.15", "2.16.1", True),
        ("==2.3.*", "2.3.0", True),
        ("<2.4", "2.3.1+cu121", True),  # local versions compare by their public part
    ],
)
def test_provided_capabilities_compare_as_pep440_versions(
    spec: str, provided: str, ok: bool
) -> None:
    assert provided_ok(spec, provided) is ok


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("2.4.1", True),
        ("==2.4.1", True),
        ("===2.4.1", True),
        ("==2.4.*", False),
        ("~=2.4", False),
        (">=2.4,<2.5", False),
        (None, False),
    ],
)
def test_is_exact(text: str | None, exact: bool) -> None:
    assert is_exact(text) is exact


def placement(release: Doc, target: Doc, formats: tuple[str, ...] = ("pytorch",)) -> Placement:
    runtime = m.Runtime.model_validate(runtime_doc("triton", {"24.05": release}, formats=formats))
    hw = m.HardwareTarget.model_validate(target)
    return Placement("triton", runtime.spec, runtime.spec.versions[0], hw.metadata.name, hw.spec)


def reasons(entry: Doc, where: Placement, framework: str = "pytorch") -> list[Reason]:
    model = m.Model.model_validate(model_doc("fraud-detector", [entry], framework))
    return list(incompatibilities(model, model.spec.versions[0], where))


A100 = target_doc(
    "a100-80g",
    {"computeCapability": "8.0", "cudaDriver": "550.54.15"},
    accelerator="gpu",
    gpu={"model": "A100", "memory": "80Gi"},
)
TRITON_2405: Doc = {
    "provides": {"pytorch": "2.4.0a0+07cecf4168", "cuda": "12.4.1"},
    "requires": {"cudaDriver": ">=545", "computeCapability": ">=6.0"},
    "accelerators": ["gpu"],
}


def test_compatible_when_every_requirement_is_met() -> None:
    entry = mv(
        "2.4.1",
        requires={"pytorch": ">=2.1,<2.5", "computeCapability": ">=8.0", "cuda": ">=12"},
        resources={"accelerator": "gpu", "gpuMemory": "80Gi"},
    )
    assert reasons(entry, placement(TRITON_2405, A100)) == []


def test_every_incompatibility_is_listed_with_its_reason() -> None:
    gh200 = target_doc(
        "gh200",
        {"computeCapability": "9.0"},
        arch="aarch64",
        accelerator="cpu",
    )
    entry = mv(
        "2.4.1",
        requires={"pytorch": ">=2.5", "tensorrt": ">=10", "computeCapability": ">=10.0"},
        resources={"accelerator": "gpu", "gpuMemory": "16Gi"},
    )
    assert reasons(entry, placement(TRITON_2405, gh200), framework="tensorflow") == [
        Reason("format", 'triton does not serve the "tensorflow" format (it serves pytorch)'),
        Reason("accelerator", "triton 24.05 does not run on cpu targets"),
        Reason("arch", "triton 24.05 has no aarch64 image"),
        Reason("requires", 'needs computeCapability ">=10.0", gh200 provides 9.0'),
        Reason("requires", 'needs pytorch ">=2.5", triton 24.05 provides 2.4.0a0+07cecf4168'),
        Reason("requires", 'needs tensorrt ">=10", provided by neither triton 24.05 nor gh200'),
        Reason("runtime-requires", 'triton 24.05 needs cudaDriver ">=545", not provided by gh200'),
        Reason("gpu", "needs a gpu, gh200 is a cpu target"),
    ]


def test_runtime_requires_are_matched_against_the_target_only() -> None:
    # the runtime itself provides cudaDriver: that does not count, only the target does
    release = {**TRITON_2405, "provides": {"cudaDriver": "999"}}
    v100 = target_doc(
        "v100-32g",
        {"computeCapability": "7.0", "cudaDriver": "535.104.05"},
        accelerator="gpu",
        gpu={"model": "V100", "memory": "32Gi"},
    )
    assert reasons(mv("1.0"), placement(release, v100)) == [
        Reason(
            "runtime-requires",
            'triton 24.05 needs cudaDriver ">=545", v100-32g provides 535.104.05',
        )
    ]


def test_model_requires_are_matched_against_runtime_and_target() -> None:
    # computeCapability comes from the target, pytorch from the runtime release
    entry = mv("1.0", requires={"computeCapability": ">=7.5", "pytorch": ">=2.1"})
    assert reasons(entry, placement(TRITON_2405, A100)) == []
    # either one offering a matching version is enough
    both = target_doc(
        "both", {"pytorch": "2.5.0"}, accelerator="gpu", gpu={"model": "X", "memory": "1Gi"}
    )
    release = {"provides": {"pytorch": "2.0.0"}, "accelerators": ["gpu"]}
    assert reasons(mv("1.0", requires={"pytorch": ">=2.4"}), placement(release, both)) == []


@pytest.mark.parametrize(
    ("need", "has", "fits"),
    [
        ("16Gi", "24Gi", True),
        ("24Gi", "24Gi", True),
        ("24000Mi", "24Gi", True),
        ("25000Mi", "24Gi", False),
        ("0.5Ti", "80Gi", False),
    ],
)
def test_gpu_memory_compares_as_quantities(need: str, has: str, fits: bool) -> None:
    target = target_doc("gpu", accelerator="gpu", gpu={"model": "L4", "memory": has})
    release = {"accelerators": ["gpu"]}
    entry = mv("1.0", resources={"accelerator": "gpu", "gpuMemory": need})
    expected = [] if fits else [Reason("gpu-memory", f"needs {need} of GPU memory, gpu has {has}")]
    assert reasons(entry, placement(release, target)) == expected


# --- single-deployment resolution ------------------------------------------------------------


def test_highest_compatible_non_yanked_candidate_wins() -> None:
    repo = single(
        [
            mv("1.0.0", requires={"pytorch": ">=2.0"}),
            mv("1.1.0", requires={"pytorch": ">=2.0"}),
            mv("1.2.0", "yanked", requires={"pytorch": ">=2.0"}),
            mv("1.3.0", requires={"pytorch": ">=2.4"}),  # prod's torchserve: pytorch 2.3.0
            mv("2.0.0", requires={"pytorch": ">=2.0"}),
        ],
        "<2",
    )
    item = resolve_repo(repo).resolved["deployment.prod.fraud-detector"]
    assert item.version is not None and item.version.version == "1.1.0"
    assert item.verdicts == [
        Verdict("2.0.0", "released", ('outside "<2"',)),
        Verdict("1.3.0", "released", ('needs pytorch ">=2.4", torchserve 0.11.0 provides 2.3.0',)),
        Verdict("1.2.0", "yanked", ("yanked",)),
        Verdict("1.1.0", "released", ()),
        Verdict("1.0.0", "released", ()),
    ]


def test_the_same_deployment_resolves_per_environment() -> None:
    versions = [
        mv("1.0.0", requires={"pytorch": ">=2.0"}),
        mv("2.0.0", requires={"pytorch": ">=2.4"}),
    ]
    repo = world(
        TORCHSERVE,
        CPU,
        PROD,
        DEV,
        model_doc("fraud-detector", versions),
        deployment_doc(
            "fraud-detector", "fraud-detector", "torchserve", "cpu-x86", {"dev": {}, "prod": {}}
        ),
    )
    assert chosen(resolve_repo(repo)) == {
        "deployment.dev.fraud-detector": "2.0.0",
        "deployment.prod.fraud-detector": "1.0.0",
    }


def test_deprecated_versions_still_resolve() -> None:
    repo = single([mv("1.0.0"), mv("1.1.0", "deprecated")], "~=1.0")
    assert chosen(resolve_repo(repo)) == {"deployment.prod.fraud-detector": "1.1.0"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, "1.1.0"),  # no specifier: finals only
        (">=1.0", "1.1.0"),  # the specifier names no prerelease
        ("==1.*", "1.1.0"),
        (">=1.2.0rc1", "1.2.0rc1"),  # it names one: prereleases are in
        ("1.2.0rc1", "1.2.0rc1"),  # an exact pin to one
        ("==1.2.0rc1", "1.2.0rc1"),
        (">1.1", "1.2.0rc1"),  # nothing else matches (pip's fallback)
        (">=1.3", None),
    ],
)
def test_prereleases_as_pip_selects_them(spec: str | None, expected: str | None) -> None:
    repo = single([mv("1.0.0"), mv("1.1.0"), mv("1.2.0rc1")], spec)
    assert chosen(resolve_repo(repo)) == {"deployment.prod.fraud-detector": expected}


def test_prerelease_verdict_says_why() -> None:
    repo = single([mv("1.1.0"), mv("1.2.0rc1")], ">=1.0")
    item = resolve_repo(repo).resolved["deployment.prod.fraud-detector"]
    assert item.verdicts[0] == Verdict(
        "1.2.0rc1", "released", ("a prerelease, and the specifier names none",)
    )


def test_a_yanked_final_does_not_block_the_prerelease_fallback() -> None:
    repo = single([mv("1.2.0", "yanked"), mv("1.3.0b1")], ">=1.2")
    assert chosen(resolve_repo(repo)) == {"deployment.prod.fraud-detector": "1.3.0b1"}


@pytest.mark.parametrize("pin", ["1.2.0", "==1.2.0"])
def test_exact_pin_to_a_yanked_version_resolves_to_it(pin: str) -> None:
    """PEP 592: an exact pin may still select a yanked version (and MP304 reports it)."""
    repo = single([mv("1.1.0"), mv("1.2.0", "yanked")], pin)
    item = resolve_repo(repo).resolved["deployment.prod.fraud-detector"]
    assert item.version is not None
    assert (item.version.version, item.version.status) == ("1.2.0", "yanked")
    assert item.verdicts[0] == Verdict("1.2.0", "yanked", ())


def test_specifiers_never_select_a_yanked_version() -> None:
    repo = single([mv("1.1.0"), mv("1.2.0", "yanked")], "~=1.2.0")
    item = resolve_repo(repo).resolved["deployment.prod.fraud-detector"]
    assert item.version is None
    assert [v.reasons for v in item.verdicts] == [("yanked",), ('outside "~=1.2.0"',)]


def test_exact_pin_to_a_yanked_version_is_mp304(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    docs = single_docs([mv("1.1.0"), mv("1.2.0", "yanked")], "1.2.0")
    root = write_docs(tmp_path / "repo", write_repo, docs)
    code, findings = lint_json(run_cli, root)
    assert code == 1
    assert [(f["rule"], f["message"]) for f in findings] == [
        (
            "MP304",
            "deployment.prod.fraud-detector deploys fraud-detector 1.2.0, which is yanked",
        )
    ]


def test_versions_compare_as_versions_not_text() -> None:
    # "1.10.0" > "1.9.0" (as text it would sort first); "2.0" == "2.0.0"
    repo = single([mv("1.9.0"), mv("1.10.0"), mv("1.2.0")], "<2.0")
    assert chosen(resolve_repo(repo)) == {"deployment.prod.fraud-detector": "1.10.0"}
    repo = single([mv("2.0.0"), mv("1.10.0")], "==2.0")
    assert chosen(resolve_repo(repo)) == {"deployment.prod.fraud-detector": "2.0.0"}


def test_resolution_is_deterministic() -> None:
    versions = [
        mv("1.0.0"),
        mv("1.1.0", "deprecated"),
        mv("1.2.0", "yanked"),
        mv("1.3.0rc1"),
        mv("1.3.0", requires={"pytorch": ">=2.4"}),
    ]
    results = []
    for order in (versions, list(reversed(versions)), versions[2:] + versions[:2]):
        repo = single(order, ">=1")
        resolution = resolve_repo(repo)
        item = resolution.resolved["deployment.prod.fraud-detector"]
        results.append((chosen(resolution), item.verdicts))
    results.append(results[0])  # and the same input twice
    assert all(r == results[0] for r in results)
    assert results[0][0] == {"deployment.prod.fraud-detector": "1.1.0"}


def test_lock_pins_are_preferred_while_they_remain_candidates() -> None:
    repo = single([mv("1.0.0"), mv("1.1.0"), mv("1.2.0", "yanked")], ">=1")
    address = "deployment.prod.fraud-detector"
    assert chosen(resolve_repo(repo, {address: "1.0.0"})) == {address: "1.0.0"}
    assert resolve_repo(repo, {address: "1.0.0"}).resolved[address].pinned_by_lock
    # a pin that is no longer a candidate (yanked, or outside the specifier) is dropped
    assert chosen(resolve_repo(repo, {address: "1.2.0"})) == {address: "1.1.0"}
    assert chosen(resolve_repo(repo, {address: "0.9.0"})) == {address: "1.1.0"}
    assert not resolve_repo(repo, {address: "1.2.0"}).resolved[address].pinned_by_lock


# --- joint resolution (dependsOn) -------------------------------------------------------------


def joint_world(ranker_spec: str = ">=1", embedder_spec: str = ">=1") -> list[Doc]:
    """The issue's case: search-ranker 2.0.0 needs text-embedder >=2, whose 2.x needs
    pytorch >=2.4: prod's torchserve 0.11.0 provides 2.3.0, dev's 0.12.0 provides 2.4.0."""
    return [
        TORCHSERVE,
        CPU,
        PROD,
        DEV,
        model_doc(
            "search-ranker",
            [
                mv("1.0.0", dependsOn={"text-embedder": ">=1,<2"}),
                mv("1.1.0", dependsOn={"text-embedder": "~=1.0"}),
                mv("2.0.0", dependsOn={"text-embedder": ">=2"}),
            ],
        ),
        model_doc(
            "text-embedder",
            [
                mv("1.0.0", requires={"pytorch": ">=2.1"}),
                mv("1.5.0", requires={"pytorch": ">=2.1"}),
                mv("2.0.0", requires={"pytorch": ">=2.4"}),
                mv("2.1.0", requires={"pytorch": ">=2.4"}),
            ],
        ),
        deployment_doc(
            "search-ranker",
            "search-ranker",
            "torchserve",
            "cpu-x86",
            {"dev": {"version": ranker_spec}, "prod": {"version": ranker_spec}},
        ),
        deployment_doc(
            "text-embedder",
            "text-embedder",
            "torchserve",
            "cpu-x86",
            {"dev": {"version": embedder_spec}, "prod": {"version": embedder_spec}},
        ),
    ]


def test_joint_newest_version_falls_back_when_its_dependency_cannot_run() -> None:
    resolution = resolve_repo(world(*joint_world()))
    assert chosen(resolution) == {
        "deployment.dev.search-ranker": "2.0.0",  # dev's runtime runs text-embedder 2.x
        "deployment.dev.text-embedder": "2.1.0",
        "deployment.prod.search-ranker": "1.1.0",  # the highest whose dependsOn accepts 1.x
        "deployment.prod.text-embedder": "1.5.0",
    }
    ranker = resolution.resolved["deployment.prod.search-ranker"]
    assert ranker.conflict is None
    # 2.0.0 runs in prod on its own: only the joint problem rules it out
    assert ranker.verdicts[0] == Verdict("2.0.0", "released", ())


def test_joint_fallback_is_explained(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    root = write_docs(tmp_path / "repo", write_repo, joint_world())
    assert lint_json(run_cli, root) == (0, [])
    result = run_cli(["explain", "deployment.prod.search-ranker", "--path", str(root)])
    assert result.code == 0
    assert '  version:   ">=1" -> 1.1.0\n' in result.out
    assert (
        "Candidates, highest first:\n"
        "  2.0.0  compatible, not chosen\n"
        "  1.1.0  chosen: the highest candidate that satisfies dependsOn jointly\n"
        "  1.0.0  compatible, not chosen\n"
    ) in result.out
    assert "Depends on: deployment.prod.text-embedder\n" in result.out


def test_joint_resolution_over_a_chain() -> None:
    """app 2 needs ranker 2, ranker 2 needs embedder 2, embedder 2 cannot run in prod."""
    docs = joint_world()
    docs.append(
        model_doc(
            "search-app",
            [
                mv("1.0.0", dependsOn={"search-ranker": "<2"}),
                mv("2.0.0", dependsOn={"search-ranker": ">=2"}),
            ],
        )
    )
    docs.append(
        deployment_doc("search-app", "search-app", "torchserve", "cpu-x86", {"prod": {}, "dev": {}})
    )
    assert chosen(resolve_repo(world(*docs))) == {
        "deployment.dev.search-app": "2.0.0",
        "deployment.dev.search-ranker": "2.0.0",
        "deployment.dev.text-embedder": "2.1.0",
        "deployment.prod.search-app": "1.0.0",
        "deployment.prod.search-ranker": "1.1.0",
        "deployment.prod.text-embedder": "1.5.0",
    }


def test_joint_resolution_prefers_lock_pins() -> None:
    pins = {"deployment.dev.search-ranker": "1.0.0", "deployment.dev.text-embedder": "1.0.0"}
    resolution = resolve_repo(world(*joint_world()), pins)
    assert chosen(resolution)["deployment.dev.search-ranker"] == "1.0.0"
    assert chosen(resolution)["deployment.dev.text-embedder"] == "1.0.0"
    assert resolution.resolved["deployment.dev.search-ranker"].pinned_by_lock


def test_joint_impossible_is_mp306_with_the_resolvers_explanation(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    docs = joint_world(ranker_spec="==2.*")
    resolution = resolve_repo(world(*docs))
    conflict = (
        "deployment.prod.search-ranker@2.0.0 needs text-embedder >=2 "
        "(compatible versions there: 1.5.0, 1.0.0)"
    )
    assert resolution.resolved["deployment.prod.search-ranker"].conflict == conflict
    assert resolution.resolved["deployment.dev.search-ranker"].conflict is None
    root = write_docs(tmp_path / "repo", write_repo, docs)
    code, findings = lint_json(run_cli, root)
    assert code == 1
    assert [(f["rule"], f["file"], f["message"], f["hint"]) for f in findings] == [
        (
            "MP306",
            "deployments/search-ranker.yaml",
            "search-ranker 2.0.0 needs text-embedder >=2, and deployment.prod.text-embedder "
            "runs 1.5.0",
            conflict,
        )
    ]


def test_an_unsatisfiable_dependency_still_gets_mp301(
    tmp_path: Path, write_repo: WriteRepo, run_cli: RunCli
) -> None:
    docs = joint_world(embedder_spec="~=3.0")
    root = write_docs(tmp_path / "repo", write_repo, docs)
    _code, findings = lint_json(run_cli, root)
    mp301 = [f["message"] for f in findings if f["rule"] == "MP301"]
    assert (
        'no version of model "text-embedder" satisfies "~=3.0" for '
        "deployment.prod.text-embedder (torchserve 0.11.0 on cpu-x86): "
        '2.1.0: outside "~=3.0"; 2.0.0: outside "~=3.0"; 1.5.0: outside "~=3.0"; '
        '1.0.0: outside "~=3.0"'
    ) in mp301


def test_dependency_not_deployed_does_not_block_resolution() -> None:
    docs = [
        d
        for d in joint_world()
        if d["metadata"]["name"] != "text-embedder" or d["kind"] != "Deployment"
    ]
    assert chosen(resolve_repo(world(*docs))) == {
        "deployment.dev.search-ranker": "2.0.0",
        "deployment.prod.search-ranker": "2.0.0",
    }


# --- properties --------------------------------------------------------------------------------

MODEL_VERSIONS = ["1.0.0", "1.1.0", "1.2.0rc1", "1.2.0", "2.0.0a1", "2.0.0", "2.1.0", "10.0.0"]
PROVIDED = ["1.0", "1.1", "1.2rc1", "2.0", "2.0.1", "9.0", "10.0"]
REQUIRES = [">=1.0", "<2", ">=2.0", "~=1.1", ">=9", "==1.*", ">=1.2rc1", "<10", "!=2.0"]
DEPLOY_SPECS = [
    None,
    "1.1.0",
    "==2.0.0",
    "2.0.0a1",
    "1.2.0rc1",
    ">=1",
    "~=1.1",
    "<2",
    ">=2.0.0a1",
    "==1.*",
    ">=11",
    "!=2.1.0",
    ">1.0,<10",
]
CAPABILITIES = ["pytorch", "computeCapability"]
STATUSES = ["released", "released", "deprecated", "yanked"]


def oracle_exact(text: str | None) -> bool:
    if text is None:
        return False
    if text[0].isdigit():
        return True
    items = list(SpecifierSet(text))
    return len(items) == 1 and items[0].operator == "==" and not items[0].version.endswith("*")


def oracle_spec(text: str | None) -> SpecifierSet:
    if text is None:
        return SpecifierSet()
    return SpecifierSet(f"=={text}" if text[0].isdigit() else text)


def oracle_compatible(requires: dict[str, str], offers: list[dict[str, str]]) -> bool:
    """DESIGN §2: every requires entry is provided by one of `offers` inside its specifier."""
    return all(
        any(
            cap in provides
            and SpecifierSet(spec).contains(Version(provides[cap]), prereleases=True)
            for provides in offers
        )
        for cap, spec in requires.items()
    )


def oracle_candidates(
    versions: list[Doc], spec_text: str | None, runs: Callable[[Doc], bool]
) -> list[str]:
    """The versions DESIGN §2 allows, highest first (pip's prerelease rule)."""
    spec = oracle_spec(spec_text)
    exact = oracle_exact(spec_text)
    names_pre = any(
        s.operator != "!=" and Version(s.version.removesuffix(".*")).is_prerelease for s in spec
    )
    inside = [v for v in versions if spec.contains(Version(v["version"]), prereleases=True)]
    finals = [
        v for v in inside if not Version(v["version"]).is_prerelease and v["status"] != "yanked"
    ]
    allow_pre = exact or names_pre or not finals
    valid = [
        v
        for v in inside
        if (allow_pre or not Version(v["version"]).is_prerelease)
        and (exact or v["status"] != "yanked")
        and runs(v)
    ]
    return [v["version"] for v in sorted(valid, key=lambda v: Version(v["version"]), reverse=True)]


@st.composite
def capability_maps(
    draw: st.DrawFn, values: list[str], often_empty: bool = False
) -> dict[str, str]:
    if often_empty and draw(st.booleans()):
        return {}
    caps = draw(st.lists(st.sampled_from(CAPABILITIES), unique=True, max_size=2))
    return {c: draw(st.sampled_from(values)) for c in caps}


@st.composite
def small_repos(draw: st.DrawFn) -> dict[str, Any]:
    versions = draw(st.lists(st.sampled_from(MODEL_VERSIONS), min_size=1, max_size=6, unique=True))
    entries = [
        mv(v, draw(st.sampled_from(STATUSES)), requires=draw(capability_maps(REQUIRES, True)))
        for v in versions
    ]
    releases = {
        "1.0": {
            "provides": draw(capability_maps(PROVIDED)),
            "requires": draw(capability_maps(REQUIRES, True)),
        },
        "2.0": {
            "provides": draw(capability_maps(PROVIDED)),
            "requires": draw(capability_maps(REQUIRES, True)),
        },
    }
    target_provides = draw(capability_maps(PROVIDED))
    specs = {env: draw(st.sampled_from(DEPLOY_SPECS)) for env in ("dev", "prod")}
    return {
        "entries": entries,
        "releases": releases,
        "target": target_provides,
        "specs": specs,
    }


def build_small(case: dict[str, Any]) -> Repository:
    envs = {}
    for env, spec in case["specs"].items():
        envs[env] = {} if spec is None else {"version": spec}
    return world(
        runtime_doc("rt", case["releases"]),
        target_doc("box", case["target"]),
        env_doc("dev", {"rt": "1.0"}, ["box"]),
        env_doc("prod", {"rt": "2.0"}, ["box"]),
        model_doc("m", case["entries"]),
        deployment_doc("m", "m", "rt", "box", envs),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_repos())
def test_property_resolution_matches_a_brute_force_oracle(case: dict[str, Any]) -> None:
    resolution = resolve_repo(build_small(case))
    release_of_env = {"dev": "1.0", "prod": "2.0"}
    for env, spec_text in case["specs"].items():
        release = case["releases"][release_of_env[env]]
        runtime_ok = oracle_compatible(release["requires"], [case["target"]])

        def runs(entry: Doc, release: Doc = release, runtime_ok: bool = runtime_ok) -> bool:
            return runtime_ok and oracle_compatible(
                entry.get("requires", {}), [release["provides"], case["target"]]
            )

        expected = oracle_candidates(case["entries"], spec_text, runs)
        item = resolution.resolved[f"deployment.{env}.m"]
        got = item.version.version if item.version is not None else None
        assert got == (expected[0] if expected else None), (env, spec_text)
        assert [v.version for v in item.verdicts if v.candidate] == expected
        if item.version is not None:
            # never yanked unless pinned exactly; never incompatible
            assert item.version.status != "yanked" or oracle_exact(spec_text)
            entry = next(e for e in case["entries"] if e["version"] == got)
            assert runs(entry)
        for verdict in item.verdicts:
            assert verdict.candidate or verdict.reasons  # every rejection says why


@st.composite
def joint_repos(draw: st.DrawFn) -> dict[str, Any]:
    names = ["a", "b", "c"]
    models: dict[str, list[Doc]] = {}
    for name in names:
        versions = draw(
            st.lists(
                st.sampled_from(["1.0", "1.1", "2.0", "2.1", "3.0"]),
                min_size=1,
                max_size=4,
                unique=True,
            )
        )
        entries = []
        for v in versions:
            deps = draw(
                st.dictionaries(
                    st.sampled_from([n for n in names if n != name]),
                    st.sampled_from([">=1", "<2", ">=2", "~=1.0", "==2.*", ">=3", "!=2.1"]),
                    max_size=2,
                )
            )
            entries.append(mv(v, draw(st.sampled_from(STATUSES)), dependsOn=deps))
        models[name] = entries
    deployed = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    specs = {n: draw(st.sampled_from([None, ">=1", "<2", "<3", "2.0", "!=2.0"])) for n in deployed}
    return {"models": models, "specs": specs}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(joint_repos())
def test_property_joint_resolution_is_sound_complete_and_greedy(case: dict[str, Any]) -> None:
    docs: list[Doc] = [TORCHSERVE, CPU, PROD, DEV]
    for name, entries in case["models"].items():
        docs.append(model_doc(name, entries))
    for name, spec in case["specs"].items():
        override: Doc = {} if spec is None else {"version": spec}
        docs.append(deployment_doc(name, name, "torchserve", "cpu-x86", {"prod": override}))
    resolution = resolve_repo(world(*docs))
    options = {
        name: oracle_candidates(case["models"][name], spec, lambda _: True)
        for name, spec in case["specs"].items()
    }
    entries = {name: {e["version"]: e for e in es} for name, es in case["models"].items()}

    def valid(combo: dict[str, str]) -> bool:
        for name, v in combo.items():
            for dep in entries[name][v].get("dependsOn", []):
                if dep["model"] in combo and not SpecifierSet(dep["version"]).contains(
                    Version(combo[dep["model"]]), prereleases=True
                ):
                    return False
        return True

    names = sorted(options)
    combos = [
        dict(zip(names, pick, strict=True))
        for pick in itertools.product(*(options[n] for n in names))
    ]
    exists = any(valid(c) for c in combos)
    items = {n: resolution.resolved[f"deployment.prod.{n}"] for n in names}
    got = {n: i.version.version if i.version is not None else None for n, i in items.items()}
    clean = all(i.conflict is None and i.version is not None for i in items.values())
    # sound: a clean result is a valid combination of candidates
    if clean:
        assert all(got[n] in options[n] for n in names)
        assert valid({n: v for n, v in got.items() if v is not None})
    # complete: when some combination works, the resolver finds one
    assert clean == exists, (got, options)
    # greedy: when the highest candidates already fit together, nothing falls back
    highest = {n: options[n][0] for n in names if options[n]}
    if len(highest) == len(names) and valid(highest):
        assert got == highest


# --- scale ---------------------------------------------------------------------------------------


def test_five_thousand_effective_deployments_resolve() -> None:
    """A smoke test of the resolver at scale (DESIGN §7 budgets live in benchmarks/)."""
    rng = random.Random(7)
    envs = ["dev", "qa", "staging", "canary", "prod"]
    docs: list[Doc] = [
        runtime_doc(
            "torchserve",
            {
                "0.11.0": {"provides": {"pytorch": "2.3.0"}},
                "0.12.0": {"provides": {"pytorch": "2.4.0"}},
            },
        ),
        CPU,
        *(
            env_doc(e, {"torchserve": "0.12.0" if e == "dev" else "0.11.0"}, ["cpu-x86"])
            for e in envs
        ),
    ]
    expected: dict[str, str] = {}
    for i in range(1000):
        name = f"model-{i:04d}"
        versions = [mv(f"1.{k}.0", requires={"pytorch": ">=2.1"}) for k in range(4)]
        versions.append(mv("2.0.0", requires={"pytorch": ">=2.4"}))
        if i % 5 == 1:  # every fifth model depends on the one before it
            versions = [
                mv(v["version"], requires=v["requires"], dependsOn={f"model-{i - 1:04d}": ">=1"})
                for v in versions
            ]
        rng.shuffle(versions)
        docs.append(model_doc(name, versions))
        docs.append(
            deployment_doc(
                name, name, "torchserve", "cpu-x86", {e: {"version": ">=1"} for e in envs}
            )
        )
        for e in envs:
            expected[f"deployment.{e}.{name}"] = "2.0.0" if e == "dev" else "1.3.0"
    resolution = resolve_repo(world(*docs))
    assert len(resolution.resolved) == 5000
    assert chosen(resolution) == expected
    assert all(item.conflict is None for item in resolution.resolved.values())
