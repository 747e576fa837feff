"""scikit-learn estimators over neyman's tabular models.

``NeymanClassifier`` and ``NeymanRegressor`` follow the estimator contract
(hyper-parameters only in ``__init__``, learned state in ``*_`` attributes,
``fit(X, y, sample_weight)`` returns ``self``), so they work with pipelines,
``clone``, grid searches and ``cross_val_score``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from neyman.models.base import Arrays, Model
from neyman.models.registry import build_model, model_class
from neyman.preprocessing import StandardScaler, unit_mean_weights
from neyman.tasks import make_task

__all__ = ["NeymanClassifier", "NeymanRegressor"]


_TRAINER_KEYS = ("epochs", "batch_size", "patience")
"""Keys of ``params`` that configure the training loop of a neural family."""
_OPTIMIZER_KEYS = {"optimizer": "name", "lr": "lr"}
"""Keys of ``params`` that configure the optimiser of a neural family, and their spec names."""


def _build(
    family: str,
    task_name: str,
    n_classes: int,
    n_features: int,
    params: dict[str, Any] | None,
    seed: int,
) -> Model:
    kwargs = dict(params or {})
    trainer = None
    if model_class(family).is_neural:
        from neyman.training import OptimizerSpec, Trainer

        trainer_kw = {k: kwargs.pop(k) for k in _TRAINER_KEYS if k in kwargs}
        optimizer = OptimizerSpec(**{spec: kwargs.pop(k) for k, spec in _OPTIMIZER_KEYS.items() if k in kwargs})
        trainer = Trainer(seed=seed, progress=False, device="cpu", optimizer=optimizer, **trainer_kw)
    task = make_task(task_name, n_classes=n_classes)
    return build_model(family, task, n_features, params=kwargs, seed=seed, trainer=trainer)


class _NeymanEstimator(BaseEstimator):  # type: ignore[misc]
    def __init__(
        self,
        model: str = "mlp",
        params: dict[str, Any] | None = None,
        scale: bool = True,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.params = params
        self.scale = scale
        self.seed = seed

    def _prepare(self, X: npt.ArrayLike, *, reset: bool) -> np.ndarray:
        x = np.asarray(validate_data(self, X, reset=reset, dtype=np.float64), dtype=np.float64)
        if reset:
            self.scaler_ = StandardScaler().fit(x) if self.scale else None
        return (self.scaler_.transform(x) if self.scaler_ is not None else x).astype(np.float32)


class NeymanClassifier(ClassifierMixin, _NeymanEstimator):  # type: ignore[misc]
    """A neyman model as a scikit-learn classifier.

    Parameters
    ----------
    model
        ``mlp``, ``xgboost``, ``lightgbm``, ``fisher`` or ``logistic``.
    params
        Hyper-parameters of the model family (see :mod:`neyman.models.families`;
        for ``mlp`` also ``epochs``, ``batch_size``, ``patience``, ``optimizer``, ``lr``).
    scale
        Standardise the inputs (fitted in :meth:`fit`).
    seed
        Random seed.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score  # doctest: +SKIP
    >>> cross_val_score(NeymanClassifier("xgboost"), X, y, scoring="roc_auc")  # doctest: +SKIP
    """

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> NeymanClassifier:
        """Fit on features ``X`` ``(n_events, n_features)`` and labels ``y``."""
        x = self._prepare(X, reset=True)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"a classifier needs at least 2 classes, y holds only {self.classes_.tolist()}")
        task = "binary" if len(self.classes_) == 2 else "multiclass"
        w = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.model_ = _build(self.model, task, len(self.classes_), x.shape[1], self.params, self.seed)
        self.model_.fit(Arrays(x, codes.astype(np.int64), unit_mean_weights(w)))
        return self

    def predict_proba(self, X: npt.ArrayLike) -> np.ndarray:
        """Class probabilities ``(n_events, n_classes)``."""
        check_is_fitted(self, "model_")
        s = self.model_.predict(self._prepare(X, reset=False))
        return np.stack([1 - s, s], axis=1) if s.ndim == 1 else s

    def decision_function(self, X: npt.ArrayLike) -> np.ndarray:
        """Raw outputs: the logit for two classes, class margins otherwise."""
        check_is_fitted(self, "model_")
        raw = self.model_.predict_raw(self._prepare(X, reset=False))
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Most probable class."""
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)])


class NeymanRegressor(RegressorMixin, _NeymanEstimator):  # type: ignore[misc]
    """A neyman model as a scikit-learn regressor (``mlp``, ``xgboost``, ``lightgbm``)."""

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> NeymanRegressor:
        """Fit on features ``X`` and targets ``y``."""
        x = self._prepare(X, reset=True)
        w = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.model_ = _build(self.model, "regression", 2, x.shape[1], self.params, self.seed)
        self.model_.fit(Arrays(x, np.asarray(y, dtype=np.float64), unit_mean_weights(w)))
        return self

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Predicted targets."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict(self._prepare(X, reset=False)))
