"""Entry point of the ``neyman`` command and its error handling."""

from __future__ import annotations

import sys
from typing import Any

import typer

from neyman.cli.guard import set_debug

__all__ = ["app", "main"]

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


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
) -> None:
    set_debug(debug)


def _register() -> None:
    from neyman.cli import demo, evaluate, export, generate, predict, train, tune

    for module in (generate, train, tune, predict, evaluate, export, demo):
        module.register(app)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    _register()
    return app(args=argv if argv is not None else sys.argv[1:], prog_name="neyman")
