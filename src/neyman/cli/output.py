"""Where every command writes its results: a console as wide as the terminal, or wide enough for a log.

rich lays out a console that is not a terminal (a batch job's log, a pipe) at 80
columns and cuts table headers to fit (``rejection_at_eff_0…`` for two different
columns).  Written to a file, the results take :data:`LOG_COLUMNS` columns instead;
a ``COLUMNS`` environment variable still decides.
"""

from __future__ import annotations

import os

from rich.console import Console

__all__ = ["LOG_COLUMNS", "output_console"]

LOG_COLUMNS = 160
"""Width of the results when they go to a file or a pipe rather than a terminal."""


def output_console() -> Console:
    """The console of a command's results on standard output."""
    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(width=LOG_COLUMNS)
    return console
