"""A finished ``neyman hunt`` as a scorer: each window's models, averaged as in the hunt."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from neyman.exceptions import RunDirectoryError
from neyman.resonance import Window
from neyman.runs.directory import HUNT_FILE, RunDirectory
from neyman.runs.trained import TrainedRun, load_run
from neyman.table import Table

__all__ = ["HUNT_FILE", "HuntScorer", "is_hunt", "load_hunt"]


def is_hunt(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the run directory of a hunt."""
    return (Path(path) / HUNT_FILE).is_file()


@dataclass(frozen=True)
class HuntScorer:
    """The anomaly score of a hunt's windows for new events.

    Attributes
    ----------
    path
        The hunt's run directory.
    names
        One score name per window (``anomaly_score`` for a single window).
    windows
        Per window, the method's models: classifiers (averaged) or, for ANODE, the
        signal-region and sideband flows.
    anode
        Whether the score is the flows' log-density difference.
    mass, regions
        ANODE: the mass column and each window's signal region; an event outside it is
        scored at the region's nearest mass, as the hunt scored it.
    """

    path: Path
    names: list[str]
    windows: list[list[TrainedRun]]
    anode: bool
    mass: str | None = None
    regions: list[tuple[float, float]] = field(default_factory=list)

    @property
    def score_names(self) -> list[str]:
        """One anomaly-score column per window."""
        return self.names

    def score(self, table: Table) -> np.ndarray:
        """``(n, windows)`` anomaly scores: the fold ensembles of every model, averaged (ANODE: differenced).

        Notes
        -----
        New events were never seen by any model, so each run scores with the mean of its
        fold models; the classifiers of an ensemble are then averaged, and ANODE takes
        :math:`\\ln p_\\text{SR}(x|m') - \\ln p_\\text{SB}(x|m')` with :math:`m'` the
        event's mass clipped into the window's signal region, as the hunt scored it.
        """
        out = []
        for i, models in enumerate(self.windows):
            values = []
            scored = table
            if self.anode and self.mass is not None and i < len(self.regions) and self.mass in table:
                scored = table.with_column(self.mass, Window(*self.regions[i]).nearest(np.asarray(table[self.mass])))
            for trained in models:
                column = "log_density" if self.anode else "score"
                raw = np.asarray(trained.score(scored)).reshape(len(scored), -1)
                values.append(raw[:, trained.score_names.index(column)])
            out.append(values[0] - values[1] if self.anode else np.mean(values, axis=0))
        return np.column_stack(out)


def load_hunt(path: str | os.PathLike[str]) -> HuntScorer:
    """Load a finished hunt's models.

    Raises
    ------
    RunDirectoryError
        Not a finished hunt, or ``hunt.json`` is damaged (the key is named).
    """
    run = RunDirectory(Path(path))
    if run.status() != "complete":
        raise RunDirectoryError(
            f"{run.path} is not a finished hunt (status.json says {run.status()!r}); run the hunt again with --force"
        )
    try:
        record = json.loads((run.path / HUNT_FILE).read_text())
        windows = record["windows"]
        members = [[run.path / m for m in w["models"]] for w in windows]
        anode = record["method"] == "anode"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunDirectoryError(f"{run.path / HUNT_FILE} is damaged ({exc!r}); rerun the hunt") from None
    for paths in members:
        for p in paths:
            if run.path.resolve() not in p.resolve().parents:
                raise RunDirectoryError(f"{run.path / HUNT_FILE} names a model outside the run: {p}")
    loaded = [[replace(load_run(p), folds_by_event_id=False) for p in paths] for paths in members]
    if len(windows) == 1:
        names = ["anomaly_score"]
    else:
        names = [f"anomaly_score_{w['signal_region'][0]:g}_{w['signal_region'][1]:g}" for w in windows]
    regions = [(float(w["signal_region"][0]), float(w["signal_region"][1])) for w in windows] if anode else []
    return HuntScorer(run.path, names, loaded, anode, str(record.get("mass")) if anode else None, regions)
