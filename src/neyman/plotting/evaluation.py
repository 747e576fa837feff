"""The figures of a task's evaluation, drawn from its frozen result.

This is the one place that knows which figures each kind of result has: a task
computes a :class:`~neyman.tasks.TaskEvaluation`, and :func:`evaluation_figures`
(the full set, for ``neyman evaluate``) or :func:`training_figures` (the quick
look a training leaves in ``plots/``) turn it into named figures grouped by the
report section they belong to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from neyman.plotting.anomaly import plot_anomaly_scores, plot_sic
from neyman.plotting.calibration import plot_likelihood_ratio, plot_reliability
from neyman.plotting.confusion import plot_confusion
from neyman.plotting.decorrelation import plot_sculpting
from neyman.plotting.model_uncertainty import plot_coverage, plot_uncertainty_profile
from neyman.plotting.regression import plot_pulls, plot_response
from neyman.plotting.resolution import plot_binned_response
from neyman.plotting.roc import plot_roc
from neyman.plotting.scores import plot_scores
from neyman.plotting.significance import plot_significance
from neyman.plotting.style import figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from neyman.tasks import (
        AnomalyEvaluation,
        BinaryEvaluation,
        DiscriminantEvaluation,
        MulticlassEvaluation,
        RegressionEvaluation,
        TaskEvaluation,
    )

__all__ = ["NamedFigures", "evaluation_figures", "training_figures"]

NamedFigures = dict[str, list[tuple[str, "Figure"]]]
"""Report section → ``(file stem, figure)`` pairs."""


def _scores_figure(ev: BinaryEvaluation) -> Figure:
    assert ev.test is not None
    train = ev.train
    fig, ax = figure()
    plot_scores(
        ev.test.scores,
        ev.test.labels,
        sample_weight=ev.test.weights,
        class_names=list(ev.classes),
        ax=ax,
        train_scores=None if train is None else train.scores,
        train_labels=None if train is None else train.labels,
        train_weight=None if train is None else train.weights,
    )
    return fig


def _roc_figure(ev: BinaryEvaluation, kind: str) -> Figure:
    assert ev.roc is not None
    fig, ax = figure()
    plot_roc({"test": ev.roc}, ax=ax, kind=kind)
    return fig


def _binary(ev: BinaryEvaluation) -> NamedFigures:
    out: NamedFigures = {
        "roc": [("roc_rejection", _roc_figure(ev, "rejection")), ("roc_classic", _roc_figure(ev, "classic"))],
        "scores": [("scores", _scores_figure(ev))],
    }
    if ev.confusion is not None:
        fig, ax = figure()
        plot_confusion(ev.confusion, list(ev.classes), normalise="true", ax=ax)
        out["confusion"] = [("confusion", fig)]
    calibration = []
    if ev.reliability is not None:
        fig, ax = figure()
        label = "classifier (classes at equal weight, as trained)" if ev.reliability_balanced else "classifier"
        plot_reliability(*ev.reliability, label=label, ax=ax)
        calibration.append(("calibration", fig))
    if ev.likelihood_ratio is not None:
        fig, ax = figure()
        plot_likelihood_ratio(*ev.likelihood_ratio, ax=ax)
        calibration.append(("likelihood_ratio", fig))
    out["calibration"] = calibration
    if ev.significance is not None:
        fig, ax = figure()
        plot_significance(ev.significance[0], ev.significance[1], ax=ax)
        out["significance"] = [("significance", fig)]
    if ev.sculpting is not None:
        out["sculpting"] = [("sculpting", plot_sculpting(ev.sculpting[1], ev.sculpting[0]))]
    if ev.uncertainty_profile is not None:
        out["uncertainty"] = [("uncertainty", plot_uncertainty_profile(*ev.uncertainty_profile))]
    return out


def _multiclass(ev: MulticlassEvaluation) -> NamedFigures:
    out: NamedFigures = {}
    if ev.rocs:
        fig, ax = figure()
        plot_roc(ev.rocs, ax=ax, kind="classic")
        out["roc"] = [("roc_one_vs_rest", fig)]
    if ev.confusion is not None:
        fig, ax = figure()
        plot_confusion(ev.confusion, list(ev.classes), normalise="true", ax=ax)
        out["confusion"] = [("confusion", fig)]
    if ev.discriminant is not None:
        out.setdefault("roc", []).extend(_discriminant(ev.discriminant))
    return out


def _discriminant(disc: DiscriminantEvaluation) -> list[tuple[str, Figure]]:
    """ROC curves of the discriminant and its AUC against the first background's fraction."""
    fig, ax = figure()
    plot_roc(disc.rocs, ax=ax, kind="rejection")
    ax.set_title(f"D = ln p({disc.signal}) / Σ f_j p_j")
    named = [("roc_discriminant", fig)]
    if disc.scan is not None:
        fig, ax = figure()
        ax.plot(disc.scan[0], disc.scan[1], marker="o")
        background = next(iter(k for k in disc.rocs if k.startswith("vs "))).removeprefix("vs ")
        ax.set_xlabel(f"fraction f of {background} in the discriminant")
        ax.set_ylabel(f"AUC, {disc.signal} vs all backgrounds")
        named.append(("discriminant_fraction_scan", fig))
    return named


def _pulls(ev: RegressionEvaluation) -> list[tuple[str, Figure]]:
    if ev.sigma is None or ev.prediction is None or ev.truth is None:
        return []
    fig, ax = figure()
    plot_pulls((ev.prediction - ev.truth) / ev.sigma, sample_weight=ev.weight, ax=ax)
    return [("pulls", fig)]


def _response(ev: RegressionEvaluation) -> list[tuple[str, Figure]]:
    if ev.prediction is None or ev.truth is None:
        return []
    fig, ax = figure()
    plot_response(ev.prediction, ev.truth, ax=ax)
    return [("response", fig)]


def _regression(ev: RegressionEvaluation) -> NamedFigures:
    out: NamedFigures = {"response": _response(ev), "pulls": _pulls(ev)}
    if ev.binned is not None:
        fig, ax = figure()
        plot_binned_response(
            np.asarray(ev.binned["bin_centre"]),
            np.asarray(ev.binned["bias"]),
            np.asarray(ev.binned["resolution"]),
            xlabel=ev.by_name,
            ax=ax,
        )
        out["resolution"] = [("binned_response", fig)]
    if ev.coverage is not None:
        out["uncertainty"] = [("coverage", plot_coverage(*ev.coverage))]
    return out


def _anomaly(ev: AnomalyEvaluation) -> NamedFigures:
    """Score distributions per class; with labelled signal, the ROC and SIC curves."""
    out: NamedFigures = {}
    if ev.scores is not None and ev.labels is not None and ev.weights is not None and len(ev.scores):
        out["scores"] = [("anomaly_scores", plot_anomaly_scores(ev.scores, ev.labels, ev.weights, ev.classes))]
    if ev.roc is not None:
        fig, ax = figure()
        plot_roc({"test": ev.roc}, ax=ax, kind="rejection")
        out["roc"] = [("roc_rejection", fig)]
    if ev.sic is not None:
        out.setdefault("roc", []).append(("sic", plot_sic(*ev.sic)))
    return out


def evaluation_figures(result: TaskEvaluation) -> NamedFigures:
    """Every figure of a task's evaluation, by report section.

    Parameters
    ----------
    result
        What :meth:`neyman.tasks.Task.evaluate` returned.

    Returns
    -------
    dict
        Section (``roc``, ``scores``, ``confusion``, ``calibration``,
        ``significance``, ``sculpting``, ``uncertainty``, ``response``, ``resolution``, ``pulls``) →
        ``(file stem,
        figure)`` pairs; sections without a figure are absent or empty.
    """
    from neyman.tasks import AnomalyEvaluation, BinaryEvaluation, MulticlassEvaluation, RegressionEvaluation

    if isinstance(result, BinaryEvaluation):
        return _binary(result)
    if isinstance(result, AnomalyEvaluation):
        return _anomaly(result)
    if isinstance(result, MulticlassEvaluation):
        return _multiclass(result)
    if isinstance(result, RegressionEvaluation):
        return _regression(result)
    return {}


def training_figures(result: TaskEvaluation) -> list[tuple[str, Figure]]:
    """The core figures a training leaves in ``plots/``, from :meth:`~neyman.tasks.Task.core_evaluation`.

    Binary classifiers: the score distributions (test histograms, training
    points) and the test ROC curve; regressions: the response and, with a
    predicted resolution, the pulls.
    """
    from neyman.tasks import AnomalyEvaluation, BinaryEvaluation, RegressionEvaluation

    out: list[tuple[str, Figure]] = []
    if isinstance(result, AnomalyEvaluation):
        return [pair for pairs in _anomaly(result).values() for pair in pairs]
    if isinstance(result, BinaryEvaluation) and result.test is not None:
        out.append(("scores", _scores_figure(result)))
        if result.roc is not None:
            out.append(("roc", _roc_figure(result, "rejection")))
    if isinstance(result, RegressionEvaluation):
        out += _pulls(result) + _response(result)
    return out
