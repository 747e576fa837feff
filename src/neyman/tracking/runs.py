"""Log run directories to a tracking store.

What a logged run holds: the parameters it is given (for a run, its resolved
configuration flattened to dotted keys such as ``training.optimizer.lr``, see
:func:`run_params`), the numbers of ``metrics.json`` as metrics (``test.auc``,
``val.rejection_at_eff_0.3``), the per-epoch columns of ``history.csv`` as metric
histories (``train_loss``, ``val_loss``, ``lr`` by epoch), the package versions and
git commit as tags, and — when asked — ``config.yaml``, ``metrics.json``,
``history.csv``, ``preprocessing.json``, ``report.html``, ``plots/`` and ``model/``
as artefacts.  Predictions and checkpoints stay in the run directory.

Nothing here reads a configuration: the workflows pass plain values.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neyman.exceptions import StorageError
from neyman.runs import RunDirectory
from neyman.tracking.mlflow import MlflowTracker, flatten, git_commit, numeric_items
from neyman.tuning.study import database_folder, sqlite_url
from neyman.versions import __version__, package_versions

__all__ = [
    "ARTIFACT_DIRS",
    "ARTIFACT_FILES",
    "History",
    "history_series",
    "log_run_directory",
    "open_store",
    "provenance_tags",
    "run_params",
]

ARTIFACT_FILES = ("config.yaml", "metrics.json", "history.csv", "preprocessing.json", "report.html")
"""Files of a run directory logged as artefacts."""
ARTIFACT_DIRS = ("plots", "model")
"""Directories of a run directory logged as artefacts (when not empty)."""

History = Mapping[str, tuple[list[int], list[float]]]
"""Metric histories: ``{name: (steps, values)}``."""

_SERVER_SCHEMES = ("http://", "https://", "databricks")


def open_store(uri: str | None, experiment: str, output_dir: str | Path) -> MlflowTracker:
    """A tracker of ``experiment`` on the store at ``uri``.

    Parameters
    ----------
    uri
        Tracking URI: a database or a tracking server.  ``None``: the SQLite file
        ``<output_dir>/mlflow.db``.
    experiment
        MLflow experiment name (created when missing).
    output_dir
        Where runs are written.

    Notes
    -----
    A database keeps its artefacts under ``mlartifacts``: next to the file for
    ``sqlite://``, else under ``output_dir``; a tracking server keeps its own.  The
    directory of a SQLite file is created.
    """
    out = Path(output_dir)
    uri = uri or sqlite_url(out / "mlflow.db")
    if uri.startswith("file:") or ("://" not in uri and not uri.startswith(_SERVER_SCHEMES)):
        raise StorageError(
            f"tracking.uri {uri!r} is a folder store, which MLflow has stopped developing; give a database, "
            f"e.g. {sqlite_url(Path(uri.removeprefix('file://')).resolve() / 'mlflow.db')}, or a server http://host:port"
        )
    artifacts: str | None
    if uri.startswith(_SERVER_SCHEMES):
        artifacts = None
    elif uri.startswith("sqlite:///") and not uri.endswith(":memory:"):
        artifacts = (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()
    else:
        artifacts = (out / "mlartifacts").resolve().as_uri()
    if uri.startswith("sqlite:///"):
        database_folder(uri.removeprefix("sqlite:///"), f"tracking.uri {uri}")
    return MlflowTracker(uri, experiment, artifact_location=artifacts)


def run_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """A resolved run configuration (plain data) as dotted parameters, without ``tuning``, ``tracking`` and nulls."""
    return flatten({k: v for k, v in config.items() if k not in ("tuning", "tracking") and v is not None})


def provenance_tags(versions: Mapping[str, str] | None = None) -> dict[str, str]:
    """Git commit (of the working directory's repository) and package versions as tags.

    Parameters
    ----------
    versions
        Package versions (those a run recorded); default
        :func:`neyman.versions.package_versions`.
    """
    tags = {f"neyman.versions.{k}": v for k, v in (versions or package_versions()).items()}
    tags["neyman.version"] = __version__
    commit, dirty = git_commit(Path.cwd())
    if commit is not None:
        tags["mlflow.source.git.commit"] = commit
        tags["neyman.git_dirty"] = str(dirty).lower()
    return tags


def history_series(path: str | Path) -> dict[str, tuple[list[int], list[float]]]:
    """``history.csv`` as ``{column: (steps, values)}``; per-fold columns get a ``foldK.`` prefix.

    Steps are the ``epoch`` column (else ``iteration``); a row without one, and a
    cell that is empty or not a number, is skipped.  A missing file gives ``{}``.
    """
    path = Path(path)
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


def _log_files(tracker: MlflowTracker, run_id: str, run_dir: Path) -> None:
    for file_name in ARTIFACT_FILES:
        if (run_dir / file_name).is_file():
            tracker.log_artifact(run_id, run_dir / file_name)
    for dir_name in ARTIFACT_DIRS:
        if (run_dir / dir_name).is_dir() and any((run_dir / dir_name).iterdir()):
            tracker.log_artifact(run_id, run_dir / dir_name, dir_name)


def _with_used_model_settings(params: Mapping[str, Any], run: RunDirectory) -> dict[str, Any]:
    """``params`` with the model settings the run's model used in place of unset ones.

    A setting left unset (``model.hidden: null``, ``activation: auto``) is decided at training
    time; the model records what it used (``model.json``, of the first fold in a k-fold run),
    and that is what a comparison of runs needs.
    """
    out = dict(params)
    for file in (run.model / "model.json", run.model / "fold_0" / "model.json"):
        if file.is_file():
            used = json.loads(file.read_text(encoding="utf-8")).get("params")
            for key, value in used.items() if isinstance(used, dict) else ():
                if out.get(f"model.{key}", "auto") in (None, "auto"):
                    out[f"model.{key}"] = value
            break
    return out


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
    extra_series: History | None = None,
) -> str:
    """Log a run directory as one MLflow run and return the MLflow run id.

    Parameters
    ----------
    tracker
        Where to log.
    run_dir
        A neyman run directory (complete, or a failed/pruned trial's partial one).
    params
        Parameters (usually :func:`run_params`).
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
        tracker.log_params(run_id, _with_used_model_settings(params, run))
        if run.metrics.is_file():
            tracker.log_metrics(run_id, numeric_items(json.loads(run.metrics.read_text(encoding="utf-8"))))
        tracker.log_series(run_id, {**history_series(run.history), **(extra_series or {})})
        if artifacts:
            _log_files(tracker, run_id, run.path)
    except BaseException:
        tracker.end_run(run_id, "FAILED")
        raise
    tracker.end_run(run_id, status)
    return run_id
