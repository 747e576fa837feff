"""Figure creation and saving shared by every plot.

Figures are built with :class:`matplotlib.figure.Figure` directly, not through
``pyplot``: no global figure registry, no interactive backend, nothing to close
by hand, and the code is safe in a headless batch job.  In a notebook, show the
figure of an Axes with ``ax.figure`` as the cell's last expression.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neyman._atomic import atomic_path
from neyman.exceptions import DataError, close_matches

__all__ = ["ensure_axes", "figure", "save"]


def figure(
    *,
    figsize: tuple[float, float] = (6.4, 4.8),
    dpi: float = 100.0,
) -> tuple[Figure, Axes]:
    """Create a figure with one Axes, laid out with constrained layout.

    Parameters
    ----------
    figsize
        Width and height in inches.
    dpi
        Resolution used for raster output unless :func:`save` overrides it.

    Returns
    -------
    tuple[Figure, Axes]
    """
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    return fig, ax


def ensure_axes(ax: Axes | None) -> Axes:
    """Return ``ax``, or the Axes of a new :func:`figure` when it is None."""
    if ax is not None:
        return ax
    return figure()[1]


def save(
    fig: Figure,
    path_without_suffix: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("png",),
    dpi: float | None = 150.0,
) -> list[Path]:
    """Write a figure once per format, atomically, and close it.

    Parameters
    ----------
    fig
        The figure to write.
    path_without_suffix
        Destination without extension: ``plots/roc`` gives ``plots/roc.png``.  The
        directory is created if needed.
    formats
        File formats understood by matplotlib (``"png"``, ``"pdf"``, ``"svg"``, …).
    dpi
        Resolution of raster formats; None keeps the figure's own.

    Returns
    -------
    list[pathlib.Path]
        The files written, in the order of ``formats``.

    Notes
    -----
    Each file is drawn to a temporary name in the destination directory and renamed
    into place (``os.replace``) only when complete, so a reader never sees a
    half-written image.  A figure made through ``pyplot`` is also closed there.
    """
    if not formats:
        raise DataError("formats is empty: name at least one file format, e.g. ('png',)")
    supported = fig.canvas.get_supported_filetypes()
    names = [fmt.lower().lstrip(".") for fmt in formats]
    for name in names:
        if name not in supported:
            raise DataError(
                f"cannot save a figure as {name!r}{close_matches(name, supported)}; "
                f"supported formats: {', '.join(sorted(supported))}"
            )
    base = Path(path_without_suffix)
    written: list[Path] = []
    try:
        for name in names:
            final = base.parent / f"{base.name}.{name}"
            with atomic_path(final) as tmp:
                fig.savefig(tmp, format=name, dpi="figure" if dpi is None else dpi)
            written.append(final)
    finally:
        # Only a pyplot-managed figure is registered anywhere; importing pyplot
        # just to close a plain Figure would select a backend for nothing.
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return written
