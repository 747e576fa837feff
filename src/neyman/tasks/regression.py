"""Regression tasks: the conditional mean, and the mean with an event-by-event resolution."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from neyman.preprocessing import TEST
from neyman.tasks.base import EvaluationOptions, ImportanceMetric, ScoredEvents, Task, TaskEvaluation

if TYPE_CHECKING:
    import torch

__all__ = ["GaussianTask", "RegressionEvaluation", "RegressionTask"]

_LOG_SIGMA_MIN = -12.0
_LOG_SIGMA_MAX = 12.0
"""Bounds of the network's log σ, in units of the standardised target it is trained on."""
_LOG_SIGMA_FLOAT32 = 80.0
"""Bound of log σ in the target's own units: its exponential stays a finite float32 (e^80 ~ 5.5e34)."""
N_RESPONSE_BINS = 10
"""Quantile bins of the binned bias and resolution."""
ONE_SIGMA = 0.6827
"""The probability content of a Gaussian's ±1σ interval."""
MIN_CALIBRATION_EVENTS = 50
"""Held-out events below which a model's intervals are left uncalibrated."""


@dataclass(frozen=True)
class RegressionEvaluation(TaskEvaluation):
    """A regression's evaluation and the data of its figures.

    Attributes
    ----------
    prediction, truth, weight
        Predicted and true values of the test events, and their weights.
    sigma
        Predicted resolution (Gaussian task), else ``None``.
    binned
        Bias and resolution in quantile bins (``bin_centre``, ``bias``, ``resolution``, ...).
    by_name
        What the bins are of.
    coverage
        ``(σ_model bin centres, 68% coverage, 95% coverage)`` of the intervals
        ``ŷ ± z sqrt(σ² + σ_model²)`` in quartiles of the model's uncertainty, for a
        model that has one.
    """

    prediction: np.ndarray | None = None
    truth: np.ndarray | None = None
    weight: np.ndarray | None = None
    sigma: np.ndarray | None = None
    binned: dict[str, np.ndarray] | None = None
    by_name: str = "target"
    coverage: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class RegressionTask(Task):
    """Regression with the weighted mean squared error.

    Notes
    -----
    ``l = (f(x) - y)^2``: the negative log-likelihood of a Gaussian of fixed width,
    so ``f(x)`` estimates the conditional mean ``E[y | x]``.
    """

    name: ClassVar[str] = "regression"
    standardise_target: ClassVar[bool] = True
    summary: ClassVar[str] = "predicts the conditional mean of a target"
    ranking_metric: ClassVar[tuple[str, bool]] = ("mse", False)
    evaluation_options: ClassVar[frozenset[str]] = frozenset({"by"})
    importance_change: ClassVar[str] = "the rise of the weighted mean squared error of the prediction"

    @property
    def n_outputs(self) -> int:
        return 1

    def score_names(self, classes: Sequence[str] = ()) -> list[str]:
        return ["prediction"]

    def uncertainty_names(self, classes: Sequence[str] = ()) -> list[str]:
        """``sigma_model``: the model's (epistemic) uncertainty of the prediction."""
        return ["sigma_model"]

    def uncertainty(self, draws: np.ndarray) -> np.ndarray:
        """The spread of the predicted value over draws (for ``gaussian`` beside the predicted ``sigma``).

        Notes
        -----
        :math:`\\sigma_\\mathrm{model} = \\mathrm{std}_t\\, \\hat y_t(x)`.  A Gaussian
        regression's ``sigma`` is the aleatoric resolution; the total uncertainty of
        the prediction is :math:`\\sqrt{\\sigma^2 + \\sigma_\\mathrm{model}^2}`.
        """
        values = np.stack([np.asarray(d, dtype=np.float64)[:, 0] for d in draws])
        return np.asarray(values.std(axis=0))[:, None]

    def rescale_raw(self, raw: np.ndarray, mean: float, std: float) -> np.ndarray:
        out = np.array(raw, dtype=np.float64)
        out[:, 0] = out[:, 0] * std + mean
        return out

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return (weights * (outputs[:, 0] - targets) ** 2).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        return np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[:, 0]

    def sigma(self, scores: np.ndarray) -> np.ndarray | None:
        """The predicted per-event resolution, when the task predicts one."""
        return None

    def _headline(
        self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, classes: Sequence[str]
    ) -> dict[str, float]:
        """MSE, bias and resolution (and pull mean, width and coverage with a predicted σ)."""
        from neyman import metrics

        pred = self.importance_scores(scores)
        summary = metrics.regression_summary(pred, truth, sigma=self.sigma(scores), sample_weight=weights)
        return {k: float(v) for k, v in summary.as_dict().items()}

    def evaluate(self, events: ScoredEvents, options: EvaluationOptions) -> RegressionEvaluation:
        """The summary of the test events, and bias and resolution in quantile bins.

        Notes
        -----
        Bins are deciles of ``options.by_values`` (default: the true target); in
        each, the bias is the weighted median of ``f - y`` and the resolution half
        the central 68% interval (:func:`neyman.metrics.binned_response`).
        """
        from neyman import metrics

        scores, truth, w = events.part(TEST)
        pred, sigma = self.importance_scores(scores), self.sigma(scores)
        out: dict[str, Any] = metrics.regression_summary(pred, truth, sigma=sigma, sample_weight=w).as_dict()
        by_values = truth if options.by_values is None else options.by_values[events.split == TEST]
        edges = np.quantile(by_values, np.linspace(0, 1, N_RESPONSE_BINS + 1))
        binned = metrics.binned_response(pred, truth, by_values, bins=edges, sample_weight=w, sigma=sigma)
        out["binned"] = {"by": options.by_name, **{k: np.asarray(v).tolist() for k, v in binned.items()}}
        coverage = None
        if options.model_uncertainty is not None and len(pred):
            coverage = self._coverage(pred, truth, sigma, np.asarray(options.model_uncertainty)[:, 0], w, out)
        return RegressionEvaluation(
            numbers=out,
            coverage=coverage,
            prediction=pred,
            truth=truth,
            weight=w,
            sigma=sigma,
            binned={k: np.asarray(v) for k, v in binned.items()},
            by_name=options.by_name,
        )

    @staticmethod
    def _coverage(
        pred: np.ndarray,
        truth: np.ndarray,
        sigma: np.ndarray | None,
        sigma_model: np.ndarray,
        w: np.ndarray,
        out: dict[str, Any],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coverage of ``ŷ ± z σ_tot``, overall and in quartiles of ``σ_model`` (into ``out``).

        Notes
        -----
        :math:`\\sigma_\\mathrm{tot} = \\sqrt{\\sigma^2 + \\sigma_\\mathrm{model}^2}`, with
        :math:`\\sigma = 0` for a regression that predicts no resolution (its
        intervals then cover only the model's uncertainty).
        """
        from neyman import metrics

        total = np.hypot(np.zeros_like(pred) if sigma is None else sigma, sigma_model)
        total = np.where(total > 0, total, np.finfo(float).tiny)
        overall = metrics.interval_coverage(pred, truth, total, sample_weight=w)
        edges = np.quantile(sigma_model, np.linspace(0, 1, 5))
        index = np.clip(np.searchsorted(edges, sigma_model, side="right") - 1, 0, 3)
        centres, c68, c95 = [], [], []
        for b in range(4):
            sel = index == b
            if sel.sum() < 2:
                continue
            cov = metrics.interval_coverage(pred[sel], truth[sel], total[sel], sample_weight=w[sel])
            centres.append(float(np.mean(sigma_model[sel])))
            c68.append(cov[ONE_SIGMA])
            c95.append(cov[0.9545])
        out["model_uncertainty"] = {
            "mean_sigma_model": float(np.mean(sigma_model)),
            "coverage_68": overall[ONE_SIGMA],
            "coverage_95": overall[0.9545],
            "binned": {"sigma_model": centres, "coverage_68": c68, "coverage_95": c95},
        }
        return np.asarray(centres), np.asarray(c68), np.asarray(c95)

    def core_evaluation(self, events: ScoredEvents, options: EvaluationOptions) -> RegressionEvaluation:
        """Predictions, truth and (Gaussian task) resolutions of the test events."""
        scores, truth, w = events.part(TEST)
        if not len(truth):
            return RegressionEvaluation()
        return RegressionEvaluation(
            prediction=self.importance_scores(scores), truth=truth, weight=w, sigma=self.sigma(scores)
        )

    def importance_metric(self) -> ImportanceMetric:
        """The negative weighted mean squared error (a larger drop = a more important feature)."""
        return lambda s, y, w: -float(np.average((s - y) ** 2, weights=w))


@dataclass(frozen=True)
class GaussianTask(RegressionTask):
    """Heteroscedastic regression: the network predicts a mean and a resolution.

    Notes
    -----
    The network outputs ``(mu(x), log sigma(x))`` and minimises the Gaussian
    negative log-likelihood

    .. math:: \\ell = \\frac{(y - \\mu(x))^2}{2 \\sigma(x)^2} + \\log \\sigma(x),

    so ``sigma(x)`` learns the event-by-event resolution and the pulls
    ``(y - mu) / sigma`` of a well-trained model follow a unit Gaussian.
    """

    name: ClassVar[str] = "gaussian"
    output_head: ClassVar[str] = "gaussian"
    neural_only: ClassVar[bool] = True
    summary: ClassVar[str] = "predicts a mean and a resolution per event"

    @property
    def n_outputs(self) -> int:
        return 2

    def score_names(self, classes: Sequence[str] = ()) -> list[str]:
        return ["prediction", "sigma"]

    def rescale_raw(self, raw: np.ndarray, mean: float, std: float) -> np.ndarray:
        # the network's bounds hold for the standardised target; σ then takes the target's units
        out = super().rescale_raw(raw, mean, std)
        out[:, 1] = np.clip(out[:, 1], _LOG_SIGMA_MIN, _LOG_SIGMA_MAX) + math.log(std)
        return out

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        mu = outputs[:, 0]
        log_sigma = outputs[:, 1].clamp(_LOG_SIGMA_MIN, _LOG_SIGMA_MAX)
        per_event = 0.5 * ((targets - mu) * (-log_sigma).exp()) ** 2 + log_sigma
        return (weights * per_event).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        out = np.asarray(outputs, dtype=np.float64)
        sigma = np.exp(np.clip(out[:, 1], -_LOG_SIGMA_FLOAT32, _LOG_SIGMA_FLOAT32))
        return np.stack([out[:, 0], sigma], axis=1)

    def sigma(self, scores: np.ndarray) -> np.ndarray | None:
        return np.asarray(scores, dtype=np.float64)[:, 1]

    def combine_folds(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        r"""The k-fold ensemble: the mixture of the fold models' Gaussians, as one Gaussian of its moments.

        Notes
        -----
        :math:`\bar\mu = \frac1k \sum_j \mu_j` and
        :math:`\sigma^2 = \frac1k \sum_j \sigma_j^2 + \frac1k \sum_j (\mu_j - \bar\mu)^2`:
        the folds' disagreement on the mean widens the resolution, which a mean of
        :math:`\ln \sigma_j` (a geometric mean) would leave out.
        """
        stack = np.asarray(outputs, dtype=np.float64)
        mu = stack[:, :, 0]
        variance = np.exp(2 * np.clip(stack[:, :, 1], -_LOG_SIGMA_FLOAT32, _LOG_SIGMA_FLOAT32)).mean(axis=0)
        variance += mu.var(axis=0)
        return np.stack([mu.mean(axis=0), 0.5 * np.log(variance)], axis=1)

    def scaled_intervals(self, draws: np.ndarray, scale: float) -> np.ndarray:
        """Draws with the resolution and the spread of the mean both scaled by ``scale``.

        Notes
        -----
        :math:`\\mu_t \\to \\bar\\mu + s(\\mu_t - \\bar\\mu)` and
        :math:`\\log\\sigma_t \\to \\log\\sigma_t + \\log s`, so the total
        :math:`\\sqrt{\\sigma^2 + \\sigma_\\mathrm{model}^2}` becomes ``s`` times itself
        and the mean prediction is unchanged.
        """
        out = np.array(draws, dtype=np.float64)
        centre = out[:, :, 0].mean(axis=0)
        out[:, :, 0] = centre + scale * (out[:, :, 0] - centre)
        out[:, :, 1] = out[:, :, 1] + math.log(scale)
        return out

    def interval_scale(
        self, scores: np.ndarray, spread: Callable[[], np.ndarray], truth: np.ndarray, weights: np.ndarray
    ) -> float:
        """The factor on ``σ`` and ``σ_model`` that makes the ±1σ interval cover 68.27% of held-out events.

        Notes
        -----
        With pulls :math:`p_i = |y_i - \\hat y_i| / \\sqrt{\\sigma_i^2 + \\sigma_{\\mathrm{model},i}^2}`
        the factor is their weighted 68.27% quantile (σ scaling, Laves et al.
        2020): after it, ``ŷ ± σ_tot`` covers 68.27% of the events it was fitted
        on.  A Gaussian's 95% interval follows when the pulls are Gaussian.
        Fewer than ``MIN_CALIBRATION_EVENTS`` events, or a non-finite or
        non-positive quantile, give 1 (no calibration).
        """
        from neyman import metrics

        truth = np.asarray(truth, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        if len(truth) < MIN_CALIBRATION_EVENTS or not np.sum(weights) > 0:
            return 1.0
        scores = np.asarray(scores, dtype=np.float64)
        total = np.hypot(scores[:, 1], np.asarray(spread(), dtype=np.float64)[:, 0])
        pulls = np.abs(truth - scores[:, 0]) / np.where(total > 0, total, np.finfo(float).tiny)
        scale = float(metrics.weighted_quantile(pulls, ONE_SIGMA, sample_weight=weights))
        return scale if math.isfinite(scale) and scale > 0 else 1.0
