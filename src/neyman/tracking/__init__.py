"""Experiment tracking: parameters, metrics and artefacts of runs in MLflow.

Nothing here reads a configuration; the workflows decide what to log.  MLflow is
imported only when a tracker is created, so runs without tracking never load it.
"""

from neyman.tracking.mlflow import MlflowTracker, flatten, git_commit, numeric_items

__all__ = ["MlflowTracker", "flatten", "git_commit", "numeric_items"]
