"""Progress of a generation run: a rich progress bar per class (rows, events and rate)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neyman.generation.parallel import ClassPlan

__all__ = ["ProgressBar"]


class ProgressBar:
    """A rich progress bar per class: rows, events and rate.

    Parameters
    ----------
    enabled
        Show the bars; when false every method does nothing.
    plans
        One per class: the bar counts its rows up to ``rows_wanted``.
    """

    def __init__(self, enabled: bool, plans: Sequence[ClassPlan]) -> None:
        self._bar: Any = None
        self._tasks: dict[int, Any] = {}
        self._start = time.perf_counter()
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
        )
        for plan in plans:
            self._tasks[plan.label] = self._bar.add_task(plan.name, total=plan.rows_wanted, info="")

    @contextmanager
    def shown(self) -> Iterator[None]:
        """Show the bars while the ``with`` block runs."""
        if self._bar is None:
            yield
            return
        with self._bar:
            yield

    def update(self, plan: ClassPlan) -> None:
        """Show the rows and events ``plan`` has so far, and the rate of rows since the start."""
        if self._bar is None:
            return
        seconds = max(time.perf_counter() - self._start, 1e-9)
        self._bar.update(
            self._tasks[plan.label],
            completed=min(plan.rows, plan.rows_wanted),
            info=f"{plan.events} events, {plan.rows / seconds:.0f} rows/s",
        )
