"""Running chunks: in this process, in local worker processes, or on an existing Dask cluster.

:func:`run_chunks` keeps a few chunks per worker in flight, per class, until every
class has the rows it needs; each finished chunk is handed to a callback (which
stores it) as soon as it arrives.  How many chunks a class needs is learnt from
the chunks already finished (their rows per event), so rare selections do not
overshoot by much.  Chunks already finished (a resumed run) are counted and not
run again.  A class whose chunks keep coming back empty is stopped with an error
naming the selection.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from neyman.exceptions import ConfigError, DataError
from neyman.generation.pythia import ChunkResult, ChunkTask, run_chunk
from neyman.generation.writer import ChunkStore
from neyman.optional import require
from neyman.table import Table

__all__ = ["ClassPlan", "Executor", "executor", "run_chunks", "store_chunk"]

EMPTY_EVENTS_LIMIT = 50_000
"""Events of a class after which, if no row passed the selection, generation stops."""


Runner = Callable[[ChunkTask], ChunkResult]


def store_chunk(task: ChunkTask, store: ChunkStore) -> ChunkResult:
    """Run ``task`` and write it to ``store`` where it runs (workers sharing the disk).

    Only the record travels back, so the process that schedules the chunks does
    not spend a core on receiving and writing rows.
    """
    result = run_chunk(task)
    store.save(result.table, result.record)
    return ChunkResult(task, Table({}), result.record, stored=True)


class Executor(Protocol):
    """What :func:`run_chunks` needs of an execution engine."""

    workers: int

    def submit(self, task: ChunkTask) -> Any:
        """Start ``task``; return a handle."""

    def finished(self) -> Iterator[tuple[Any, ChunkResult]]:
        """Yield ``(handle, result)`` for submitted tasks as they finish (blocks for the first)."""


class _Inline:
    """Runs each chunk in this process when it is submitted."""

    workers = 1

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._done: list[tuple[int, ChunkResult]] = []
        self._n = 0

    def submit(self, task: ChunkTask) -> int:
        self._n += 1
        self._done.append((self._n, self._runner(task)))
        return self._n

    def finished(self) -> Iterator[tuple[Any, ChunkResult]]:
        while self._done:
            yield self._done.pop(0)


class _Dask:
    """Submits chunks to a Dask ``distributed`` client."""

    def __init__(self, client: Any, runner: Runner) -> None:
        distributed = require("distributed", purpose="run generation on a Dask cluster")
        self._client = client
        self._runner = runner
        self._pending = distributed.as_completed([], with_results=True)
        self.workers = max(len(client.scheduler_info().get("workers", {})), 1)

    def submit(self, task: ChunkTask) -> Any:
        future = self._client.submit(self._runner, task, pure=False)
        self._pending.add(future)
        return future

    def finished(self) -> Iterator[tuple[Any, ChunkResult]]:
        if self._pending.is_empty():
            return
        future, result = next(self._pending)
        yield future, result
        for future, result in self._pending.next_batch(block=False):
            yield future, result


PARENT_POLL_SECONDS = 1.0
"""How often a worker process checks that the process that started it still runs."""


def _exit_with_parent(parent: int) -> None:
    """Worker initialiser: end this worker once its parent is gone (e.g. killed with ``kill -9``).

    Without it the idle workers of a killed ``neyman generate`` would wait on their
    queue for ever.  A chunk cut short this way leaves no file: chunks are written
    under a temporary name and renamed.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="neyman-parent-watch", daemon=True).start()


class _Pool:
    """Runs chunks in worker processes of this machine, started by spawning.

    Spawned, not forked: the parent may hold threads (PyTorch's, Arrow's) that a
    fork would copy in the middle of their work.  Lighter than a local Dask
    cluster, whose scheduler, nannies and heartbeats also took CPU while the
    chunks ran: 20k jets with two workers on two cores took 59 s (1.9× one
    worker's rate) against the cluster's 65 s (1.73×).  Ctrl-C stops the workers
    with the run (exit 130, finished chunks kept for ``--resume``); ``kill -9``
    of the run ends them through :func:`_exit_with_parent`.
    """

    def __init__(self, workers: int, runner: Runner) -> None:
        self.workers = workers
        self._runner = runner
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
        self._pending: set[Future[ChunkResult]] = set()

    def submit(self, task: ChunkTask) -> Future[ChunkResult]:
        future = self._pool.submit(self._runner, task)
        self._pending.add(future)
        return future

    def finished(self) -> Iterator[tuple[Any, ChunkResult]]:
        if not self._pending:
            return
        done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
        for future in done:
            try:
                result = future.result()
            except BrokenProcessPool as exc:
                raise DataError(
                    "a generation worker process ended abruptly (killed, e.g. out of memory, or a crash in Pythia "
                    "or FastJet); the chunks finished so far are kept: rerun with --resume, or with --workers 1 to "
                    "see the error"
                ) from exc
            yield future, result

    def close(self) -> None:
        """Stop the workers; chunks not started are cancelled, running ones finish."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """End the worker processes now (an interrupted command): their running chunks are lost, the finished kept.

        Ctrl-C reaches the whole process group, workers included; SIGTERM from a batch system
        may reach this process alone, and :meth:`close` would wait for the running chunks.
        """
        for child in multiprocessing.active_children():
            child.terminate()


@contextmanager
def executor(workers: int = 1, scheduler: str | None = None, store: ChunkStore | None = None) -> Iterator[Executor]:
    """An execution engine: inline for one local worker, local worker processes, or Dask.

    Parameters
    ----------
    workers
        Local worker processes (``1``: run in this process).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); ``workers`` is
        then ignored and the cluster's workers are used.
    store
        Local runs (inline or local worker processes) write each chunk to ``store`` where
        it ran (results come back with ``stored=True``); on an existing cluster
        the rows come back to the caller, who stores them.
    """
    local: Runner = run_chunk if store is None else functools.partial(store_chunk, store=store)
    if scheduler is None and workers <= 1:
        yield _Inline(local)
        return
    if scheduler is not None:
        distributed = require("distributed", purpose="run generation on a Dask cluster")
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise DataError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from exc
        try:
            yield _Dask(client, run_chunk)
        finally:
            client.close()
        return
    pool = _Pool(workers, local)
    try:
        yield pool
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM to this process alone: stop the running chunks too
        pool.stop()
        raise
    finally:
        pool.close()


@dataclass
class ClassPlan:
    """Progress of one class: rows wanted, chunks finished and running."""

    label: int
    name: str
    rows_wanted: int
    chunk_events: int
    done: dict[int, dict[str, Any]] = field(default_factory=dict)
    running: set[int] = field(default_factory=set)
    next_index: int = 0

    @property
    def rows(self) -> int:
        """Rows of the finished chunks."""
        return sum(r["rows"] for r in self.done.values())

    @property
    def events(self) -> int:
        """Events of the finished chunks."""
        return sum(r["events"] for r in self.done.values())

    def chunks_needed(self) -> list[int]:
        """The shortest run of chunk indices 0..k whose rows reach the wanted number."""
        total, out = 0, []
        for index in range(self.next_index):
            if total >= self.rows_wanted:
                break
            out.append(index)
            total += self.done[index]["rows"] if index in self.done else 0
        return out

    def deficit(self) -> float:
        """Rows still missing after the running chunks deliver their expected share."""
        counted = sum(self.done[i]["rows"] for i in self.chunks_needed() if i in self.done)
        per_chunk = self.rows / self.events * self.chunk_events if self.events else 0.0
        return float(self.rows_wanted - counted - per_chunk * len(self.running))

    def complete(self) -> bool:
        """Whether chunks 0..k are finished and hold enough rows."""
        needed = self.chunks_needed()
        return all(i in self.done for i in needed) and sum(self.done[i]["rows"] for i in needed) >= self.rows_wanted


def run_chunks(
    plans: list[ClassPlan],
    make_task: Callable[[int, int], ChunkTask],
    engine: Executor,
    on_result: Callable[[ChunkResult], None],
    *,
    empty_events_limit: int = EMPTY_EVENTS_LIMIT,
) -> None:
    """Run chunks until every class in ``plans`` is complete.

    Parameters
    ----------
    plans
        One per class; ``done`` holds chunks finished by an earlier run.
    make_task
        ``(label, index) -> ChunkTask``.
    engine
        Where the chunks run.
    on_result
        Called with each finished chunk, in the order they finish.
    empty_events_limit
        Stop with :class:`~neyman.exceptions.ConfigError` when a class has had this
        many events and not one row passed its selection.
    """
    # inline runs a chunk on submit: one at a time keeps the estimate of the chunks needed current
    per_class = 1 if isinstance(engine, _Inline) else 2 * engine.workers

    def submit_more() -> None:
        for plan in plans:
            while len(plan.running) < per_class and not plan.complete():
                estimate = plan.deficit()
                if estimate <= 0 and plan.running:
                    break
                index = plan.next_index
                plan.next_index += 1
                if index in plan.done:
                    continue
                if plan.events >= empty_events_limit and plan.rows == 0:
                    raise ConfigError(
                        f"no {plan.name!r} rows passed the selection in {plan.events} events; the cuts cannot be "
                        "met with these settings (check --set pythia.PhaseSpace:pTHatMin and the process recipe)"
                    )
                engine.submit(make_task(plan.label, index))
                plan.running.add(index)

    by_label = {plan.label: plan for plan in plans}
    submit_more()
    while any(plan.running for plan in plans):
        for _, result in engine.finished():
            plan = by_label[result.task.label]
            plan.running.discard(result.task.index)
            plan.done[result.task.index] = result.record
            on_result(result)
        submit_more()
    for plan in plans:
        if not plan.complete():  # pragma: no cover - the loop above only ends when complete
            raise RuntimeError(f"class {plan.name!r} incomplete")
