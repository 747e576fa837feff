"""The figures of a study, drawn with Optuna's matplotlib backend (no plotly needed)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from neyman.optional import require

if TYPE_CHECKING:
    import optuna
    from matplotlib.figure import Figure

__all__ = ["study_figures"]


def _figure_of(drawn: Any) -> Figure:
    first = np.asarray(drawn, dtype=object).flat[0]
    fig: Figure = first.figure
    return fig


def study_figures(study: optuna.Study, *, seed: int = 0) -> tuple[list[Figure], list[str]]:
    """Optimisation history, parameter importances, parallel coordinates and slice plots.

    Parameters
    ----------
    study
        A study with at least one finished trial.
    seed
        Seed of the fANOVA importance estimate (a random forest).

    Returns
    -------
    (list of Figure, list of str)
        The figures that could be drawn (each labelled with its caption) and, for
        the others, why not (e.g. importances need two complete trials with
        different parameters).  The caller closes the figures
        (``matplotlib.pyplot.close``).

    Notes
    -----
    Parameter importance is the fANOVA estimate: the fraction of the objective's
    variance, over a random forest fitted to the complete trials, that each
    parameter explains alone.
    """
    optuna = require("optuna", purpose="draw the figures of a study")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    plots: list[tuple[str, Callable[[], Any]]] = [
        ("optimisation history", lambda: ovm.plot_optimization_history(study)),
        ("parameter importances", lambda: ovm.plot_param_importances(study, evaluator=evaluator)),
        ("parallel coordinates", lambda: ovm.plot_parallel_coordinate(study)),
        ("slice", lambda: ovm.plot_slice(study)),
    ]
    figures: list[Figure] = []
    skipped: list[str] = []
    for caption, draw in plots:
        before = set(plt.get_fignums())
        try:
            with warnings.catch_warnings():
                # the matplotlib backend is marked experimental; the figures are what we want
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                warnings.simplefilter("ignore", UserWarning)
                drawn = draw()
            fig = _figure_of(drawn)
        except (ValueError, RuntimeError, IndexError, ZeroDivisionError) as exc:
            for num in set(plt.get_fignums()) - before:
                plt.close(num)
            skipped.append(f"{caption}: {exc}")
            continue
        if not fig.axes or not any(ax.has_data() for ax in fig.axes):
            plt.close(fig)
            skipped.append(f"{caption}: not enough complete trials")
            continue
        if caption == "parallel coordinates":
            # one axis per parameter: give each room for its tick labels
            width = max(6.4, 1.6 * len(fig.axes[0].get_xticks()))
            fig.set_size_inches(width, 4.8)
            fig.tight_layout()
        fig.set_label(caption)
        figures.append(fig)
    return figures, skipped
