"""A local Dask cluster: worker processes on this machine, for generation chunks and tuning trials.

Dask (``distributed``) is imported when a cluster is started, never with this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from neyman.optional import require

__all__ = ["local_cluster"]

# quietest logging of the scheduler and workers (logging.CRITICAL): errors come back with the results
_SILENT = 50


@contextmanager
def local_cluster(workers: int, *, threads_per_worker: int = 1, purpose: str = "run in parallel") -> Iterator[Any]:
    """A client of a new local Dask cluster, closed (client, then cluster) on exit.

    Parameters
    ----------
    workers
        Worker processes.
    threads_per_worker
        Threads of each worker process (tasks one worker runs at a time).
    purpose
        What the cluster is for, quoted when ``distributed`` is not installed.

    Yields
    ------
    distributed.Client
        Connected to the cluster.

    Raises
    ------
    MissingDependencyError
        If ``distributed`` is not installed.

    Notes
    -----
    The scheduler's dashboard listens on a free port (``:0``), so that two runs on
    one machine do not collide.
    """
    distributed = require("distributed", purpose=purpose)
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        dashboard_address=":0",
        silence_logs=_SILENT,
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
