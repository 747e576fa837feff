"""Entry point of the ``neyman`` command and its error handling."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.markup import escape
from typer._click import exceptions as click_errors  # typer's own click: its errors are these
from typer.core import TyperGroup

from neyman.cli.guard import console, set_debug

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """The command group, reporting usage errors as one ``error:`` line (exit code 2) like every other error."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """Run the command line; a usage error is one ``error:`` line naming the option and the help."""
        try:
            rv = super().main(*args, **{**kwargs, "standalone_mode": False})
        except click_errors.NoArgsIsHelpError:
            if not standalone_mode:
                raise
            sys.exit(0)  # the help is already printed
        except click_errors.ClickException as exc:
            if not standalone_mode:
                raise
            ctx = exc.ctx if isinstance(exc, click_errors.UsageError) else None
            where = ctx.command_path if ctx is not None else "neyman"
            message = escape(exc.format_message())
            console.print(f"[bold red]error:[/] {message} (see: {where} --help)", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            console.print("[yellow]aborted[/]")
            sys.exit(1)
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


app = typer.Typer(
    name="neyman",
    cls=_Group,
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
    from neyman.cli import demo, evaluate, export, generate, hunt, predict, reweight, sample, train, tune

    for module in (generate, train, tune, reweight, hunt, predict, sample, evaluate, export, demo):
        module.register(app)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    _register()
    return app(args=argv if argv is not None else sys.argv[1:], prog_name="neyman")
