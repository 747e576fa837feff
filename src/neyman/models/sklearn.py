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
from sklearn.utils.multiclass import check_classification_targets
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
        seed: int | None = 0,
    ) -> None:
        self.model = model
        self.params = params
        self.scale = scale
        self.seed = seed

    def _prepare(self, X: npt.ArrayLike, *, reset: bool) -> np.ndarray:
        if not reset:
            check_is_fitted(self, "model_")
        x = np.asarray(validate_data(self, X, reset=reset, dtype=np.float64), dtype=np.float64)
        return self._scaled(x, reset=reset)

    def _scaled(self, x: np.ndarray, *, reset: bool) -> np.ndarray:
        if reset:
            self.scaler_ = StandardScaler().fit(x) if self.scale else None
        return (self.scaler_.transform(x) if self.scaler_ is not None else x).astype(np.float32)

    def _fit_inputs(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None, *, numeric: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Checked features (scaled), targets (one per event), weights (finite, not all zero) and the seed."""
        x, target = validate_data(self, X, y, reset=True, dtype=np.float64, y_numeric=numeric)
        n = len(x)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"sample_weight has shape {w.shape}; give one weight per event, shape ({n},)")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"sample_weight holds {int(np.sum(~np.isfinite(w)))} NaN or infinite value(s)")
        if not np.any(w != 0):
            raise ValueError("sample_weight is zero for every event: nothing to learn from")
        if self.seed is not None and not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer or None (a fresh one), got {self.seed!r}")
        seed = int(np.random.default_rng().integers(2**31)) if self.seed is None else int(self.seed)
        return self._scaled(np.asarray(x, dtype=np.float64), reset=True), np.asarray(target), w, seed


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
        Random seed (None: a fresh one at each fit).

    Notes
    -----
    ``fisher`` is fitted with equal class priors (the Fisher discriminant); its
    probabilities here add the training's log prior ratio,
    :math:`p = \\sigma(t(x) + \\ln(W_1/W_0))` with :math:`W_c` the weighted class
    totals, so that ``predict`` and ``predict_proba`` follow the classes' shares as the
    other families' do.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score  # doctest: +SKIP
    >>> cross_val_score(NeymanClassifier("xgboost"), X, y, scoring="roc_auc")  # doctest: +SKIP
    """

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> NeymanClassifier:
        """Fit on features ``X`` ``(n_events, n_features)`` and labels ``y``."""
        x, labels, w, seed = self._fit_inputs(X, y, sample_weight, numeric=False)
        check_classification_targets(labels)  # a continuous target is no set of classes
        self.classes_, codes = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"a classifier needs at least 2 classes, y holds only {self.classes_.tolist()}")
        task = "binary" if len(self.classes_) == 2 else "multiclass"
        self.model_ = _build(self.model, task, len(self.classes_), x.shape[1], self.params, seed)
        self.model_.fit(Arrays(x, codes.astype(np.int64), unit_mean_weights(w)))
        totals = np.array([w[codes == k].sum() for k in range(len(self.classes_))])
        equal_priors = self.model == "fisher" and len(totals) == 2 and bool(np.all(totals > 0))
        self.prior_logit_ = float(np.log(totals[1] / totals[0])) if equal_priors else 0.0
        return self

    def predict_proba(self, X: npt.ArrayLike) -> np.ndarray:
        """Class probabilities ``(n_events, n_classes)``."""
        x = self._prepare(X, reset=False)
        if self.prior_logit_:  # fisher: its equal-prior discriminant plus the training's log prior ratio
            s = 1.0 / (1.0 + np.exp(-(self.model_.predict_raw(x)[:, 0] + self.prior_logit_)))
        else:
            s = self.model_.predict(x)
        return np.stack([1 - s, s], axis=1) if s.ndim == 1 else s

    def decision_function(self, X: npt.ArrayLike) -> np.ndarray:
        """Raw outputs: the logit for two classes, class margins otherwise."""
        raw = self.model_.predict_raw(self._prepare(X, reset=False))
        return raw[:, 0] + self.prior_logit_ if raw.shape[1] == 1 else raw

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Most probable class."""
        proba = self.predict_proba(X)  # first: an unfitted estimator is named as such
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])


class NeymanRegressor(RegressorMixin, _NeymanEstimator):  # type: ignore[misc]
    """A neyman model as a scikit-learn regressor (``mlp``, ``xgboost``, ``lightgbm``)."""

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> NeymanRegressor:
        """Fit on features ``X`` and targets ``y``."""
        x, target, w, seed = self._fit_inputs(X, y, sample_weight, numeric=True)
        self.model_ = _build(self.model, "regression", 2, x.shape[1], self.params, seed)
        self.model_.fit(Arrays(x, np.asarray(target, dtype=np.float64), unit_mean_weights(w)))
        return self

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Predicted targets."""
        return np.asarray(self.model_.predict(self._prepare(X, reset=False)))
