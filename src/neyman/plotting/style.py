"""Figure creation, saving and the axis setup shared by the plots.

Figures are built with :class:`matplotlib.figure.Figure` directly, not through
``pyplot``: no global figure registry, no interactive backend, nothing to close
by hand, and the code is safe in a headless batch job.  In a notebook, show the
figure of an Axes with ``ax.figure`` as the cell's last expression.

Besides :func:`figure` and :func:`save`, the steps several plots take alike live
here: checking the arrays of curves and matrices, drawing only finite points,
the identity diagonal of the unit square, colour bars, headroom for a legend,
annotated matrix cells and class names.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure

from neyman.atomic import atomic_path, stale_siblings
from neyman.exceptions import DataError, close_matches

__all__ = [
    "class_name",
    "colorbar",
    "ensure_axes",
    "equal_length_arrays",
    "figure",
    "headroom",
    "label_cells",
    "matrix_ticks",
    "plot_finite",
    "save",
    "square_matrix",
    "unit_square",
]


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
    Every format shares the layout solved when the first one is drawn.
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
            # The first drawing placed the axes; later formats keep that layout instead of
            # solving it again (measured: a tenth less time for a png and pdf pair).
            fig.set_layout_engine("none")
    finally:
        # Only a pyplot-managed figure is registered anywhere; importing pyplot
        # just to close a plain Figure would select a backend for nothing.
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return written


class FigureFolder:
    """Figures drawn into a hidden staging folder and published into ``directory`` together.

    An evaluation interrupted halfway leaves ``directory`` as it was (the figures of
    the previous evaluation, which its ``metrics.json`` and report describe), not a
    mix of old and new figures; :meth:`publish` moves the new ones in when the
    numbers beside them are stored.  Used as a context manager, the staging folder
    is removed on the way out, published or not.

    Parameters
    ----------
    directory
        Where the figures belong (``RUN/plots``).
    formats
        File formats of every figure.
    """

    def __init__(self, directory: Path, formats: Sequence[str]) -> None:
        self.directory = directory
        self.formats = tuple(formats)
        self.staging = directory.parent / f".{directory.name}.new-{os.getpid()}"
        self.written: list[Path] = []
        self.sections: dict[str, list[Path]] = {}
        for leftover in stale_siblings(directory, kinds=("new",)):  # of an evaluation killed while drawing
            shutil.rmtree(leftover, ignore_errors=True)

    def __enter__(self) -> FigureFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def save(self, fig: Figure, stem: str) -> list[Path]:
        """Draw ``fig`` as ``stem`` in every format; its PNG paths (staged until :meth:`publish`)."""
        paths = save(fig, self.staging / stem, formats=self.formats)
        self.written += paths
        return [p for p in paths if p.suffix == ".png"]

    def add(self, section: str, paths: list[Path]) -> None:
        """Keep ``paths`` under a report section."""
        self.sections[section] = self.sections.get(section, []) + paths

    @property
    def names(self) -> list[str]:
        """The file names of the figures drawn so far."""
        return sorted(p.name for p in self.written)

    def publish(self, *, replaced: Iterable[str] = ()) -> None:
        """Move the staged figures into ``directory`` (each replaces its namesake) and drop the staging folder.

        ``replaced``: file names an earlier publication wrote there; those this one did
        not draw again are removed (a significance scan that an evaluation without
        yields no longer makes).  Only plain names of ``directory`` are touched.
        """
        moved = {p: self.directory / p.name for p in self.written}
        if moved:
            self.directory.mkdir(parents=True, exist_ok=True)
        for staged, final in moved.items():
            os.replace(staged, final)
        for name in {n for n in replaced if isinstance(n, str)} - set(self.names):
            if name and name == Path(name).name and not name.startswith("."):
                (self.directory / name).unlink(missing_ok=True)
        self.written = list(moved.values())
        self.sections = {k: [moved.get(p, p) for p in v] for k, v in self.sections.items()}
        self.discard()

    def discard(self) -> None:
        """Remove the staging folder and whatever is still in it (after a failure, or once published)."""
        shutil.rmtree(self.staging, ignore_errors=True)


# -- the steps several plots share ----------------------------------------------------


def equal_length_arrays(what: str, *values: npt.ArrayLike) -> list[np.ndarray]:
    """``values`` as float64 arrays, raising DataError unless they are 1-dimensional of one length.

    Parameters
    ----------
    what
        How the arrays are called in the message, e.g. ``"centres, bias and resolution"``.
    *values
        Two or more array-likes.
    """
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    first = arrays[0]
    if first.ndim != 1 or any(a.shape != first.shape for a in arrays[1:]):
        shapes = ", ".join(str(a.shape) for a in arrays[:-1])
        raise DataError(f"{what} must be 1-dimensional of equal length, got shapes {shapes} and {arrays[-1].shape}")
    return arrays


def square_matrix(matrix: npt.ArrayLike, kind: str) -> np.ndarray:
    """``matrix`` as a float64 array, raising DataError unless it is square.

    Parameters
    ----------
    matrix
        The array-like to convert.
    kind
        What the matrix is, for the message (``"confusion"``, ``"correlation"``).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise DataError(f"a {kind} matrix must be square, got shape {m.shape}")
    return m


def plot_finite(ax: Axes, x: np.ndarray, y: np.ndarray, **style: Any) -> None:
    """Draw the points ``(x, y)`` where both are finite (with the keyword arguments of ``ax.plot``)."""
    shown = np.isfinite(x) & np.isfinite(y)
    ax.plot(x[shown], y[shown], **style)


def unit_square(ax: Axes, label: str) -> None:
    """Draw the dashed diagonal of ``[0, 1]²`` with legend ``label`` and limit the Axes to that square."""
    ax.plot([0.0, 1.0], [0.0, 1.0], color="0.5", ls="--", label=label)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")


def colorbar(ax: Axes, mappable: ScalarMappable, **options: Any) -> Colorbar | None:
    """Add a colour bar for ``mappable`` next to ``ax``; None when ``ax`` has no figure.

    Parameters
    ----------
    ax
        The Axes the colour bar belongs to.
    mappable
        What was drawn (an image or a mesh).
    **options
        Keyword arguments of :meth:`matplotlib.figure.Figure.colorbar`.
    """
    figure = ax.get_figure()
    if figure is None:
        return None
    return figure.colorbar(mappable, ax=ax, **options)


def headroom(ax: Axes, fraction: float) -> None:
    """Raise the top of the y-axis by ``fraction`` of its range, so a legend stays clear of the data."""
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + fraction * (high - low))


def label_cells(ax: Axes, cells: Iterable[tuple[int, int, str, bool]], *, fontsize: float) -> None:
    """Write a text in cells of a matrix drawn with ``imshow``.

    Parameters
    ----------
    ax
        The Axes of the matrix.
    cells
        ``(row, column, text, dark)``; the text is white on a dark cell, else black.
    fontsize
        The size of the texts.
    """
    for i, j, text, dark in cells:
        ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color="white" if dark else "black")


def matrix_ticks(ax: Axes, names: Sequence[str], *, rotation: float = 0, ha: str = "center", **options: Any) -> None:
    """Name the rows and columns of a square matrix drawn with ``imshow``, without tick marks.

    Parameters
    ----------
    ax
        The Axes of the matrix.
    names
        One name per row (and column).
    rotation, ha
        Rotation and horizontal alignment of the column names.
    **options
        More keyword arguments of :meth:`matplotlib.axes.Axes.tick_params`.
    """
    ax.set_xticks(range(len(names)), names, rotation=rotation, ha=ha)
    ax.set_yticks(range(len(names)), names)
    ax.tick_params(which="both", length=0, **options)
    ax.minorticks_off()


def class_name(label: object, class_names: Sequence[str] | None, binary: bool) -> str:
    """The legend name of class ``label``.

    Parameters
    ----------
    label
        The class label (an integer index, or anything else).
    class_names
        Names indexed by label, or None.
    binary
        Whether the labels are 0/1: then ``"background"`` and ``"signal"`` name them
        when ``class_names`` does not.
    """
    index = int(label) if isinstance(label, (int, np.integer, bool, np.bool_)) else None
    if class_names is not None and index is not None and 0 <= index < len(class_names):
        return str(class_names[index])
    if binary and index is not None:
        return ("background", "signal")[index]
    return f"class {label}"
