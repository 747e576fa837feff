"""Figures from results and arrays, drawn with matplotlib (headless-safe).

Every ``plot_*`` function takes its data, draws on ``ax`` (a new figure from
:func:`figure` when None) and returns the Axes; :func:`save` writes a figure
atomically in one or more formats.

Modules
-------
style
    ``figure`` and ``save``.
training
    Learning curves.
scores
    Score distributions per class with the train/test overlay.
roc
    ROC curves (rejection versus efficiency, or classic).
regression
    Pull distribution and response matrix.
resolution
    Regression bias and resolution in bins of a variable.
confusion
    Confusion matrix.
significance
    Expected significance against the cut.
calibration
    Reliability diagram.
importance
    Feature importance bars.
inputs
    Per-class feature distributions and correlation matrices.
compare
    ROC curves of several classifiers with a ratio panel.
evaluation
    The figures of a task's evaluation result (the one dispatch over tasks).
hepstyle
    ``hep_style``: mplhep's experiment styles within a ``with`` block.
reweighting
    A variable before and after reweighting against its target; the weights.
variations
    A tagger on nominal events and on variations: ROC band and score overlays.
model_uncertainty
    A model's uncertainty against its score, and its intervals' coverage.
decorrelation
    The sculpting figure: background mass spectrum before and after cuts.
"""

from __future__ import annotations

from neyman.plotting.calibration import plot_likelihood_ratio, plot_reliability
from neyman.plotting.compare import plot_roc_comparison
from neyman.plotting.confusion import plot_confusion
from neyman.plotting.decorrelation import plot_decorrelation_plane, plot_sculpting
from neyman.plotting.evaluation import evaluation_figures, training_figures
from neyman.plotting.hepstyle import hep_style
from neyman.plotting.importance import plot_importance
from neyman.plotting.inputs import plot_correlation, plot_feature_distributions
from neyman.plotting.model_uncertainty import plot_coverage, plot_uncertainty_profile
from neyman.plotting.regression import plot_pulls, plot_response
from neyman.plotting.resolution import plot_binned_response
from neyman.plotting.reweighting import plot_closure, plot_weights
from neyman.plotting.roc import plot_roc
from neyman.plotting.scores import plot_scores
from neyman.plotting.significance import plot_significance
from neyman.plotting.style import FigureFolder, ensure_axes, figure, save
from neyman.plotting.training import plot_history
from neyman.plotting.variations import plot_variation_rocs, plot_variation_scores

__all__ = [
    "FigureFolder",
    "ensure_axes",
    "evaluation_figures",
    "figure",
    "hep_style",
    "plot_binned_response",
    "plot_closure",
    "plot_confusion",
    "plot_correlation",
    "plot_coverage",
    "plot_decorrelation_plane",
    "plot_feature_distributions",
    "plot_history",
    "plot_importance",
    "plot_likelihood_ratio",
    "plot_pulls",
    "plot_reliability",
    "plot_response",
    "plot_roc",
    "plot_roc_comparison",
    "plot_scores",
    "plot_sculpting",
    "plot_significance",
    "plot_uncertainty_profile",
    "plot_variation_rocs",
    "plot_variation_scores",
    "plot_weights",
    "save",
    "training_figures",
]
