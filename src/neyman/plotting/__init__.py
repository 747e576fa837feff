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
"""

from __future__ import annotations

from neyman.plotting.regression import plot_pulls, plot_response
from neyman.plotting.roc import plot_roc
from neyman.plotting.scores import plot_scores
from neyman.plotting.style import ensure_axes, figure, save
from neyman.plotting.training import plot_history

__all__ = [
    "ensure_axes",
    "figure",
    "plot_history",
    "plot_pulls",
    "plot_response",
    "plot_roc",
    "plot_scores",
    "save",
]
