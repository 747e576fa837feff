"""Boosted decision trees: XGBoost and LightGBM through their native training APIs.

The wrappers call ``xgboost.train`` / ``lightgbm.train`` directly (no scikit-learn
layer in between) and save the booster in its native format (XGBoost UBJSON,
LightGBM text), never through pickle.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neyman.atomic import atomic_path
from neyman.exceptions import ConfigError, DataError, ModelError
from neyman.models.base import Arrays, Model
from neyman.models.families import LightGBMConfig, XGBoostConfig
from neyman.optional import require
from neyman.tasks import Task

__all__ = ["LIGHTGBM_OBJECTIVES", "XGBOOST_OBJECTIVES", "LightGBMModel", "XGBoostModel"]

XGBOOST_OBJECTIVES: dict[str, dict[str, str]] = {
    "sigmoid": {"objective": "binary:logistic", "eval_metric": "logloss"},
    "softmax": {"objective": "multi:softprob", "eval_metric": "mlogloss"},
    "identity": {"objective": "reg:squarederror", "eval_metric": "rmse"},
}
"""XGBoost objective and evaluation metric by the task's output head."""

LIGHTGBM_OBJECTIVES: dict[str, dict[str, str]] = {
    "sigmoid": {"objective": "binary"},
    "softmax": {"objective": "multiclass"},
    "identity": {"objective": "regression"},
}
"""LightGBM objective by the task's output head."""


def _threads(n_jobs: int | None) -> int:
    return int(n_jobs) if n_jobs else (os.cpu_count() or 1)


class _BoostedTrees(Model):
    """What both boosting libraries share: the objective of the task and the best iteration.

    Attributes
    ----------
    booster
        The trained booster (None before training).
    best_iteration_
        The iteration early stopping chose (None: use every tree).
    target_mean_, target_std_
        A regression learns ``(y - mean) / std`` of its training targets and predicts
        ``raw · std + mean`` (0 and 1 for classifiers).

    Notes
    -----
    XGBoost splits a node only when the gain exceeds a fixed 1e-6, and the gain of a
    squared error scales as the target squared: targets of order 1e-12 (a quantity in
    a tiny unit) grew no tree at all.  Standardised targets make a regression
    independent of the target's unit, as the networks' already are.
    """

    objectives: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    """Library parameters by the task's output head; a missing head is a task the library cannot learn."""
    state_attributes: ClassVar[tuple[str, ...]] = ("best_iteration_", "target_mean_", "target_std_")

    booster: Any = None
    best_iteration_: int | None = None
    target_mean_: float = 0.0
    target_std_: float = 1.0

    def _targets(self, train: Arrays, val: Arrays | None) -> tuple[np.ndarray, np.ndarray | None]:
        """The training and validation targets the library sees: standardised for a regression."""
        if self.task.output_head != "identity":
            return train.y, None if val is None else val.y
        y = np.asarray(train.y, dtype=np.float64)
        w = np.abs(np.asarray(train.w, dtype=np.float64))
        w = w if w.sum() > 0 else np.ones(len(y))
        mean = float(np.average(y, weights=w))
        std = float(np.sqrt(np.average((y - mean) ** 2, weights=w)))
        self.target_mean_, self.target_std_ = mean, (std if std > 0 and np.isfinite(std) else 1.0)
        scaled = (y - self.target_mean_) / self.target_std_
        if val is None:
            return scaled, None
        return scaled, (np.asarray(val.y, dtype=np.float64) - self.target_mean_) / self.target_std_

    def _unscaled(self, raw: np.ndarray) -> np.ndarray:
        """Raw outputs in the target's units (identity for classifiers)."""
        return raw * self.target_std_ + self.target_mean_

    @classmethod
    def check_task(cls, task: Task) -> None:
        """Refuse a task whose output head the library has no objective for."""
        super().check_task(task)
        if task.output_head not in cls.objectives:
            raise ConfigError(f"{cls.family} cannot learn the {task.name!r} task; use model type mlp")

    def _chosen_rounds(self) -> int | None:
        """Boosting rounds early stopping kept (``None`` without early stopping)."""
        return None

    def refit_settings(self, growth: float) -> dict[str, dict[str, Any]] | None:
        """The rounds early stopping kept, scaled by ``growth``; no early stopping in the refit.

        Notes
        -----
        With ``k`` rounds chosen on ``n`` training events, the refit on ``growth · n``
        events makes ``ceil(growth · k)`` rounds: more events support proportionally
        more rounds before a tree fits noise.
        """
        rounds = self._chosen_rounds()
        if rounds is None:
            return None
        return {"model": {"n_estimators": max(1, math.ceil(growth * rounds)), "early_stopping_rounds": None}}

    def _objective(self) -> dict[str, Any]:
        """The library's objective parameters (``num_class`` for more than one output)."""
        objective: dict[str, Any] = dict(self.objectives[self.task.output_head])
        if self.task.n_outputs > 1:
            objective["num_class"] = self.task.n_outputs
        return objective


class XGBoostModel(_BoostedTrees):
    """Gradient-boosted trees with XGBoost (``hist`` method).

    Parameters
    ----------
    task, n_features, params, seed, **overrides
        See :class:`~neyman.models.Model`; the hyper-parameters are
        :class:`~neyman.models.families.XGBoostConfig`.

    Notes
    -----
    XGBoost refuses negative event weights.  ``negative_weights`` chooses what to
    do: ``error`` (default) stops with an explanation, ``zero`` trains without
    those events, ``abs`` trains with ``|w|``.  Metrics always use the true weights.
    """

    family: ClassVar[str] = "xgboost"
    objectives: ClassVar[Mapping[str, Mapping[str, str]]] = XGBOOST_OBJECTIVES
    booster_file: ClassVar[str] = "booster.ubj"
    params: XGBoostConfig

    def _weights(self, w: np.ndarray) -> np.ndarray:
        neg = w < 0
        if not neg.any():
            return w
        policy = self.params.negative_weights
        if policy == "zero":
            return np.asarray(np.where(neg, 0.0, w))
        if policy == "abs":
            return np.asarray(np.abs(w))
        raise DataError(
            f"{int(neg.sum())} training events have negative weights, which XGBoost refuses. "
            "Use model type lightgbm or mlp (both accept them), or set model.negative_weights "
            "to 'zero' (drop them from training) or 'abs' (train with |w|)."
        )

    def fit(self, train: Arrays, val: Arrays | None = None) -> XGBoostModel:
        xgb = require("xgboost", purpose="train XGBoost models")
        p = self.params
        params = {
            **self._objective(),
            "tree_method": "hist",
            "max_depth": p.max_depth,
            "eta": p.learning_rate,
            "subsample": p.subsample,
            "colsample_bytree": p.colsample_bytree,
            "min_child_weight": p.min_child_weight,
            "lambda": p.reg_lambda,
            "nthread": _threads(p.n_jobs),
            "seed": self.seed,
        }
        y_train, y_val = self._targets(train, val)
        dtrain = xgb.QuantileDMatrix(train.x, label=y_train, weight=self._weights(train.w))
        # evaluating the training set every round costs ~20% of the training time: monitor
        # the validation set only (the training set when there is none)
        rounds = p.early_stopping_rounds
        if val is not None and len(val):
            evals = [
                (
                    xgb.QuantileDMatrix(val.x, label=y_val, weight=self._weights(val.w), ref=dtrain),
                    "val",
                )
            ]
        else:
            evals, rounds = [(dtrain, "train")], None
        record: dict[str, Any] = {}
        try:
            self.booster = xgb.train(
                params,
                dtrain,
                num_boost_round=p.n_estimators,
                evals=evals,
                early_stopping_rounds=rounds,
                evals_result=record,
                verbose_eval=False,
            )
        except xgb.core.XGBoostError as exc:
            raise ModelError(f"XGBoost training failed: {str(exc).splitlines()[0]}") from exc
        metric = params["eval_metric"]
        self.history = {f"{k}_{metric}": [float(v) for v in record[k][metric]] for k in record}
        self.best_iteration_ = int(self.booster.best_iteration) if rounds else None
        return self

    def _chosen_rounds(self) -> int | None:
        return None if self.best_iteration_ is None else self.best_iteration_ + 1  # XGBoost counts from 0

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        require("xgboost", purpose="apply XGBoost models")
        if self.booster is None:
            raise ModelError("the XGBoost model is not trained")
        best = self.best_iteration_
        it = (0, best + 1) if best is not None else (0, 0)
        raw = self.booster.inplace_predict(x, iteration_range=it, predict_type="margin")
        return self._unscaled(np.asarray(raw, dtype=np.float64).reshape(len(x), -1))

    def feature_importance(self) -> np.ndarray:
        """Total gain per feature (zeros for unused features)."""
        gains = self.booster.get_score(importance_type="total_gain")
        return np.array([gains.get(f"f{i}", 0.0) for i in range(self.n_features)])

    def _save_weights(self, directory: Path) -> list[str]:
        with atomic_path(directory / self.booster_file) as tmp:
            self.booster.save_model(str(tmp.with_suffix(".ubj")))
            tmp.with_suffix(".ubj").rename(tmp)
        return [self.booster_file]

    def _load_weights(self, directory: Path) -> None:
        xgb = require("xgboost", purpose="load XGBoost models")
        self.booster = xgb.Booster()
        try:
            self.booster.load_model(str(directory / self.booster_file))
        except xgb.core.XGBoostError as exc:
            raise ModelError(f"cannot load {directory / self.booster_file}: {str(exc).splitlines()[0]}") from exc


class LightGBMModel(_BoostedTrees):
    """Gradient-boosted trees with LightGBM (leaf-wise growth).

    Parameters
    ----------
    task, n_features, params, seed, **overrides
        See :class:`~neyman.models.Model`; the hyper-parameters are
        :class:`~neyman.models.families.LightGBMConfig`.

    Notes
    -----
    LightGBM accepts negative event weights in its gradient and hessian sums.
    """

    family: ClassVar[str] = "lightgbm"
    objectives: ClassVar[Mapping[str, Mapping[str, str]]] = LIGHTGBM_OBJECTIVES
    booster_file: ClassVar[str] = "booster.txt"
    params: LightGBMConfig

    def fit(self, train: Arrays, val: Arrays | None = None) -> LightGBMModel:
        lgb = require("lightgbm", purpose="train LightGBM models")
        p = self.params
        params = {
            **self._objective(),
            "num_leaves": p.num_leaves,
            "max_depth": p.max_depth,
            "learning_rate": p.learning_rate,
            "bagging_fraction": p.subsample,
            "bagging_freq": 1 if p.subsample < 1 else 0,
            "feature_fraction": p.colsample_bytree,
            "min_child_samples": p.min_child_samples,
            "lambda_l2": p.reg_lambda,
            "max_bin": p.max_bin,
            "num_threads": _threads(p.n_jobs),
            "seed": self.seed,
            "deterministic": True,
            "verbose": -1,
        }
        y_train, y_val = self._targets(train, val)
        binning = {"max_bin": p.max_bin}
        dtrain = lgb.Dataset(train.x, label=y_train, weight=train.w, params=binning, free_raw_data=True)
        valid_sets, names = [dtrain], ["train"]
        callbacks = []
        record: dict[str, Any] = {}
        if val is not None and len(val):
            valid_sets, names = (
                [lgb.Dataset(val.x, label=y_val, weight=val.w, reference=dtrain)],
                ["val"],
            )
            if p.early_stopping_rounds:
                callbacks.append(lgb.early_stopping(p.early_stopping_rounds, verbose=False))
        callbacks.append(lgb.record_evaluation(record))
        try:
            self.booster = lgb.train(
                params,
                dtrain,
                num_boost_round=p.n_estimators,
                valid_sets=valid_sets,
                valid_names=names,
                callbacks=callbacks,
            )
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"LightGBM training failed: {exc}") from exc
        self.history = {f"{k}_{m}": [float(v) for v in vals] for k, d in record.items() for m, vals in d.items()}
        best = int(self.booster.best_iteration)
        self.best_iteration_ = best if best > 0 else None
        return self

    def _chosen_rounds(self) -> int | None:
        return self.best_iteration_  # LightGBM counts from 1

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        if self.booster is None:
            raise ModelError("the LightGBM model is not trained")
        raw = self.booster.predict(x, raw_score=True, num_iteration=self.best_iteration_)
        return self._unscaled(np.asarray(raw, dtype=np.float64).reshape(len(x), -1))

    def feature_importance(self) -> np.ndarray:
        """Total gain per feature."""
        return np.asarray(self.booster.feature_importance(importance_type="gain"), dtype=np.float64)

    def _save_weights(self, directory: Path) -> list[str]:
        with atomic_path(directory / self.booster_file) as tmp:
            self.booster.save_model(str(tmp))
        return [self.booster_file]

    def _load_weights(self, directory: Path) -> None:
        lgb = require("lightgbm", purpose="load LightGBM models")
        try:
            self.booster = lgb.Booster(model_file=str(directory / self.booster_file))
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"cannot load {directory / self.booster_file}: {exc}") from exc
