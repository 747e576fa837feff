"""Track an Optuna study in MLflow: a parent run for the study and a child run per trial.

The parent run is found again by a key made from the storage and the study name, so
every session of a study (on any machine) logs its trials under the same parent.
Nothing here reads a configuration: the workflow passes the parameters to log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neyman.tracking.mlflow import MlflowTracker, flatten
from neyman.tracking.runs import log_run_directory
from neyman.tuning.outputs import objective_value, trial_state

if TYPE_CHECKING:
    import optuna

__all__ = ["StudyTracking", "study_key"]

# MLflow's status of a trial's run, by Optuna state (anything else: FAILED)
_RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}


def study_key(storage: str, study: str) -> str:
    """The tag value that names one study of one storage (``neyman.study_key``)."""
    return hashlib.sha1(f"{storage}|{study}".encode()).hexdigest()[:16]


class StudyTracking:
    """A parent MLflow run for a study (created, or reopened for a resumed study) and a child per trial.

    Parameters
    ----------
    tracker
        Where to log.
    study
        Study name (the parent run's name).
    storage
        The study's storage URL as shown (password hidden).
    params
        Logged (flattened to dotted keys) when the parent run is created: what does
        not change between sessions, e.g. ``{"tuning": {"objective": ..., "space": ...}}``.
    tags
        Set on the parent run by every session (e.g. its sampler and pruner).
    artifacts
        Log the files of complete trials' run directories.
    """

    def __init__(
        self,
        tracker: MlflowTracker,
        *,
        study: str,
        storage: str,
        params: Mapping[str, Any],
        tags: Mapping[str, str],
        artifacts: bool,
    ) -> None:
        self.tracker = tracker
        self.artifacts = artifacts
        key = study_key(storage, study)
        found = tracker.find_run("neyman.study_key", key)
        if found is not None:
            tracker.reopen_run(found)
            self.parent = found
        else:
            self.parent = tracker.start_run(
                study, tags={"neyman.kind": "tune", "neyman.study": study, "neyman.study_key": key}
            )
            tracker.log_params(self.parent, flatten(params))
        tracker.set_tags(self.parent, {"neyman.storage": storage, **tags})

    def trial(
        self, trial: optuna.trial.FrozenTrial, *, run_dir: str | Path, params: Mapping[str, Any], direction: str
    ) -> None:
        """Log a finished trial as a child run.

        Parameters
        ----------
        trial
            The trial.
        run_dir
            Its run directory (complete, or partial for a failed or pruned trial).
        params
            Its parameters (``{}`` when its sample is unknown).
        direction
            The study's direction (``minimize`` or ``maximize``).

        Notes
        -----
        Besides the run directory's metrics, the child run holds the per-epoch loss the
        pruner saw as ``monitored_loss`` (intermediate values are negated for maximised
        objectives, and turned back here) and the trial's value as ``objective``.  A
        pruned run has no ``history.csv``, so ``monitored_loss`` is its only record per epoch.
        """
        state = trial_state(trial)
        sign = 1.0 if direction == "minimize" else -1.0
        steps = sorted(trial.intermediate_values)
        series = {"monitored_loss": (steps, [sign * trial.intermediate_values[s] for s in steps])} if steps else {}
        if (value := objective_value(trial)) is not None:
            series["objective"] = ([0], [value])
        log_run_directory(
            self.tracker,
            run_dir,
            params=params,
            name=f"trial-{trial.number:04d}",
            parent_run_id=self.parent,
            tags={"neyman.kind": "trial", "neyman.trial": str(trial.number), "neyman.trial_state": state.lower()},
            status=_RUN_STATUS.get(state, "FAILED"),
            artifacts=self.artifacts and state == "COMPLETE",
            extra_series=series,
        )

    def end(self, status: str) -> None:
        """End the parent run with ``status`` (``FAILED``, ``KILLED``) without logging more."""
        self.tracker.end_run(self.parent, status)

    def finish(self, study: optuna.Study, files: Iterable[Path], status: str = "FINISHED") -> None:
        """Log the study's trial counts and best value, and ``files`` as artefacts, then end the parent run."""
        trials = study.get_trials(deepcopy=False)
        counts = {
            f"trials_{s.lower()}": float(sum(trial_state(t) == s for t in trials))
            for s in ("COMPLETE", "PRUNED", "FAIL")
        }
        if any(trial_state(t) == "COMPLETE" for t in trials):
            counts["best_value"] = float(study.best_value)
        self.tracker.log_metrics(self.parent, counts, step=len(trials))
        for f in files:
            if f.is_file():
                self.tracker.log_artifact(self.parent, f)
        self.end(status)
