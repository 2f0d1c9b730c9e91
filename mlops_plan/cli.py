"""The command line: parse options, call a pipeline function, pick a renderer, exit.

Imports are lazy so that `mlops-plan --version` and a pre-commit run start quickly.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import click
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


@app.command()
def lint(
    path: PathArg = Path(),
    output_format: Annotated[
        LintFormat, typer.Option("--format", "-f", help="Output format.")
    ] = LintFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Check the repository's declarations; exit 1 on an error finding."""
    from mlops_plan import pipeline
    from mlops_plan.render import findings_json, findings_text

    result = pipeline.lint(path)
    renderer = findings_json if output_format is LintFormat.json else findings_text
    sys.stdout.write(renderer.render(result, color=use_color()))
    raise typer.Exit(1 if result.failed(strict) else 0)


def main(argv: list[str] | None = None) -> int:
    """The console script: one place turns exceptions into messages and exit codes."""
    from mlops_plan.errors import MlopsPlanError

    args = sys.argv[1:] if argv is None else argv
    try:
        result = app(args=args, prog_name="mlops-plan", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("Aborted.", err=True)
        return 1
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
    return result if isinstance(result, int) else 0
