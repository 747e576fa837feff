"""The gradient-boosted reweighter as a model family: source (class 0) against target (class 1).

Its raw output is the learned log-weight ``ln w(x) = ln p_target(x)/p_source(x)``, so
the binary task's score ``sigmoid(ln w) = w/(1 + w)`` is what a classifier of the two
samples with equal totals would give, and the reweighting's map from score to weight
applies unchanged.  The trees are stored as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neyman.atomic import write_json
from neyman.exceptions import ConfigError, DataError, ModelError
from neyman.models.base import Arrays, Model
from neyman.models.families import GBReweighterConfig
from neyman.reweighting import BoostedReweighter
from neyman.tasks import Task

__all__ = ["GBReweighterModel"]

TREES_FILE = "reweighter.json"


class GBReweighterModel(Model):
    """Gradient-boosted reweighter (the algorithm of hep_ml's ``GBReweighter``) trained on two samples.

    Parameters
    ----------
    task
        A binary task: class 0 is the source, class 1 the target.
    n_features
        Features per event.
    params
        :class:`~neyman.models.families.GBReweighterConfig`.
    seed
        Seed of the trees' tie-breaking.

    Notes
    -----
    Each tree is grown on ``y = -1`` (source, current weights) against ``y = +1``
    (target), and moves the log-weight of the source events in leaf :math:`\\ell` by

    .. math:: \\Delta \\ln w = \\eta\\,\\ln\\frac{W_{T,\\ell} + \\lambda}{W_{S,\\ell} + \\lambda}

    (:class:`neyman.reweighting.BoostedReweighter`).  The raw output is
    :math:`\\ln w(x) = \\sum_m \\Delta_m(x)`; the validation sample is not used (the
    trees have no early stopping).
    """

    family = "gbreweighter"
    params: GBReweighterConfig
    reweighter: BoostedReweighter | None = None

    @classmethod
    def check_task(cls, task: Task) -> None:
        """Refuse every task but the binary one (class 0 the source, class 1 the target)."""
        super().check_task(task)
        if task.output_head != "sigmoid":
            raise ConfigError(
                f"gbreweighter learns the weights between two samples: a binary task (class 0 the source, class 1 "
                f"the target), not {task.name!r}"
            )

    def fit(self, train: Arrays, val: Arrays | None = None) -> GBReweighterModel:
        x = np.asarray(train.x, dtype=np.float32)
        y = np.asarray(train.y)
        source, target = y == 0, y == 1
        if source.sum() < 2 or target.sum() < 2:
            raise DataError(
                f"gbreweighter needs source (class 0) and target (class 1) events; the training split holds "
                f"{int(source.sum())} and {int(target.sum())}"
            )
        settings = self.params.model_dump(exclude={"type"})  # the reweighter's own keywords, by name
        reweighter = BoostedReweighter(**settings, seed=self.seed)
        self.reweighter = reweighter.fit(x[source], x[target], train.w[source], train.w[target])
        return self

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        if self.reweighter is None:
            raise ModelError("the gbreweighter model is not trained")
        return self.reweighter.log_weights(np.asarray(x, dtype=np.float32))[:, None]

    def _save_weights(self, directory: Path) -> list[str]:
        assert self.reweighter is not None
        write_json(directory / TREES_FILE, self.reweighter.to_json())
        return [TREES_FILE]

    def _load_weights(self, directory: Path) -> None:
        path = directory / TREES_FILE
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load {path}: {exc}") from exc
        try:
            reweighter = BoostedReweighter.from_json(record, where=str(path))
        except DataError as exc:
            raise ModelError(str(exc)) from None
        if reweighter.n_features != self.n_features:
            raise ModelError(f"{path} holds trees of {reweighter.n_features} features; the model has {self.n_features}")
        self.reweighter = reweighter
