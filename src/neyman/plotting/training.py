"""Learning curves: losses and metrics per epoch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from neyman.exceptions import DataError
from neyman.plotting.style import ensure_axes

__all__ = ["plot_history"]

# Columns of a training history that are bookkeeping, not curves to judge.
_NOT_CURVES = frozenset({"epoch", "lr", "seconds", "step_seconds"})


def plot_history(history: Mapping[str, Sequence[float]], *, ax: Axes | None = None) -> Axes:
    """Plot per-epoch losses (left axis) and other metrics (right axis).

    Parameters
    ----------
    history
        Column name → one value per epoch, e.g. ``History.columns`` of the trainer:
        ``train_loss``, ``val_loss``, and any metrics.  An ``epoch`` column gives the
        x values (else epochs count from 1); ``lr`` and ``seconds`` are not drawn.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the loss curves (metrics go on a twin Axes sharing its x-axis).

    Notes
    -----
    When ``val_loss`` is present, a vertical line marks the best epoch,
    ``argmin_e val_loss(e)``: the one whose weights early stopping keeps.
    """
    curves = {
        key: np.asarray(values, dtype=np.float64)
        for key, values in history.items()
        if key not in _NOT_CURVES and len(values) > 0
    }
    if not curves:
        raise DataError(
            f"the history has no per-epoch curve to plot (columns: {sorted(history)}); "
            "expected e.g. 'train_loss' and 'val_loss'"
        )
    epoch_column = np.asarray(history.get("epoch", []), dtype=np.float64)

    def epochs(n: int) -> np.ndarray:
        if len(epoch_column) >= n:
            return epoch_column[:n]
        return np.arange(1, n + 1, dtype=np.float64)

    ax = ensure_axes(ax)
    losses = [key for key in curves if key.endswith("loss")]
    metrics = [key for key in curves if key not in losses]
    if not losses:
        losses, metrics = metrics, []
    for i, key in enumerate(losses):
        ax.plot(epochs(len(curves[key])), curves[key], color=f"C{i}", marker=".", label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss" if losses[0].endswith("loss") else "metric")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    handles, labels = ax.get_legend_handles_labels()
    if metrics:
        twin = ax.twinx()
        for j, key in enumerate(metrics, start=len(losses)):
            twin.plot(epochs(len(curves[key])), curves[key], color=f"C{j}", ls="--", marker=".", label=key)
        twin.set_ylabel("metric")
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels

    val = curves.get("val_loss")
    if val is not None and np.isfinite(val).any():
        best = float(epochs(len(val))[int(np.nanargmin(np.where(np.isfinite(val), val, np.nan)))])
        line = ax.axvline(best, color="0.4", ls=":", label=f"best epoch ({best:g})")
        handles.append(line)
        labels.append(str(line.get_label()))
    ax.legend(handles, labels, frameon=False)
    return ax
