"""Classic baselines: Fisher's linear discriminant and logistic regression.

Both are linear in the inputs and store their coefficients as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neyman.atomic import write_json
from neyman.exceptions import DataError, ModelError
from neyman.models.base import Arrays, Model
from neyman.models.families import FisherConfig, LogisticConfig
from neyman.preprocessing import dependent_features

__all__ = ["FisherModel", "LogisticModel"]

COEF_FILE = "coefficients.json"


class _LinearModel(Model):
    """Raw outputs ``x @ coef_.T + intercept_`` (one row per output).

    Both families are declared classifiers: :class:`~neyman.models.Model` refuses
    regression tasks.
    """

    coef_: np.ndarray | None = None
    intercept_: np.ndarray | None = None

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        if self.coef_ is None or self.intercept_ is None:
            raise ModelError(f"the {self.family} model is not trained")
        return np.asarray(np.asarray(x, dtype=np.float64) @ self.coef_.T + self.intercept_)

    def _save_weights(self, directory: Path) -> list[str]:
        assert self.coef_ is not None and self.intercept_ is not None
        write_json(
            directory / COEF_FILE,
            {"coef": self.coef_.tolist(), "intercept": self.intercept_.tolist()},
        )
        return [COEF_FILE]

    def _load_weights(self, directory: Path) -> None:
        try:
            data = json.loads((directory / COEF_FILE).read_text())
            self.coef_ = np.asarray(data["coef"], dtype=np.float64)
            self.intercept_ = np.asarray(data["intercept"], dtype=np.float64)
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot load {directory / COEF_FILE}: {exc}") from exc


class FisherModel(_LinearModel):
    """Fisher's linear discriminant (linear discriminant analysis).

    Parameters
    ----------
    task, n_features, params, seed, **overrides
        See :class:`~neyman.models.Model`.  The hyper-parameters
        (:class:`~neyman.models.families.FisherConfig`) hold ``shrinkage``, the
        fraction ``a`` in ``Sigma -> (1 - a) Sigma + a diag(Sigma)`` (regularises
        nearly singular covariances: it shrinks the correlations towards zero, so it
        acts alike whatever the features' units; it cannot help a constant feature).

    Notes
    -----
    With weighted class means ``mu_k`` and the pooled within-class covariance
    ``Sigma``, the discriminant of class ``k`` is
    ``d_k(x) = x^T Sigma^{-1} mu_k - mu_k^T Sigma^{-1} mu_k / 2``.  For two classes
    the raw output ``d_1 - d_0 = (mu_1 - mu_0)^T Sigma^{-1} x + c`` is Fisher's
    discriminant: the direction that maximises the separation of the projected
    class means relative to the within-class spread, and the exact log likelihood
    ratio for Gaussian classes of equal covariance and equal priors.
    """

    family: ClassVar[str] = "fisher"
    params: FisherConfig
    input_arguments: ClassVar[tuple[str, ...]] = ("feature_names",)

    def __init__(self, task: Any, n_features: int, *, feature_names: Sequence[str] | None = None, **kwargs: Any):
        super().__init__(task, n_features, **kwargs)
        self.feature_names = (
            list(feature_names) if feature_names is not None else [f"feature {j}" for j in range(n_features)]
        )

    def _degenerate(self, cov: np.ndarray, spread: np.ndarray, size: np.ndarray) -> str | None:
        """Why ``cov`` cannot be inverted, naming the features, or None when it can.

        A feature whose variance within the classes is below 1e-12 of its variance
        ``spread`` in the whole sample, or below 1e-24 of its mean square ``size``
        (both: rounding of a constant), or a set of features whose
        correlation matrix has an eigenvalue below 1e-10 of its largest (one feature
        a linear combination of others: a duplicate, a sum, a fixed offset).
        """
        var = np.diag(cov)
        flat = [self.feature_names[j] for j in np.flatnonzero(~(var > np.maximum(1e-12 * spread, 1e-24 * size)))]
        if flat:
            one = len(flat) == 1
            return (
                f"{', '.join(map(repr, flat))} {'is' if one else 'are'} constant within each class; "
                f"leave {'it' if one else 'them'} out of the features"
            )
        scale = 1.0 / np.sqrt(var)
        tied = dependent_features(cov * scale[:, None] * scale[None, :], self.feature_names, tolerance=1e-10)
        if not tied:
            return None
        return (
            f"{', '.join(map(repr, tied))} are linearly dependent (a duplicate, a sum or a rescaled copy); "
            "leave one of them out of the features"
        )

    def fit(self, train: Arrays, val: Arrays | None = None) -> FisherModel:
        x = np.asarray(train.x, dtype=np.float64)
        w = np.asarray(train.w, dtype=np.float64)
        k = self.task.n_classes
        means = np.empty((k, x.shape[1]))
        cov = np.zeros((x.shape[1], x.shape[1]))
        total = 0.0
        for c in range(k):
            sel = train.y == c
            wc = w[sel]
            sw = wc.sum()
            if sw <= 0:
                raise DataError(f"class {c} has total training weight {sw:g}; Fisher needs a positive one")
            means[c] = wc @ x[sel] / sw
            d = x[sel] - means[c]
            cov += (d * wc[:, None]).T @ d
            total += sw
        cov /= total
        a = self.params.shrinkage
        cov = (1 - a) * cov + a * np.diag(np.diag(cov))
        why = self._degenerate(cov, w @ (x - w @ x / total) ** 2 / total, w @ x**2 / total)
        if why is not None:
            fix = "" if "constant" in why else ", or set model.shrinkage > 0 (e.g. --set model.shrinkage=0.01)"
            raise DataError(f"the within-class covariance is singular: {why}{fix}")
        inv_means = np.linalg.solve(cov, means.T).T  # Sigma^-1 mu_k
        intercepts = -0.5 * np.sum(inv_means * means, axis=1)
        if self.task.n_outputs == 1:  # binary: one logit, the difference of the two discriminants
            self.coef_ = (inv_means[1] - inv_means[0])[None, :]
            self.intercept_ = np.array([intercepts[1] - intercepts[0]])
        else:
            self.coef_, self.intercept_ = inv_means, intercepts
        return self


class LogisticModel(_LinearModel):
    """Logistic regression with L2 regularisation (scikit-learn's lbfgs solver).

    Parameters
    ----------
    task, n_features, params, seed, **overrides
        See :class:`~neyman.models.Model`.  The hyper-parameters
        (:class:`~neyman.models.families.LogisticConfig`) hold ``C``, the inverse
        regularisation strength, and ``max_iter``, the solver iterations.

    Notes
    -----
    Minimises the weighted cross-entropy of ``sigma(w^T z + b)`` (softmax for more
    classes) plus ``|w|^2 / (2 C)``, on the standardised inputs
    :math:`z_j = (x_j - \\mu_j)/\\sigma_j` of the training events, and keeps the
    coefficients of the raw inputs,

    .. math:: w^{raw}_j = w_j / \\sigma_j, \\qquad
       b^{raw} = b - \\sum_j w_j \\mu_j / \\sigma_j,

    so the model, its predictions and its export read raw features as before.  Without
    the standardisation a feature measured in large units (an event number, an energy
    in MeV) leaves the solver far from its minimum, and the result is near random.
    """

    family: ClassVar[str] = "logistic"
    params: LogisticConfig

    def fit(self, train: Arrays, val: Arrays | None = None) -> LogisticModel:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(train.x, dtype=np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[~(scale > 0)] = 1.0  # a constant feature: any scale
        clf = LogisticRegression(C=self.params.C, max_iter=self.params.max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit((x - mean) / scale, train.y, sample_weight=train.w)
        coef = np.asarray(clf.coef_, dtype=np.float64) / scale
        self.coef_ = coef
        self.intercept_ = np.asarray(clf.intercept_, dtype=np.float64) - coef @ mean
        return self
