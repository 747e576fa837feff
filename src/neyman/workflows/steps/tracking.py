"""Log runs to the tracking store a configuration names (``tracking:`` or ``--track``).

The glue between a configuration and :mod:`neyman.tracking`, which logs run
directories (parameters, metrics, histories, provenance tags, artefacts) from plain
values: here the ``tracking:`` section chooses the store and whether artefacts are
logged, and the resolved configuration gives the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neyman.config import RunConfig
from neyman.config.tuning import TrackingConfig
from neyman.tracking import MlflowTracker, log_run_directory, open_store, run_params

__all__ = ["config_params", "log_training", "open_tracker"]


def open_tracker(tracking: TrackingConfig, output_dir: str | Path) -> MlflowTracker:
    """The tracker of a configuration's ``tracking`` section.

    Without ``tracking.uri`` the store is ``<output_dir>/mlflow.db`` (SQLite) with
    artefacts under ``<output_dir>/mlartifacts``; a database URL keeps its artefacts
    there too (next to the SQLite file for ``sqlite://``); a tracking server keeps
    its own.
    """
    return open_store(tracking.uri, tracking.experiment, output_dir)


def config_params(config: RunConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The resolved configuration as dotted parameters (without ``tuning``/``tracking``)."""
    return run_params(config.model_dump(mode="json") if isinstance(config, RunConfig) else config)


def log_training(
    tracker: MlflowTracker, config: RunConfig, run_dir: str | Path, *, status: str = "FINISHED", name: str = ""
) -> str:
    """Log a ``neyman train`` run: finished, or ``FAILED``/``KILLED`` with what it wrote until then.

    ``name`` is the MLflow run's name (default: the run directory's).
    """
    assert config.tracking is not None
    return log_run_directory(
        tracker,
        run_dir,
        params=config_params(config),
        name=name or Path(run_dir).name,
        tags={"neyman.kind": "train"},
        status=status,
        artifacts=config.tracking.artifacts,
    )
