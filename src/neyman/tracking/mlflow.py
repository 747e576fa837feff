"""Log runs to MLflow through an explicit client.

Everything goes through one :class:`MlflowTracker` holding an ``MlflowClient`` for
one tracking URI and experiment: no process-global "active run" or tracking URI is
set, so two trackers (or a test and a user session) never interfere.  MLflow is
imported when a tracker is made, never with this module.
"""

from __future__ import annotations

import contextlib
import math
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from neyman.exceptions import StorageError
from neyman.optional import require

__all__ = ["MAX_PARAM_LENGTH", "MlflowTracker", "flatten", "git_commit", "numeric_items"]

MAX_PARAM_LENGTH = 6000
"""Longest parameter value MLflow stores; longer values are cut (and end with '...')."""

# MLflow's limits per log_batch request
_PARAMS_PER_BATCH = 100
_METRICS_PER_BATCH = 1000


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys.

    Lists of mappings are indexed (``data.sources.0.path``); other lists and scalars
    are values.

    Examples
    --------
    >>> flatten({"model": {"hidden": [64, 64]}, "data": {"sources": [{"path": "a.root"}]}})
    {'model.hidden': [64, 64], 'data.sources.0.path': 'a.root'}
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for i, item in enumerate(value):
                out.update(flatten(item, f"{name}.{i}."))
        else:
            out[name] = value
    return out


def numeric_items(data: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers of a nested mapping, by dotted key (booleans excluded)."""
    return {
        k: float(v)
        for k, v in flatten(data).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


def git_commit(directory: str | Path = ".") -> tuple[str | None, bool]:
    """The commit checked out in ``directory`` and whether the work tree differs from it.

    Returns ``(None, False)`` outside a git repository or without ``git``.
    """

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, False
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, bool(status)


class MlflowTracker:
    """One MLflow experiment on one tracking store.

    Parameters
    ----------
    uri
        Tracking URI: a database (``sqlite:////abs/path/mlflow.db``,
        ``postgresql://...``) or a tracking server (``http://host:5000``).
    experiment
        Experiment name; created when missing.
    artifact_location
        Where a new experiment stores artefacts (e.g. ``file:///abs/mlartifacts``);
        ``None`` leaves it to the store (a tracking server's own location).

    Raises
    ------
    StorageError
        If the store cannot be reached or the experiment cannot be created.
    """

    def __init__(self, uri: str, experiment: str, *, artifact_location: str | None = None) -> None:
        require("mlflow", purpose="track experiments")
        from mlflow.tracking import MlflowClient

        self.uri = uri
        self.experiment = experiment
        _check_reachable(uri)
        with self._errors(f"open the MLflow store {uri}"):
            self.client = MlflowClient(tracking_uri=uri)
            found = self.client.get_experiment_by_name(experiment)
            if found is None:
                self.experiment_id = self.client.create_experiment(experiment, artifact_location=artifact_location)
            else:
                self.experiment_id = found.experiment_id

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn MLflow, database and network errors into :class:`StorageError`.

        Deprecation warnings raised inside MLflow and SQLAlchemy (about their own
        internals, which a neyman user cannot act on) are not shown.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                yield
        except StorageError:
            raise
        except Exception as exc:  # MlflowException, SQLAlchemy and requests errors have no common base
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StorageError(f"cannot {what}: {reason}") from exc

    # -- runs --------------------------------------------------------------------------
    def start_run(self, name: str, *, parent_run_id: str | None = None, tags: Mapping[str, str] | None = None) -> str:
        """Create a run (a child of ``parent_run_id`` when given) and return its id."""
        all_tags = dict(tags or {})
        if parent_run_id is not None:
            all_tags["mlflow.parentRunId"] = parent_run_id
        with self._errors(f"start an MLflow run in {self.uri}"):
            run = self.client.create_run(self.experiment_id, run_name=name, tags=all_tags)
        return str(run.info.run_id)

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        """Mark a run ``FINISHED``, ``FAILED`` or ``KILLED``."""
        with self._errors(f"end the MLflow run {run_id}"):
            self.client.set_terminated(run_id, status=status)

    def reopen_run(self, run_id: str) -> None:
        """Mark a finished run as running again (a resumed study's parent run)."""
        with self._errors(f"reopen the MLflow run {run_id}"):
            self.client.update_run(run_id, status="RUNNING")

    def find_run(self, tag: str, value: str) -> str | None:
        """The id of the oldest run of the experiment whose ``tag`` equals ``value``."""
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        with self._errors(f"search MLflow runs in {self.uri}"):
            runs = self.client.search_runs(
                [self.experiment_id], filter_string=f"tags.`{tag}` = '{escaped}'", order_by=["start_time ASC"]
            )
        return str(runs[0].info.run_id) if runs else None

    # -- logging -----------------------------------------------------------------------
    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Log parameters (values as text; lists as ``[a, b]``; cut at :data:`MAX_PARAM_LENGTH`)."""
        from mlflow.entities import Param

        items = [Param(k, _as_text(v)) for k, v in params.items()]
        with self._errors(f"log parameters to {self.uri}"):
            for start in range(0, len(items), _PARAMS_PER_BATCH):
                self.client.log_batch(run_id, params=items[start : start + _PARAMS_PER_BATCH])

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Set tags (values as text)."""
        from mlflow.entities import RunTag

        items = [RunTag(k, _as_text(v)) for k, v in tags.items()]
        with self._errors(f"set tags in {self.uri}"):
            for start in range(0, len(items), _PARAMS_PER_BATCH):
                self.client.log_batch(run_id, tags=items[start : start + _PARAMS_PER_BATCH])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], *, step: int = 0) -> None:
        """Log numbers at one step; non-finite values are skipped (MLflow cannot plot them)."""
        self.log_series(run_id, {k: ([step], [v]) for k, v in metrics.items()})

    def log_series(self, run_id: str, series: Mapping[str, tuple[Sequence[int], Sequence[float]]]) -> None:
        """Log metric histories: ``{name: (steps, values)}`` (e.g. the loss per epoch)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(name, float(v), now, int(s))
            for name, (steps, values) in series.items()
            for s, v in zip(steps, values, strict=True)
            if math.isfinite(float(v))
        ]
        with self._errors(f"log metrics to {self.uri}"):
            for start in range(0, len(items), _METRICS_PER_BATCH):
                self.client.log_batch(run_id, metrics=items[start : start + _METRICS_PER_BATCH])

    def log_artifact(self, run_id: str, path: str | Path, artifact_path: str | None = None) -> None:
        """Copy a file or a directory (recursively) into the run's artefacts."""
        path = Path(path)
        with self._errors(f"log the artefact {path}"):
            if path.is_dir():
                self.client.log_artifacts(run_id, str(path), artifact_path=artifact_path or path.name)
            else:
                self.client.log_artifact(run_id, str(path), artifact_path=artifact_path)


SERVER_TIMEOUT = 10.0
"""Seconds a tracking server or database server has to accept a connection before the run is refused."""

DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432, "mysql": 3306, "mssql": 1433}
"""The port a store's URI implies when it names none, by scheme (its driver, ``+psycopg``, left aside)."""


def _check_reachable(uri: str) -> None:
    """Refuse a tracking or database server that does not accept a connection.

    MLflow itself retries an unreachable server for minutes (an HTTP server) or about
    100 s (a PostgreSQL database).  A URI without a host (SQLite, a Unix socket) is not
    checked here.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(uri)
        scheme = parts.scheme.split("+", 1)[0].lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError as exc:  # a port that is not a number
        raise StorageError(f"tracking.uri {uri} is not a valid URI: {exc}") from None
    if not parts.hostname or port is None or any(k in parts.query for k in ("host=", "unix_socket=")):
        return  # no host, or a Unix socket named in the query: nothing to reach over TCP
    server = scheme in ("http", "https")
    shown = uri.replace(f":{parts.password}@", ":***@", 1) if parts.password else uri
    try:
        socket.create_connection((parts.hostname, port), timeout=SERVER_TIMEOUT).close()
    except OSError as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        what = "the MLflow tracking server" if server else f"the {scheme} database server of"
        start = "start it (mlflow server --port PORT)" if server else "start it (or check the host and port)"
        raise StorageError(
            f"cannot reach {what} {shown} (port {port}): {reason}; {start} or correct tracking.uri (a server "
            "http://host:port, or a database sqlite:////path/mlflow.db)"
        ) from exc


def _as_text(value: Any) -> str:
    text = "[" + ", ".join(_as_text(v) for v in value) + "]" if isinstance(value, (list, tuple)) else str(value)
    return text if len(text) <= MAX_PARAM_LENGTH else text[: MAX_PARAM_LENGTH - 3] + "..."
