"""Log run directories to the tracking store a configuration names (``tracking:`` or ``--track``).

What a logged run holds: the resolved configuration flattened to dotted parameters
(``training.optimizer.lr``), the numbers of ``metrics.json`` as metrics
(``test.auc``, ``val.rejection_at_eff_0.3``), the per-epoch columns of
``history.csv`` as metric histories (``train_loss``, ``val_loss``, ``lr`` by epoch),
the package versions and git commit as tags, and — unless ``tracking.artifacts`` is
off — ``config.yaml``, ``metrics.json``, ``history.csv``, ``preprocessing.json``,
``report.html``, ``plots/`` and ``model/`` as artefacts.  Predictions and checkpoints
stay in the run directory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import neyman
from neyman.config import RunConfig
from neyman.config.tuning import TrackingConfig
from neyman.tracking import MlflowTracker, flatten, git_commit, numeric_items
from neyman.tuning.study import sqlite_url
from neyman.workflows.rundir import RunDirectory

__all__ = ["config_params", "log_run_directory", "log_training", "open_tracker", "provenance_tags"]

_SERVER_SCHEMES = ("http://", "https://", "databricks")
_ARTIFACT_FILES = ("config.yaml", "metrics.json", "history.csv", "preprocessing.json", "report.html")
_ARTIFACT_DIRS = ("plots", "model")


def open_tracker(tracking: TrackingConfig, output_dir: str | Path) -> MlflowTracker:
    """The tracker of a configuration's ``tracking`` section.

    Without ``tracking.uri`` the store is ``<output_dir>/mlflow.db`` (SQLite) with
    artefacts under ``<output_dir>/mlartifacts``; a database URL keeps its artefacts
    there too (next to the SQLite file for ``sqlite://``); a tracking server keeps
    its own.
    """
    out = Path(output_dir)
    uri = tracking.uri or sqlite_url(out / "mlflow.db")
    artifacts: str | None
    if uri.startswith(_SERVER_SCHEMES):
        artifacts = None
    elif uri.startswith("sqlite:///") and not uri.endswith(":memory:"):
        artifacts = (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()
    else:
        artifacts = (out / "mlartifacts").resolve().as_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return MlflowTracker(uri, tracking.experiment, artifact_location=artifacts)


def config_params(config: RunConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The resolved configuration as dotted parameters (without ``tuning``/``tracking``)."""
    data = config.model_dump(mode="json") if isinstance(config, RunConfig) else dict(config)
    return flatten({k: v for k, v in data.items() if k not in ("tuning", "tracking") and v is not None})


def provenance_tags(versions: Mapping[str, str] | None = None) -> dict[str, str]:
    """Git commit (of the working directory's repository) and package versions as tags."""
    from neyman.workflows.train import _versions

    tags = {f"neyman.versions.{k}": v for k, v in (versions or _versions()).items()}
    tags["neyman.version"] = neyman.__version__
    commit, dirty = git_commit(Path.cwd())
    if commit is not None:
        tags["mlflow.source.git.commit"] = commit
        tags["neyman.git_dirty"] = str(dirty).lower()
    return tags


def _history_series(path: Path) -> dict[str, tuple[list[int], list[float]]]:
    """``history.csv`` as ``{column: (steps, values)}``; per-fold columns get a ``foldK.`` prefix."""
    if not path.is_file():
        return {}
    series: dict[str, tuple[list[int], list[float]]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            step_key = "epoch" if "epoch" in row else "iteration"
            try:
                step = int(float(row[step_key]))
            except (KeyError, ValueError):
                continue
            prefix = f"fold{row['fold']}." if row.get("fold") not in (None, "") else ""
            for key, text in row.items():
                if key in ("epoch", "iteration", "fold") or text in (None, ""):
                    continue
                try:
                    value = float(text)
                except ValueError:
                    continue
                steps, values = series.setdefault(prefix + key, ([], []))
                steps.append(step)
                values.append(value)
    return series


def log_run_directory(
    tracker: MlflowTracker,
    run_dir: str | Path,
    *,
    params: Mapping[str, Any],
    name: str,
    parent_run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    status: str = "FINISHED",
    artifacts: bool = True,
    extra_series: Mapping[str, tuple[list[int], list[float]]] | None = None,
) -> str:
    """Log a run directory as one MLflow run and return the MLflow run id.

    Parameters
    ----------
    tracker
        Where to log.
    run_dir
        A neyman run directory (complete, or a failed/pruned trial's partial one).
    params
        Parameters (usually :func:`config_params`).
    name
        MLflow run name.
    parent_run_id
        Log as a child of this run (a study's trial).
    tags
        Extra tags.
    status
        ``FINISHED``, ``FAILED`` or ``KILLED`` (a pruned trial).
    artifacts
        Copy the run's files (see the module docstring).
    extra_series
        More metric histories ``{name: (steps, values)}``.
    """
    run = RunDirectory(Path(run_dir))
    versions = None
    if run.metadata.is_file():
        versions = json.loads(run.metadata.read_text(encoding="utf-8")).get("versions")
    all_tags = {**provenance_tags(versions), "neyman.run_dir": str(run.path.resolve()), **(tags or {})}
    run_id = tracker.start_run(name, parent_run_id=parent_run_id, tags=all_tags)
    try:
        tracker.log_params(run_id, params)
        if run.metrics.is_file():
            tracker.log_metrics(run_id, numeric_items(json.loads(run.metrics.read_text(encoding="utf-8"))))
        tracker.log_series(run_id, {**_history_series(run.history), **(extra_series or {})})
        if artifacts:
            for file_name in _ARTIFACT_FILES:
                if (run.path / file_name).is_file():
                    tracker.log_artifact(run_id, run.path / file_name)
            for dir_name in _ARTIFACT_DIRS:
                if (run.path / dir_name).is_dir() and any((run.path / dir_name).iterdir()):
                    tracker.log_artifact(run_id, run.path / dir_name, dir_name)
    except BaseException:
        tracker.end_run(run_id, "FAILED")
        raise
    tracker.end_run(run_id, status)
    return run_id


def log_training(tracker: MlflowTracker, config: RunConfig, run_dir: str | Path) -> str:
    """Log a finished ``neyman train`` run (its name is the run directory's name)."""
    assert config.tracking is not None
    return log_run_directory(
        tracker,
        run_dir,
        params=config_params(config),
        name=Path(run_dir).name,
        tags={"neyman.kind": "train"},
        artifacts=config.tracking.artifacts,
    )
