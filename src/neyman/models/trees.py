"""Boosted decision trees: XGBoost and LightGBM through their native training APIs.

The wrappers call ``xgboost.train`` / ``lightgbm.train`` directly (no scikit-learn
layer in between) and save the booster in its native format (XGBoost UBJSON,
LightGBM text), never through pickle.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neyman._atomic import atomic_path
from neyman._optional import require
from neyman.exceptions import ConfigError, DataError, ModelError
from neyman.models.base import Arrays, Model
from neyman.tasks import Task

__all__ = ["LightGBMModel", "XGBoostModel"]


def _threads(n_jobs: int | None) -> int:
    return int(n_jobs) if n_jobs else (os.cpu_count() or 1)


class XGBoostModel(Model):
    """Gradient-boosted trees with XGBoost (``hist`` method).

    Parameters
    ----------
    **params
        ``n_estimators``, ``max_depth``, ``learning_rate``, ``subsample``,
        ``colsample_bytree``, ``min_child_weight``, ``reg_lambda``,
        ``early_stopping_rounds``, ``n_jobs``, ``negative_weights``.

    Notes
    -----
    XGBoost refuses negative event weights.  ``negative_weights`` chooses what to
    do: ``error`` (default) stops with an explanation, ``zero`` trains without
    those events, ``abs`` trains with ``|w|``.  Metrics always use the true weights.
    """

    family: ClassVar[str] = "xgboost"
    booster_file: ClassVar[str] = "booster.ubj"

    def __init__(self, task: Task, n_features: int, *, seed: int = 0, **params: Any) -> None:
        super().__init__(task, n_features, seed=seed, **params)
        if task.name == "gaussian":
            raise ConfigError("xgboost cannot learn the 'gaussian' task; use model type mlp")
        self.booster: Any = None

    def _objective(self) -> dict[str, Any]:
        if self.task.name == "binary":
            return {"objective": "binary:logistic", "eval_metric": "logloss"}
        if self.task.name == "multiclass":
            return {
                "objective": "multi:softprob",
                "num_class": self.task.n_outputs,
                "eval_metric": "mlogloss",
            }
        return {"objective": "reg:squarederror", "eval_metric": "rmse"}

    def _weights(self, w: np.ndarray) -> np.ndarray:
        neg = w < 0
        if not neg.any():
            return w
        policy = self.params.get("negative_weights", "error")
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
            "max_depth": p.get("max_depth", 6),
            "eta": p.get("learning_rate", 0.1),
            "subsample": p.get("subsample", 1.0),
            "colsample_bytree": p.get("colsample_bytree", 1.0),
            "min_child_weight": p.get("min_child_weight", 1.0),
            "lambda": p.get("reg_lambda", 1.0),
            "nthread": _threads(p.get("n_jobs")),
            "seed": self.seed,
        }
        dtrain = xgb.QuantileDMatrix(train.x, label=train.y, weight=self._weights(train.w))
        # evaluating the training set every round costs ~20% of the training time: monitor
        # the validation set only (the training set when there is none)
        rounds = p.get("early_stopping_rounds")
        if val is not None and len(val):
            evals = [
                (
                    xgb.QuantileDMatrix(val.x, label=val.y, weight=self._weights(val.w), ref=dtrain),
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
                num_boost_round=p.get("n_estimators", 500),
                evals=evals,
                early_stopping_rounds=rounds,
                evals_result=record,
                verbose_eval=False,
            )
        except xgb.core.XGBoostError as exc:
            raise ModelError(f"XGBoost training failed: {str(exc).splitlines()[0]}") from exc
        metric = params["eval_metric"]
        self.history = {f"{k}_{metric}": [float(v) for v in record[k][metric]] for k in record}
        if rounds:
            self.params["best_iteration"] = int(self.booster.best_iteration)
        return self

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        require("xgboost", purpose="apply XGBoost models")
        if self.booster is None:
            raise ModelError("the XGBoost model is not trained")
        best = self.params.get("best_iteration")
        it = (0, best + 1) if best is not None else (0, 0)
        raw = self.booster.inplace_predict(x, iteration_range=it, predict_type="margin")
        return np.asarray(raw, dtype=np.float64).reshape(len(x), -1)

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


class LightGBMModel(Model):
    """Gradient-boosted trees with LightGBM (leaf-wise growth).

    Parameters
    ----------
    **params
        ``n_estimators``, ``num_leaves``, ``max_depth``, ``learning_rate``,
        ``subsample``, ``colsample_bytree``, ``min_child_samples``, ``reg_lambda``,
        ``early_stopping_rounds``, ``n_jobs``.

    Notes
    -----
    LightGBM accepts negative event weights in its gradient and hessian sums.
    """

    family: ClassVar[str] = "lightgbm"
    booster_file: ClassVar[str] = "booster.txt"

    def __init__(self, task: Task, n_features: int, *, seed: int = 0, **params: Any) -> None:
        super().__init__(task, n_features, seed=seed, **params)
        if task.name == "gaussian":
            raise ConfigError("lightgbm cannot learn the 'gaussian' task; use model type mlp")
        self.booster: Any = None

    def fit(self, train: Arrays, val: Arrays | None = None) -> LightGBMModel:
        lgb = require("lightgbm", purpose="train LightGBM models")
        p = self.params
        objective: dict[str, Any]
        if self.task.name == "binary":
            objective = {"objective": "binary"}
        elif self.task.name == "multiclass":
            objective = {"objective": "multiclass", "num_class": self.task.n_outputs}
        else:
            objective = {"objective": "regression"}
        params = {
            **objective,
            "num_leaves": p.get("num_leaves", 31),
            "max_depth": p.get("max_depth", -1),
            "learning_rate": p.get("learning_rate", 0.1),
            "bagging_fraction": p.get("subsample", 1.0),
            "bagging_freq": 1 if p.get("subsample", 1.0) < 1 else 0,
            "feature_fraction": p.get("colsample_bytree", 1.0),
            "min_child_samples": p.get("min_child_samples", 20),
            "lambda_l2": p.get("reg_lambda", 0.0),
            "num_threads": _threads(p.get("n_jobs")),
            "seed": self.seed,
            "deterministic": True,
            "verbose": -1,
        }
        dtrain = lgb.Dataset(train.x, label=train.y, weight=train.w, free_raw_data=True)
        valid_sets, names = [dtrain], ["train"]
        callbacks = []
        record: dict[str, Any] = {}
        if val is not None and len(val):
            valid_sets, names = (
                [lgb.Dataset(val.x, label=val.y, weight=val.w, reference=dtrain)],
                ["val"],
            )
            if p.get("early_stopping_rounds"):
                callbacks.append(lgb.early_stopping(p["early_stopping_rounds"], verbose=False))
        callbacks.append(lgb.record_evaluation(record))
        try:
            self.booster = lgb.train(
                params,
                dtrain,
                num_boost_round=p.get("n_estimators", 500),
                valid_sets=valid_sets,
                valid_names=names,
                callbacks=callbacks,
            )
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"LightGBM training failed: {exc}") from exc
        self.history = {f"{k}_{m}": [float(v) for v in vals] for k, d in record.items() for m, vals in d.items()}
        if self.booster.best_iteration > 0:
            self.params["best_iteration"] = int(self.booster.best_iteration)
        return self

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        if self.booster is None:
            raise ModelError("the LightGBM model is not trained")
        raw = self.booster.predict(x, raw_score=True, num_iteration=self.params.get("best_iteration"))
        return np.asarray(raw, dtype=np.float64).reshape(len(x), -1)

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
