"""Entry point of the ``neyman`` command and its error handling."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from neyman.exceptions import NeymanError

__all__ = ["app", "main", "run_guarded"]

console = Console(stderr=True)
app = typer.Typer(
    name="neyman",
    help=(
        "Machine learning for particle physics: train, evaluate and apply classifiers and regressors "
        "on collision events.\n\nStart with:  neyman demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

T = TypeVar("T")


class _State:
    debug = False


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
) -> None:
    _State.debug = debug


def run_guarded(fn: Callable[[], T]) -> T:
    """Run a command body; turn neyman errors into one message and exit code 2."""
    try:
        return fn()
    except NeymanError as exc:
        if _State.debug:
            raise
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None


def _register() -> None:
    from neyman.cli import demo, evaluate, export, generate, predict, train, tune

    for module in (generate, train, tune, predict, evaluate, export, demo):
        module.register(app)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    _register()
    return app(args=argv if argv is not None else sys.argv[1:], prog_name="neyman")
