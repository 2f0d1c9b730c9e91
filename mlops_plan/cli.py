"""The command line: parse options, call a pipeline function, pick a renderer, exit.

Imports are lazy so that `mlops-plan --version` and a pre-commit run start quickly.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlops_plan import __version__

app = typer.Typer(
    name="mlops-plan",
    help="Lint, resolve and plan machine-learning model deployments declared in git.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class LintFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlops-plan {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the stack of an unexpected error.")
    ] = False,
) -> None:
    """Lint, resolve and plan machine-learning model deployments declared in git."""


def use_color(no_color: bool = False) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


PathArg = Annotated[
    Path,
    typer.Argument(
        help="A folder in the repository (default: the current one).", show_default=False
    ),
]


BaseOption = Annotated[
    str | None,
    typer.Option(
        "--base",
        help="Compare with a git ref (read at its merge-base with HEAD) or a directory; "
        "runs the plan-time rules.",
    ),
]
NoCacheOption = Annotated[
    bool,
    typer.Option(
        "--no-cache", help="Neither read nor write the caches (parsed files, the last lint)."
    ),
]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="The clock for freezes (ISO 8601); default MLOPS_PLAN_NOW or now."),
]


@app.command()
def lint(
    path: PathArg = Path(),
    output_format: Annotated[
        LintFormat, typer.Option("--format", "-f", help="Output format.")
    ] = LintFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    locked: Annotated[
        bool, typer.Option("--locked", help="Fail when mlops-plan.lock is missing or stale.")
    ] = False,
    base: BaseOption = None,
    now: NowOption = None,
    no_ignore: Annotated[
        bool, typer.Option("--no-ignore", help="Honour no `# mlops-plan: ignore[...]` comment.")
    ] = False,
    no_cache: NoCacheOption = False,
) -> None:
    """Check the repository's declarations; exit 1 on an error finding."""
    from importlib import import_module

    from mlops_plan import pipeline

    result = pipeline.lint(
        path,
        locked=locked,
        base=base,
        now=pipeline.parse_now(now),
        no_ignore=no_ignore,
        use_cache=not no_cache,
    )
    module = {
        LintFormat.text: "findings_text",
        LintFormat.json: "findings_json",
        LintFormat.sarif: "sarif",
        LintFormat.github: "github",
    }[output_format]
    renderer = import_module(f"mlops_plan.render.{module}")  # only the one asked for
    sys.stdout.write(renderer.render(result, color=use_color()))
    raise typer.Exit(1 if result.failed(strict) else 0)


def run() -> None:
    """The console script (and `python -m mlops_plan`): main(), then a quick exit.

    A large run leaves hundreds of MiB of small objects, which the interpreter would free
    one by one on its way out (most of a second on a 10,000-file repository). Files are
    written and closed, child processes joined, state committed by then: only the
    standard streams remain to flush.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away, a closed stream
        pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """The console script: one place turns exceptions into messages and exit codes."""
    import gc

    from mlops_plan.errors import MlopsPlanError

    args = sys.argv[1:] if argv is None else argv
    # A run builds many small objects and almost no reference cycles: the cyclic garbage
    # collector only costs time here (about a quarter of a large lint, measured).
    collecting = gc.isenabled()
    gc.disable()
    try:
        app(args=args, prog_name="mlops-plan", standalone_mode=True)
    except SystemExit as exc:  # typer's own exit: usage errors are 2, commands set theirs
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    except MlopsPlanError as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        if exc.hint:
            typer.echo(f"  hint: {exc.hint}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:
        if "--traceback" in args:
            import traceback

            traceback.print_exc()
        else:
            typer.echo(
                f"mlops-plan: internal error ({type(exc).__name__}: {exc}). This is a bug: "
                "please report it with the command you ran; --traceback shows the stack.",
                err=True,
            )
        return 3
    finally:
        if collecting:
            gc.enable()
    return 0


@app.command()
def lock(
    path: PathArg = Path(),
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if `lock` would change the file; write nothing.")
    ] = False,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", help="Re-resolve everything, ignoring current pins.")
    ] = False,
) -> None:
    """Write mlops-plan.lock: what each effective deployment resolves to."""
    from mlops_plan import pipeline

    result = pipeline.lock(path, check=check, upgrade=upgrade)
    for change in result.changes:
        typer.echo(change)
    if check:
        if result.changes:
            typer.echo(f"{result.path.name} is out of date: run `mlops-plan lock`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{result.path.name} is up to date.")
        raise typer.Exit(0)
    if result.written:
        typer.echo(f"Wrote {result.path.name} ({len(result.changes)} change(s)).")
    else:
        typer.echo(f"{result.path.name} is up to date.")


class GraphFormat(StrEnum):
    dot = "dot"
    mermaid = "mermaid"
    json = "json"


@app.command()
def graph(
    path: PathArg = Path(),
    output_format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="Output format.")
    ] = GraphFormat.dot,
    focus: Annotated[
        str | None,
        typer.Option(
            "--focus",
            help="Only this node (e.g. runtime.triton@24.05) and what is connected to it.",
        ),
    ] = None,
) -> None:
    """Export the dependency graph."""
    from mlops_plan import graph as graph_module
    from mlops_plan import pipeline
    from mlops_plan.errors import MlopsPlanError
    from mlops_plan.rules.base import did_you_mean

    analysis = pipeline.analyze(path)
    built = graph_module.build(analysis.repo, analysis.deployments, analysis.resolution)
    if focus is not None:
        if focus not in built:
            raise MlopsPlanError(
                f'no node "{focus}" in the graph',
                did_you_mean(focus, list(built.nodes)) or "see the node IDs with --format json",
            )
        built = graph_module.focus(built, focus)
    renderers = {
        GraphFormat.dot: graph_module.to_dot,
        GraphFormat.mermaid: graph_module.to_mermaid,
        GraphFormat.json: graph_module.to_json,
    }
    sys.stdout.write(renderers[output_format](built))


@app.command()
def explain(
    what: Annotated[
        str,
        typer.Argument(
            help="A rule ID (MP201) or an address (deployment.prod.fraud-detector, "
            "runtime.triton@24.05, model.fraud-detector)."
        ),
    ],
    path: Annotated[
        Path, typer.Option("--path", "-C", help="A folder in the repository.")
    ] = Path(),
) -> None:
    """Print a rule's documentation, or why an address resolves as it does."""
    from mlops_plan.errors import MlopsPlanError

    if what.upper().startswith("MP") and "." not in what:
        from mlops_plan.rules import RULES
        from mlops_plan.rules.base import did_you_mean

        rule = RULES.get(what.upper())
        if rule is None:
            raise MlopsPlanError(f'unknown rule "{what}"', did_you_mean(what.upper(), list(RULES)))
        typer.echo(f"{rule.id} {rule.name} (default severity: {rule.severity})\n")
        typer.echo(rule.doc)
        return
    from mlops_plan import pipeline
    from mlops_plan.explain import explain_address

    sys.stdout.write(explain_address(pipeline.analyze(path), what))


class StatusFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
def status(
    path: PathArg = Path(),
    output_format: Annotated[
        StatusFormat, typer.Option("--format", "-f", help="Output format.")
    ] = StatusFormat.text,
) -> None:
    """The deployments × environments matrix of resolved versions (canaries shown)."""
    from mlops_plan import pipeline
    from mlops_plan import status as status_module

    result = status_module.status(pipeline.analyze(path))
    renderers = {
        StatusFormat.text: status_module.render_text,
        StatusFormat.markdown: status_module.render_markdown,
        StatusFormat.json: status_module.render_json,
    }
    sys.stdout.write(renderers[output_format](result))


class PlanFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
def plan(
    path: PathArg = Path(),
    base: BaseOption = None,
    output_format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PlanFormat.text,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also save the plan as JSON, for `mlops-plan apply`."),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 without changes, 1 on error, 2 with changes."
        ),
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Never colour the output.")] = False,
    now: NowOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Show which model and runtime versions would change in which environment, and why."""
    from mlops_plan import pipeline
    from mlops_plan.render import plan_markdown, plan_text

    result = pipeline.plan(path, base=base, now=pipeline.parse_now(now), use_cache=not no_cache)
    if out is not None:
        from mlops_plan.files import write_atomic

        write_atomic(out, result.to_json())
    if output_format is PlanFormat.json:
        sys.stdout.write(result.to_json())
    elif output_format is PlanFormat.markdown:
        sys.stdout.write(plan_markdown.render(result))
    else:
        sys.stdout.write(plan_text.render(result, color=use_color(no_color)))
    if result.errored:
        raise typer.Exit(1)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)


@app.command()
def apply(
    planfile: Annotated[
        Path | None,
        typer.Argument(help="A plan saved with `plan --out`; without it, plan and ask."),
    ] = None,
    path: Annotated[
        Path, typer.Option("--path", "-C", help="A folder in the repository.")
    ] = Path(),
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Skip the confirmation of a fresh plan.")
    ] = False,
    allow_protected: Annotated[
        bool,
        typer.Option(
            "--allow-protected", help="Approve destroys and downgrades in protected environments."
        ),
    ] = False,
    lock_timeout: Annotated[
        str, typer.Option("--lock-timeout", help="How long to wait for a lock (e.g. 30s, 2m).")
    ] = "0s",
) -> None:
    """Apply a reviewed plan through the environments' providers, recording state."""
    from mlops_plan import pipeline

    def confirm(question: str) -> bool:
        if not sys.stdin.isatty():
            typer.echo(f"{question}: no terminal to ask on; refused.", err=True)
            return False
        return bool(typer.prompt(f"{question}\n  Enter a value", default="") == "yes")

    def echo(text: str) -> None:
        typer.echo(text.rstrip("\n"))

    report = pipeline.apply(
        path,
        planfile,
        auto_approve=auto_approve,
        allow_protected=allow_protected,
        lock_timeout=pipeline.parse_duration(lock_timeout),
        confirm=confirm,
        echo=echo,
    )
    if report is None:
        return
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)


state_app = typer.Typer(
    help="Read the recorded state, its history and its locks.", no_args_is_help=True
)
app.add_typer(state_app, name="state")

StatePath = Annotated[Path, typer.Option("--path", "-C", help="A folder in the repository.")]


@state_app.command("list")
def state_list(path: StatePath = Path()) -> None:
    """The addresses recorded in the state."""
    from mlops_plan import pipeline

    state = pipeline.state_backend(pipeline.load_repository(path).repo).read()
    for address in sorted(state.resources if state is not None else {}):
        typer.echo(address)


@state_app.command("show")
def state_show(
    address: Annotated[str, typer.Argument(help="e.g. deployment.prod.fraud-detector")],
    path: StatePath = Path(),
) -> None:
    """What was last applied at ADDRESS, as JSON."""
    import json

    from mlops_plan import pipeline
    from mlops_plan.errors import MlopsPlanError
    from mlops_plan.rules.base import did_you_mean

    state = pipeline.state_backend(pipeline.load_repository(path).repo).read()
    resources = state.resources if state is not None else {}
    if address not in resources:
        raise MlopsPlanError(f'no "{address}" in the state', did_you_mean(address, list(resources)))
    typer.echo(json.dumps(resources[address], indent=2, sort_keys=True))


@state_app.command("history")
def state_history(path: StatePath = Path()) -> None:
    """The audit trail: who applied what, when, from which commit."""
    from mlops_plan import pipeline

    state = pipeline.state_backend(pipeline.load_repository(path).repo).read()
    if state is None or not state.history:
        typer.echo("No applies recorded.")
        return
    for entry in state.history:
        commit = (entry.commit or "-")[:12]
        plan_id = entry.plan_id[:19]
        typer.echo(f"serial {entry.serial}  {entry.when}  {entry.who}  commit {commit}  {plan_id}")
        for change in entry.changes:
            message = f"  ({change.message})" if change.message else ""
            typer.echo(
                f"  {change.outcome:<11} {'/'.join(change.actions):<13} {change.address}{message}"
            )


@state_app.command("force-unlock")
def state_force_unlock(
    lock_id: Annotated[str, typer.Argument(help="The ID printed in the Lock Info block.")],
    path: StatePath = Path(),
) -> None:
    """Break a lock (only when no apply holds it any more)."""
    from mlops_plan import pipeline

    info = pipeline.state_backend(pipeline.load_repository(path).repo).force_unlock(lock_id)
    holder = f"{info.who}@{info.host}"
    typer.echo(f"Lock {info.id} on environment {info.environment} (held by {holder}) is broken.")


@state_app.command("migrate")
def state_migrate(
    source: Annotated[
        str, typer.Option("--from", help="Where the state is now: local or postgres.")
    ],
    target: Annotated[str, typer.Option("--to", help="Where to copy it: postgres or local.")],
    path: StatePath = Path(),
) -> None:
    """Copy the state, with its lineage and history, from one backend to another."""
    from mlops_plan import pipeline
    from mlops_plan.state.migrate import migrate_between

    repo = pipeline.load_repository(path).repo
    state = migrate_between(repo.config.state, repo.root, source, target)
    typer.echo(
        f"Migrated the state (lineage {state.lineage}, {len(state.resources)} resources, "
        f"{len(state.history)} applies) from {source} to {target}; it is now at serial "
        f"{state.serial}."
    )
