"""Unsupervised tasks: an anomaly score learned from background-like events alone.

``autoencoder`` learns to reconstruct the events it is given; ``density`` learns
their probability density with a normalizing flow; ``generator`` learns to draw
new ones (jet images given their total intensity).  None needs labels.  When
the inputs do carry labels (a ``label`` per source, or ``data.label_column``),
class 0 is the background the model learns from and class 1 the signal (the
anomaly) that only the evaluation sees: signal events never enter the training
or validation losses, nor the fit of the preprocessing.

Both networks return one raw value per event (see :mod:`neyman.nn.autoencoder`
and :mod:`neyman.nn.flows`): the per-event loss of an autoencoder, the
log-density of a flow.  The tasks turn that value into the anomaly score and
judge the score on labelled test events with :func:`neyman.metrics.anomaly_summary`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from neyman.exceptions import DataError
from neyman.preprocessing import TEST, dependent_features
from neyman.table import LABEL
from neyman.tasks.base import EvaluationOptions, ImportanceMetric, ScoredEvents, Task, TaskEvaluation

if TYPE_CHECKING:
    import torch

    from neyman.metrics import RocCurve

__all__ = ["AnomalyEvaluation", "AnomalyTask", "AutoencoderTask", "DensityTask", "GeneratorTask"]

BACKGROUND, SIGNAL = 0, 1


@dataclass(frozen=True)
class AnomalyEvaluation(TaskEvaluation):
    """An anomaly score's evaluation and the data of its figures.

    Attributes
    ----------
    scores, labels, weights
        Anomaly scores, labels (0 background, 1 signal) and weights of the test events.
    roc
        ROC curve of the score (signal positive), when the test events hold both classes.
    sic
        ``(ε_S, SIC)`` along the curve where enough background passes.
    classes
        Class names (background, signal).
    """

    scores: np.ndarray | None = None
    labels: np.ndarray | None = None
    weights: np.ndarray | None = None
    roc: RocCurve | None = None
    sic: tuple[np.ndarray, np.ndarray] | None = None
    classes: tuple[str, ...] = ("background", "signal")


@dataclass(frozen=True)
class AnomalyTask(Task):
    """Base of the unsupervised tasks: the model's raw output becomes an anomaly score.

    Notes
    -----
    The raw output ``o(x)`` of the network is the per-event training loss
    ``ℓ(x)`` (the trainer minimises the weighted mean ``Σ w_i ℓ(x_i) / N``); the
    anomaly score is ``ℓ(x)`` evaluated without sampling, larger meaning more
    anomalous.
    """

    truth_column: ClassVar[str] = LABEL
    target_dtype: ClassVar[type[np.generic]] = np.int64
    reads_labels: ClassVar[str] = "optional"
    fixed_classes: ClassVar[tuple[str, ...]] = ("background", "signal")
    neural_only: ClassVar[bool] = True
    ranking_metric: ClassVar[tuple[str, bool]] = ("loss", False)
    objective: ClassVar[str] = ""
    importance_change: ClassVar[str] = "the rise of the background's mean anomaly score"

    @property
    def n_outputs(self) -> int:
        return 1

    def score_names(self, classes: Sequence[str] = ()) -> list[str]:
        return ["anomaly_score"]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return (weights * outputs[:, 0]).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        return np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[:, 0]

    def learns_from(self, truth: np.ndarray) -> np.ndarray:
        """Only the background (label 0): the signal is what the score must find unseen."""
        return np.asarray(np.asarray(truth) == BACKGROUND)

    def training_weights(self, truth: np.ndarray, weights: np.ndarray, *, balance: bool) -> np.ndarray:
        """The weights as they are: there is one class to learn, nothing to balance."""
        return np.asarray(weights, dtype=np.float64)

    def _background_loss(self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray) -> float:
        """The weighted mean training objective of the background events."""
        s = self.importance_scores(scores)
        bkg = truth == BACKGROUND
        return float(np.average(s[bkg], weights=weights[bkg])) if bkg.any() and weights[bkg].sum() > 0 else np.nan

    def _headline(
        self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, classes: Sequence[str]
    ) -> dict[str, float]:
        """The background's mean loss and, when both classes are present, the AUC and maximum SIC."""
        from neyman import metrics

        out = {"loss": self._background_loss(scores, truth, weights)}
        if (truth == SIGNAL).any() and (truth == BACKGROUND).any():
            summary, _ = metrics.anomaly_summary(self.importance_scores(scores), truth, sample_weight=weights)
            out.update(auc=summary.auc, max_sic=summary.max_sic)
        return out

    def evaluate(self, events: ScoredEvents, options: EvaluationOptions) -> AnomalyEvaluation:
        """AUC, the SIC curve and its maximum, ε_S at ε_B = 1e-2, 1e-3, 1e-4 on the test events.

        Notes
        -----
        ``SIC = ε_S / √ε_B`` over cuts keeping at least
        :data:`neyman.metrics.anomaly.MIN_BACKGROUND` effective background events.
        Without signal events among the test events only the background's mean
        loss is reported.
        """
        from neyman import metrics

        scores, truth, w = events.part(TEST)
        s = self.importance_scores(scores)
        truth = np.asarray(truth).astype(np.int64)
        numbers: dict[str, Any] = {"n_events": len(s), "loss": self._background_loss(s, truth, w)}
        roc, sic = None, None
        if (truth == SIGNAL).any() and (truth == BACKGROUND).any():
            summary, roc = metrics.anomaly_summary(s, truth, sample_weight=w)
            numbers.update(summary.as_dict())
            sic = metrics.sic_curve(roc, summary.n_background)
            folds = self._fold_numbers(s, truth, w, events.fold[events.split == TEST])
            if folds:
                numbers["folds"] = folds
        classes = tuple(options.classes) or self.fixed_classes
        return AnomalyEvaluation(numbers=numbers, scores=s, labels=truth, weights=w, roc=roc, sic=sic, classes=classes)

    @staticmethod
    def _fold_numbers(
        scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, fold: np.ndarray
    ) -> dict[str, dict[str, float]]:
        """k-fold: the mean ± std over folds of the AUC, max SIC and ε_S numbers (empty otherwise)."""
        from neyman import metrics

        per = []
        for f in np.unique(fold[fold >= 0]):
            sel = fold == f
            if (truth[sel] == SIGNAL).any() and (truth[sel] == BACKGROUND).any():
                numbers = metrics.anomaly_summary(scores[sel], truth[sel], sample_weight=weights[sel])[0].as_dict()
                per.append({k: np.nan if v is None else v for k, v in numbers.items() if not k.startswith("n_")})
        return metrics.fold_summary(per) if len(per) >= 2 else {}

    def core_evaluation(self, events: ScoredEvents, options: EvaluationOptions) -> AnomalyEvaluation:
        """The anomaly scores of the test events, by class."""
        return self.evaluate(events, options)

    def importance_metric(self) -> ImportanceMetric:
        """The negative mean anomaly score of the background (scrambling a feature raises it).

        NaN for events without background of positive total weight (a test file of signal only).
        """

        def metric(s: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
            bkg = np.asarray(y) == BACKGROUND
            weights = None if w is None else w[bkg]
            if not bkg.any() or (weights is not None and not weights.sum() > 0):
                return float("nan")
            return -float(np.average(s[bkg], weights=weights))

        return metric


@dataclass(frozen=True)
class AutoencoderTask(AnomalyTask):
    """Anomaly detection by reconstruction: an autoencoder trained on the background.

    Notes
    -----
    The score is the reconstruction error ``r(x)`` (or a VAE's negative ELBO), as
    defined in :class:`neyman.nn.Autoencoder`: events unlike the training sample
    are reconstructed worse.
    """

    name: ClassVar[str] = "autoencoder"
    summary: ClassVar[str] = "learns to reconstruct background events; the reconstruction error is the anomaly score"
    objective: ClassVar[str] = "reconstruction"


def _check_float32_resolution(name: str, column: np.ndarray) -> None:
    """Refuse a column that float32 cannot resolve: a large offset with a small spread.

    A flow computes in float32 (24 bits of mantissa).  At ``|x| = 1e9`` its spacing is
    64, so ``1e9 + 100 z`` reaches the flow as a dozen values (a density of spikes,
    draws on a grid of 64), and ``1e6 + 0.01 z`` as one.  Refused when
    :math:`\\mathrm{spacing}_{32}(\\max|x|) > 0.01\\, \\sigma_x`.
    """
    finite = column[np.isfinite(column)]
    spread = float(np.std(finite)) if finite.size else 0.0
    if not spread > 0:
        return
    spacing = float(np.spacing(np.float32(np.max(np.abs(finite)))))
    if spacing > FLOAT32_RESOLUTION * spread:
        centre = float(np.mean(finite))
        raise DataError(
            f"feature {name!r} varies by {spread:.3g} around {centre:.10g}: a flow computes in float32, whose "
            f"spacing there ({spacing:.3g}) is {spacing / spread:.2g} of that spread, so its values would merge into "
            f"a few levels; subtract the offset in your file (e.g. {name} - {centre:.6g}), which leaves the density "
            "unchanged"
        )


@dataclass(frozen=True)
class DensityTask(AnomalyTask):
    """Density estimation by maximum likelihood with a normalizing flow.

    Notes
    -----
    The network returns :math:`\\ln p(x)`, the log-density of the physical
    features (the flow's internal standardisation included through its
    Jacobian).  Training minimises the weighted negative log-likelihood
    :math:`-\\frac1N \\sum_i w_i \\ln p(x_i)`; the scores are
    ``anomaly_score`` :math:`= -\\ln p(x)` and ``log_density`` :math:`= \\ln p(x)`.
    """

    name: ClassVar[str] = "density"
    summary: ClassVar[str] = "learns the probability density of the events; -log p(x) is the anomaly score"
    objective: ClassVar[str] = "density"
    output_head: ClassVar[str] = "density"

    def score_names(self, classes: Sequence[str] = ()) -> list[str]:
        return ["anomaly_score", "log_density"]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return -(weights * outputs[:, 0]).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        log_p = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[:, 0]
        return np.stack([-log_p, log_p], axis=1)

    def combine_folds(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        """The equal mixture of the fold flows, :math:`\\ln \\frac1k \\sum_j p_j(x)`: a density, as ``sample`` draws.

        The mean of the log-densities would be a geometric mean, which does not integrate to one.
        """
        from scipy.special import logsumexp

        stacked = np.asarray(outputs, dtype=np.float64)
        return np.asarray(logsumexp(stacked, axis=0) - np.log(len(stacked)))

    def check_inputs(self, x: Any, names: Sequence[str], *, given: Sequence[str] = ()) -> None:
        """Refuse constant, discrete and linearly dependent columns: their density is not a density.

        The columns ``given`` (a conditional flow's conditions) may be discrete: the
        density is of the others, at each of their values.

        Raises
        ------
        DataError
            A column holds one value; only integers with at most
            :data:`MAX_DISCRETE_VALUES` distinct values, or at most that many values
            each held by ten events on average (a probability mass: its density is
            infinite at those values and zero between); a value held by
            :data:`POINT_MASS` of the events and :data:`POINT_MASS_CONTRAST` times a
            typical repeated value's count (a point mass); or the columns' correlation
            matrix has an eigenvalue below 1e-9 (a copy, a sum: the events lie on a
            surface, where the density is infinite).
        """
        m = np.asarray(x, dtype=np.float64)
        if m.ndim != 2:
            return
        if len(m) <= m.shape[1]:  # n points always lie on a surface of n - 1 dimensions
            raise DataError(
                f"{len(m)} events for a density of {m.shape[1]} features: give many more events than features"
            )
        sample = m[: min(len(m), 200_000)]
        for j, name in enumerate(names):
            _check_float32_resolution(name, sample[:, j])
            if name in given:
                continue
            values, counts = np.unique(sample[:, j], return_counts=True)
            if len(values) < 2:
                raise DataError(
                    f"feature {name!r} holds the single value {values[0] if len(values) else 'none'}: a density "
                    "cannot be estimated in a direction without spread; drop it from data.features"
                )
            integers = np.all(values == np.round(values))
            if len(values) <= MAX_DISCRETE_VALUES and (integers or 10 * len(values) <= len(sample)):
                kind, step = (
                    ("integer", "[-0.5, 0.5)") if integers else ("distinct", "± half the spacing of its values")
                )
                raise DataError(
                    f"feature {name!r} is discrete ({len(values)} {kind} values in {len(sample)} events, e.g. "
                    f"{values[:3].tolist()}): its density is infinite at those values; dequantise it in your file "
                    f"(add uniform noise within {step}) or drop it from data.features"
                )
            top = int(np.argmax(counts))
            typical = max(1.0, float(np.percentile(counts, 90)))  # a rounded column repeats every value
            if counts[top] >= max(10, POINT_MASS * len(sample), POINT_MASS_CONTRAST * typical):
                raise DataError(
                    f"feature {name!r} holds the value {float(values[top])!r} in {counts[top]} of {len(sample)} events "
                    f"({counts[top] / len(sample):.1%}: a point mass, e.g. an absent object's pT of 0, or values "
                    "clipped at a bound), where its density is infinite and the fit would not converge; model those "
                    f"events apart (data.selection '{name} != {float(values[top])!r}') or drop it from data.features"
                )
        varied = np.flatnonzero(np.std(sample, axis=0) > 0)  # a constant condition has no correlation
        if len(varied) >= 2:
            tied = dependent_features(
                np.corrcoef(sample[:, varied], rowvar=False), [names[int(j)] for j in varied], tolerance=1e-9
            )
            if tied:
                raise DataError(
                    f"features {', '.join(map(repr, tied))} are linearly dependent (a copy, a sum or a rescaled "
                    "copy): the events lie on a surface, where a density is infinite; drop one of them from "
                    "data.features"
                )


@dataclass(frozen=True)
class GeneratorTask(AnomalyTask):
    """Generative fast simulation: a conditional generator of jet images trained on the background.

    Notes
    -----
    The network returns a per-event loss and the trainer minimises its weighted
    mean: :class:`neyman.nn.ImageAutoregressive` (the default) the negative
    log-likelihood of the image given its total, which is also the anomaly score;
    :class:`neyman.nn.ImageFlowMatching` the flow-matching loss, whose value at
    fixed probe times and noise is the score (a denoising error, larger for images
    unlike the training sample).  What the run is for is drawing:
    ``neyman sample`` draws images at given totals, and ``neyman evaluate``
    compares drawn with real test images.
    """

    name: ClassVar[str] = "generator"
    summary: ClassVar[str] = (
        "learns to draw jet images given their total pT; -ln p (or a denoising error) is the anomaly score"
    )
    objective: ClassVar[str] = "generation"


MAX_DISCRETE_VALUES = 1000
"""An integer-valued column with at most this many distinct values is a count, not a continuous variable."""

POINT_MASS = 0.005
"""A value held by this share of a column's events (and by at least ten) is a probability mass."""

POINT_MASS_CONTRAST = 5
"""...and by this many times the events of a typical repeated value (the 90th percentile of the
counts): a column rounded to a fine grid holds each of its values a few times, a point mass stands out."""

FLOAT32_RESOLUTION = 0.01
"""A flow computes in float32: a column whose float32 spacing exceeds this share of its spread is refused."""
