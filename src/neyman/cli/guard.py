"""How every command reports errors: one ``error:`` line and exit code 2 (tracebacks with ``--debug``)."""

from __future__ import annotations

import contextlib
import os
import signal
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from neyman.atomic import temporary_target
from neyman.exceptions import NeymanError, NeymanWarning

__all__ = ["console", "run_guarded", "set_debug"]

console = Console(stderr=True)
T = TypeVar("T")


class _State:
    debug = False


def set_debug(debug: bool) -> None:
    """Show full tracebacks instead of one-line errors (``neyman --debug``)."""
    _State.debug = debug


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch system's time limit, ``timeout``, ``kill``), raised where Ctrl-C would be."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM unwinds it as Ctrl-C does: partial outputs removed, a run marked failed.

    Left to its default, SIGTERM ended the process at once: a ``neyman sample`` left its
    hidden partial file, a training its run marked as running.  A child process that
    inherited the handler (a forked worker) takes the default action instead.
    """
    owner = os.getpid()

    def terminate(signum: int, frame: Any) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated("SIGTERM")

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave the signal as it is
        previous, installed = None, False
    else:
        installed = True
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def run_guarded(fn: Callable[[], T]) -> T:
    """Run a command body; turn neyman errors into one message and exit code 2.

    Neyman's warnings (:class:`~neyman.exceptions.NeymanWarning`) are shown as one
    ``warning:`` line each, as they happen.  SIGTERM stops the command as Ctrl-C does
    (exit code 143, Ctrl-C's 130).
    """
    try:
        with _sigterm_as_interrupt(), warnings.catch_warnings():
            warnings.simplefilter("always", NeymanWarning)
            shown = warnings.showwarning

            def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
                if issubclass(category, NeymanWarning):
                    console.print(f"[bold yellow]warning:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
                else:
                    shown(message, category, *args, **kwargs)

            warnings.showwarning = show
            return fn()
    except NeymanError as exc:
        if _State.debug:
            raise
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        # the system refused a path or a write (a name too long, no permission, a full disk)
        if _State.debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        output = temporary_target(str(exc.filename)) if exc.filename and not exc.filename2 else None
        if output is not None:  # neyman's temporary name of an output: name the output
            where = f": {output}"
        if exc.filename2:  # a rename: the destination is the path in the way (a folder where a file goes)
            where = f": {exc.filename2} (writing {exc.filename} there)"
        console.print(
            f"[bold red]error:[/] {escape(exc.strerror or str(exc))}{escape(where)}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        console.print("[yellow]terminated (SIGTERM)[/]" if terminated else "[yellow]interrupted[/]")
        raise typer.Exit(143 if terminated else 130) from None
