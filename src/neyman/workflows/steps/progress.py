"""A progress bar over a known count (events scored or drawn, reweighters scanned), or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["counting_bar"]


@contextmanager
def counting_bar(enabled: bool, total: int, label: str) -> Iterator[Callable[[int], None]]:
    """Show a rich bar of ``total`` units while the block runs; yields ``advance(n)``.

    With ``enabled`` false nothing is shown and ``advance`` does nothing.
    """
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import Progress

    bar = Progress()
    task_id = bar.add_task(label, total=total)
    with bar:
        yield lambda n: bar.update(task_id, advance=n)
