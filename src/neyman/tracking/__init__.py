"""Experiment tracking: parameters, metrics and artefacts of runs and studies in MLflow.

Nothing here reads a configuration; the workflows decide what to log.  MLflow is
imported only when a tracker is created, so runs without tracking never load it.
"""

from neyman.tracking.mlflow import MlflowTracker, flatten, git_commit, numeric_items
from neyman.tracking.runs import history_series, log_run_directory, open_store, provenance_tags, run_params
from neyman.tracking.study import StudyTracking, study_key

__all__ = [
    "MlflowTracker",
    "StudyTracking",
    "flatten",
    "git_commit",
    "history_series",
    "log_run_directory",
    "numeric_items",
    "open_store",
    "provenance_tags",
    "run_params",
    "study_key",
]
