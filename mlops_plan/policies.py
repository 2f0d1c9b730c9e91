"""User policies in CEL: compiled and type-checked once, evaluated on effective objects.

The engine is Google's `cel-expr-python` (cel-cpp): it type-checks an expression against
declared variables when it compiles, and evaluates a compiled expression ~15x faster than
the Rust-backed `common-expression-language` (`benchmarks/cel_engines.py`). Only this
module imports it.

Policies are data. The environment holds the CEL standard library and the strings, math,
optional and bindings extensions: no function reads a file, the network or the clock.
Cost is bounded: an expression has at most `MAX_EXPRESSION_CHARS` characters and nests
comprehensions (`all`, `exists`, `map`, …) at most `MAX_COMPREHENSION_DEPTH` deep.

What a policy sees, by the kind it matches (camelCase, as in YAML; optional fields that
are not set are present as `null`; secret-looking plain env values as "(sensitive value)"):

- Deployment, once per effective deployment: `deployment` {name, address, environment,
  model, version (the resolved version), versionSpec, runtime, runtimeVersion, target,
  replicas, canary {version, weight} or null, env, labels}; `model` (the Model document);
  `version` (the resolved entry of model.spec.versions); `runtime` (the environment's
  release of the runtime, with name and supportedFormats); `target` (the HardwareTarget
  spec with name); `environment` (the Environment spec with name). A policy is skipped on
  a deployment whose version, runtime or target it names did not resolve: other rules
  report that.
- Model: `model`, once per model. Runtime: `runtime`, once per release. HardwareTarget:
  `target`. Environment: `environment`.

`match.environments` keeps deployments and environments of those names, models deployed
there, the runtime releases they pin and the targets they offer; `match.labels` keeps
objects whose metadata labels include them. A user policy replaces a built-in one of the
same name. Annotations tune a policy: `mlops-plan/field: canary.weight` points findings
on a deployment at that field of its environment entry (by default, the one deployment
field a condition names, else the entry); `mlops-plan/hint` is the findings' hint; and,
in the built-in pack only, `mlops-plan/rule: MP404` reports under a catalog rule ID
instead of `policy/<name>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache, partial
from importlib import import_module
from typing import Any, NamedTuple

from packaging.version import InvalidVersion

from mlops_plan import model as m
from mlops_plan.effective import OVERRIDABLE, EffectiveDeployment
from mlops_plan.errors import MlopsPlanError
from mlops_plan.findings import Anchor, Finding, Severity
from mlops_plan.load import CONFIG_FILE, Locator, parse
from mlops_plan.resolve import Resolved, version
from mlops_plan.rules.base import Context
from mlops_plan.secrets import SENSITIVE, looks_secret
from mlops_plan.validate import Repository, finding_at

PREFIX = "policy/"
RULE_ANNOTATION = "mlops-plan/rule"
FIELD_ANNOTATION = "mlops-plan/field"
HINT_ANNOTATION = "mlops-plan/hint"
MAX_EXPRESSION_CHARS = 2000
MAX_COMPREHENSION_DEPTH = 2
VARIABLES: dict[str, frozenset[str]] = {
    "Deployment": frozenset({"deployment", "model", "version", "runtime", "target", "environment"}),
    "Model": frozenset({"model"}),
    "Runtime": frozenset({"runtime"}),
    "HardwareTarget": frozenset({"target"}),
    "Environment": frozenset({"environment"}),
}
KIND_ORDER = ("Deployment", "Environment", "HardwareTarget", "Model", "Runtime")
_ALL = frozenset[str]().union(*VARIABLES.values())
_STRING = re.compile(
    r'(?s)[rRbB]{0,2}(?:""".*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')'
)
_IDENTIFIER = re.compile(r"(?<![.\w])(" + "|".join(sorted(_ALL)) + r")\b")
_DEPLOYMENT_FIELD = re.compile(r"(?<![.\w])deployment\s*\.\s*([A-Za-z_]\w*)")
_MACRO = re.compile(
    r"\.\s*(all|exists|exists_one|existsOne|map|filter|transformList|transformMap)\s*\($"
)
_EXPECTING = re.compile(r" expecting \{[^}]{60,}\}")
_CEL_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")


class CompiledPolicy(NamedTuple):
    """A policy ready to evaluate: its programs and what it matches."""

    name: str
    rule: str
    severity: Severity
    kinds: frozenset[str]
    environments: frozenset[str]
    labels: tuple[tuple[str, str], ...]
    condition: str
    program: Any
    message: str | None
    message_program: Any
    variables: frozenset[str]  # the variables the condition or message names
    field: tuple[str, ...]  # the deployment field findings point at; () for the entry
    hint: str | None
    anchor: Anchor | None  # where a user policy's condition is; None for built-ins


class _Object(NamedTuple):
    """One object a policy is evaluated on."""

    kind: str
    subject: str
    environments: frozenset[str]
    labels: dict[str, str]
    load: Callable[[frozenset[str]], dict[str, Any]]  # the available ones of these variables
    anchor: Anchor | None  # None: the effective deployment's entry
    deployment: EffectiveDeployment | None


# --- the engine --------------------------------------------------------------------------


def _cel() -> Any:
    try:
        return import_module("cel_expr_python.cel")
    except ImportError:
        raise MlopsPlanError(
            "the CEL engine for policies (cel-expr-python) is not installed",
            "reinstall mlops-plan, or `pip install cel-expr-python`",
        ) from None


@cache
def _env(variables: frozenset[str]) -> Any:
    cel = _cel()
    extensions = [
        import_module(f"cel_expr_python.ext.ext_{name}").__dict__[cls]()
        for name, cls in (
            ("strings", "ExtStrings"),
            ("math", "ExtMath"),
            ("optional", "ExtOptional"),
            ("bindings", "ExtBindings"),
        )
    ]
    dyn_map = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
    return cel.NewEnv(
        variables={name: dyn_map for name in sorted(variables)}, extensions=extensions
    )


class CompileError(NamedTuple):
    line: int
    col: int
    message: str


def compile_expression(
    expression: str, variables: frozenset[str], returns: tuple[str, ...]
) -> Any | CompileError:
    """A compiled, type-checked program, or the first error (1-based, in the expression)."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        return CompileError(
            1, 1, f"expression is {len(expression)} characters, over {MAX_EXPRESSION_CHARS}"
        )
    depth = comprehension_depth(expression)
    if depth > MAX_COMPREHENSION_DEPTH:
        return CompileError(
            1,
            1,
            f"comprehensions nest {depth} deep, over {MAX_COMPREHENSION_DEPTH} "
            "(evaluation cost must stay bounded)",
        )
    try:
        program = _env(variables).compile(expression)
    except RuntimeError as exc:
        return _compile_error(str(exc))
    kind = program.return_type().name()
    if kind not in returns:
        wanted = " or ".join(r.lower() for r in returns if r != "DYN")
        return CompileError(1, 1, f"the expression returns {kind.lower()}, not {wanted}")
    return program


def _compile_error(text: str) -> CompileError:
    errors = [_CEL_ERROR.search(line) for line in text.splitlines()]
    found = [e for e in errors if e is not None]
    if not found:
        return CompileError(1, 1, text.strip())
    first = found[0]
    message = first.group(3).replace(" (in container '')", "").strip()
    message = _EXPECTING.sub(" expecting a value", message)
    if len(found) > 1:
        message += f" (and {len(found) - 1} more error{'s' if len(found) > 2 else ''})"
    return CompileError(int(first.group(1)), int(first.group(2)), message)


def comprehension_depth(expression: str) -> int:
    """How deeply comprehension macros nest (string literals ignored)."""
    text = _STRING.sub('""', expression)
    stack: list[bool] = []
    deepest = 0
    for index, char in enumerate(text):
        if char == "(":
            stack.append(_MACRO.search(text[max(0, index - 40) : index + 1]) is not None)
            deepest = max(deepest, sum(stack))
        elif char == ")" and stack:
            stack.pop()
    return deepest


def referenced(expression: str) -> frozenset[str]:
    """The top-level variables an expression names."""
    return frozenset(_IDENTIFIER.findall(_STRING.sub('""', expression)))


def _deployment_fields(expression: str) -> set[str]:
    return set(_DEPLOYMENT_FIELD.findall(_STRING.sub('""', expression)))


# --- compiling ---------------------------------------------------------------------------


@cache
def builtin_policies() -> tuple[m.Policy, ...]:
    """The built-in pack (top-level `policies/`), validated; a broken pack cannot continue."""
    from mlops_plan.resources import policy_files

    out: list[m.Policy] = []
    for name, text in policy_files():
        docs, problems = parse(name, text)
        try:
            if problems:
                raise ValueError(problems[0].message)
            out.extend(
                m.Policy.model_validate(d.data) for d in docs if d.data.get("kind") == "Policy"
            )
        except ValueError as exc:  # pydantic's ValidationError too: the installation is broken
            raise MlopsPlanError(
                f"built-in policy pack file {name} is broken: {exc}", "reinstall mlops-plan"
            ) from None
    return tuple(out)


def compile_policies(
    repo: Repository, locator: Locator, builtin: tuple[m.Policy, ...] | list[m.Policy] | None = None
) -> tuple[list[CompiledPolicy], list[Finding]]:
    """Every policy compiled: the built-in pack (unless replaced) and the repository's.

    A user policy that does not compile is an error finding `policy/<name>` at its
    expression; a built-in one raises (a broken installation).
    """
    pack = builtin_policies() if builtin is None else tuple(builtin)
    compiled: list[CompiledPolicy] = []
    findings: list[Finding] = []
    for policy in pack:
        if policy.metadata.name in repo.policies:
            continue
        result = _compile_policy(policy, None)
        if not isinstance(result, CompiledPolicy):
            field, error = result
            raise MlopsPlanError(
                f'built-in policy "{policy.metadata.name}" does not compile: {field}: '
                f"{error.message}",
                "reinstall mlops-plan",
            )
        compiled.append(result)
    for name in sorted(repo.policies):
        policy = repo.policies[name]
        anchor = repo.anchor("Policy", name, "spec", "condition")
        result = _compile_policy(policy, anchor)
        if isinstance(result, CompiledPolicy):
            compiled.append(result)
            continue
        field, error = result
        where = anchor._replace(path=("spec", field))
        line, col = _expression_position(locator, where, policy, field, error)
        findings.append(
            Finding(
                rule=PREFIX + name,
                severity=Severity.ERROR,
                file=where.file,
                line=line,
                col=col,
                message=f"policy does not compile: {error.message}",
                hint=_compile_hint(policy, field, error),
            )
        )
    compiled.sort(key=lambda p: p.name)
    return compiled, findings


def _compile_policy(
    policy: m.Policy, anchor: Anchor | None
) -> CompiledPolicy | tuple[str, CompileError]:
    spec = policy.spec
    kinds = frozenset(spec.match.kinds) & frozenset(VARIABLES)
    if not kinds:
        return "match", CompileError(1, 1, "match.kinds names no kind a policy can match")
    variables = frozenset.intersection(*(VARIABLES[k] for k in kinds))
    program = compile_expression(spec.condition, variables, ("BOOL", "DYN"))
    if isinstance(program, CompileError):
        return "condition", program
    message_program = None
    if spec.message_expression is not None:
        message_program = compile_expression(spec.message_expression, variables, ("STRING", "DYN"))
        if isinstance(message_program, CompileError):
            return "messageExpression", message_program
    annotations = policy.metadata.annotations
    name = policy.metadata.name
    rule = PREFIX + name
    if anchor is None and annotations.get(RULE_ANNOTATION):
        rule = annotations[RULE_ANNOTATION]
    field: tuple[str, ...] = ()
    if FIELD_ANNOTATION in annotations:
        field = tuple(p for p in annotations[FIELD_ANNOTATION].split(".") if p)
    else:
        fields = _deployment_fields(spec.condition)
        if len(fields) == 1 and next(iter(fields)) in OVERRIDABLE:
            field = (next(iter(fields)),)
    names = referenced(spec.condition)
    if spec.message_expression is not None:
        names |= referenced(spec.message_expression)
    return CompiledPolicy(
        name=name,
        rule=rule,
        severity=Severity(spec.severity),
        kinds=kinds,
        environments=frozenset(spec.match.environments),
        labels=tuple(sorted(spec.match.labels.items())),
        condition=spec.condition,
        program=program,
        message=spec.message,
        message_program=message_program,
        variables=names & variables,
        field=field,
        hint=annotations.get(HINT_ANNOTATION),
        anchor=anchor,
    )


def _expression_position(
    locator: Locator, anchor: Anchor, policy: m.Policy, field: str, error: CompileError
) -> tuple[int | None, int | None]:
    """The error's place in the file, when the scalar maps line for line; else its start.

    That is a one-line plain or quoted scalar without escapes, or a block scalar (`|`,
    `>`) whose lines are the expression's lines.
    """
    line, col = locator.position(anchor)
    text = locator.text(anchor.file)
    expression = {
        "condition": policy.spec.condition,
        "messageExpression": policy.spec.message_expression,
    }.get(field)
    if line is None or col is None or text is None or expression is None:
        return line, col
    lines = text.split("\n")
    wanted = expression.split("\n")
    source = lines[line - 1][col - 1 :]
    if len(wanted) == 1:
        if source.startswith(expression):
            return line, col + error.col - 1
        if source[:1] in {'"', "'"} and source[1:].startswith(expression):
            return line, col + error.col
    if source[:1] in {"|", ">"} and line + error.line <= len(lines) and error.line <= len(wanted):
        first = lines[line]
        indent = len(first) - len(first.lstrip(" "))
        if lines[line + error.line - 1][indent:] == wanted[error.line - 1]:
            return line + error.line, indent + error.col
    return line, col


def _compile_hint(policy: m.Policy, field: str, error: CompileError) -> str:
    kinds = [k for k in policy.spec.match.kinds if k in VARIABLES]
    if "undeclared reference" in error.message and kinds:
        variables = frozenset.intersection(*(VARIABLES[k] for k in kinds))
        return f"a policy matching {', '.join(kinds)} sees: {', '.join(sorted(variables))}"
    if "returns" in error.message and field == "condition":
        return "a condition is true when the object is fine, e.g. deployment.replicas >= 2"
    if "returns" in error.message:
        return "a messageExpression builds a string: 'replicas: ' + string(deployment.replicas)"
    return "conditions and messages are CEL expressions (github.com/google/cel-spec)"


def check_policy_folders(repo: Repository, locator: Locator) -> list[Finding]:
    """Each `policies:` folder of mlops-plan.yaml must exist inside the repository."""
    findings: list[Finding] = []
    root = repo.root.resolve()
    for index, folder in enumerate(repo.config.policies):
        path = (repo.root / folder).resolve()
        if not path.is_relative_to(root):
            message = f'policies[{index}]: "{folder}" is outside the repository'
        elif not path.is_dir():
            message = f'policies[{index}]: folder "{folder}" does not exist'
        else:
            continue
        findings.append(
            finding_at(
                locator,
                "MP101",
                Anchor(CONFIG_FILE, 0, ("policies", index)),
                message,
                "list folders relative to the repository root, e.g. policies/",
            )
        )
    return findings


# --- evaluating --------------------------------------------------------------------------


def evaluate(policies: list[CompiledPolicy], ctx: Context) -> list[Finding]:
    """A finding for every matching object on which a policy's condition is not true."""
    findings: list[Finding] = []
    dumps = _Dumps(ctx.repo)
    sources: dict[str, str | None] = {}
    for kind in KIND_ORDER:
        relevant = [p for p in policies if kind in p.kinds]
        if not relevant:
            continue
        for obj in _objects(kind, ctx, dumps):
            matching = [p for p in relevant if _matches(p, obj)]
            if not matching:
                continue
            data = obj.load(frozenset[str]().union(*(p.variables for p in matching)))
            activation = None
            for policy in matching:
                if not policy.variables <= data.keys():
                    continue  # a variable it names did not resolve: other rules say why
                if activation is None:
                    activation = _env(VARIABLES[kind]).Activation(data)
                finding = _check(policy, obj, activation, ctx, sources)
                if finding is not None:
                    findings.append(finding)
    return findings


def _matches(policy: CompiledPolicy, obj: _Object) -> bool:
    if policy.environments and not policy.environments & obj.environments:
        return False
    return all(obj.labels.get(key) == value for key, value in policy.labels)


def _run(program: Any, activation: Any) -> tuple[bool, Any]:
    """(ok, value) of one evaluation; not ok carries the engine's error text."""
    try:
        result = program.eval(activation)
        kind = result.type().name()
        value = result.value()
    except Exception as exc:  # the engine's own failures are the policy's, not ours
        return False, str(exc)
    if kind in {"ERROR", "UNKNOWN"}:
        return False, str(value)
    return True, value


_ENGINE_MESSAGES = (
    (re.compile(r'^Key not found in map : "(.*)"$'), r'no key "\1"'),
    (
        re.compile(r"^Applying SELECT to non-message type$"),
        "selecting a field of a non-map (null?)",
    ),
    (re.compile(r"^No matching overloads found : (.*)$"), r"no operator for \1"),
)


def _engine_message(text: str) -> str:
    text = re.sub(r"^[A-Z_]+: ", "", text.strip())
    for pattern, replacement in _ENGINE_MESSAGES:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text


def _check(
    policy: CompiledPolicy,
    obj: _Object,
    activation: Any,
    ctx: Context,
    sources: dict[str, str | None],
) -> Finding | None:
    ok, value = _run(policy.program, activation)
    if ok and value is True:
        return None
    anchor = _anchor(policy, obj, ctx.repo)
    if not ok or not isinstance(value, bool):
        problem = _engine_message(value) if not ok else f"it returned {value!r}, not a bool"
        return finding_at(
            ctx.locator,
            policy.rule,
            anchor,
            f'policy "{policy.name}" could not be evaluated on {obj.subject}: {problem}',
            'guard optional values, e.g. `"auc" in version.metrics && version.metrics.auc >= 0.9`',
            policy.severity,
        )
    message = policy.message
    if policy.message_program is not None:
        ok, text = _run(policy.message_program, activation)
        if ok and isinstance(text, str) and text:
            message = text
    if message is None:
        message = f'does not satisfy policy "{policy.name}": {policy.condition}'
    hint = policy.hint or _source_hint(policy, ctx.locator, sources)
    return finding_at(
        ctx.locator, policy.rule, anchor, f"{obj.subject}: {message}", hint, policy.severity
    )


def _source_hint(policy: CompiledPolicy, locator: Locator, sources: dict[str, str | None]) -> str:
    if policy.name not in sources:
        where = None
        if policy.anchor is not None:
            line, _ = locator.position(policy.anchor)
            where = policy.anchor.file + (f":{line}" if line is not None else "")
        sources[policy.name] = where
    where = sources[policy.name]
    origin = f"policy {policy.name} ({where})" if where else f"built-in policy {policy.name}"
    return f"{origin} requires: {policy.condition}"


def _anchor(policy: CompiledPolicy, obj: _Object, repo: Repository) -> Anchor:
    eff = obj.deployment
    if eff is None:
        assert obj.anchor is not None
        return obj.anchor
    if not policy.field:
        return eff.anchor(repo)
    anchor = eff.anchor(repo, policy.field[0])
    if policy.field[0] in eff.overridden:
        return anchor._replace(path=(*anchor.path, *policy.field[1:]))
    return anchor


# --- activations -------------------------------------------------------------------------


class _Dumps:
    """Each declaration as the plain data CEL reads, made once per run."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._cache: dict[tuple[str, ...], dict[str, Any]] = {}

    def model(self, name: str) -> dict[str, Any]:
        key = ("model", name)
        if key not in self._cache:
            self._cache[key] = self.repo.models[name].model_dump(by_alias=True, mode="json")
        return self._cache[key]

    def version(self, model: str, entry: m.ModelVersion) -> dict[str, Any]:
        key = ("version", model, entry.version)
        if key not in self._cache:
            self._cache[key] = entry.model_dump(by_alias=True, mode="json")
        return self._cache[key]

    def release(self, name: str, release: m.RuntimeVersion) -> dict[str, Any]:
        key = ("runtime", name, release.version)
        if key not in self._cache:
            spec = self.repo.runtimes[name].spec
            self._cache[key] = {
                "name": name,
                "supportedFormats": list(spec.supported_formats),
                **release.model_dump(by_alias=True, mode="json"),
            }
        return self._cache[key]

    def target(self, name: str) -> dict[str, Any]:
        key = ("target", name)
        if key not in self._cache:
            spec = self.repo.targets[name].spec
            self._cache[key] = {"name": name, **spec.model_dump(by_alias=True, mode="json")}
        return self._cache[key]

    def environment(self, name: str) -> dict[str, Any]:
        key = ("environment", name)
        if key not in self._cache:
            spec = self.repo.environments[name].spec
            self._cache[key] = {"name": name, **spec.model_dump(by_alias=True, mode="json")}
        return self._cache[key]


def deployment_data(eff: EffectiveDeployment, item: Resolved | None) -> dict[str, Any]:
    """The effective deployment as a policy sees it."""
    resolved = item.version if item is not None else None
    placement = item.placement if item is not None else None
    canary: dict[str, Any] | None = None
    if eff.canary is not None:
        exact = item.canary.version if item is not None and item.canary else eff.canary.version
        canary = {"version": exact, "weight": eff.canary.weight}
    env: dict[str, Any] = {}
    for key, value in sorted(eff.env.items()):
        if isinstance(value, m.SecretEnv):
            env[key] = {"secretRef": {"name": value.secret_ref.name, "key": value.secret_ref.key}}
        else:
            env[key] = SENSITIVE if looks_secret(key, value) else value
    return {
        "name": eff.name,
        "address": eff.address,
        "environment": eff.environment,
        "model": eff.model,
        "version": resolved.version if resolved is not None else None,
        "versionSpec": eff.version,
        "runtime": eff.runtime,
        "runtimeVersion": placement.release.version if placement is not None else None,
        "target": eff.target,
        "replicas": eff.replicas,
        "canary": canary,
        "env": env,
        "labels": dict(eff.labels),
    }


def _deployment_variables(
    eff: EffectiveDeployment, item: Resolved | None, dumps: _Dumps, needed: frozenset[str]
) -> dict[str, Any]:
    repo = dumps.repo
    data: dict[str, Any] = {}
    if "deployment" in needed:
        data["deployment"] = deployment_data(eff, item)
    if eff.model in repo.models:
        if "model" in needed:
            data["model"] = dumps.model(eff.model)
        if "version" in needed and item is not None and item.version is not None:
            data["version"] = dumps.version(eff.model, item.version)
    placement = item.placement if item is not None else None
    if placement is not None:
        if "runtime" in needed:
            data["runtime"] = dumps.release(placement.runtime, placement.release)
        if "target" in needed:
            data["target"] = dumps.target(placement.target)
    if "environment" in needed and eff.environment in repo.environments:
        data["environment"] = dumps.environment(eff.environment)
    return data


def _objects(kind: str, ctx: Context, dumps: _Dumps) -> Iterator[_Object]:
    repo = ctx.repo
    if kind == "Deployment":
        for eff in ctx.deployments:
            item = ctx.resolution.resolved.get(eff.address)
            yield _Object(
                kind,
                eff.address,
                frozenset({eff.environment}),
                eff.labels,
                partial(_deployment_variables, eff, item, dumps),
                None,
                eff,
            )
    elif kind == "Model":
        used: dict[str, set[str]] = {}
        for eff in ctx.deployments:
            used.setdefault(eff.model, set()).add(eff.environment)
        for name in sorted(repo.models):
            load = partial(_constant, "model", partial(dumps.model, name))
            yield _named(repo, kind, "model", name, used.get(name, set()), load)
    elif kind == "Runtime":
        for name in sorted(repo.runtimes):
            runtime = repo.runtimes[name]
            for index, release in enumerate(runtime.spec.versions):
                pinned = {
                    env_name
                    for env_name, env in repo.environments.items()
                    if name in env.spec.runtimes
                    and _same_version(env.spec.runtimes[name], release.version)
                }
                yield _Object(
                    kind,
                    f"runtime.{name}@{release.version}",
                    frozenset(pinned),
                    runtime.metadata.labels,
                    partial(_constant, "runtime", partial(dumps.release, name, release)),
                    repo.anchor(kind, name, "spec", "versions", index),
                    None,
                )
    elif kind == "HardwareTarget":
        for name in sorted(repo.targets):
            offered = {e for e, env in repo.environments.items() if name in env.spec.targets}
            load = partial(_constant, "target", partial(dumps.target, name))
            yield _named(repo, kind, "target", name, offered, load)
    elif kind == "Environment":
        for name in sorted(repo.environments):
            load = partial(_constant, "environment", partial(dumps.environment, name))
            yield _named(repo, kind, "environment", name, {name}, load)


def _same_version(a: str, b: str) -> bool:
    try:
        return version(a) == version(b)
    except InvalidVersion:  # pragma: no cover - validated at load
        return a == b


def _constant(
    variable: str, make: Callable[[], dict[str, Any]], needed: frozenset[str]
) -> dict[str, Any]:
    return {variable: make()}


def _named(
    repo: Repository,
    kind: str,
    variable: str,
    name: str,
    environments: set[str],
    load: Callable[[frozenset[str]], dict[str, Any]],
) -> _Object:
    document = repo.of_kind(kind)[name]
    return _Object(
        kind,
        f"{variable}.{name}",
        frozenset(environments),
        document.metadata.labels,
        load,
        repo.anchor(kind, name, "metadata", "name"),
        None,
    )
